#pragma once
// Plays a transfer graph on a network model: each transfer starts when its prerequisites are
// done, on the route between the cluster GPUs its participants map to.
#include <span>
#include <vector>

#include "network_model.hpp"
#include "topologies/routing.hpp"
#include "transfer_graph.hpp"

namespace moesim::net {

struct TransferRun {
  core::Time end;                       // when the last transfer or delay finished
  std::vector<core::Time> rank_finish;  // by participant: its last send, receive or delay
  std::size_t transfers = 0;
};

// `ranks[p]` is the cluster GPU rank of participant p. Starts everything ready at `start`.
TransferRun run_transfers(const TransferGraph& graph, std::span<const int> ranks,
                          const topo::Router& router, NetworkModel& model,
                          core::Time start = core::Time::zero());

}  // namespace moesim::net
