#include "check.hpp"

#include <fmt/format.h>
#include <cmath>

namespace moesim::config {

std::string Check::violation(double value) const {
  if (!std::isfinite(value)) return "must be a finite number";
  if (min && max && (value < *min || value > *max)) {
    return fmt::format("must be between {} and {}", *min, *max);
  }
  if (min && min_exclusive && value <= *min) {
    return *min == 0 ? "must be positive" : fmt::format("must be greater than {}", *min);
  }
  if (min && !min_exclusive && value < *min) {
    return *min == 0 ? "must not be negative" : fmt::format("must be at least {}", *min);
  }
  if (max && value > *max) return fmt::format("must be at most {}", *max);
  return {};
}

}  // namespace moesim::config
