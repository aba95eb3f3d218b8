#include "routing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <tuple>

namespace moesim::topo {

namespace {
// Cost of a link: femtoseconds per byte at its capacity. Integers make equal-cost paths exactly
// equal, which ECMP needs.
constexpr double kFemtosecondsPerSecond = 1e15;
constexpr LinkId kNoLink = std::numeric_limits<LinkId>::max();

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: a fixed, portable hash
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

Router::Router(const Cluster& cluster, RoutingOptions options)
    : cluster_(cluster), options_(options), trees_(cluster.gpus().size()) {
  for (const auto& l : cluster.links()) {
    link_cost_.push_back(std::llround(kFemtosecondsPerSecond / l.capacity()));
  }
}

const Router::Tree& Router::tree(int src) const {
  Tree& t = trees_[static_cast<std::size_t>(src)];
  if (!t.via.empty()) return t;
  const auto& g = cluster_.graph();
  const auto n = cluster_.device_count();
  t.cost.assign(n, std::numeric_limits<std::int64_t>::max());
  t.via.assign(n, kNoLink);
  using Item = std::pair<std::int64_t, DeviceId>;  // (cost, device): ties by device id
  std::priority_queue<Item, std::vector<Item>, std::greater<>> frontier;
  const DeviceId start = cluster_.gpus()[static_cast<std::size_t>(src)];
  t.cost[start] = 0;
  frontier.emplace(0, start);
  while (!frontier.empty()) {
    const auto [cost, v] = frontier.top();
    frontier.pop();
    if (cost != t.cost[v]) continue;
    // Only GPUs may relay traffic if they are the source: no path passes through another GPU.
    if (v != start && cluster_.device(v).kind == DeviceKind::kGpu) continue;
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
      const LinkId id = g[*e];
      const auto u = static_cast<DeviceId>(boost::target(*e, g));
      const auto c = cost + link_cost_[id];
      if (c < t.cost[u]) {
        t.cost[u] = c;
        t.via[u] = id;
        frontier.emplace(c, u);
      }
    }
  }
  if (!options_.ecmp) t.cost.clear();
  return t;
}

void Router::direct(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const {
  const Tree& t = tree(src);
  const auto& g = cluster_.graph();
  const DeviceId start = cluster_.gpus()[static_cast<std::size_t>(src)];
  DeviceId v = cluster_.gpus()[static_cast<std::size_t>(dst)];
  const auto first = out.size();
  while (v != start) {
    LinkId chosen = t.via[v];
    if (options_.ecmp) {
      // Every link into v on a cheapest path; pick one by hashing (flow, src, dst, v).
      std::vector<LinkId> equal;
      for (auto [e, end] = boost::in_edges(v, g); e != end; ++e) {
        const LinkId id = g[*e];
        const auto u = static_cast<DeviceId>(boost::source(*e, g));
        if (t.cost[u] != std::numeric_limits<std::int64_t>::max() &&
            (u == start || cluster_.device(u).kind != DeviceKind::kGpu) &&
            t.cost[u] + link_cost_[id] == t.cost[v]) {
          equal.push_back(id);
        }
      }
      std::sort(equal.begin(), equal.end());
      const auto h = mix(flow ^ mix((static_cast<std::uint64_t>(src) << 32) ^
                                    static_cast<std::uint64_t>(dst) ^ (std::uint64_t{v} << 20)));
      chosen = equal[h % equal.size()];
    }
    out.push_back(chosen);
    v = cluster_.link(chosen).from;
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
}

void Router::route(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const {
  if (src == dst) return;
  const int node_s = cluster_.gpu_node(src), node_d = cluster_.gpu_node(dst);
  const int rail = cluster_.gpu_local(dst);
  if (options_.pxn && node_s != node_d && cluster_.gpu_local(src) != rail) {
    const int relay = node_s * cluster_.gpus_per_node() + rail;  // same node, destination's rail
    if (relay < static_cast<int>(cluster_.gpus().size()) && cluster_.gpu_node(relay) == node_s &&
        cluster_.gpu_local(relay) == rail) {
      direct(src, relay, flow, out);
      direct(relay, dst, flow, out);
      return;
    }
  }
  direct(src, dst, flow, out);
}

std::vector<LinkId> Router::route(int src, int dst, std::uint64_t flow) const {
  std::vector<LinkId> out;
  route(src, dst, flow, out);
  return out;
}

core::Time Router::latency(const std::vector<LinkId>& route) const {
  core::Time total = core::Time::zero();
  for (const auto id : route) total += cluster_.link(id).latency;
  return total;
}

}  // namespace moesim::topo
