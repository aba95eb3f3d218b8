#pragma once
// One collective, or one MoE dispatch, on a whole cluster: what `moesim collective` prints per
// size and what the fidelity cases of nccl-tests and DeepEP measurements predict.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "config/check.hpp"
#include "config/quantity.hpp"
#include "cost/dtype.hpp"
#include "model/config.hpp"
#include "net/collectives.hpp"
#include "net/network_model.hpp"
#include "topologies/cluster.hpp"
#include "topologies/routing.hpp"

namespace moesim::cli {

// A collective over every GPU of the cluster, as nccl-tests runs it.
struct CollectiveCase {
  std::string op = "all_reduce";  // net::collectives() names
  config::Bytes size{1 << 20};    // nccl-tests' "size"
  std::string algorithm;          // the collective's algorithms; empty: its first
  std::string protocol = "auto";  // NCCL's: auto, LL, LL128 or Simple
  std::int64_t window = 8;        // all-to-all peers in flight per rank; 0: all

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("op", op, "all_to_all, all_reduce, all_gather, reduce_scatter or send_recv",
            Check::none().required());
    v.field("size", size, "nccl-tests' size column", Check::non_negative().required());
    v.field("algorithm", algorithm,
            "the collective's algorithm (empty: its first, auto for NCCL's)");
    v.field("protocol", protocol, "NCCL's protocol: auto, LL, LL128 or Simple");
    v.field("window", window, "all-to-all peers in flight per rank; 0: every peer",
            Check::non_negative());
  }
};

// How a dispatch benchmark counts its bandwidth: DeepEP's NVLink figure (the bytes a rank
// receives, a token once however many of its experts it picked) or its RDMA figure (the bytes a
// rank sends to other nodes, a token once per node).
enum class DispatchCount { kNvlink, kRdma };
constexpr auto enum_names(DispatchCount) {
  return std::array{std::pair{std::string_view("nvlink"), DispatchCount::kNvlink},
                    std::pair{std::string_view("rdma"), DispatchCount::kRdma}};
}

// A MoE dispatch (or combine) over every GPU of the cluster, one expert-parallel group, with
// balanced routing, as DeepEP's tests run it.
struct DispatchCase {
  std::int64_t tokens = 4096;  // per rank
  std::int64_t hidden = 7168;
  std::int64_t top_k = 8;
  std::int64_t experts = 256;
  std::int64_t node_limit = 0;  // a token's experts on at most this many nodes; 0: any
  model::DispatchMode mode = model::DispatchMode::kPerRank;
  cost::Dtype dtype = cost::Dtype::kBf16;  // of the rows
  bool combine = false;                    // the way back
  DispatchCount count = DispatchCount::kNvlink;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("tokens", tokens, "tokens per rank", Check::at_least(1));
    v.field("hidden", hidden, "elements a row", Check::at_least(1));
    v.field("top_k", top_k, "experts a token", Check::at_least(1));
    v.field("experts", experts, "routed experts, spread over every GPU", Check::at_least(1));
    v.field("node_limit", node_limit, "node-limited routing: nodes a token's experts span",
            Check::non_negative());
    v.field("mode", mode, "per_expert, per_rank or per_node");
    v.field("dtype", dtype, "type of the exchanged rows (fp8 carries a scale per 128)");
    v.field("combine", combine, "the combine (the dispatch's way back)");
    v.field("count", count, "what the benchmark divides by its time: nvlink or rdma bytes");
  }
};

struct Played {
  double seconds = 0;
  std::string algorithm;  // what ran: the algorithm, or NCCL's "ring/LL128"
};

// Plays one collective on the cluster's network model. Throws ConfigError for a name that is no
// collective, algorithm or protocol, or an algorithm the cluster does not offer.
Played play_collective(const topo::Cluster& cluster, const topo::RoutingOptions& routing,
                       const CollectiveCase& c, std::string_view model,
                       const net::NetworkParams& params);

struct DispatchPlayed {
  double seconds = 0;
  double counted_bytes = 0;  // per rank, as the benchmark counts them
};
// Plays one dispatch (or combine) on the cluster. Throws ConfigError when the experts do not
// spread evenly over the GPUs.
DispatchPlayed play_dispatch(const topo::Cluster& cluster, const DispatchCase& d);

// The named collective's metadata, else ConfigError naming the known ones.
const net::CollectiveInfo& collective_named(std::string_view op);

}  // namespace moesim::cli
