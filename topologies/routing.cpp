#include "routing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
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
constexpr double kUnbounded = std::numeric_limits<double>::infinity();

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: a fixed, portable hash
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

Router::Router(const Cluster& cluster, RoutingOptions options)
    : cluster_(cluster),
      options_(options),
      trees_(cluster.gpus().size()),
      inside_(cluster.gpus().size()),
      outside_(cluster.gpus().size()) {
  if (cluster.links().size() >= kTied) {
    throw TopologyError(fmt::format("cluster '{}': {} links; routing takes at most {}",
                                    cluster.name(), cluster.links().size(), kTied - 1));
  }
  for (const auto& l : cluster.links()) {
    link_cost_.push_back(std::llround(kFemtosecondsPerSecond / l.capacity()));
    from_.push_back(l.from);
  }
  const auto& g = cluster.graph();
  sole_in_.assign(cluster.device_count(), kNoLink);
  sole_out_.assign(cluster.device_count(), kNoLink);
  for (DeviceId v = 0; v < cluster.device_count(); ++v) {
    if (boost::out_degree(v, g) == 1) sole_out_[v] = g[*boost::out_edges(v, g).first];
    if (boost::in_degree(v, g) != 1) continue;
    const LinkId in = g[*boost::in_edges(v, g).first];
    // From a GPU it is a path only for that GPU as the source: leave that to the tree.
    if (cluster.device(from_[in]).kind != DeviceKind::kGpu) sole_in_[v] = in;
  }
  if (options_.pxn && cluster.nodes() > 1) find_relays();
  // Each GPU's best way to a NIC through PCIe switches alone (NCCL's PATH_PXB or closer): the
  // widest of the paths GPU -> switch(es) -> NIC, by their narrowest link.
  nic_reach_.assign(cluster.gpus().size(), 0.0);
  for (std::size_t r = 0; r < cluster.gpus().size(); ++r) {
    std::vector<std::pair<DeviceId, double>> frontier{{cluster.gpus()[r], kUnbounded}};
    std::vector<char> seen(cluster.device_count(), 0);
    seen[cluster.gpus()[r]] = 1;
    while (!frontier.empty()) {
      const auto [v, width] = frontier.back();
      frontier.pop_back();
      for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
        const auto& link = cluster.link(g[*e]);
        const auto u = static_cast<DeviceId>(boost::target(*e, g));
        if (link.kind != LinkKind::kPcie || seen[u]) continue;
        const double w = std::min(width, link.capacity());
        const auto kind = cluster.device(u).kind;
        if (kind == DeviceKind::kNic) nic_reach_[r] = std::max(nic_reach_[r], w);
        if (kind != DeviceKind::kPcieSwitch) continue;
        seen[u] = 1;
        frontier.emplace_back(u, w);
      }
    }
  }
  if (std::all_of(nic_reach_.begin(), nic_reach_.end(), [](double w) { return w == 0; })) {
    nic_reach_.clear();  // no NIC under any GPU's switches: routes inside nodes stay as found
  }
}

void Router::find_relays() {
  // NCCL's conditions for a PXN path (ncclTopoComputePaths): the relay is joined to the source
  // by NVLink (PATH_NVL: a direct link or through NVSwitches, not through another GPU) and is
  // closer to the NIC than the source; here, the NIC is its own (a link between the two).
  const auto& g = cluster_.graph();
  const auto gpus = cluster_.gpus().size();
  const auto per_node = static_cast<std::size_t>(cluster_.gpus_per_node());
  std::vector<char> own_nic(gpus, 0);
  for (std::size_t r = 0; r < gpus; ++r) {
    for (auto [e, end] = boost::out_edges(cluster_.gpus()[r], g); e != end; ++e) {
      own_nic[r] |=
          cluster_.device(static_cast<DeviceId>(boost::target(*e, g))).kind == DeviceKind::kNic;
    }
  }
  relays_.assign(gpus * per_node, 0);
  std::vector<DeviceId> frontier;
  std::vector<char> seen(cluster_.device_count(), 0);
  for (std::size_t src = 0; src < gpus; ++src) {
    // Over NVLink from the source, into NVSwitches (which pass it on) and GPUs (which do not).
    const DeviceId start = cluster_.gpus()[src];
    std::vector<DeviceId> reached{start};
    frontier.assign(1, start);
    seen[start] = 1;
    while (!frontier.empty()) {
      const auto v = frontier.back();
      frontier.pop_back();
      for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
        const auto u = static_cast<DeviceId>(boost::target(*e, g));
        const auto kind = cluster_.device(u).kind;
        if (seen[u] || cluster_.link(g[*e]).kind != LinkKind::kNvlink) continue;
        if (kind != DeviceKind::kNvSwitch && kind != DeviceKind::kGpu) continue;
        seen[u] = 1;
        reached.push_back(u);
        if (kind == DeviceKind::kNvSwitch) frontier.push_back(u);
      }
    }
    const int node = cluster_.gpu_node(static_cast<int>(src));
    for (std::size_t rail = 0; rail < per_node; ++rail) {
      const auto relay = static_cast<std::size_t>(node) * per_node + rail;
      if (relay >= gpus || relay == src || cluster_.gpu_node(static_cast<int>(relay)) != node ||
          cluster_.gpu_local(static_cast<int>(relay)) != static_cast<int>(rail)) {
        continue;
      }
      relays_[src * per_node + rail] = own_nic[relay] && seen[cluster_.gpus()[relay]];
    }
    for (const auto v : reached) seen[v] = 0;
  }
  if (std::find(relays_.begin(), relays_.end(), 1) == relays_.end()) relays_.clear();
}

