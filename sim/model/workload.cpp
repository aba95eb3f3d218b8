#include "workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/error.hpp"
#include "layout.hpp"
#include "net/collectives.hpp"
#include "routing.hpp"

namespace moesim::model {

std::string_view name(Category c) {
  static constexpr std::array<std::string_view, kCategoryCount> kNames = {
      "attention", "dense_mlp",    "expert_ffn",  "gate", "projections", "lsh",
      "other",     "a2a_dispatch", "a2a_combine", "tp",   "dp"};
  return kNames[static_cast<std::size_t>(c)];
}

bool is_communication(Category c) {
  return c == Category::kA2aDispatch || c == Category::kA2aCombine || c == Category::kTp ||
         c == Category::kDp;
}

namespace {

using cost::Work;
namespace work = cost::work;

enum class Stream : std::uint8_t { kCompute, kEp, kTp, kDp };
constexpr int kStreams = 4;
constexpr std::array<std::string_view, kStreams> kStreamNames = {"compute", "ep", "tp", "dp"};

enum class CommKind : std::uint8_t { kNone, kAllToAll, kAllGather, kReduceScatter, kAllReduce };
std::string_view comm_name(CommKind kind) {
  switch (kind) {
    case CommKind::kNone:
      return "none";
    case CommKind::kAllToAll:
      return "all_to_all";
    case CommKind::kAllGather:
      return "all_gather";
    case CommKind::kReduceScatter:
      return "reduce_scatter";
    case CommKind::kAllReduce:
      return "all_reduce";
  }
  return "?";
}
enum class Group : std::uint8_t { kEp, kTp, kDenseDp, kExpertDp };
constexpr int kGroups = 4;

// Which tokens an exchange carries: the routing of one MoE layer's routed path.
struct Exchange {
  int moe_layer = 0;
  int path = 0;  // DGMoE has two routed paths per block
  std::int64_t tokens = 0;
  std::int64_t k = 0;
  double row_bytes = 0;  // bytes per routed row sent (width x element size x rho / chunks)
  bool transpose = false;
};

struct Node {
  Stream stream = Stream::kCompute;
  Category category = Category::kOther;
  std::string name;
  std::vector<Work> forward, backward;  // compute: kernels; empty backward = none
  CommKind comm = CommKind::kNone;
  Group group = Group::kEp;
  double bytes = 0;  // all-gather/reduce-scatter/all-reduce: total size S
  Exchange exchange;
  std::vector<int> deps;
  int block = -1;  // transformer block it belongs to (-1: embedding, head)
};

// The forward pass of one micro-batch on one rank, as nodes in issue order.
struct Program {
  std::vector<Node> nodes;
  std::vector<int> order;
  int block = -1;  // stamped on every node made while it is set
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
};

Node compute(Category c, std::string name, std::vector<Work> fwd, std::vector<Work> bwd) {
  Node n;
  n.category = c;
  n.name = std::move(name);
  n.forward = std::move(fwd);
  n.backward = std::move(bwd);
  return n;
}

// A tensor-parallel collective of `bytes` (total size S), issued after node `after` (-1: none).
Node tp_collective(const std::string& prefix, CommKind kind, double bytes, int after) {
  Node n;
  n.stream = Stream::kTp;
  n.category = Category::kTp;
  n.name = prefix + std::string(comm_name(kind));
  n.comm = kind;
  n.group = Group::kTp;
  n.bytes = bytes;
  if (after >= 0) n.deps = {after};
  return n;
}

// A GEMM's backward: data gradient (m x k from m x n and n x k) and weight gradient (k x n).
std::vector<Work> gemm_backward(std::int64_t m, std::int64_t n, std::int64_t k, cost::Dtype t) {
  return {work::gemm(m, k, n, t), work::gemm(k, n, m, t)};
}

// The rows of one EP group's members to every expert, for one routed path.
using GroupRows = std::vector<ExpertCounts>;  // by member

class Builder {
 public:
  Builder(const Study& s, const topo::Cluster& cluster, const cost::CostModel& cost,
          const ExchangeEstimator& estimate, const BuildOptions& options)
      : s_(s),
        m_(s.model),
        cluster_(cluster),
        cost_(cost),
        estimate_(estimate),
        options_(options),
        layout_(s.model, s.parallel, static_cast<int>(cluster.gpus().size()),
                cluster.gpus_per_node()),
        routing_(s.routing, s.model.moe.experts) {
    check();
  }

  Workload build();

 private:
  void check() const;
  // --- programs -------------------------------------------------------------------------------
  Program forward_program(int rank, std::int64_t batch, std::int64_t seq_q, std::int64_t seq_kv);
  std::vector<int> attention_block(Program& p, int block, std::int64_t batch, std::int64_t seq_q,
                                   std::int64_t seq_kv);
  // `input`: the node whose output it reads (its TP all-gather waits for it).
  std::vector<int> dense_mlp(Program& p, const std::string& prefix, std::int64_t ffn,
                             std::int64_t tokens, bool tp_comm, int input);
  struct Routed {
    std::vector<int> pre, dispatch, experts, combine, post;
  };
  Routed routed_path(Program& p, int rank, int block, int moe_layer, int path, std::int64_t k,
                     std::int64_t tokens_full, int input);
  std::int64_t routed_k() const;
  int paths() const { return s_.schedule.structure == Structure::kDgMoE ? 2 : 1; }
  bool shortcut(int path) const;
  int shortcut_position(int block) const;
  std::int64_t shared_experts() const;
  std::size_t choose_slot(const Program& p, const std::vector<int>& window, const Routed& r,
                          int rank);
  // --- emission -------------------------------------------------------------------------------
  // Appends the program's ops (reversed for the backward); records, per block, the last op
  // emitted for it in `last_bwd_of_block` when given.
  void emit(const Program& p, int rank, bool backward, const std::string& suffix,
            std::vector<core::OpId>* last_bwd_of_block);
  core::OpId emit_node(const Node& n, int rank, bool backward, const std::string& suffix);
  core::OpId emit_comm(int rank, Stream stream, Category c, const std::string& name, CommKind kind,
                       Group group, double bytes, const Exchange* exchange);
  core::Time price(const std::vector<Work>& works, std::string* detail);
  std::uint32_t graph_for(CommKind kind, int group_id, double bytes, const Exchange* exchange,
                          const std::vector<int>& gpus);
  const GroupRows& group_rows(int group, int moe_layer, int path, std::int64_t tokens,
                              std::int64_t k);
  // A rank's data-parallel gradient reductions, in buckets (`training.bucket`) over the blocks
  // in backward order, and the buckets themselves, which stages 1 and 2 gather back after the
  // step.
  struct Reductions {
    std::vector<core::OpId> ops;
    std::vector<std::pair<Group, double>> buckets;  // group, bytes
  };
  // Reduces the gradients of one backward pass, each bucket as soon as its last block is done.
  void reduce_gradients(int rank, const std::vector<core::OpId>& last_bwd_of_block,
                        const std::string& suffix, Reductions& out);
  // The optimizer step after every reduction, then (stages 1 and 2) the weights' gathers.
  void emit_step(int rank, const Reductions& reductions);
  // From ZeRO-2 on a rank keeps only its shard of the gradients, so every micro-batch's
  // backward reduces them (DeepSpeed: deepspeedai/DeepSpeed#2252); below, they accumulate
  // locally and are reduced once, after the last micro-batch.
  bool reduces_every_micro_batch() const { return s_.training.zero >= kZeroGradients; }
  // Parameters (elements) of block b held on one rank: its share of the dense weights (the LM
  // head with block 0) and of the experts. Every rank holds the same.
  struct BlockParameters {
    double dense = 0, expert = 0;
  };
  BlockParameters block_parameters(std::int64_t b) const;
  double embedding_parameters() const {
    return static_cast<double>(m_.vocab * m_.hidden / s_.parallel.tp);
  }
  // ZeRO-3: the weight gathers of one pass over a program, by unit (block + 1; unit 0 is the
  // embedding, which the LM head shares), issued in the order the pass first uses the units.
  struct WeightGathers {
    std::vector<int> order;                    // units, first used first
    std::vector<std::vector<core::OpId>> ops;  // by unit: its gathers (dense, expert)
    std::vector<core::OpId> first_use;         // by unit: the pass's first op of it
  };
  WeightGathers gather_weights(const Program& p, int rank, bool backward,
                               const std::string& suffix);
  // Ranks in a data-parallel group: of the dense weights (every rank with the same tp index),
  // of one position's experts (its dp replicas).
  int dense_dp_group() const { return layout_.ep() * layout_.dp(); }
  int expert_dp_group() const { return layout_.dp(); }
  bool gathers_weights() const {
    return s_.mode == Mode::kTrain && s_.training.zero >= kZeroWeights;
  }
  // --- helpers --------------------------------------------------------------------------------
  double elem() const { return cost::bytes_per_element(m_.dtype); }
  std::int64_t width() const;  // exchanged width (h, or r*h with DCCA)
  // GPUs per node when `gpus` fill whole nodes one after another with the same count; else 0.
  int gpus_per_node(const std::vector<int>& gpus) const;
  std::int64_t expert_inner() const;
  double rho() const { return s_.schedule.lsh ? s_.schedule.lsh->rate : 1.0; }
  int mlp_gemms() const { return m_.gated_mlp ? 3 : 2; }
  bool sp_ = false;  // sequence parallelism applies to the program being laid out
  // What ends a tensor-parallel region: reduce-scatter with sequence parallelism, else all-reduce.
  CommKind closing_tp() const { return sp_ ? CommKind::kReduceScatter : CommKind::kAllReduce; }

