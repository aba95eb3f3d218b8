#pragma once
// What `moesim topo show` prints: counts, per-GPU injection bandwidth, bisection bandwidth and
// sample routes; and the graph in Graphviz form.
#include <string>
#include <vector>

#include "cluster.hpp"
#include "routing.hpp"

namespace moesim::topo {

// Maximum flow (bytes per second, using link capacities) from the `sources` devices to the
// `sinks` devices: the most they can move per second together.
double max_flow(const Cluster& cluster, const std::vector<DeviceId>& sources,
                const std::vector<DeviceId>& sinks);

struct Summary {
  std::vector<std::pair<std::string, std::size_t>> device_counts;  // kind -> count
  std::size_t links = 0;
  double injection_min = 0, injection_max = 0;  // per GPU: out-link capacity, B/s
  double network_injection = 0;  // GPU 0 to every GPU of other nodes (max flow), B/s; 0 if 1 node
  double bisection = 0;          // ranks [0, n/2) to [n/2, n), max flow, B/s
  std::string routing;           // the router's options, as topo show's flags name them
  std::vector<std::string> sample_routes;
};

Summary summarize(const Router& router);
std::string format_summary(const Cluster& cluster, const Summary& summary);
std::string to_dot(const Cluster& cluster);

}  // namespace moesim::topo
