#pragma once
#include <vector>

#include "core/event_queue.hpp"
#include "network_model.hpp"

namespace moesim::net {

// t = message overhead + sum of hop latencies + bytes / (slowest link capacity on the route).
// No contention: every transfer behaves as if it were alone.
class AlphaBetaModel final : public NetworkModel {
 public:
  AlphaBetaModel(const topo::Cluster& cluster, const NetworkParams& params)
      : cluster_(cluster), params_(params) {}
  void start(core::Time now, std::span<const topo::LinkId> route, double bytes,
             std::uint64_t tag) override;
  std::optional<core::Time> next_completion() override;
  void complete_until(core::Time t, std::vector<std::uint64_t>& finished) override;
  std::size_t in_flight() const override { return queue_.size(); }

 private:
  const topo::Cluster& cluster_;
  NetworkParams params_;
  core::EventQueue<std::uint64_t> queue_;
};

}  // namespace moesim::net