  const Study& s_;
  const ModelConfig& m_;
  const topo::Cluster& cluster_;
  const cost::CostModel& cost_;
  const ExchangeEstimator& estimate_;
  BuildOptions options_;
  RankLayout layout_;
  RoutingModel routing_;
  Workload w_;
  std::vector<core::StreamId> streams_;  // rank * kStreams + stream
  // Per rank and group kind: collectives issued so far (matches members' calls up).
  std::vector<std::array<std::uint32_t, kGroups>> sequence_;
  std::map<std::tuple<int, int, std::uint32_t>, std::uint32_t> pending_calls_;  // -> call
  std::vector<std::vector<core::OpId>> call_members_;
  std::unordered_map<std::string, std::uint32_t> graph_index_;
  std::unordered_map<std::string, cost::Estimate> price_cache_;                 // by kernel shape
  std::map<std::tuple<int, int, std::int64_t, std::int64_t>, GroupRows> rows_;  // this group
  int current_group_ = -1;
  std::vector<double> graph_payload_;
  std::unordered_map<std::uint32_t, double>
      exchange_time_;  // by graph, seconds alone  // by graph: bytes its ranks send to other ranks
};

void Builder::check() const {
  const auto& sc = s_.schedule;
  if (m_.hidden % m_.heads != 0) {
    throw config::ConfigError::about(
        "model.hidden", fmt::format("{} is not a multiple of model.heads {}", m_.hidden, m_.heads));
  }
  if (m_.heads % m_.kv() != 0) {
    throw config::ConfigError::about(
        "model.kv_heads", fmt::format("{} does not divide model.heads {}", m_.kv(), m_.heads));
  }
  const auto& blocks = m_.moe.blocks;
  for (auto b = blocks.begin(); b != blocks.end(); ++b) {
    if (*b < 0 || *b >= m_.layers) {
      throw config::ConfigError::about(
          "model.moe.blocks",
          fmt::format("block {} is not one of the model's blocks 0..{}", *b, m_.layers - 1));
    }
    // The list is a set of blocks (in any order); a repeat is most likely a typo for another.
    if (std::find(blocks.begin(), b, *b) != b) {
      throw config::ConfigError::about(
          "model.moe.blocks",
          fmt::format("block {} is listed twice: {}", *b, fmt::join(blocks, ", ")));
    }
  }
  if (m_.moe.blocks.empty() && m_.moe.first >= m_.layers) {
    throw config::ConfigError::about(
        "model.moe.first",
        fmt::format("block {} is past the model's last block, {}: no block would be MoE",
                    m_.moe.first, m_.layers - 1));
  }
  if (routed_k() > m_.moe.experts) {
    // The key that set k: the structure's own k, else the schedule's top_k, else the model's.
    const bool standard = sc.structure == Structure::kStandard;
    throw config::ConfigError::about(
        !standard  ? "schedule.structure"
        : sc.top_k ? "schedule.top_k"
                   : "model.moe.top_k",
        fmt::format("schedule '{}' sends each token to {} distinct experts, but "
                    "model.moe.experts is {}",
                    sc.name, routed_k(), m_.moe.experts));
  }
  if (s_.mode == Mode::kTrain && m_.global_batch > 0) {
    const auto per_step = m_.micro_batch * s_.parallel.ep * s_.parallel.dp;
    if (m_.global_batch % per_step != 0) {
      throw config::ConfigError::about(
          "model.global_batch",
          fmt::format("{} is not a multiple of micro_batch {} x ep {} x dp {} = {}",
                      m_.global_batch, m_.micro_batch, s_.parallel.ep, s_.parallel.dp, per_step));
    }
  }
  if (s_.parallel.ep > 1 && sc.all_to_all == ExchangeAlgorithm::kHierarchical) {
    for (int g = 0; g < layout_.ep_group_count(); ++g) {
      if (gpus_per_node(layout_.ep_group(g)) == 0) {
        throw config::ConfigError::about(
            "schedule.all_to_all",
            fmt::format("schedule '{}' is hierarchical, which needs every expert-parallel "
                        "group to fill whole nodes, node by node (check parallel.order)",
                        sc.name));
      }
    }
  }
}

int Builder::gpus_per_node(const std::vector<int>& gpus) const {
  const auto node = [&](std::size_t i) { return cluster_.gpu_node(gpus[i]); };
  std::size_t per = 0;
  while (per < gpus.size() && node(per) == node(0)) ++per;
  if (per == 0 || gpus.size() % per != 0) return 0;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    if (node(i) != node(i / per * per)) return 0;
  }
  return static_cast<int>(per);
}

std::int64_t Builder::width() const {
  const auto h = m_.hidden;
  if (!s_.schedule.dcca) return h;
  return std::max<std::int64_t>(1, std::llround(*s_.schedule.dcca * static_cast<double>(h)));
}

// DCCA's reversed experts keep the parameter count: r*h -> f/r -> r*h.
std::int64_t Builder::expert_inner() const {
  const auto f = m_.expert_ffn();
  if (!s_.schedule.dcca) return f;
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(f) / *s_.schedule.dcca));
}

