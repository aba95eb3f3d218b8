#pragma once
// Simulated time: an integer count of picoseconds. int64 covers ±106 days, far beyond any run.
// Integers make event order exact, so the same inputs always give the same outputs.
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace moesim::core {

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
  // Seconds as a real number, rounded to the nearest picosecond. Throws std::out_of_range when
  // the value is not finite or does not fit.
  static Time from_seconds(double seconds) {
    const long double ps = static_cast<long double>(seconds) * kPsPerS;
    if (!std::isfinite(ps) || std::fabs(ps) > static_cast<long double>(max().count())) {
      throw std::out_of_range("time out of range");
    }
    return Time(static_cast<Rep>(std::llround(ps)));
  }

  constexpr Rep count() const { return ps_; }  // picoseconds
  constexpr double seconds() const { return static_cast<double>(ps_) / kPsPerS; }
  constexpr double microseconds() const { return static_cast<double>(ps_) / kPsPerUs; }
  constexpr double milliseconds() const { return static_cast<double>(ps_) / kPsPerMs; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Time o) const { return Time(ps_ + o.ps_); }
  constexpr Time operator-(Time o) const { return Time(ps_ - o.ps_); }
  constexpr Time& operator+=(Time o) {
    ps_ += o.ps_;
    return *this;
  }
  constexpr Time& operator-=(Time o) {
    ps_ -= o.ps_;
    return *this;
  }

 private:
  constexpr explicit Time(Rep ps) : ps_(ps) {}
  Rep ps_ = 0;
};

}  // namespace moesim::core
