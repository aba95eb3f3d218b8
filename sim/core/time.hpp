#pragma once
// Simulated time: an integer count of picoseconds. int64 covers ±106 days, far beyond any run.
// Integers make event order exact, so the same inputs always give the same outputs.
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "error.hpp"

namespace moesim::core {

// A duration or instant that does not fit the clock (int64 picoseconds: about 106 days), or is
// not a number: a study too large to simulate in one run, or a priced quantity gone wrong.
class TimeRangeError : public moesim::Error {
 public:
  explicit TimeRangeError(double seconds)
      : moesim::Error("a simulated time of " + std::to_string(seconds) +
                      " s does not fit moesim's clock (int64 picoseconds, at most about 106 "
                      "days): the study is too large to simulate in one run") {}
};

class Time {
 public:
  using Rep = std::int64_t;
  static constexpr Rep kPsPerNs = 1'000;
  static constexpr Rep kPsPerUs = 1'000'000;
  static constexpr Rep kPsPerMs = 1'000'000'000;
  static constexpr Rep kPsPerS = 1'000'000'000'000;

  constexpr Time() = default;
  static constexpr Time ps(Rep v) { return Time(v); }
  static constexpr Time ns(Rep v) { return Time(v * kPsPerNs); }
  static constexpr Time us(Rep v) { return Time(v * kPsPerUs); }
  static constexpr Time ms(Rep v) { return Time(v * kPsPerMs); }
  static constexpr Time zero() { return Time(0); }
  static constexpr Time max() { return Time(std::numeric_limits<Rep>::max()); }
  // The one conversion rule from real seconds to integer time: a duration priced by a model (a
  // kernel, a copy, a written quantity) rounds to the nearest picosecond (from_seconds); the
  // instant data in flight has fully arrived rounds up to the next whole picosecond
  // (arrival_ps), so that nothing is delivered before its last byte has crossed. Both network
  // models use arrival_ps; everything else uses from_seconds.
  //
  // Seconds as a real number, rounded to the nearest picosecond. Throws TimeRangeError when
  // the value is not finite or does not fit.
  static Time from_seconds(double seconds) {
    const long double ps = static_cast<long double>(seconds) * kPsPerS;
    if (!std::isfinite(ps) || std::fabs(ps) > static_cast<long double>(max().count())) {
      throw TimeRangeError(seconds);
    }
    return Time(static_cast<Rep>(std::llround(ps)));
  }

  // The fewest whole picoseconds not below `ps` (0 when `ps` is not positive; `ps` < max()).
  // Baseline x86-64 has no rounding instruction, and std::ceil's software sequence cost a fifth
  // of the flow model's re-timing; a truncation and one comparison give the same value.
  static constexpr Rep arrival_ps(double ps) {
    if (!(ps > 0)) return 0;
    const auto whole = static_cast<Rep>(ps);
    return whole + (static_cast<double>(whole) < ps);
  }

  constexpr Rep count() const { return ps_; }  // picoseconds
  constexpr double seconds() const { return static_cast<double>(ps_) / kPsPerS; }
  constexpr double microseconds() const { return static_cast<double>(ps_) / kPsPerUs; }
  constexpr double milliseconds() const { return static_cast<double>(ps_) / kPsPerMs; }

  constexpr auto operator<=>(const Time&) const = default;
  // Sums that leave the clock's range are refused, not wrapped (a study too long to simulate).
  constexpr Time operator+(Time o) const {
    Rep sum = 0;
    if (__builtin_add_overflow(ps_, o.ps_, &sum)) {
      throw TimeRangeError((static_cast<double>(ps_) + static_cast<double>(o.ps_)) / kPsPerS);
    }
    return Time(sum);
  }
  constexpr Time operator-(Time o) const { return Time(ps_ - o.ps_); }
  constexpr Time& operator+=(Time o) { return *this = *this + o; }
  constexpr Time& operator-=(Time o) {
    ps_ -= o.ps_;
    return *this;
  }

 private:
  constexpr explicit Time(Rep ps) : ps_(ps) {}
  Rep ps_ = 0;
};

}  // namespace moesim::core