std::int64_t Builder::routed_k() const {
  switch (s_.schedule.structure) {
    case Structure::kStandard:
      return m_.moe.top_k;
    case Structure::kScMoE2:
      return 2;
    case Structure::kSharedExpert:
    case Structure::kScMoE:
    case Structure::kDgMoE:
      return 1;
  }
  return m_.moe.top_k;
}

std::int64_t Builder::shared_experts() const {
  switch (s_.schedule.structure) {
    case Structure::kSharedExpert:
    case Structure::kScMoE:
    case Structure::kScMoE2:
      return std::max<std::int64_t>(1, m_.moe.shared_experts);
    case Structure::kStandard:
    case Structure::kDgMoE:
      return m_.moe.shared_experts;
  }
  return m_.moe.shared_experts;
}

// Whether routed path `path` reads the preceding block's representation through a shortcut.
bool Builder::shortcut(int path) const {
  switch (s_.schedule.structure) {
    case Structure::kScMoE:
    case Structure::kScMoE2:
      return true;
    case Structure::kDgMoE:
      return path == 0;
    case Structure::kStandard:
    case Structure::kSharedExpert:
      return false;
  }
  return false;
}

int Builder::shortcut_position(int block) const {
  return block > 0 && m_.is_moe_block(block - 1) ? 1 : static_cast<int>(s_.schedule.shortcut);
}

std::vector<int> Builder::attention_block(Program& p, int block, std::int64_t batch,
                                          std::int64_t seq_q, std::int64_t seq_kv) {
  const auto t = m_.dtype;
  const auto tp = s_.parallel.tp;
  const bool sp = sp_;
  const auto full = batch * seq_q;
  const auto local = sp ? full / tp : full;
  const auto h = m_.hidden;
  const auto hd = h / m_.heads;
  const std::string pre = fmt::format("L{}.attn.", block);
  std::vector<int> ids;
  ids.push_back(p.add(compute(Category::kOther, pre + "ln", {work::layer_norm(local, h, t)},
                              {work::layer_norm(local, h, t)})));
  if (sp) {
    ids.push_back(p.add(tp_collective(pre, CommKind::kAllGather,
                                      static_cast<double>(full * h) * elem(), ids.back())));
  }
  const auto qkv_n = (m_.heads + 2 * m_.kv()) * hd / tp;
  auto qkv = compute(Category::kAttention, pre + "qkv", {work::gemm(full, qkv_n, h, t)},
                     gemm_backward(full, qkv_n, h, t));
  if (sp) qkv.deps = {ids.back()};
  ids.push_back(p.add(std::move(qkv)));
  cost::AttentionShape shape{batch, m_.heads / tp, m_.kv() / tp, seq_q, seq_kv, hd, true};
  ids.push_back(p.add(compute(Category::kAttention, pre + "core", {work::attention(shape, t)},
                              {work::attention_backward(shape, t)})));
  ids.push_back(p.add(compute(Category::kAttention, pre + "out", {work::gemm(full, h, h / tp, t)},
                              gemm_backward(full, h, h / tp, t))));
  if (tp > 1) {
    ids.push_back(p.add(
        tp_collective(pre, closing_tp(), static_cast<double>(full * h) * elem(), ids.back())));
  }
  auto add = compute(Category::kOther, pre + "residual", {work::elementwise_add(local * h, t)},
                     {work::elementwise_add(local * h, t)});
  if (tp > 1) add.deps = {ids.back()};
  ids.push_back(p.add(std::move(add)));
  return ids;
}

std::vector<int> Builder::dense_mlp(Program& p, const std::string& prefix, std::int64_t ffn,
                                    std::int64_t tokens, bool tp_comm, int input) {
  constexpr Category c = Category::kDenseMlp;  // dense blocks and shared experts alike
  const auto t = m_.dtype;
  const auto tp = s_.parallel.tp;
  const bool sp = sp_;
  const auto h = m_.hidden;
  const auto up = ffn * (m_.gated_mlp ? 2 : 1) / tp;
  std::vector<int> ids;
  if (tp_comm && sp) {
    ids.push_back(p.add(tp_collective(prefix, CommKind::kAllGather,
                                      static_cast<double>(tokens * h) * elem(), input)));
  }
  auto fc1 =
      compute(c, prefix + "fc1", {work::gemm(tokens, up, h, t)}, gemm_backward(tokens, up, h, t));
  if (!ids.empty()) fc1.deps = {ids.back()};
  ids.push_back(p.add(std::move(fc1)));
  ids.push_back(
      p.add(compute(c, prefix + "act", {work::activation(tokens * ffn / tp, m_.gated_mlp, t)},
                    {work::activation(tokens * ffn / tp, m_.gated_mlp, t)})));
  ids.push_back(p.add(compute(c, prefix + "fc2", {work::gemm(tokens, h, ffn / tp, t)},
                              gemm_backward(tokens, h, ffn / tp, t))));
  if (tp_comm && tp > 1) {
    ids.push_back(p.add(
        tp_collective(prefix, closing_tp(), static_cast<double>(tokens * h) * elem(), ids.back())));
  }
  return ids;
}

const GroupRows& Builder::group_rows(int group, int moe_layer, int path, std::int64_t tokens,
                                     std::int64_t k) {
  if (group != current_group_) {
    rows_.clear();
    current_group_ = group;
  }
  const auto key = std::make_tuple(moe_layer, path, tokens, k);
  auto it = rows_.find(key);
  if (it != rows_.end()) return it->second;
  GroupRows rows;
  // DGMoE's two gates see different representations: give each its own routing draw.
  const int layer_id = moe_layer * paths() + path;
  for (const int r : layout_.ep_group(group)) {
    rows.push_back(
        apply_capacity(routing_.route(layer_id, r, tokens, k), tokens, k, m_.moe.capacity_factor));
  }
  return rows_.emplace(key, std::move(rows)).first->second;
}

