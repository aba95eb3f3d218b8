#pragma once
// Routes between GPUs, from the graph. A route is the list of links a transfer crosses.
//
// Paths minimise the time per byte (sum of 1 / capacity over the links), so NVLink is preferred
// to PCIe and a fast network to a slow one; ties resolve to the first path found, which is the
// same on every run. Options: ECMP spreads flows over all equal-cost paths (picked by a hash of
// the flow), and PXN sends inter-node traffic over NVLink to the GPU on the destination's rail
// first and leaves through that GPU's NIC, as NCCL does.
#include <cstdint>
#include <vector>

#include "cluster.hpp"

namespace moesim::topo {

struct RoutingOptions {
  bool ecmp = false;
  bool pxn = false;
};

class Router {
 public:
  Router(const Cluster& cluster, RoutingOptions options);

  // Appends to `out` the links from GPU rank `src` to GPU rank `dst` (none when equal).
  // `flow` picks among equal-cost paths under ECMP.
  void route(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const;
  std::vector<LinkId> route(int src, int dst, std::uint64_t flow = 0) const;
  // Sum of the latencies of a route's links.
  core::Time latency(const std::vector<LinkId>& route) const;

  const Cluster& cluster() const { return cluster_; }
  const RoutingOptions& options() const { return options_; }

 private:
  void build_tree(int src) const;  // shortest paths from one source (Dijkstra)
  // Returns whether the walk read the source's tree (a hop a shortcut could not take).
  bool direct(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const;

  // Without ECMP a route depends only on its ends, so a route whose walk had to read the
  // source's tree (one cache miss per such hop at thousands of GPUs) is kept in a table of
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
  // By source rank, built on first use: the link into each device on the chosen path.
  mutable std::vector<std::vector<LinkId>> via_;
  mutable std::vector<std::vector<std::int64_t>> costs_;  // by source rank, with ECMP only
  mutable std::vector<CachedRoute> cache_;
};

}  // namespace moesim::topo
