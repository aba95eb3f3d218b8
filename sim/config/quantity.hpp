#pragma once
// Physical quantities in configuration values: "400 GB/s", "100 Gb/s", "1.5 us", "989 TFLOP/s",
// "48 GiB", "2 KiB". Every unit is parsed here and nowhere else.
//   GB = 1e9 B, GiB = 2^30 B, Gb/s = 1e9 bit/s = 1.25e8 B/s, us = 1e-6 s, TFLOP/s = 1e12 FLOP/s.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace moesim::config {

enum class Dimension { kBytes, kBandwidth, kTime, kFlops, kFlopRate };

// Bytes as a whole number.
struct Bytes {
  std::int64_t count = 0;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};
// Bytes per second.
struct Bandwidth {
  double bytes_per_second = 0;
  friend bool operator==(const Bandwidth&, const Bandwidth&) = default;
};
// Floating-point operations (a count).
struct Flops {
  double count = 0;
  friend bool operator==(const Flops&, const Flops&) = default;
};
// Floating-point operations per second.
struct FlopRate {
  double flops_per_second = 0;
  friend bool operator==(const FlopRate&, const FlopRate&) = default;
};

// "a time", "a bandwidth", ... for messages.
std::string_view dimension_name(Dimension dimension);
// An example value and the accepted units, for messages.
std::string_view dimension_example(Dimension dimension);
std::string dimension_units(Dimension dimension);

// Parses "<number> <unit>" (the space is optional) and returns the value in the dimension's base
// unit (B, B/s, s, FLOP, FLOP/s). Throws ConfigError with a message that starts with the quoted
// text and says what was expected; callers prefix the location.
double parse_quantity(std::string_view text, Dimension expected);

Bytes parse_bytes(std::string_view text);
Bandwidth parse_bandwidth(std::string_view text);
core::Time parse_time(std::string_view text);
Flops parse_flops(std::string_view text);
FlopRate parse_flop_rate(std::string_view text);

// Formats a value so that parsing it gives back exactly the same value, in the largest
// readable unit that allows that.
std::string format(Bytes value);
std::string format(Bandwidth value);
std::string format(core::Time value);
std::string format(Flops value);
std::string format(FlopRate value);

}  // namespace moesim::config