// One routed path of a MoE block (schedules.md 1-4, 6): gate, [descend], [TP gather], permute,
// [LSH], d x (dispatch, experts, combine), [compensation], unpermute, [TP scatter], [ascend].
// Nodes are created, not placed: the caller decides where each part goes.
Builder::Routed Builder::routed_path(Program& p, int rank, int block, int moe_layer, int path,
                                     std::int64_t k, std::int64_t full, int input) {
  const auto t = m_.dtype;
  const auto tp = s_.parallel.tp;
  const bool sp = sp_;
  const auto h = m_.hidden;
  const auto w = width();
  const auto E = m_.moe.experts;
  const auto gate_tokens = sp ? full / tp : full;  // tokens this rank routes and projects
  const auto d = s_.schedule.pipeline;
  const std::string pre = fmt::format("L{}.moe{}.", block, paths() > 1 ? std::to_string(path) : "");
  Routed r;
  auto gate = compute(Category::kGate, pre + "gate",
                      {work::gemm(gate_tokens, E, h, t), work::gating(gate_tokens, E, k, t)},
                      {work::gemm(gate_tokens, h, E, t), work::gemm(h, E, gate_tokens, t),
                       work::gating(gate_tokens, E, k, t)});
  if (input >= 0) gate.deps = {input};
  r.pre.push_back(p.make(std::move(gate)));
  if (s_.schedule.dcca) {
    r.pre.push_back(
        p.make(compute(Category::kProjections, pre + "descend", {work::gemm(gate_tokens, w, h, t)},
                       gemm_backward(gate_tokens, w, h, t))));
  }
  if (sp) {
    r.pre.push_back(p.make(tp_collective(pre, CommKind::kAllGather,
                                         static_cast<double>(full * w) * elem(), r.pre.back())));
  }
  auto permute = compute(Category::kOther, pre + "permute", {work::permute(full * k, w, t)},
                         {work::permute(full * k, w, t)});
  if (sp) permute.deps = {r.pre.back()};
  r.pre.push_back(p.make(std::move(permute)));
  if (s_.schedule.lsh) {
    const auto& lsh = *s_.schedule.lsh;
    const auto rows = full * k;
    const auto centroids = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil(lsh.rate * static_cast<double>(rows))));
    r.pre.push_back(p.make(compute(Category::kLsh, pre + "lsh_hash",
                                   {work::lsh_hash(rows, w, lsh.hashes, lsh.structured, t)}, {})));
    r.pre.push_back(p.make(compute(Category::kLsh, pre + "centroids",
                                   {work::segmented_mean(rows, w, centroids, t)},
                                   {work::segmented_mean(rows, w, centroids, t)})));
  }

  // Rows this rank's experts receive, per local expert and chunk.
  const int group = layout_.ep_group_of(rank);
  const auto& rows = group_rows(group, moe_layer, path, full, k);
  const auto local = E / s_.parallel.ep;
  const auto first = layout_.ep_index(rank) * local;
  std::vector<std::int64_t> received(static_cast<std::size_t>(local), 0);
  for (const auto& src : rows) {
    for (std::int64_t e = 0; e < local; ++e) {
      received[static_cast<std::size_t>(e)] += src[static_cast<std::size_t>(first + e)];
    }
  }
  for (auto& m : received) {
    m = static_cast<std::int64_t>(
        std::ceil(static_cast<double>(m) * rho() / static_cast<double>(d)));
  }
  const auto inner = expert_inner() / tp;
  const auto up = inner * (m_.gated_mlp ? 2 : 1);
  std::int64_t act = 0;
  for (const auto m : received) act += m * inner;
  Exchange ex{
      moe_layer, path, full, k, static_cast<double>(w) * elem() * rho() / static_cast<double>(d),
      false};
  for (std::int64_t c = 0; c < d; ++c) {
    const std::string chunk = d > 1 ? fmt::format(".c{}", c) : "";
    Node disp;
    disp.stream = Stream::kEp, disp.category = Category::kA2aDispatch;
    disp.name = pre + "dispatch" + chunk;
    disp.comm = CommKind::kAllToAll, disp.group = Group::kEp, disp.exchange = ex;
    disp.deps = {r.pre.back()};
    r.dispatch.push_back(p.make(std::move(disp)));
    auto expert =
        compute(Category::kExpertFfn, pre + "experts" + chunk,
                {work::grouped_gemm(received, up, w, t), work::activation(act, m_.gated_mlp, t),
                 work::grouped_gemm(received, w, inner, t)},
                {work::grouped_gemm(received, up, w, t), work::grouped_gemm(received, up, w, t),
                 work::activation(act, m_.gated_mlp, t), work::grouped_gemm(received, w, inner, t),
                 work::grouped_gemm(received, w, inner, t)});
    expert.deps = {r.dispatch.back()};
    r.experts.push_back(p.make(std::move(expert)));
    Node comb;
    comb.stream = Stream::kEp, comb.category = Category::kA2aCombine;
    comb.name = pre + "combine" + chunk;
    comb.comm = CommKind::kAllToAll, comb.group = Group::kEp, comb.exchange = ex;
    comb.exchange.transpose = true;
    comb.deps = {r.experts.back()};
    r.combine.push_back(p.make(std::move(comb)));
  }
  if (s_.schedule.lsh) {
    auto comp =
        compute(Category::kLsh, pre + "compensate", {work::elementwise_add(full * k * w, t)},
                {work::elementwise_add(full * k * w, t)});
    comp.deps = r.combine;
    r.post.push_back(p.make(std::move(comp)));
  }
  auto unpermute = compute(Category::kOther, pre + "unpermute", {work::permute(full * k, w, t)},
                           {work::permute(full * k, w, t)});
  if (r.post.empty()) unpermute.deps = r.combine;
  r.post.push_back(p.make(std::move(unpermute)));
  if (tp > 1) {
    r.post.push_back(p.make(
        tp_collective(pre, closing_tp(), static_cast<double>(full * w) * elem(), r.post.back())));
  }
  if (s_.schedule.dcca) {
    auto ascend = compute(Category::kProjections, pre + "ascend",
                          {work::gemm(gate_tokens, h, w, t)}, gemm_backward(gate_tokens, h, w, t));
    if (tp > 1) ascend.deps = {r.post.back()};
    r.post.push_back(p.make(std::move(ascend)));
  }
  return r;
}

