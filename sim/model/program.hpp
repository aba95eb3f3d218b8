#pragma once
// One micro-batch's forward pass on one rank, as plain data: the description of a MoE iteration
// that both executors take. The simulator prices each compute node with the cost model and
// plays each collective on the network model (emitter.hpp); a device runner can replay the same
// nodes with real kernels and collectives, because a node keeps its kernels' shapes
// (cost::Work) and a collective keeps its kind, group and bytes.
//
// Nodes live on four streams (compute, ep for all-to-alls, tp, dp) in issue order; the order of
// one stream is its program order, and `deps` are the cross-stream dependencies. The backward
// pass is this program mirrored (emitter.hpp).
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cost/work.hpp"
#include "net/collectives.hpp"

namespace moesim::model {

// What an op's time counts as in a breakdown. Also each op's first label.
enum class Category : std::uint8_t {
  kAttention,    // QKV and output projections, attention itself
  kDenseMlp,     // dense MLP blocks and shared experts
  kExpertFfn,    // routed experts
  kGate,         // router GEMM, softmax, top-k
  kProjections,  // DCCA's shared descend/ascend projections
  kLsh,          // hashing, centroids, residual compensation
  kOther,        // layer norms, permutes, residual adds, embedding, LM head, optimizer
  kA2aDispatch,
  kA2aCombine,
  kTp,    // tensor/sequence-parallel all-gather, reduce-scatter, all-reduce
  kDp,    // data-parallel gradient reduction, ZeRO weight gathers
  kHost,  // the CPU issuing kernels (implementations that cost host time): neither GPU compute
          // nor communication
};
inline constexpr std::size_t kCategoryCount = 12;
std::string_view name(Category c);
bool is_communication(Category c);
bool is_host(Category c);
// GPU compute: neither communication nor the host.
inline bool is_compute(Category c) {
  return !is_communication(c) && !is_host(c);
}

// A rank's streams: one compute stream (kernels run one at a time) and one per kind of
// communication, so that each can overlap compute.
// The host stream (the CPU thread that issues the others' ops) exists only where the
// implementation costs host time.
enum class Stream : std::uint8_t { kCompute, kEp, kTp, kDp, kHost };
inline constexpr std::size_t kStreamCount = 5;
std::string_view name(Stream s);

// The group a collective runs over (sim/model/layout.hpp lists its ranks).
enum class Group : std::uint8_t { kEp, kTp, kDenseDp, kExpertDp };
inline constexpr std::size_t kGroupCount = 4;

// What the members of one all-to-all send each other: bytes[src * n + dst], members in group
// order. Matrices are shared (sim/model/traffic.hpp): every member's program, and every layer
// with the same routing, refer to one.
struct TrafficMatrix {
  int n = 0;
  std::vector<double> bytes;
  double payload = 0;    // what members send to other members (the diagonal stays local)
  std::uint32_t id = 0;  // dense, in order of first appearance; equal ids = equal bytes
  double at(int src, int dst) const {
    return bytes[static_cast<std::size_t>(src) * static_cast<std::size_t>(n) +
                 static_cast<std::size_t>(dst)];
  }
};

struct Collective {
  net::CollectiveKind kind = net::CollectiveKind::kAllReduce;
  Group group = Group::kEp;
  double bytes = 0;  // all-reduce, all-gather, reduce-scatter: the total size S (nccl-tests')
  std::shared_ptr<const TrafficMatrix> matrix;  // all-to-all
};

// What a collective becomes in the backward pass: gradients flow back the way the data came
// (an all-gather's gradient is a reduce-scatter and the reverse; an all-to-all's matrix is
// transposed by the caller, which keeps matrices).
net::CollectiveKind backward_kind(net::CollectiveKind forward);

struct Node {
  Stream stream = Stream::kCompute;
  Category category = Category::kOther;
  std::string name;
  std::vector<cost::Work> forward, backward;  // compute: its kernels; empty backward = none
  std::optional<Collective> collective;       // a collective instead of kernels
  std::vector<int> deps;                      // nodes on other streams it waits for
  int block = -1;                             // transformer block (-1: embedding, head)
  int host_waits_for = -1;      // a node whose result the host reads before issuing this one
  bool mirrored = true;         // has a backward counterpart (a collective; kernels: see backward)
  bool attention_core = false;  // recomputed by selective activation recomputation
};

struct Program {
  std::vector<Node> nodes;
  std::vector<int> order;  // issue order of the nodes (each stream keeps its own order)
  int block = -1;          // stamped on every node made while it is set
  // A node not yet placed (the caller puts it into `order`), and a node issued now.
  int make(Node n) {
    n.block = block;
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }
  int add(Node n) {
    const int id = make(std::move(n));
    order.push_back(id);
    return id;
  }
  const Node& node(int id) const { return nodes[static_cast<std::size_t>(id)]; }
  Node& node(int id) { return nodes[static_cast<std::size_t>(id)]; }
};

// A compute node of `forward` kernels, mirrored by `backward` ones.
Node compute(Category c, std::string name, std::vector<cost::Work> forward,
             std::vector<cost::Work> backward);

}  // namespace moesim::model
