#include "alpha_beta.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moesim::net {

void AlphaBetaModel::start(core::Time now, std::span<const topo::LinkId> route, double bytes,
                           std::uint64_t tag) {
  double slowest = std::numeric_limits<double>::infinity();
  core::Time latency = params_.message_overhead;
  for (const auto id : route) {
    slowest = std::min(slowest, cluster_.link(id).capacity());
    latency += cluster_.link(id).latency;
  }
  const double seconds = route.empty() ? 0.0 : bytes / slowest;
  queue_.push(
      now + latency + core::Time::ps(core::Time::arrival_ps(seconds * core::Time::kPsPerS)), tag);
}

std::optional<core::Time> AlphaBetaModel::next_completion() {
  if (queue_.empty()) return std::nullopt;
  return queue_.top_time();
}

void AlphaBetaModel::complete_until(core::Time t, std::vector<std::uint64_t>& finished) {
  while (!queue_.empty() && queue_.top_time() <= t) finished.push_back(queue_.pop().payload);
}

}  // namespace moesim::net
