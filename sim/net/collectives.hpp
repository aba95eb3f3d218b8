#pragma once
// Collective algorithms as transfer graphs, over `n` participants (indices 0..n-1), and the
// nccl-tests definitions of their bandwidths.
//
// Sizes follow nccl-tests' "size" column: all-reduce, all-gather and reduce-scatter take the
// total array S; all-to-all takes each rank's send buffer (n x per-peer).
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "nccl.hpp"
#include "transfer_graph.hpp"

namespace moesim::net {

enum class AllToAllAlgorithm { kDirect, kPairwise, kHierarchical };
enum class AllReduceAlgorithm { kRing, kTree, kHierarchical };
// Their names in the collectives' table below (the enums list them in the table's order).
std::string_view name(AllToAllAlgorithm a);

using ByteMatrix = std::function<double(int src, int dst)>;

// What issuing a message costs its sender (nothing when empty): each rank's messages of one call
// start after the costs of those it issued before them and its own.
using MessageCost = std::function<core::Time(int src, int dst)>;

struct AllToAllOptions {
  AllToAllAlgorithm algorithm = AllToAllAlgorithm::kDirect;
  int window = 0;  // direct: peers in flight per rank (0: every peer, as NCCL)
  MessageCost message_cost;
  int gpus_per_node = 1;          // participants per node, node-major order (2-D; peer order)
  double relayout_bandwidth = 0;  // hierarchical: B/s of the local re-layout copies; 0 = free
};

// Direct: rank r sends to r+1, r+2, ... (mod n) with at most `window` sends in flight (0: all).
// Pairwise: in round d rank r sends to r+d and receives from r-d; a round starts when the
// previous round's send and receive are done. Hierarchical (2-D): an exchange among the GPUs
// of a node grouping data by destination rail, a re-layout copy, an exchange among the GPUs of
// one rail across nodes, a final re-layout.
TransferGraph all_to_all(int n, const ByteMatrix& bytes, const AllToAllOptions& options);

// Ring: 2(n-1) steps of S/n to the next rank. Tree: reduce up a binary tree, then broadcast down.
// Hierarchical (2-D): reduce-scatter among the `gpus_per_node` GPUs of each node (participants
// node-major), ring all-reduce of each shard along its rail, all-gather inside each node.
TransferGraph all_reduce(int n, double bytes, AllReduceAlgorithm algorithm, int gpus_per_node = 1);
// Ring: n-1 steps of S/n. With 1 < gpus_per_node < n (participants node-major, whole nodes),
// 2-D: reduce-scatter inside each node, then along each rail; all-gather the reverse.
TransferGraph all_gather(int n, double bytes, int gpus_per_node = 1);
TransferGraph reduce_scatter(int n, double bytes, int gpus_per_node = 1);
TransferGraph send_recv(double bytes);  // participant 0 to 1

// --- the collectives as a table, in the spirit of nccl-tests ----------------------------------
enum class CollectiveKind { kAllToAll, kAllReduce, kAllGather, kReduceScatter, kSendRecv };

// One call of a collective, whatever its algorithm: how many participants, what they move, and
// what the algorithms may use of the cluster's shape.
struct CollectiveRequest {
  CollectiveKind kind = CollectiveKind::kAllReduce;
  int n = 2;
  double bytes = 0;               // all-reduce, all-gather, reduce-scatter, send/recv: the size S
  ByteMatrix matrix;              // all-to-all: what each participant sends each other
  int gpus_per_node = 1;          // participants per node, node-major (2-D algorithms)
  int window = 0;                 // all-to-all: peers in flight per rank (0: all, as NCCL)
  double relayout_bandwidth = 0;  // hierarchical all-to-all: B/s of its local copies
  // NCCL's view of the group (its tuner's inputs), the protocol asked for (absent: NCCL's
  // choice), and each participant's node (p2p messages pay a cost by where they go).
  NcclComm comm;
  std::optional<NcclProtocol> protocol;
  std::vector<int> nodes;
};

struct AlgorithmInfo {
  std::string_view name;
  std::string_view description;
  TransferGraph (*build)(const CollectiveRequest& request);
  // NCCL's algorithm it runs, for `auto` its tuner's choice; neither for moesim's own.
  enum class Nccl { kNone, kAuto, kOne } nccl = Nccl::kNone;
  NcclAlgorithm algorithm = NcclAlgorithm::kRing;  // with kOne
};

// What an algorithm runs for a request: its name, or NCCL's algorithm and protocol
// ("ring/LL128"); throws std::invalid_argument where NCCL does not offer it.
std::string plan_name(const AlgorithmInfo& algorithm, const CollectiveRequest& request);

struct CollectiveInfo {
  CollectiveKind kind;
  std::string_view name;  // as nccl-tests names its binaries (all_reduce_perf -> all_reduce)
  // nccl-tests: algbw = S / t; busbw = algbw x busbw_factor(n), the fraction of S each rank
  // sends over its busiest link in an ideal algorithm.
  double (*busbw_factor)(int n);
  std::span<const AlgorithmInfo> algorithms;  // the first is the default
};

std::span<const CollectiveInfo> collectives();
const CollectiveInfo& collective(CollectiveKind kind);
std::string_view name(CollectiveKind kind);
const CollectiveInfo* find_collective(std::string_view name);  // nullptr: none of that name
const AlgorithmInfo* find_algorithm(const CollectiveInfo& c, std::string_view name);
// "a, b or c": the names of the collectives, or of one collective's algorithms.
std::string collective_names();
std::string algorithm_names(const CollectiveInfo& c);
double busbw_factor(CollectiveKind kind, int n);

}  // namespace moesim::net
