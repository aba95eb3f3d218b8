#pragma once
// Interpolation in log space of the sizes, as GPU kernel times and efficiencies vary smoothly
// with the logarithm of the problem size.
#include <optional>
#include <span>
#include <utility>

namespace moesim::cost {

// (x, y) points with x > 0 strictly increasing.
using Curve = std::span<const std::pair<double, double>>;

// y linear in log(x); clamped to the end values outside the range.
double interpolate_log_x(Curve points, double x);

// y interpolated linearly in (log x, log y), for y > 0: a power law between neighbours, which is
// monotone when the points are. Returns the stored y exactly at a table point, and nothing
// outside [first x, last x].
std::optional<double> interpolate_log_log(Curve points, double x);

}  // namespace moesim::cost
