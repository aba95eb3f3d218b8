#pragma once
// One study on one cluster: build the workload, play it on the engine with the network model,
// return the timeline.
#include <cstdint>
#include <memory>
#include <string>

#include "config/check.hpp"
#include "core/engine.hpp"
#include "core/timeline.hpp"
#include "net/link_loads.hpp"
#include "topologies/routing.hpp"
#include "workload.hpp"

namespace moesim::model {

struct NetworkConfig {
  std::string model = "flow";  // net/network_model.hpp: alpha-beta or flow
  core::Time message_overhead = core::Time::us(5);
  topo::Ecmp ecmp = topo::Ecmp::kPerPair;
  bool pxn = true;  // as NCCL's default; applies only where topologies/routing.hpp says

  template <class V>
  void fields(V& v) {
    v.field("model", model, "network model: flow (max-min sharing) or alpha-beta");
    v.field("message_overhead", message_overhead, "software cost of each message",
            config::Check::non_negative());
    v.field("ecmp", ecmp,
            "equal-cost paths: per_pair (hash of the ends), per_flow (of each transfer), off");
    v.field("pxn", pxn,
            "traffic to another node relays over NVLink to the GPU on the destination's rail "
            "where that GPU has its own NIC (NCCL's default)");
  }
};

struct Simulation {
  std::unique_ptr<Workload> workload;  // on the heap: the timeline refers to its graph
  core::Timeline timeline;
  std::uint64_t transfers = 0;  // network transfers played
  // The busiest links' throughput over time (BuildOptions::link_tracks of them), busiest first.
  std::vector<net::LinkLoad> link_loads;
};

// An exchange alone on an idle network: what the builder places shortcut paths by. `router`
// and `cluster` must outlive it.
ExchangeEstimator idle_exchange_estimator(const topo::Cluster& cluster, const topo::Router& router,
                                          const NetworkConfig& network);

// `progress` (may be empty) is called every `progress_every` events.
Simulation simulate(const Study& study, const topo::Cluster& cluster, const cost::CostModel& cost,
                    const NetworkConfig& network, const BuildOptions& options = {},
                    const core::ProgressCallback& progress = {},
                    std::uint64_t progress_every = 1'000'000);

}  // namespace moesim::model
