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
  void direct(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const;

  const Cluster& cluster_;
  RoutingOptions options_;
  std::vector<std::int64_t> link_cost_;
  std::vector<DeviceId> from_;    // by link: the device it leaves (the walk reads it per hop)
  std::vector<LinkId> sole_in_;   // by device: its only link in, if one and not from a GPU
  std::vector<LinkId> sole_out_;  // by device: its only link out, if it has exactly one
  // By source rank, built on first use: the link into each device on the chosen path.
  mutable std::vector<std::vector<LinkId>> via_;
  mutable std::vector<std::vector<std::int64_t>> costs_;  // by source rank, with ECMP only
};

}  // namespace moesim::topo
