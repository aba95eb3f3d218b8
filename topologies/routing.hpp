#pragma once
// Routes between GPUs, from the graph. A route is the list of links a transfer crosses.
//
// Paths minimise the time per byte (sum of 1 / capacity over the links), so NVLink is preferred
// to PCIe and a fast network to a slow one. Where several paths cost the same (a leaf's uplinks
// to the spines), ECMP picks one by a fixed hash, the same on every run:
// - per_pair (default): of the source and destination, as switches hashing a connection's
//   headers do. A pair's transfers share one path; the pairs spread over all of them, with the
//   collisions of any hash.
// - per_flow: of each transfer on its own as well (a message-level spray).
// - off: the first path found, every tie to the same link. This funnels a leaf's traffic to
//   other leaves onto one spine; it is there to compare with, not to predict.
// PXN (on by default, as in NCCL since 2.12: NCCL_PXN_DISABLE=0 in src/graph/paths.cc and
// NCCL_P2P_PXN_LEVEL=2, "use PXN as much as possible", in src/graph/search.cc) sends traffic to
// another node over NVLink to the GPU of the source's node on the destination's rail first, and
// out through that GPU's NIC. As in NCCL, only where that GPU is reached over NVLink alone
// (directly or through NVSwitches) and has a NIC of its own; elsewhere (PCIe nodes, NICs shared
// by a node) routes are direct whatever the option says.
// Between two GPUs of one node a route leaves the node only where NCCL would take the network
// (ncclTopoCheckNet in src/graph/paths.cc, NCCL_NET_DISABLE_INTRA=0): both GPUs reach a NIC
// through PCIe switches alone (PXB or closer) faster than they reach each other. Otherwise it
// stays inside: P2P through the PCIe switches, or through host memory across the CPUs (SHM).
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster.hpp"

namespace moesim::topo {

enum class Ecmp { kPerPair, kPerFlow, kOff };
constexpr auto enum_names(Ecmp) {
  return std::array{std::pair{std::string_view("per_pair"), Ecmp::kPerPair},
                    std::pair{std::string_view("per_flow"), Ecmp::kPerFlow},
                    std::pair{std::string_view("off"), Ecmp::kOff}};
}

struct RoutingOptions {
  Ecmp ecmp = Ecmp::kPerPair;
  bool pxn = true;
  // Whether a route depends on its ends alone (then it may be remembered and shared).
  bool routes_by_pair() const { return ecmp != Ecmp::kPerFlow; }
};

class Router {
 public:
  Router(const Cluster& cluster, RoutingOptions options);

  // Appends to `out` the links from GPU rank `src` to GPU rank `dst` (none when equal).
  // `flow` picks among equal-cost paths under per-flow ECMP (and is ignored otherwise).
  // Throws TopologyError when no route relays through no other GPU.
  void route(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const;
  std::vector<LinkId> route(int src, int dst, std::uint64_t flow = 0) const;
  // Sum of the latencies of a route's links.
  core::Time latency(const std::vector<LinkId>& route) const;

  const Cluster& cluster() const { return cluster_; }
  const RoutingOptions& options() const { return options_; }

 private:
  // A source's cheapest paths: into each device, the link on a cheapest path, or, where several
  // links in are on one (and ECMP is on), kTied plus where `ties` lists them.
  struct Tree {
    std::vector<LinkId> via;
    std::vector<LinkId> ties;  // for each tied device: the count, then the links, in id order
  };
  // Which paths a tree holds: all, those inside the node (off the network switches), or those
  // through the network (NCCL's NET transport: off the hosts and NVLink, GPU to NIC through
  // PCIe switches).
  enum class Paths { kAll, kInside, kOutside };
  // Shortest paths from one source (Dijkstra) among `paths`.
  void build_tree(int src, Paths paths, Tree& tree) const;
  // Returns whether the walk read the source's tree (a hop a shortcut could not take).
  bool direct(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out,
              std::vector<Tree>& trees, Paths paths) const;
  // Between two GPUs of one node: the route NCCL's transport choice gives, in `out` after
  // `first` (which holds the cheapest route on entry).
  void within_node(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out,
                   std::size_t first) const;
  // Of the links into `v` on cheapest paths from `src`, listed at tree.ties[at], the one ECMP
  // hashes (src, dst, v, flow) to.
  LinkId pick_tied(const Tree& tree, int src, int dst, DeviceId v, std::uint64_t flow,
                   LinkId at) const;
  // Whether a route between two GPUs of one node may leave it (NCCL's rule, above).
  bool may_leave_node(int src, int dst, const std::vector<LinkId>& inside) const;
  bool leaves_node(const std::vector<LinkId>& route, std::size_t first) const;
  static constexpr LinkId kTied = LinkId{1} << 31;

  // Unless ECMP is per flow a route depends only on its ends, so a route whose walk had to read
  // the source's tree (one cache miss per such hop at thousands of GPUs) is kept in a table of
  // fixed size: indexed by the pair itself while every pair has an entry (up to 512 GPUs; a
  // source's routes then sit side by side), otherwise by a hash of the pair, a newer route
  // evicting the one in its place.
  // Under one switch no walk reads a tree and the table is never made.
  static constexpr std::size_t kCachedHops = 13;  // an entry fills one 64-byte cache line
  struct CachedRoute {
    std::int32_t src = -1;
    std::int32_t dst = -1;
    std::uint32_t hops = 0;
    LinkId links[kCachedHops] = {};
  };
  static constexpr std::size_t kMaxCachedRoutes = std::size_t{1} << 18;  // 16 MiB
  CachedRoute* cached(int src, int dst) const;

  const Cluster& cluster_;
  RoutingOptions options_;
  std::vector<std::int64_t> link_cost_;
  std::vector<DeviceId> from_;    // by link: the device it leaves (the walk reads it per hop)
  std::vector<LinkId> sole_in_;   // by device: its only link in, if one and not from a GPU
  std::vector<LinkId> sole_out_;  // by device: its only link out, if it has exactly one
  // By source rank and rail (rank * gpus_per_node + rail), with PXN on and several nodes: 1
  // where traffic to that rail on another node relays through the source node's GPU on it.
  std::vector<std::uint8_t> relays_;
  void find_relays();
  // By source rank, built on first use: its cheapest paths, and those that stay off the
  // network (for GPUs of its own node, built only where a cheapest path to one leaves it).
  mutable std::vector<Tree> trees_;
  mutable std::vector<Tree> inside_;
  mutable std::vector<Tree> outside_;
  // By GPU rank: the best bandwidth (capacity, bytes/s) to a NIC through PCIe switches alone;
  // 0 without one.
  std::vector<double> nic_reach_;
  mutable std::vector<CachedRoute> cache_;
};

}  // namespace moesim::topo
