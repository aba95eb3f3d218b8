#pragma once
// `moesim topo show CLUSTER` and `moesim collective CLUSTER` (a file or a preset name).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace moesim::cli {

struct TopoOptions {
  std::string cluster;
  std::vector<std::string> overrides;
  std::optional<std::string> dot;
  std::string ecmp = "per_pair";  // topologies/routing.hpp: per_pair, per_flow or off
  bool pxn = true;                // topologies/routing.hpp: NCCL's default
};
void topo_show(const TopoOptions& options, std::ostream& out);

struct CollectiveOptions {
  TopoOptions topo;
  std::string op = "all_to_all";  // all_to_all, all_reduce, all_gather, reduce_scatter, send_recv
  std::string algorithm;          // the collective's algorithms (net::collectives()); empty: first
  std::string protocol = "auto";  // NCCL's algorithms: auto (its tuner), LL, LL128 or Simple
  std::string model = "flow";
  std::vector<std::string> sizes{"1 MiB", "16 MiB", "256 MiB"};  // nccl-tests "size"
  int window = 8;  // all-to-all: peers in flight per rank (NCCL batches 8); 0: all
  std::string overhead = "0 us";
};
void collective(const CollectiveOptions& options, std::ostream& out);
// "all_to_all: direct, pairwise, hierarchical; all_reduce: auto, ring, ..." for --help.
std::string algorithm_help();

}  // namespace moesim::cli
