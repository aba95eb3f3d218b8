#pragma once
// The transfer graph of every distinct collective a workload calls, built once: a collective is
// known by its kind, its group's shape on the cluster and what it moves (its size, or its
// interned byte matrix), so balanced routing shares one graph across layers and groups.
#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <vector>

#include "config.hpp"
#include "core/time.hpp"
#include "cost/cost_model.hpp"
#include "net/transfer_graph.hpp"
#include "program.hpp"
#include "topologies/cluster.hpp"

namespace moesim::model {

// How long one exchange would take alone on the network (places ScMoE's expert computation).
using ExchangeEstimator =
    std::function<core::Time(const net::TransferGraph& graph, const std::vector<int>& gpus)>;

// GPUs per node when `gpus` fill whole nodes one after another with the same count; else 0.
int gpus_per_node(const topo::Cluster& cluster, const std::vector<int>& gpus);

class GraphCatalogue {
 public:
  // `window`: peers in flight in a direct all-to-all; `algorithm`: the schedule's all-to-all.
  GraphCatalogue(const topo::Cluster& cluster, const cost::CostModel& cost, std::int64_t window,
                 ExchangeAlgorithm algorithm);

  // The graph of `c` over `gpus` (the cluster GPU of each member, in group order). Groups that
  // fill whole nodes reduce and gather in two levels, inside nodes then along rails; their
  // all-to-all does so when the schedule asks for the hierarchical one.
  std::uint32_t graph(const Collective& c, const std::vector<int>& gpus);
  const net::TransferGraph& at(std::uint32_t id) const { return graphs_[id]; }
  // What graph `id`'s members send to other members (all-to-all; 0 for the others).
  double payload(std::uint32_t id) const { return payload_[id]; }
  std::vector<net::TransferGraph> release() { return std::move(graphs_); }

 private:
  const topo::Cluster& cluster_;
  const cost::CostModel& cost_;
  std::int64_t window_;
  ExchangeAlgorithm algorithm_;
  // (kind, members, members per node, matrix id or the size's bits) -> graph
  std::map<std::tuple<int, int, int, std::uint64_t>, std::uint32_t> index_;
  std::vector<net::TransferGraph> graphs_;
  std::vector<double> payload_;
};

}  // namespace moesim::model
