#include "network_cases.hpp"

#include <fmt/format.h>

#include <numeric>
#include <stdexcept>
#include <vector>

#include "config/enum_name.hpp"
#include "config/error.hpp"
#include "model/dispatcher.hpp"
#include "model/layout.hpp"
#include "model/routing.hpp"
#include "model/traffic.hpp"
#include "net/nccl.hpp"
#include "net/run_transfers.hpp"

namespace moesim::cli {

namespace {

std::vector<int> every_gpu(const topo::Cluster& cluster) {
  std::vector<int> ranks(cluster.gpus().size());
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}

// What NCCL knows of the whole cluster as one communicator, with its p2p message costs.
net::CollectiveRequest request_on(const topo::Cluster& cluster, const std::vector<int>& ranks) {
  net::CollectiveRequest r;
  r.n = static_cast<int>(ranks.size());
  r.gpus_per_node = cluster.gpus_per_node();
  r.comm = net::nccl_comm(cluster, ranks);
  for (const int g : ranks) r.nodes.push_back(cluster.gpu_node(g));
  return r;
}

double play(const topo::Cluster& cluster, const topo::RoutingOptions& routing,
            const net::TransferGraph& graph, const std::vector<int>& ranks, std::string_view model,
            const net::NetworkParams& params) {
  const topo::Router router(cluster, routing);
  const auto network = net::make_network_model(model, cluster, params);
  return net::run_transfers(graph, ranks, router, *network).end.seconds();
}

}  // namespace

const net::CollectiveInfo& collective_named(std::string_view op) {
  const auto* info = net::find_collective(op);
  if (info == nullptr) {
    throw config::ConfigError(fmt::format("--op {}: expected {}", op, net::collective_names()));
  }
  return *info;
}

Played play_collective(const topo::Cluster& cluster, const topo::RoutingOptions& routing,
                       const CollectiveCase& c, std::string_view model,
                       const net::NetworkParams& params) {
  const auto& info = collective_named(c.op);
  const auto* algorithm =
      c.algorithm.empty() ? &info.algorithms.front() : net::find_algorithm(info, c.algorithm);
  if (algorithm == nullptr) {
    throw config::ConfigError(
        fmt::format("--algo {}: expected {}", c.algorithm,
                    info.algorithms.size() == 1
                        ? fmt::format("{} ({}'s only one)", info.algorithms.front().name, c.op)
                        : fmt::format("{} for {}", net::algorithm_names(info), c.op)));
  }
  const auto ranks = every_gpu(cluster);
  auto request = request_on(cluster, ranks);
  request.kind = info.kind;
  const double s = static_cast<double>(c.size.count);
  const int n = request.n;
  request.bytes = s;
  request.matrix = [s, n](int, int) { return s / n; };
  request.window = static_cast<int>(c.window);
  if (c.protocol != "auto") {
    for (const auto& [name, p] : enum_names(net::NcclProtocol{})) {
      if (name == c.protocol) request.protocol = p;
    }
    if (!request.protocol) {
      throw config::ConfigError(
          fmt::format("--proto {}: expected auto, LL, LL128 or Simple", c.protocol));
    }
  }
  Played out;
  net::TransferGraph graph;
  try {
    out.algorithm = net::plan_name(*algorithm, request);
    graph = algorithm->build(request);
  } catch (const std::invalid_argument& e) {
    throw config::ConfigError(fmt::format("--algo {}: {}", algorithm->name, e.what()));
  }
  out.seconds = play(cluster, routing, graph, ranks, model, params);
  return out;
}

DispatchPlayed play_dispatch(const topo::Cluster& cluster, const DispatchCase& d) {
  const auto ranks = every_gpu(cluster);
  const int n = static_cast<int>(ranks.size());
  if (d.experts % n != 0) {
    throw config::ConfigError(
        fmt::format("dispatch.experts: {} experts do not spread evenly over the cluster's {} GPUs",
                    d.experts, n));
  }
  model::ModelConfig m;
  m.hidden = d.hidden;
  m.moe.experts = d.experts;
  m.moe.top_k = d.top_k;
  model::ParallelConfig p;
  p.ep = n;
  const model::RankLayout layout(m, p, n, cluster.gpus_per_node());
  const model::RoutingModel routing(model::RoutingConfig{}, d.experts);
  model::Traffic traffic(m, layout, routing, 1, cluster, d.node_limit);
  const double row = model::exchanged_row_bytes(d.hidden, d.dtype);
  auto matrix = traffic.dispatch(0, 0, 0, d.tokens, d.top_k, row, d.mode);
  if (d.combine) matrix = traffic.transpose(*matrix);

  auto request = request_on(cluster, ranks);
  request.kind = net::CollectiveKind::kAllToAll;
  request.matrix = [&matrix](int a, int b) { return matrix->at(a, b); };
  const auto graph =
      net::collective(net::CollectiveKind::kAllToAll).algorithms.front().build(request);
  DispatchPlayed out;
  out.seconds = play(cluster, {}, graph, ranks, "flow", {});
  // Rank 0's bytes as the benchmark counts them (DeepEP's tests/test_internode.py), in the
  // dispatch's direction: what it receives, its own rows included; or a token once per node its
  // experts are on, its own node included (rdma_idx over every node), which under symmetric
  // routing is what it sends each other node, times the nodes.
  const int node0 = cluster.gpu_node(0);
  double remote = 0;
  for (int j = 0; j < n; ++j) {
    const double sent = d.combine ? matrix->at(j, 0) : matrix->at(0, j);
    const double received = d.combine ? matrix->at(0, j) : matrix->at(j, 0);
    if (d.count == DispatchCount::kNvlink) out.counted_bytes += received;
    if (cluster.gpu_node(j) != node0) remote += sent;
  }
  if (d.count == DispatchCount::kRdma) {
    const int nodes = cluster.nodes();
    out.counted_bytes = nodes > 1 ? remote * nodes / (nodes - 1) : 0;
  }
  return out;
}

}  // namespace moesim::cli