Program Builder::forward_program(int rank, std::int64_t batch, std::int64_t seq_q,
                                 std::int64_t seq_kv) {
  const auto t = m_.dtype;
  const auto tp = s_.parallel.tp;
  const auto full = batch * seq_q;
  // A decode step may hold fewer tokens than tensor-parallel ranks: no sequence split then.
  sp_ = tp > 1 && s_.parallel.sp && full % tp == 0;
  const bool sp = sp_;
  const auto local = sp ? full / tp : full;
  const auto h = m_.hidden;
  Program p;
  p.add(
      compute(Category::kOther, "embedding",
              {work::memcpy(static_cast<std::int64_t>(static_cast<double>(local * h) * elem()))},
              {work::memcpy(static_cast<std::int64_t>(static_cast<double>(local * h) * elem()))}));

  // Blocks are laid out backbone first; shortcut paths are spliced in afterwards, last block
  // first, so that earlier positions stay valid.
  struct Splice {
    Routed routed;
    std::size_t shortcut_at;  // index in p.order where the routed input is ready
    std::size_t sum_at;       // index of the block's final sum
  };
  std::vector<Splice> splices;
  std::vector<std::size_t> block_start, attention_end;
  int moe_layer = 0;
  for (int b = 0; b < m_.layers; ++b) {
    p.block = b;
    block_start.push_back(p.order.size());
    attention_block(p, b, batch, seq_q, seq_kv);
    attention_end.push_back(p.order.size());
    const std::string pre = fmt::format("L{}.", b);
    if (!m_.is_moe_block(b)) {
      const int mlp_ln =
          p.add(compute(Category::kOther, pre + "mlp.ln", {work::layer_norm(local, h, t)},
                        {work::layer_norm(local, h, t)}));
      const auto mlp = dense_mlp(p, pre + "mlp.", m_.dense_ffn(), full, true, mlp_ln);
      auto residual =
          compute(Category::kOther, pre + "mlp.residual", {work::elementwise_add(local * h, t)},
                  {work::elementwise_add(local * h, t)});
      residual.deps = {mlp.back()};  // its output may come back through a TP collective
      p.add(std::move(residual));
      continue;
    }
    const int ln = p.add(compute(Category::kOther, pre + "moe.ln", {work::layer_norm(local, h, t)},
                                 {work::layer_norm(local, h, t)}));
    std::vector<Routed> spliced;
    std::vector<int> outputs;  // the last node of each routed path: the sum waits for them
    for (int path = 0; path < paths(); ++path) {
      const bool cut = shortcut(path) && b > 0;
      auto r = routed_path(p, rank, b, moe_layer, path, routed_k(), full, cut ? -1 : ln);
      outputs.push_back(r.post.back());
      if (cut) {
        spliced.push_back(std::move(r));
        continue;
      }
      // In place: shared experts (below) run while the dispatch is in flight.
      for (const auto id : r.pre) p.order.push_back(id);
      for (const auto id : r.dispatch) p.order.push_back(id);
      for (std::int64_t e = 0; e < shared_experts(); ++e) {
        dense_mlp(p, fmt::format("{}shared{}.", pre, e), m_.shared_ffn(), local, false, ln);
      }
      for (std::size_t c = 0; c < r.experts.size(); ++c) {
        p.order.push_back(r.experts[c]);
        p.order.push_back(r.combine[c]);
      }
      for (const auto id : r.post) p.order.push_back(id);
    }
    if (paths() == static_cast<int>(spliced.size())) {  // no in-place path: shared experts here
      for (std::int64_t e = 0; e < shared_experts(); ++e) {
        dense_mlp(p, fmt::format("{}shared{}.", pre, e), m_.shared_ffn(), local, false, ln);
      }
    }
    const std::size_t sum_at = p.order.size();
    auto sum =
        compute(Category::kOther, pre + "moe.residual", {work::elementwise_add(local * h, t)},
                {work::elementwise_add(local * h, t)});
    sum.deps = outputs;  // a path may end in a TP collective on its own stream
    p.add(std::move(sum));
    for (auto& r : spliced) {
      // Pos-1: output of block b-1; Pos-2: after its attention; Pos-3: its input.
      const auto before = static_cast<std::size_t>(b - 1);
      const int pos = shortcut_position(b);
      const std::size_t at = pos == 3   ? block_start[before]
                             : pos == 2 ? attention_end[before]
                                        : block_start[static_cast<std::size_t>(b)];
      splices.push_back({std::move(r), at, sum_at});
    }
    ++moe_layer;
  }
  p.block = -1;
  for (auto it = splices.rbegin(); it != splices.rend(); ++it) {
    auto& splice = *it;
    auto& order = p.order;
    // The routed input: the node just before the shortcut point.
    if (splice.shortcut_at > 0) {
      p.nodes[static_cast<std::size_t>(splice.routed.pre.front())].deps = {
          order[splice.shortcut_at - 1]};
    }
    std::vector<int> window(order.begin() + static_cast<std::ptrdiff_t>(splice.shortcut_at),
                            order.begin() + static_cast<std::ptrdiff_t>(splice.sum_at));
    const std::size_t slot = choose_slot(p, window, splice.routed, rank);
    order.insert(order.begin() + static_cast<std::ptrdiff_t>(splice.sum_at),
                 splice.routed.post.begin(), splice.routed.post.end());
    std::vector<int> middle;
    for (std::size_t c = 0; c < splice.routed.experts.size(); ++c) {
      middle.push_back(splice.routed.experts[c]);
      middle.push_back(splice.routed.combine[c]);
    }
    order.insert(order.begin() + static_cast<std::ptrdiff_t>(splice.shortcut_at + slot),
                 middle.begin(), middle.end());
    std::vector<int> head = splice.routed.pre;
    head.insert(head.end(), splice.routed.dispatch.begin(), splice.routed.dispatch.end());
    order.insert(order.begin() + static_cast<std::ptrdiff_t>(splice.shortcut_at), head.begin(),
                 head.end());
  }
  p.add(compute(Category::kOther, "final_ln", {work::layer_norm(local, h, t)},
                {work::layer_norm(local, h, t)}));
  if (m_.vocab > 0) {
    const auto v = m_.vocab / tp;
    p.add(compute(Category::kOther, "lm_head", {work::gemm(local, v, h, t)},
                  gemm_backward(local, v, h, t)));
  }
  return p;
}

// Where the expert computation of a shortcut path goes: after window[slot-1], the slot that
// exposes the least exchange time, estimated from the cost model and the network alone.
std::size_t Builder::choose_slot(const Program& p, const std::vector<int>& window, const Routed& r,
                                 int rank) {
  std::vector<double> busy;
  for (const int id : window) {
    const auto& n = p.nodes[static_cast<std::size_t>(id)];
    busy.push_back(n.stream == Stream::kCompute ? price(n.forward, nullptr).seconds() : 0.0);
  }
  const int group = layout_.ep_group_of(rank);
  const auto gpus = layout_.ep_group(group);
  double exchange[2] = {0, 0};
  for (int dir = 0; dir < 2; ++dir) {
    for (std::size_t c = 0; c < r.dispatch.size(); ++c) {
      const auto& n = p.nodes[static_cast<std::size_t>(dir == 0 ? r.dispatch[c] : r.combine[c])];
      const auto g = graph_for(n.comm, group, 0, &n.exchange, gpus);
      auto known = exchange_time_.find(g);
      if (known == exchange_time_.end()) {
        known = exchange_time_.emplace(g, estimate_(w_.graphs[g], gpus).seconds()).first;
      }
      exchange[dir] += known->second;
    }
  }
  std::size_t best = 0;
  double best_exposed = 0;
  for (std::size_t slot = 0; slot <= window.size(); ++slot) {
    double before = 0, after = 0;
    for (std::size_t i = 0; i < window.size(); ++i) (i < slot ? before : after) += busy[i];
    const double exposed = std::max(0.0, exchange[0] - before) + std::max(0.0, exchange[1] - after);
    if (slot == 0 || exposed < best_exposed) {
      best = slot;
      best_exposed = exposed;
    }
  }
  return best;
}

core::Time Builder::price(const std::vector<Work>& works, std::string* detail) {
  core::Time total = core::Time::zero();
  for (const auto& wk : works) {
    std::string key =
        fmt::format("{}|{}|{}|{}|{},{},{}|{},{},{},{},{},{}", static_cast<int>(wk.kind),
                    static_cast<int>(wk.dtype), wk.flops, wk.bytes, wk.gemm.m, wk.gemm.n, wk.gemm.k,
                    wk.attention.batch, wk.attention.heads, wk.attention.kv_heads,
                    wk.attention.seq_q, wk.attention.seq_kv, wk.attention.head_dim);
    for (const auto g : wk.groups) key += fmt::format(",{}", g);
    auto it = price_cache_.find(key);
    if (it == price_cache_.end()) it = price_cache_.emplace(key, cost_.estimate(wk)).first;
    const cost::Estimate& e = it->second;
    total += e.time;
    if (detail) {
      if (!detail->empty()) *detail += "; ";
      *detail += fmt::format("{} {:.4g} GFLOP {:.4g} MB via {}", cost::name(wk.kind),
                             wk.flops / 1e9, wk.bytes / 1e6, cost::name(e.rule));
    }
  }
  return total;
}

