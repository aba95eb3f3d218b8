#include "exchanges.hpp"

#include <bit>

#include "net/collectives.hpp"

namespace moesim::model {

int gpus_per_node(const topo::Cluster& cluster, const std::vector<int>& gpus) {
  const auto node = [&](std::size_t i) { return cluster.gpu_node(gpus[i]); };
  std::size_t per = 0;
  while (per < gpus.size() && node(per) == node(0)) ++per;
  if (per == 0 || gpus.size() % per != 0) return 0;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (node(i) != node(i / per * per)) return 0;
  }
  return static_cast<int>(per);
}

GraphCatalogue::GraphCatalogue(const topo::Cluster& cluster, const cost::CostModel& cost,
                               std::int64_t window, ExchangeAlgorithm algorithm)
    : cluster_(cluster), cost_(cost), window_(window), algorithm_(algorithm) {}

std::uint32_t GraphCatalogue::graph(const Collective& c, const std::vector<int>& gpus) {
  using net::CollectiveKind;
  const int n = static_cast<int>(gpus.size());
  const int per_node = gpus_per_node(cluster_, gpus);
  const bool a2a = c.kind == CollectiveKind::kAllToAll;
  const auto key =
      std::make_tuple(static_cast<int>(c.kind), n, per_node,
                      a2a ? std::uint64_t{c.matrix->id} : std::bit_cast<std::uint64_t>(c.bytes));
  if (const auto found = index_.find(key); found != index_.end()) return found->second;

  const bool whole_nodes = per_node > 0 && per_node < n;  // and more than one
  net::CollectiveRequest request;
  request.kind = c.kind;
  request.n = n;
  request.bytes = c.bytes;
  request.window = static_cast<int>(window_);
  request.gpus_per_node = whole_nodes ? per_node : 1;
  request.comm = net::nccl_comm(cluster_, gpus);
  for (const int g : gpus) request.nodes.push_back(cluster_.gpu_node(g));
  bool two_level = false;  // NCCL's algorithms, as its tuner picks them
  if (a2a) {
    const auto& matrix = *c.matrix;
    request.matrix = [&matrix](int a, int b) { return matrix.at(a, b); };
    request.relayout_bandwidth = cost_.profile().memory.bandwidth.bytes_per_second;
    two_level = whole_nodes && algorithm_ == ExchangeAlgorithm::kHierarchical;
  }
  const auto& info = net::collective(c.kind);
  const auto& algorithm =
      two_level ? *net::find_algorithm(info, "hierarchical") : info.algorithms.front();
  graphs_.push_back(algorithm.build(request));
  payload_.push_back(a2a ? c.matrix->payload : 0.0);
  const auto id = static_cast<std::uint32_t>(graphs_.size() - 1);
  index_.emplace(key, id);
  return id;
}

}  // namespace moesim::model
