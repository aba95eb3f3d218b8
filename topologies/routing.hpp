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
  struct Tree {
    std::vector<std::int64_t> cost;  // from the source, per device (kept for ECMP)
    std::vector<LinkId> via;         // the link into each device on the chosen path
  };
  const Tree& tree(int src) const;
  void direct(int src, int dst, std::uint64_t flow, std::vector<LinkId>& out) const;

  const Cluster& cluster_;
  RoutingOptions options_;
  std::vector<std::int64_t> link_cost_;
  mutable std::vector<Tree> trees_;  // by source rank, built on first use
};

}  // namespace moesim::topo
