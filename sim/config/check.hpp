#pragma once
// What a configuration field must satisfy beyond its type: present, and within bounds.
// Bounds are in the field's base unit (bytes, B/s, seconds, FLOP/s) or plain numbers.
#include <optional>
#include <string>

namespace moesim::config {

struct Check {
  bool is_required = false;
  std::optional<double> min;
  bool min_exclusive = false;
  std::optional<double> max;

  Check required() const {
    Check c = *this;
    c.is_required = true;
    return c;
  }
  static Check none() { return {}; }
  static Check positive() { return Check{false, 0.0, true, std::nullopt}; }
  static Check non_negative() { return Check{false, 0.0, false, std::nullopt}; }
  static Check at_least(double v) { return Check{false, v, false, std::nullopt}; }
  static Check between(double lo, double hi) { return Check{false, lo, false, hi}; }
  // lo < value <= hi: a fraction that must keep something (a rate, a ratio).
  static Check above_up_to(double lo, double hi) { return Check{false, lo, true, hi}; }

  // Empty when `value` satisfies the bounds, else what was expected ("must be positive").
  std::string violation(double value) const;
};

}  // namespace moesim::config
