#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/error.hpp"
#include "config/quantity.hpp"
#include "config/suggest.hpp"

#include <array>

namespace moesim::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string error_of(auto parse, std::string_view text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted \"" << text << "\"";
  return {};
}

TEST(Quantity, DecimalAndBinaryPrefixesAreDistinct) {
  EXPECT_EQ(parse_bytes("48 GiB").count, 48LL << 30);
  EXPECT_EQ(parse_bytes("48 GB").count, 48'000'000'000LL);
  EXPECT_EQ(parse_bytes("2 KiB").count, 2048);
  EXPECT_EQ(parse_bytes("2KiB").count, 2048) << "the space is optional";
  EXPECT_EQ(parse_bytes("1.5 KB").count, 1500);
}

TEST(Quantity, BitsAndBytesPerSecond) {
  EXPECT_DOUBLE_EQ(parse_bandwidth("400 GB/s").bytes_per_second, 400e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("100 Gb/s").bytes_per_second, 12.5e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("100 Gbit/s").bytes_per_second, 12.5e9);
  EXPECT_DOUBLE_EQ(parse_bandwidth("1 GiB/s").bytes_per_second, 1073741824.0);
}

TEST(Quantity, TimesBecomeIntegerPicoseconds) {
  EXPECT_EQ(parse_time("1.5 us").count(), 1'500'000);
  EXPECT_EQ(parse_time("1.5 \xC2\xB5s").count(), 1'500'000);
  EXPECT_EQ(parse_time("2 ms").count(), 2'000'000'000);
  EXPECT_EQ(parse_time("7 ps").count(), 7);
  EXPECT_EQ(parse_time("0.25 s").count(), 250'000'000'000);
}

TEST(Quantity, FlopRatesAndCounts) {
  EXPECT_DOUBLE_EQ(parse_flop_rate("989 TFLOP/s").flops_per_second, 989e12);
  EXPECT_DOUBLE_EQ(parse_flops("2 GFLOP").count, 2e9);
}

TEST(Quantity, MissingUnitSaysWhatWasExpected) {
  EXPECT_THAT(error_of(parse_time, "150"), AllOf(HasSubstr("\"150\" has no unit"),
                                                 HasSubstr("expected a time such as \"1.5 us\""),
                                                 HasSubstr("units: s, ms, us")));
}

TEST(Quantity, UnknownUnitGetsASuggestion) {
  EXPECT_THAT(error_of(parse_bandwidth, "400 GB/sec"),
              AllOf(HasSubstr("unknown unit 'GB/sec'"), HasSubstr("did you mean 'GB/s'?")));
  EXPECT_THAT(error_of(parse_time, "3 mss"), HasSubstr("did you mean 'ms'?"));
}

TEST(Quantity, UnitOfTheWrongDimensionIsNamed) {
  EXPECT_THAT(error_of(parse_time, "400 GB/s"),
              AllOf(HasSubstr("is a bandwidth (unit 'GB/s')"), HasSubstr("expected a time")));
  EXPECT_THAT(error_of(parse_bandwidth, "48 GiB"), HasSubstr("is a size (unit 'GiB')"));
  EXPECT_THAT(error_of(parse_flop_rate, "989 TFLOP"), HasSubstr("is a FLOP count"));
}

TEST(Quantity, NonNumbersAndNonFiniteValuesAreRejected) {
  EXPECT_THAT(error_of(parse_time, "fast"), HasSubstr("does not start with a number"));
  EXPECT_THAT(error_of(parse_time, ""), HasSubstr("is empty"));
  EXPECT_THAT(error_of(parse_bandwidth, "inf GB/s"), HasSubstr("not a finite number"));
  EXPECT_THAT(error_of(parse_bandwidth, "nan GB/s"), HasSubstr("not a finite number"));
  EXPECT_THAT(error_of(parse_time, "1e300 s"), HasSubstr("out of range"));
  EXPECT_THAT(error_of(parse_time, "1e400 us"), HasSubstr("\"1e400 us\" is out of range"));
}

TEST(Quantity, FractionalBytesAreRejected) {
  EXPECT_THAT(error_of(parse_bytes, "1.5 B"), HasSubstr("not a whole number"));
}

TEST(Quantity, FormatRoundTripsExactly) {
  for (const char* text : {"400 GB/s", "100 Gb/s", "12.345 GB/s", "3 B/s", "0.1 GB/s", "0 B/s"}) {
    const auto v = parse_bandwidth(text);
    EXPECT_EQ(parse_bandwidth(format(v)), v) << text << " -> " << format(v);
  }
  EXPECT_EQ(format(parse_bandwidth("100 Gb/s")), "12.5 GB/s");
  EXPECT_EQ(format(parse_bytes("48 GiB")), "48 GiB");
  EXPECT_EQ(format(parse_bytes("2 GB")), "2 GB");
  EXPECT_EQ(format(parse_bytes("1000 B")), "1 KB");
  EXPECT_EQ(format(parse_bytes("1001 B")), "1001 B");
  EXPECT_EQ(format(parse_time("1.5 us")), "1500 ns");
  EXPECT_EQ(format(parse_time("2 ms")), "2 ms");
  EXPECT_EQ(format(parse_flop_rate("989 TFLOP/s")), "989 TFLOP/s");
}

}  // namespace
}  // namespace moesim::config

namespace moesim::config {
namespace {
TEST(Suggest, TypoDistanceCountsTranspositionsAsOne) {
  EXPECT_EQ(edit_distance("rnig", "ring"), 1u);
  EXPECT_EQ(edit_distance("latencey", "latency"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  const std::array<std::string_view, 3> keys{"ranks", "layers", "chunks"};
  EXPECT_EQ(closest_match("rank", keys), "ranks");
  EXPECT_EQ(closest_match("LAYERS", keys), "layers") << "case-insensitive match first";
  EXPECT_FALSE(closest_match("seed", keys).has_value());
}
}  // namespace
}  // namespace moesim::config
