#include <gtest/gtest.h>

#include <limits>

#include "core/time.hpp"

namespace moesim::core {
namespace {

TEST(Time, UnitsArePicoseconds) {
  EXPECT_EQ(Time::ns(1).count(), 1'000);
  EXPECT_EQ(Time::us(1).count(), 1'000'000);
  EXPECT_EQ(Time::ms(2).count(), 2'000'000'000);
  EXPECT_DOUBLE_EQ(Time::us(1500).milliseconds(), 1.5);
}

TEST(Time, FromSecondsRoundsToNearestPicosecond) {
  EXPECT_EQ(Time::from_seconds(1.5e-6).count(), 1'500'000);
  EXPECT_EQ(Time::from_seconds(0.4e-12).count(), 0);
  EXPECT_EQ(Time::from_seconds(0.6e-12).count(), 1);
}

// Data in flight arrives at the first whole picosecond at or after its last byte.
TEST(Time, ArrivalRoundsUpToTheNextWholePicosecond) {
  EXPECT_EQ(Time::arrival_ps(0.4), 1);
  EXPECT_EQ(Time::arrival_ps(1.0), 1);
  EXPECT_EQ(Time::arrival_ps(1'000'000.000001), 1'000'001);
  EXPECT_EQ(Time::arrival_ps(0), 0);
  EXPECT_EQ(Time::arrival_ps(-3), 0);
}

TEST(Time, FromSecondsRejectsWhatDoesNotFit) {
  EXPECT_THROW((void)Time::from_seconds(std::numeric_limits<double>::infinity()), TimeRangeError);
  EXPECT_THROW((void)Time::from_seconds(std::numeric_limits<double>::quiet_NaN()), TimeRangeError);
  EXPECT_THROW((void)Time::from_seconds(1e9), TimeRangeError);  // 31 years > int64 ps
}

}  // namespace
}  // namespace moesim::core

namespace moesim::core {
namespace {
// A sum past the clock's range is refused, never wrapped into the past.
TEST(TimeOverflow, SumsBeyondTheClockAreRefused) {
  const Time big = Time::max() - Time::ps(10);
  EXPECT_EQ((big + Time::ps(10)).count(), Time::max().count());
  EXPECT_THROW((void)(big + Time::ps(11)), TimeRangeError);
  Time t = big;
  EXPECT_THROW(t += Time::ps(11), TimeRangeError);
}
}  // namespace
}  // namespace moesim::core