std::uint32_t Builder::graph_for(CommKind kind, int group_id, double bytes,
                                 const Exchange* exchange, const std::vector<int>& gpus) {
  const int n = static_cast<int>(gpus.size());
  const int per_node = gpus_per_node(gpus);  // for hierarchical algorithms
  std::string key = fmt::format("{}|{}|{}|{}|", static_cast<int>(kind), n, per_node, s_.window);
  std::vector<double> matrix;
  if (kind == CommKind::kAllToAll) {
    const auto& rows =
        group_rows(group_id, exchange->moe_layer, exchange->path, exchange->tokens, exchange->k);
    const auto local = m_.moe.experts / n;
    matrix.assign(static_cast<std::size_t>(n * n), 0);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        double sent = 0;
        for (std::int64_t e = 0; e < local; ++e) {
          sent += static_cast<double>(
              rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j * local + e)]);
        }
        const int a = exchange->transpose ? j : i, b = exchange->transpose ? i : j;
        matrix[static_cast<std::size_t>(a * n + b)] = sent * exchange->row_bytes;
      }
    }
    key.append(reinterpret_cast<const char*>(matrix.data()), matrix.size() * sizeof(double));
  } else {
    key += fmt::format("{}", bytes);
  }
  const auto found = graph_index_.find(key);
  if (found != graph_index_.end()) return found->second;

  const bool whole_nodes = per_node > 0 && per_node < n;  // and more than one
  net::TransferGraph g;
  switch (kind) {
    case CommKind::kAllToAll: {
      net::AllToAllOptions o;
      o.window = static_cast<int>(s_.window);
      if (s_.schedule.all_to_all == ExchangeAlgorithm::kHierarchical && whole_nodes) {
        o.algorithm = net::AllToAllAlgorithm::kHierarchical;
        o.gpus_per_node = per_node;
        o.relayout_bandwidth = cost_.profile().memory.bandwidth.bytes_per_second;
      }
      g = net::all_to_all(
          n, [&](int a, int b) { return matrix[static_cast<std::size_t>(a * n + b)]; }, o);
      break;
    }
    case CommKind::kAllGather:
      g = net::all_gather(n, bytes, whole_nodes ? per_node : 1);
      break;
    case CommKind::kReduceScatter:
      g = net::reduce_scatter(n, bytes, whole_nodes ? per_node : 1);
      break;
    case CommKind::kAllReduce:
      g = whole_nodes ? net::all_reduce(n, bytes, net::AllReduceAlgorithm::kHierarchical, per_node)
                      : net::all_reduce(n, bytes, net::AllReduceAlgorithm::kRing);
      break;
    case CommKind::kNone:
      break;
  }
  double payload = 0;  // what ranks send to other ranks (a 2-D exchange relays some twice)
  for (int a = 0; a < n && !matrix.empty(); ++a) {
    for (int b = 0; b < n; ++b) payload += a == b ? 0 : matrix[static_cast<std::size_t>(a * n + b)];
  }
  graph_payload_.push_back(payload);
  w_.graphs.push_back(std::move(g));
  const auto id = static_cast<std::uint32_t>(w_.graphs.size() - 1);
  graph_index_.emplace(std::move(key), id);
  return id;
}

core::OpId Builder::emit_comm(int rank, Stream stream, Category c, const std::string& name,
                              CommKind kind, Group group, double bytes, const Exchange* exchange) {
  auto& graph = w_.graph;
  const std::string_view label = model::name(c);
  const auto op =
      graph.add_op(streams_[static_cast<std::size_t>(rank * kStreams + static_cast<int>(stream))],
                   name, std::span<const std::string_view>(&label, 1));
  w_.category.push_back(c);
  int group_id = 0, member = 0;
  std::vector<int> gpus;
  switch (group) {
    case Group::kEp:
      group_id = layout_.ep_group_of(rank), member = layout_.ep_index(rank);
      break;
    case Group::kTp:
      group_id = layout_.tp_group_of(rank), member = layout_.tp_index(rank);
      break;
    case Group::kDenseDp:
      group_id = layout_.dense_dp_group_of(rank);
      member = layout_.dp_index(rank) * layout_.ep() + layout_.ep_index(rank);
      break;
    case Group::kExpertDp:
      group_id = layout_.expert_dp_group_of(rank), member = layout_.dp_index(rank);
      break;
  }
  const auto seq = sequence_[static_cast<std::size_t>(rank)][static_cast<std::size_t>(group)]++;
  const auto key = std::make_tuple(static_cast<int>(group), group_id, seq);
  auto it = pending_calls_.find(key);
  if (it == pending_calls_.end()) {
    switch (group) {
      case Group::kEp:
        gpus = layout_.ep_group(group_id);
        break;
      case Group::kTp:
        gpus = layout_.tp_group(group_id);
        break;
      case Group::kDenseDp:
        gpus = layout_.dense_dp_group(group_id);
        break;
      case Group::kExpertDp:
        gpus = layout_.expert_dp_group(group_id);
        break;
    }
    net::CollectiveCall call;
    call.graph = graph_for(kind, group_id, bytes, exchange, gpus);
    call.gpus = gpus;
    if (kind == CommKind::kAllToAll) w_.a2a_bytes += graph_payload_[call.graph];
    w_.calls.push_back(std::move(call));
    call_members_.emplace_back(w_.calls.back().gpus.size(), core::kNoId);
    it = pending_calls_.emplace(key, static_cast<std::uint32_t>(w_.calls.size() - 1)).first;
  }
  const auto call = it->second;
  call_members_[call][static_cast<std::size_t>(member)] = op;
  net::OpWork ow;
  ow.call = call;
  w_.work.push_back(ow);
  if (options_.op_args) {
    // The size S of the collective's buffer; an all-to-all's, which differs per rank, as what
    // the whole call sends between its ranks.
    const auto graph_index = w_.calls[call].graph;
    const bool a2a = kind == CommKind::kAllToAll;
    graph.set_args(op, {{"collective", std::string(comm_name(kind))},
                        {a2a ? "call_bytes" : "bytes",
                         fmt::format("{:.0f}", a2a ? graph_payload_[graph_index] : bytes)},
                        {"group_size", std::to_string(w_.calls[call].gpus.size())},
                        {"algorithm_graph", std::to_string(graph_index)}});
  }
  return op;
}