void Router::build_tree(int src, Paths paths, Tree& tree) const {
  const auto& g = cluster_.graph();
  const auto n = cluster_.device_count();
  auto& via = tree.via;
  via.assign(n, kNoLink);
  std::vector<std::int64_t> cost(n, std::numeric_limits<std::int64_t>::max());
  // Links that reached a device at the cost it had then; those still at its final cost are the
  // other ways in on a cheapest path.
  struct Tie {
    DeviceId device;
    LinkId link;
    std::int64_t cost;
  };
  std::vector<Tie> ties;
  const bool spread = options_.ecmp != Ecmp::kOff;
  using Item = std::pair<std::int64_t, DeviceId>;  // (cost, device): ties by device id
  std::priority_queue<Item, std::vector<Item>, std::greater<>> frontier;
  const DeviceId start = cluster_.gpus()[static_cast<std::size_t>(src)];
  cost[start] = 0;
  frontier.emplace(0, start);
  while (!frontier.empty()) {
    const auto [at, v] = frontier.top();
    frontier.pop();
    if (at != cost[v]) continue;
    // Only GPUs may relay traffic if they are the source: no path passes through another GPU.
    if (v != start && cluster_.device(v).kind == DeviceKind::kGpu) continue;
    for (auto [e, end] = boost::out_edges(v, g); e != end; ++e) {
      const LinkId id = g[*e];
      const auto u = static_cast<DeviceId>(boost::target(*e, g));
      const auto kind = cluster_.device(u).kind;
      if (paths == Paths::kInside && kind == DeviceKind::kSwitch) continue;
      if (paths == Paths::kOutside &&
          (kind == DeviceKind::kHost || cluster_.link(id).kind == LinkKind::kNvlink)) {
        continue;
      }
      const auto c = at + link_cost_[id];
      if (c < cost[u]) {
        cost[u] = c;
        via[u] = id;
        frontier.emplace(c, u);
      } else if (spread && c == cost[u]) {
        ties.push_back({u, id, c});
      }
    }
  }
  std::erase_if(ties, [&cost](const Tie& t) { return t.cost != cost[t.device]; });
  if (ties.empty()) return;
  std::sort(ties.begin(), ties.end(), [](const Tie& a, const Tie& b) {
    return std::tie(a.device, a.link) < std::tie(b.device, b.link);
  });
  auto& list = tree.ties;
  for (std::size_t i = 0; i < ties.size();) {
    const auto v = ties[i].device;
    auto j = i;
    while (j < ties.size() && ties[j].device == v) ++j;
    // The count, then the links in id order: the one the tree kept and the ties.
    list.push_back(static_cast<LinkId>(1 + j - i));
    const auto first = list.end() - list.begin();
    list.push_back(via[v]);
    for (auto k = i; k < j; ++k) list.push_back(ties[k].link);
    std::sort(list.begin() + first, list.end());
    via[v] = kTied | static_cast<LinkId>(first - 1);
    i = j;
  }
}

LinkId Router::pick_tied(const Tree& tree, int src, int dst, DeviceId v, std::uint64_t flow,
                         LinkId at) const {
  const auto* links = &tree.ties[at];
  const auto count = links[0];
  if (options_.ecmp != Ecmp::kPerFlow) flow = 0;
  const auto h = mix(flow ^ mix((static_cast<std::uint64_t>(src) << 32) ^
                                static_cast<std::uint64_t>(dst) ^ (std::uint64_t{v} << 20)));
  return links[1 + h % count];
}

