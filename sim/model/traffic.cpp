#include "traffic.hpp"

#include <algorithm>

namespace moesim::model {

namespace {

// Where one member's tokens go, for deduplicated dispatch: the probability that a token reaches
// each member (any of its experts picked) and each node.
struct Reach {
  std::vector<double> member, node;
};

Reach reach(const ExpertCounts& rows, std::int64_t tokens, std::int64_t local,
            const std::vector<int>& node_of, int nodes, std::int64_t node_limit) {
  const auto n = node_of.size();
  const double t = static_cast<double>(std::max<std::int64_t>(tokens, 1));
  // Each node's share of the rows, and the chance a token picks it (node-limited routing).
  std::vector<double> picked(static_cast<std::size_t>(nodes), 1.0);
  if (node_limit > 0 && node_limit < nodes) {
    std::vector<double> share(static_cast<std::size_t>(nodes), 0.0);
    double total = 0;
    for (std::size_t e = 0; e < rows.size(); ++e) {
      share[static_cast<std::size_t>(node_of[e / static_cast<std::size_t>(local)])] +=
          static_cast<double>(rows[e]);
      total += static_cast<double>(rows[e]);
    }
    for (std::size_t v = 0; v < share.size(); ++v) {
      picked[v] =
          total > 0 ? std::min(1.0, static_cast<double>(node_limit) * share[v] / total) : 0.0;
    }
  }
  // Misses: the chance a token picks none of a member's (a node's) experts, given its node.
  std::vector<double> miss_member(n, 1.0), miss_node(static_cast<std::size_t>(nodes), 1.0);
  for (std::size_t e = 0; e < rows.size(); ++e) {
    const auto m = e / static_cast<std::size_t>(local);
    const auto v = static_cast<std::size_t>(node_of[m]);
    if (picked[v] <= 0) continue;
    const double p = std::min(1.0, static_cast<double>(rows[e]) / t / picked[v]);
    miss_member[m] *= 1 - p;
    miss_node[v] *= 1 - p;
  }
  Reach r;
  for (std::size_t m = 0; m < n; ++m) {
    r.member.push_back(picked[static_cast<std::size_t>(node_of[m])] * (1 - miss_member[m]));
  }
  for (std::size_t v = 0; v < miss_node.size(); ++v)
    r.node.push_back(picked[v] * (1 - miss_node[v]));
  return r;
}

}  // namespace

Traffic::Traffic(const ModelConfig& model, const RankLayout& layout, const RoutingModel& routing,
                 int paths, const topo::Cluster& cluster, std::int64_t node_limit)
    : model_(model),
      layout_(layout),
      routing_(routing),
      paths_(paths),
      cluster_(cluster),
      node_limit_(node_limit) {}

const GroupRows& Traffic::rows(int group, int moe_layer, int path, std::int64_t tokens,
                               std::int64_t k) {
  if (group != group_) {
    rows_.clear();
    dispatch_.clear();
    group_ = group;
  }
  const auto key = std::make_tuple(moe_layer, path, tokens, k);
  auto it = rows_.find(key);
  if (it != rows_.end()) return it->second;
  GroupRows rows;
  // DGMoE's two gates see different representations: each gets its own routing draw.
  const int layer_id = moe_layer * paths_ + path;
  for (const int r : layout_.ep_group(group)) {
    rows.push_back(apply_capacity(routing_.route(layer_id, r, tokens, k), tokens, k,
                                  model_.moe.capacity_factor));
  }
  return rows_.emplace(key, std::move(rows)).first->second;
}

namespace {

// Where an EP group's members sit: their nodes (numbered in order of appearance) and rails.
struct Places {
  std::vector<int> node_of, rail_of;
  int nodes = 0;
  // The member on `rail` of node `node`, else the node's first.
  int relay(int rail, int node) const {
    int first = -1;
    for (std::size_t m = 0; m < node_of.size(); ++m) {
      if (node_of[m] != node) continue;
      if (rail_of[m] == rail) return static_cast<int>(m);
      if (first < 0) first = static_cast<int>(m);
    }
    return first;
  }
};

Places places_of(const std::vector<int>& members, const topo::Cluster& cluster) {
  Places p;
  std::vector<int> seen;
  for (const int r : members) {
    const int node = cluster.gpu_node(r);
    auto it = std::find(seen.begin(), seen.end(), node);
    if (it == seen.end()) it = seen.insert(seen.end(), node);
    p.node_of.push_back(static_cast<int>(it - seen.begin()));
    p.rail_of.push_back(cluster.gpu_local(r));
  }
  p.nodes = static_cast<int>(seen.size());
  return p;
}

}  // namespace

std::shared_ptr<const TrafficMatrix> Traffic::dispatch(int group, int moe_layer, int path,
                                                       std::int64_t tokens, std::int64_t k,
                                                       double row_bytes, DispatchMode mode) {
  const auto& rows = this->rows(group, moe_layer, path, tokens, k);
  const auto key = std::make_tuple(moe_layer, path, tokens, k, row_bytes, static_cast<int>(mode));
  if (const auto it = dispatch_.find(key); it != dispatch_.end()) return it->second;
  const int n = static_cast<int>(rows.size());
  const auto nn = static_cast<std::size_t>(n);
  const auto local = model_.moe.experts / n;
  std::vector<double> bytes(nn * nn, 0);
  const auto at = [&](int i, int j) -> double& {
    return bytes[static_cast<std::size_t>(i) * nn + static_cast<std::size_t>(j)];
  };
  if (mode == DispatchMode::kPerExpert) {
    for (int i = 0; i < n; ++i) {
      const auto& mine = rows[static_cast<std::size_t>(i)];
      for (std::size_t e = 0; e < mine.size(); ++e) {
        at(i, static_cast<int>(e / static_cast<std::size_t>(local))) +=
            static_cast<double>(mine[e]) * row_bytes;
      }
    }
  } else {
    const auto p = places_of(layout_.ep_group(group), cluster_);
    const double t = static_cast<double>(tokens);
    for (int i = 0; i < n; ++i) {
      const auto mi = static_cast<std::size_t>(i);
      const auto r = reach(rows[mi], tokens, local, p.node_of, p.nodes, node_limit_);
      for (int j = 0; j < n; ++j) {
        const auto mj = static_cast<std::size_t>(j);
        const double direct = t * r.member[mj] * row_bytes;
        if (mode == DispatchMode::kPerRank || p.node_of[mi] == p.node_of[mj]) {
          at(i, j) += direct;
        } else if (const int relay = p.relay(p.rail_of[mi], p.node_of[mj]); relay != j) {
          at(relay, j) += direct;  // forwarded inside j's node
        }
      }
      if (mode != DispatchMode::kPerNode) continue;
      for (int v = 0; v < p.nodes; ++v) {  // once to each other node, to its relay
        if (v == p.node_of[mi]) continue;
        at(i, p.relay(p.rail_of[mi], v)) += t * r.node[static_cast<std::size_t>(v)] * row_bytes;
      }
    }
  }
  auto matrix = intern(n, std::move(bytes));
  dispatch_.emplace(key, matrix);
  return matrix;
}

std::shared_ptr<const TrafficMatrix> Traffic::transpose(const TrafficMatrix& m) {
  auto& known = transposes_[m.id];
  if (known) return known;
  std::vector<double> bytes(m.bytes.size());
  for (int i = 0; i < m.n; ++i) {
    for (int j = 0; j < m.n; ++j) bytes[static_cast<std::size_t>(j * m.n + i)] = m.at(i, j);
  }
  auto t = intern(m.n, std::move(bytes));
  transposes_[m.id] = t;  // `known` may have moved with the vector
  return t;
}

std::shared_ptr<const TrafficMatrix> Traffic::intern(int n, std::vector<double> bytes) {
  std::string key(reinterpret_cast<const char*>(bytes.data()), bytes.size() * sizeof(double));
  const auto found = by_bytes_.find(key);
  if (found != by_bytes_.end()) return found->second;
  auto m = std::make_shared<TrafficMatrix>();
  m->n = n;
  m->bytes = std::move(bytes);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) m->payload += a == b ? 0 : m->at(a, b);
  }
  m->id = static_cast<std::uint32_t>(transposes_.size());
  transposes_.emplace_back();
  by_bytes_.emplace(std::move(key), m);
  return m;
}

}  // namespace moesim::model