core::OpId Builder::emit_node(const Node& n, int rank, bool backward, const std::string& suffix) {
  if (n.comm != CommKind::kNone) {
    CommKind kind = n.comm;
    Exchange ex = n.exchange;
    if (backward) {
      if (kind == CommKind::kAllGather) {
        kind = CommKind::kReduceScatter;
      } else if (kind == CommKind::kReduceScatter) {
        kind = CommKind::kAllGather;
      }
      ex.transpose = !ex.transpose;  // gradients flow back the way the data came
    }
    return emit_comm(rank, n.stream, n.category, n.name + suffix, kind, n.group, n.bytes, &ex);
  }
  const auto& works = backward ? n.backward : n.forward;
  const std::string_view label = model::name(n.category);
  const auto op = w_.graph.add_op(
      streams_[static_cast<std::size_t>(rank * kStreams + static_cast<int>(n.stream))],
      n.name + suffix, std::span<const std::string_view>(&label, 1));
  w_.category.push_back(n.category);
  if (!backward) {
    for (const auto& wk : works) {
      if (wk.kind == cost::OpKind::kGemm) ++w_.gemms[static_cast<std::size_t>(n.category)];
    }
  }
  std::string detail;
  net::OpWork ow;
  ow.duration = price(works, options_.op_args ? &detail : nullptr);
  w_.work.push_back(ow);
  if (options_.op_args) w_.graph.set_args(op, {{"work", detail}});
  return op;
}

namespace {
bool emitted(const Node& n, bool backward) {
  return !backward || n.comm != CommKind::kNone || !n.backward.empty();
}
}  // namespace

Builder::WeightGathers Builder::gather_weights(const Program& p, int rank, bool backward,
                                               const std::string& suffix) {
  WeightGathers g;
  const auto units = static_cast<std::size_t>(m_.layers) + 1;
  g.ops.resize(units);
  g.first_use.assign(units, core::kNoId);
  std::vector<char> seen(units, 0);
  const auto visit = [&](int id) {
    const auto& n = p.nodes[static_cast<std::size_t>(id)];
    const auto unit = static_cast<std::size_t>(n.block + 1);
    if (!emitted(n, backward) || seen[unit]) return;
    seen[unit] = 1;
    g.order.push_back(static_cast<int>(unit));
  };
  if (backward) {
    std::for_each(p.order.rbegin(), p.order.rend(), visit);
  } else {
    std::for_each(p.order.begin(), p.order.end(), visit);
  }
  const double e = elem();
  for (const int unit : g.order) {
    double dense = embedding_parameters(), expert = 0;
    std::string name = "weights.embedding";
    if (unit > 0) {
      const auto block = unit - 1;
      const auto params = block_parameters(block);
      dense = params.dense - (block == 0 ? embedding_parameters() : 0.0);
      expert = params.expert;
      name = fmt::format("weights.block{}", block);
    }
    auto& ops = g.ops[static_cast<std::size_t>(unit)];
    if (dense > 0 && dense_dp_group() > 1) {
      ops.push_back(emit_comm(rank, Stream::kDp, Category::kDp, name + ".dense" + suffix,
                              CommKind::kAllGather, Group::kDenseDp, dense * e, nullptr));
    }
    if (expert > 0 && expert_dp_group() > 1) {
      ops.push_back(emit_comm(rank, Stream::kDp, Category::kDp, name + ".expert" + suffix,
                              CommKind::kAllGather, Group::kExpertDp, expert * e, nullptr));
    }
  }
  return g;
}

void Builder::emit(const Program& p, int rank, bool backward, const std::string& suffix,
                   std::vector<core::OpId>* last_bwd_of_block) {
  std::vector<core::OpId> op_of(p.nodes.size(), core::kNoId);
  // ZeRO-3: every op waits for its block's weights; the gathers go first on the dp stream.
  const bool gather = gathers_weights();
  WeightGathers gathers;
  if (gather) gathers = gather_weights(p, rank, backward, suffix);
  const auto emit_one = [&](int id) {
    const auto& n = p.nodes[static_cast<std::size_t>(id)];
    if (!emitted(n, backward)) return;
    const auto op = emit_node(n, rank, backward, suffix);
    op_of[static_cast<std::size_t>(id)] = op;
    if (last_bwd_of_block && n.block >= 0) {
      (*last_bwd_of_block)[static_cast<std::size_t>(n.block)] = op;
    }
    if (gather) {
      const auto unit = static_cast<std::size_t>(n.block + 1);
      for (const auto g : gathers.ops[unit]) w_.graph.add_dependency(op, g);
      if (gathers.first_use[unit] == core::kNoId) gathers.first_use[unit] = op;
    }
  };
  if (backward) {
    std::for_each(p.order.rbegin(), p.order.rend(), emit_one);
  } else {
    std::for_each(p.order.begin(), p.order.end(), emit_one);
  }
  // Backward reverses every dependency; nodes without a backward drop theirs.
  for (const int id : p.order) {
    const auto op = op_of[static_cast<std::size_t>(id)];
    for (const int dep : p.nodes[static_cast<std::size_t>(id)].deps) {
      const auto before = op_of[static_cast<std::size_t>(dep)];
      if (op == core::kNoId || before == core::kNoId) continue;
      if (backward) {
        w_.graph.add_dependency(before, op);
      } else {
        w_.graph.add_dependency(op, before);
      }
    }
  }
  // One unit gathered ahead: a unit's gathers wait until the previous unit's first op is done.
  for (std::size_t i = 1; i < gathers.order.size(); ++i) {
    const auto previous = gathers.first_use[static_cast<std::size_t>(gathers.order[i - 1])];
    for (const auto g : gathers.ops[static_cast<std::size_t>(gathers.order[i])]) {
      w_.graph.add_dependency(g, previous);
    }
  }
}

Builder::BlockParameters Builder::block_parameters(std::int64_t b) const {
  const auto tp = s_.parallel.tp;
  const auto h = m_.hidden;
  const auto hd = h / m_.heads;
  BlockParameters p;
  p.dense = static_cast<double>(h * (m_.heads + 2 * m_.kv()) * hd / tp + h * h / tp);
  if (m_.is_moe_block(b)) {
    const auto E = m_.moe.experts;
    p.dense += static_cast<double>(paths() * h * E);
    p.dense += static_cast<double>(shared_experts() * mlp_gemms() * h * m_.shared_ffn() / tp);
    if (s_.schedule.dcca) p.dense += static_cast<double>(2 * h * width());
    p.expert =
        static_cast<double>(E / s_.parallel.ep * mlp_gemms() * width() * expert_inner() / tp);
  } else {
    p.dense += static_cast<double>(mlp_gemms() * h * m_.dense_ffn() / tp);
  }
  if (b == 0) p.dense += embedding_parameters();
  return p;
}

void Builder::reduce_gradients(int rank, const std::vector<core::OpId>& last_bwd_of_block,
                               const std::string& suffix, Reductions& out) {
  // Parameters (elements) per block on this rank, dense and expert, in backward order. Without
  // ZeRO each bucket is all-reduced; with it, reduce-scattered for each rank to step its shard.
  const double e = elem();
  const double bucket = static_cast<double>(s_.training.bucket.count);
  const auto reduction =
      s_.training.zero >= kZeroOptimizerStates ? CommKind::kReduceScatter : CommKind::kAllReduce;
  out.buckets.clear();  // every pass reduces the same buckets
  double dense = 0, expert = 0;
  core::OpId last = core::kNoId;
  const auto reduce = [&](Group group, const char* kind, double& elements) {
    const auto op = emit_comm(rank, Stream::kDp, Category::kDp,
                              fmt::format("grad.{}{}{}", kind, out.buckets.size(), suffix),
                              reduction, group, elements * e, nullptr);
    w_.graph.add_dependency(op, last);
    out.ops.push_back(op);
    out.buckets.emplace_back(group, elements * e);
    elements = 0;
  };
  const auto flush = [&](bool force) {
    if (dense > 0 && (dense * e >= bucket || force) && dense_dp_group() > 1) {
      reduce(Group::kDenseDp, "dense", dense);
    }
    if (expert > 0 && (expert * e >= bucket || force) && expert_dp_group() > 1) {
      reduce(Group::kExpertDp, "expert", expert);
    }
  };
  for (auto b = m_.layers - 1; b >= 0; --b) {
    const auto [d, x] = block_parameters(b);
    dense += d, expert += x;
    last = last_bwd_of_block[static_cast<std::size_t>(b)];
    flush(b == 0);
  }
}

