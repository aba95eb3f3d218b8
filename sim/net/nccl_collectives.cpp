#include "nccl_collectives.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

namespace moesim::net {

namespace {

using Id = TransferGraph::Id;

// How the participants sit: `nodes` groups of `per_node`, node-major, or (per_node 1) one each.
struct Layout {
  int n = 1, nodes = 1, per_node = 1;
  int at(int node, int local) const { return node * per_node + local; }
};

Layout layout_of(const CollectiveRequest& r) {
  if (r.comm.nodes <= 1) return {r.n, 1, r.n};
  const int g = r.gpus_per_node > 1 && r.n % r.gpus_per_node == 0 ? r.gpus_per_node : 1;
  return {r.n, r.n / g, g};
}

bool all_reduce(const CollectiveRequest& r) {
  return r.kind == CollectiveKind::kAllReduce;
}

// The traffic's bound on the links: the algorithm's algorithm bandwidth (GB/s) with every link
// at its capacity, for the bytes the graph below puts on them.
double physical_algbw(const CollectiveRequest& r, NcclAlgorithm a, const Layout& l) {
  const double n = r.n, g = l.per_node;
  const double intra = r.comm.intra_gbps;
  // The network bandwidth a node's share of a ring or tree gets: all its NICs when whole nodes
  // spread their rings over the rails, else one NIC.
  const double nics = std::max(1, r.comm.nics_per_node);
  const double net = l.nodes > 1 ? (l.per_node > 1 ? nics : 1.0) * r.comm.nic_capacity_gbps
                                 : std::numeric_limits<double>::infinity();
  const double ring_factor = all_reduce(r) ? 2 * (n - 1) / n : (n - 1) / n;
  switch (a) {
    case NcclAlgorithm::kRing:
    case NcclAlgorithm::kPat:
      return (l.nodes == 1 ? intra : l.per_node == 1 ? net : std::min(intra, net)) / ring_factor;
    case NcclAlgorithm::kTree:
      return std::min(g > 1 ? intra / 2 : std::numeric_limits<double>::infinity(), net);
    case NcclAlgorithm::kNvls:
      return all_reduce(r) ? intra / (1 + 1 / g) : intra * g / (g - 1);
    case NcclAlgorithm::kNvlsTree:
    case NcclAlgorithm::kCollNetDirect:
    case NcclAlgorithm::kCollNetChain:
      return std::min(intra / (1 + 1 / g), net);
  }
  return intra;
}

// The bytes each ordered pair of participants moves. NCCL's channels between one pair share
// its route; the graph carries them as one transfer.
using Loads = std::map<std::pair<int, int>, double>;

void send(Loads& loads, int src, int dst, double bytes) {
  if (src == dst || bytes <= 0) return;
  loads[{src, dst}] += bytes;
}

// NCCL's latency on each participant first, then its transfers.
void emit(TransferGraph& graph, int n, double latency_us, const Loads& loads) {
  std::vector<Id> delay;
  for (int p = 0; p < n; ++p) {
    delay.push_back(graph.add_delay(p, core::Time::from_seconds(latency_us * 1e-6)));
  }
  for (const auto& [pair, bytes] : loads) {
    graph.depend(graph.add_transfer(pair.first, pair.second, bytes),
                 delay[static_cast<std::size_t>(pair.first)]);
  }
}

// Rings: over whole nodes one per rail (starting at local c on every node), else one.
void rings(Loads& loads, const Layout& l, double per_edge) {
  const int rotations = l.nodes > 1 && l.per_node > 1 ? l.per_node : 1;
  std::vector<int> order;
  for (int c = 0; c < rotations; ++c) {
    order.clear();
    if (rotations == 1) {
      for (int p = 0; p < l.n; ++p) order.push_back(p);
    } else {
      for (int k = 0; k < l.nodes; ++k) {
        for (int i = 0; i < l.per_node; ++i) order.push_back(l.at(k, (c + i) % l.per_node));
      }
    }
    for (std::size_t i = 0; i < order.size(); ++i) {
      send(loads, order[i], order[(i + 1) % order.size()], per_edge / rotations);
    }
  }
}

// Between nodes, a double binary tree (NCCL's: two complementary trees, each node interior in
// one and a leaf in the other, half of the bytes each) sends and receives about `bytes` on each
// node: as much as a ring of the nodes' heads (`head(k)`) carrying `bytes` on each edge, which
// is what stands for it here.
template <class Head>
void between_nodes(Loads& loads, int nodes, double bytes, Head head) {
  if (nodes < 2) return;
  for (int k = 0; k < nodes; ++k) send(loads, head(k), head((k + 1) % nodes), bytes);
}

// The NVSwitch's share of an NVLS operation inside each node: each GPU sends and receives
// `bytes` through the switch (the multicast and the in-switch reduction, as a ring of equal
// loads on the GPUs' NVLink ports).
void nvls_inside(Loads& loads, const Layout& l, double bytes) {
  for (int k = 0; k < l.nodes; ++k) {
    for (int i = 0; i < l.per_node; ++i)
      send(loads, l.at(k, i), l.at(k, (i + 1) % l.per_node), bytes);
  }
}

}  // namespace

std::optional<NcclPlan> nccl_plan(const CollectiveRequest& r,
                                  std::optional<NcclAlgorithm> algorithm) {
  const auto estimate = nccl_choose(r.kind, r.bytes, r.comm, algorithm, r.protocol);
  if (!estimate) return std::nullopt;
  NcclPlan plan{*estimate, nccl_launch_fraction(*estimate, r.bytes, r.comm), 1.0};
  const double bound = physical_algbw(r, estimate->algorithm, layout_of(r));
  const double bandwidth = estimate->bandwidth_gbps * plan.launched;
  if (bound > 0 && bandwidth > 0) plan.wire_factor = std::max(1.0, bound / bandwidth);
  return plan;
}

TransferGraph nccl_graph(const CollectiveRequest& r, const NcclPlan& plan) {
  TransferGraph graph;
  if (r.n <= 1) {
    graph.seal();
    return graph;
  }
  const auto l = layout_of(r);
  const double s = r.bytes * plan.wire_factor;
  const double n = r.n, g = l.per_node;
  Loads loads;
  const double ring_factor = all_reduce(r) ? 2 * (n - 1) / n : (n - 1) / n;
  switch (plan.estimate.algorithm) {
    case NcclAlgorithm::kRing:
    case NcclAlgorithm::kPat:
      rings(loads, l, ring_factor * s);
      break;
    case NcclAlgorithm::kTree: {
      const int rails = l.nodes > 1 && l.per_node > 1 ? l.per_node : 1;
      for (int c = 0; c < rails; ++c) {
        // A chain through each node from its head (local c), reduced up and broadcast down.
        for (int k = 0; k < l.nodes; ++k) {
          for (int i = 0; i + 1 < l.per_node; ++i) {
            const int up = l.at(k, (c + i) % l.per_node), down = l.at(k, (c + i + 1) % l.per_node);
            send(loads, down, up, s / rails);
            send(loads, up, down, s / rails);
          }
        }
        between_nodes(loads, l.nodes, s / rails,
                      [&](int node) { return l.at(node, c % l.per_node); });
      }
      break;
    }
    case NcclAlgorithm::kNvls:
      nvls_inside(loads, l, all_reduce(r) ? s * (1 + 1 / g) : s * (g - 1) / g);
      break;
    case NcclAlgorithm::kNvlsTree:
      nvls_inside(loads, l, s * (1 + 1 / g));
      for (int rail = 0; rail < l.per_node; ++rail) {
        between_nodes(loads, l.nodes, s / g, [&](int node) { return l.at(node, rail); });
      }
      break;
    case NcclAlgorithm::kCollNetDirect:
    case NcclAlgorithm::kCollNetChain:
      // The switches reduce each rail's S/g: as much leaves and enters every NIC.
      nvls_inside(loads, l, s * (1 + 1 / g));
      for (int rail = 0; rail < l.per_node; ++rail) {
        between_nodes(loads, l.nodes, s / g, [&](int node) { return l.at(node, rail); });
      }
      break;
  }
  emit(graph, r.n, plan.estimate.latency_us, loads);
  graph.seal();
  return graph;
}

}  // namespace moesim::net