bool Router::direct(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out,
                    std::vector<Tree>& trees, Paths paths) const {
  auto& tree = trees[static_cast<std::size_t>(src)];
  bool read_tree = false;
  const DeviceId start = cluster_.gpus()[static_cast<std::size_t>(src)];
  // Links every path must take, whatever the source (no need to look into this source's tree,
  // which at thousands of GPUs is rarely in cache): the only link out of the source, and the
  // only link into a device that has one (no equal-cost choice there).
  const LinkId leave = sole_out_[start];
  const DeviceId first_hop = leave != kNoLink ? cluster_.link(leave).to : start;
  DeviceId v = cluster_.gpus()[static_cast<std::size_t>(dst)];
  const auto first = out.size();
  for (std::size_t hops = 0; v != start; ++hops) {
    LinkId chosen;
    if (v == first_hop) {
      chosen = leave;
    } else if (sole_in_[v] != kNoLink) {
      chosen = sole_in_[v];
    } else {
      if (tree.via.empty()) build_tree(src, paths, tree);
      chosen = tree.via[v];
      if (chosen != kNoLink && (chosen & kTied) != 0) {
        chosen = pick_tied(tree, src, dst, v, flow, chosen & ~kTied);
      }
      read_tree = true;
    }
    if (chosen == kNoLink || hops == from_.size()) {
      throw TopologyError(fmt::format(
          "cluster '{}': no route from GPU {} to GPU {} that relays through no other GPU",
          cluster_.name(), src, dst));
    }
    out.push_back(chosen);
    v = from_[chosen];
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  return read_tree;
}

Router::CachedRoute* Router::cached(int src, int dst) const {
  const auto gpus = cluster_.gpus().size();
  if (cache_.empty()) {
    cache_.resize(std::min(kMaxCachedRoutes, std::bit_ceil(std::max<std::size_t>(1, gpus * gpus))));
  }
  if (gpus * gpus <= cache_.size()) {  // every pair has its own entry
    return &cache_[static_cast<std::size_t>(src) * gpus + static_cast<std::size_t>(dst)];
  }
  const auto key = (static_cast<std::uint64_t>(src) << 32) | static_cast<std::uint32_t>(dst);
  return &cache_[mix(key) & (cache_.size() - 1)];
}

void Router::route(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const {
  if (src == dst) return;
  // A source whose tree was never built has no route in the table (its walks read no tree).
  if (options_.routes_by_pair() && !trees_[static_cast<std::size_t>(src)].via.empty()) {
    const auto* entry = cached(src, dst);
    if (entry->src == src && entry->dst == dst) {
      out.insert(out.end(), entry->links, entry->links + entry->hops);
      return;
    }
  }
  const auto first = out.size();
  bool read_tree = false;
  const int node_s = cluster_.gpu_node(src), node_d = cluster_.gpu_node(dst);
  const int rail = cluster_.gpu_local(dst);
  const int relay = node_s * cluster_.gpus_per_node() + rail;  // same node, destination's rail
  if (!relays_.empty() && node_s != node_d &&
      relays_[static_cast<std::size_t>(src) * static_cast<std::size_t>(cluster_.gpus_per_node()) +
              static_cast<std::size_t>(rail)] != 0) {
    read_tree = direct(src, relay, flow, out, trees_, Paths::kAll);
    read_tree = direct(relay, dst, flow, out, trees_, Paths::kAll) || read_tree;
  } else {
    read_tree = direct(src, dst, flow, out, trees_, Paths::kAll);
    if (node_s == node_d && !nic_reach_.empty()) {
      within_node(src, dst, flow, out, first);
      read_tree = true;
    }
  }
  if (!read_tree || !options_.routes_by_pair()) return;
  const auto hops = out.size() - first;
  if (hops > kCachedHops) return;
  auto* entry = cached(src, dst);
  entry->src = src;
  entry->dst = dst;
  entry->hops = static_cast<std::uint32_t>(hops);
  std::copy(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(), entry->links);
}

void Router::within_node(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out,
                         std::size_t first) const {
  const auto attempt = [&](Paths paths, std::vector<LinkId>& route) {
    try {
      direct(src, dst, flow, route, paths == Paths::kInside ? inside_ : outside_, paths);
      return true;
    } catch (const TopologyError&) {
      return false;  // no such path: the cheapest route stands
    }
  };
  std::vector<LinkId> inside;
  if (!leaves_node(out, first)) {
    inside.assign(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  } else if (!attempt(Paths::kInside, inside)) {
    return;  // its GPUs meet only through the network
  }
  std::vector<LinkId> chosen;
  if (!may_leave_node(src, dst, inside)) {
    chosen = std::move(inside);
  } else if (!attempt(Paths::kOutside, chosen)) {
    return;
  }
  out.resize(first);
  out.insert(out.end(), chosen.begin(), chosen.end());
}

bool Router::leaves_node(const std::vector<LinkId>& route, std::size_t first) const {
  for (auto i = first; i < route.size(); ++i) {
    if (cluster_.link(route[i]).kind == LinkKind::kNetwork) return true;
  }
  return false;
}

bool Router::may_leave_node(int src, int dst, const std::vector<LinkId>& inside) const {
  // NCCL compares each GPU's bandwidth to a NIC at PXB or closer with the GPU-to-GPU path's,
  // both the narrowest link on the way (paths.cc ncclTopoCheckNet).
  double width = kUnbounded;
  for (const auto id : inside) width = std::min(width, cluster_.link(id).capacity());
  return nic_reach_[static_cast<std::size_t>(src)] > width &&
         nic_reach_[static_cast<std::size_t>(dst)] > width;
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