void Builder::emit_step(int rank, const Reductions& reductions) {
  const bool sharded = s_.training.zero >= kZeroOptimizerStates;
  const std::string_view label = model::name(Category::kOther);
  const auto op = w_.graph.add_op(streams_[static_cast<std::size_t>(rank * kStreams)], "optimizer",
                                  std::span<const std::string_view>(&label, 1));
  w_.category.push_back(Category::kOther);
  net::OpWork ow;
  // The step updates what the rank holds of Adam's states: its shard from ZeRO-1 on.
  ow.duration =
      price({work::optimizer_step(std::llround(w_.parameters_held(sharded)), m_.dtype)}, nullptr);
  w_.work.push_back(ow);
  for (const auto r : reductions.ops) w_.graph.add_dependency(op, r);
  if (!sharded || gathers_weights()) return;  // ZeRO-3 gathers weights as each pass needs them
  for (std::size_t i = 0; i < reductions.buckets.size(); ++i) {
    const auto& [group, bytes] = reductions.buckets[i];
    const auto gather =
        emit_comm(rank, Stream::kDp, Category::kDp,
                  fmt::format("weights.{}{}", group == Group::kDenseDp ? "dense" : "expert", i),
                  CommKind::kAllGather, group, bytes, nullptr);
    w_.graph.add_dependency(gather, op);
  }
}

Workload Builder::build() {
  const int world = layout_.world();
  sequence_.assign(static_cast<std::size_t>(world), {});
  for (int r = 0; r < world; ++r) {
    for (int st = 0; st < kStreams; ++st) {
      streams_.push_back(w_.graph.add_stream(static_cast<core::RankId>(r),
                                             kStreamNames[static_cast<std::size_t>(st)]));
    }
  }
  for (std::int64_t b = 0; b < m_.layers; ++b) w_.moe_layers += m_.is_moe_block(b) ? 1 : 0;

  const bool train = s_.mode == Mode::kTrain;
  const auto prompt = s_.inference.prompt > 0 ? s_.inference.prompt : m_.seq_len;
  const auto micro = train && m_.global_batch > 0
                         ? m_.global_batch / (m_.micro_batch * s_.parallel.ep * s_.parallel.dp)
                         : 1;
  if (!train)
    w_.tokens = s_.parallel.ep * s_.parallel.dp * m_.micro_batch * (prompt + s_.inference.generate);
  for (std::int64_t b = 0; b < m_.layers; ++b) {
    const auto [dense, expert] = block_parameters(b);
    w_.dense_parameters_per_rank += dense;
    w_.expert_parameters_per_rank += expert;
  }
  w_.dense_dp_group = dense_dp_group();
  w_.expert_dp_group = expert_dp_group();
  // The units gather_weights() gathers: the embedding and head, then each block without them.
  const auto beyond_shard = [&](double dense, double expert) {
    return dense * (1 - 1.0 / w_.dense_dp_group) + expert * (1 - 1.0 / w_.expert_dp_group);
  };
  w_.largest_gather_beyond_shard = beyond_shard(embedding_parameters(), 0);
  for (std::int64_t b = 0; b < m_.layers; ++b) {
    const auto [dense, expert] = block_parameters(b);
    const auto own = dense - (b == 0 ? embedding_parameters() : 0.0);
    w_.largest_gather_beyond_shard =
        std::max(w_.largest_gather_beyond_shard, beyond_shard(own, expert));
  }
  if (!train) {
    // Keys and values of every layer for each sequence's prompt and generated tokens.
    constexpr double kKeysAndValues = 2;
    const auto hd = m_.hidden / m_.heads;
    w_.kv_cache_bytes_per_rank =
        kKeysAndValues * static_cast<double>(m_.layers) *
        static_cast<double>(m_.kv() / s_.parallel.tp * hd) *
        static_cast<double>(m_.micro_batch * (prompt + s_.inference.generate)) * elem();
  }

  // Ranks are built one expert-parallel group at a time (their routing is shared).
  for (int g = 0; g < layout_.ep_group_count(); ++g) {
    for (const int rank : layout_.ep_group(g)) {
      if (!train) {
        const auto prefill = forward_program(rank, m_.micro_batch, prompt, prompt);
        emit(prefill, rank, false, "", nullptr);
        for (std::int64_t step = 0; step < s_.inference.generate; ++step) {
          const auto decode = forward_program(rank, m_.micro_batch, 1, prompt + step + 1);
          emit(decode, rank, false, fmt::format(".decode{}", step), nullptr);
        }
        continue;
      }
      const auto program = forward_program(rank, m_.micro_batch, m_.seq_len, m_.seq_len);
      std::vector<core::OpId> last_bwd(static_cast<std::size_t>(m_.layers), core::kNoId);
      Reductions reductions;
      for (std::int64_t mb = 0; mb < micro; ++mb) {
        const std::string suffix = micro > 1 ? fmt::format(".mb{}", mb) : "";
        emit(program, rank, false, suffix, nullptr);
        emit(program, rank, true, suffix + ".bwd", &last_bwd);
        if (reduces_every_micro_batch() || mb == micro - 1) {
          reduce_gradients(rank, last_bwd, reduces_every_micro_batch() ? suffix : "", reductions);
        }
      }
      emit_step(rank, reductions);
    }
  }
  for (std::size_t c = 0; c < call_members_.size(); ++c) {
    for (const auto op : call_members_[c]) {
      if (op == core::kNoId) {
        throw std::logic_error(fmt::format("workload: collective call {} is missing a member", c));
      }
    }
    w_.graph.add_gang(call_members_[c]);
  }
  w_.graph.finalize();
  return std::move(w_);
}

}  // namespace

bool ModelConfig::is_moe_block(std::int64_t block) const {
  if (!moe.blocks.empty()) {
    return std::find(moe.blocks.begin(), moe.blocks.end(), block) != moe.blocks.end();
  }
  return block >= moe.first && (block - moe.first) % moe.every == 0;
}

void check_study(const Study& study, const topo::Cluster& cluster, const cost::CostModel& cost) {
  const ExchangeEstimator unused = [](const net::TransferGraph&, const std::vector<int>&) {
    return core::Time::zero();
  };
  Builder(study, cluster, cost, unused, {});  // the constructor checks
}

Workload build_workload(const Study& study, const topo::Cluster& cluster,
                        const cost::CostModel& cost, const ExchangeEstimator& estimate,
                        const BuildOptions& options) {
  return Builder(study, cluster, cost, estimate, options).build();
}

}  // namespace moesim::model
