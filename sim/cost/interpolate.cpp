#include "interpolate.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::cost {

namespace {
// Index of the first point with x >= `x`.
std::size_t lower(Curve points, double x) {
  return static_cast<std::size_t>(
      std::lower_bound(points.begin(), points.end(), x,
                       [](const std::pair<double, double>& p, double v) { return p.first < v; }) -
      points.begin());
}
}  // namespace

double interpolate_log_x(Curve points, double x) {
  if (x <= points.front().first) return points.front().second;
  if (x >= points.back().first) return points.back().second;
  const std::size_t hi = lower(points, x);
  const auto& [x1, y1] = points[hi - 1];
  const auto& [x2, y2] = points[hi];
  const double t = (std::log(x) - std::log(x1)) / (std::log(x2) - std::log(x1));
  return y1 + t * (y2 - y1);
}

std::optional<double> interpolate_log_log(Curve points, double x) {
  if (points.empty() || x < points.front().first || x > points.back().first) return std::nullopt;
  const std::size_t hi = lower(points, x);
  if (points[hi].first == x) return points[hi].second;
  const auto& [x1, y1] = points[hi - 1];
  const auto& [x2, y2] = points[hi];
  const double t = (std::log(x) - std::log(x1)) / (std::log(x2) - std::log(x1));
  return std::exp(std::log(y1) + t * (std::log(y2) - std::log(y1)));
}

}  // namespace moesim::cost
