#include "moe_block.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace moesim::model {

namespace work = cost::work;

DispatchShape MoeBlock::dispatch_shape(const LayerContext& c, int rank, int moe_layer, int path,
                                       std::int64_t full) {
  const auto& rows = traffic_.rows(layout_.ep_group_of(rank), moe_layer, path, full, shape_.k);
  DispatchShape d;
  d.tokens = full;
  d.experts = model_.moe.experts;
  d.k = shape_.k;
  d.width = shape_.width;
  d.dtype = c.impl.dispatcher.upcast_bf16 && c.dtype() == cost::Dtype::kBf16 ? cost::Dtype::kFp32
                                                                             : c.dtype();
  for (const auto n : rows[static_cast<std::size_t>(layout_.ep_index(rank))]) d.rows += n;
  // A padded buffer holds the capacity, or without one (dropless) the largest count.
  for (const auto& source : rows) {
    for (const auto n : source) d.capacity = std::max(d.capacity, n);
  }
  return d;
}

void MoeBlock::pre_exchange(Program& p, const LayerContext& c, const std::string& pre,
                            const DispatchShape& d, int input, RoutedPath& r) const {
  const auto t = c.dtype();
  const auto h = model_.hidden;
  const auto w = shape_.width;
  const auto E = model_.moe.experts;
  const auto full = d.tokens;
  const auto gate_tokens = c.local(full);  // tokens this rank routes and projects
  auto router = linear(c, gate_tokens, E, h, false);
  router.forward.push_back(work::gating(gate_tokens, E, shape_.k, t));
  router.backward.push_back(work::gating(gate_tokens, E, shape_.k, t));
  // An eager gating function: each further tensor op over the tokens x experts scores.
  for (std::int64_t i = 1; i < c.impl.dispatcher.gate_kernels; ++i) {
    router.forward.push_back(work::elementwise(gate_tokens * E, 1, 1, cost::Dtype::kFp32));
  }
  if (c.training && c.impl.dispatcher.aux_loss) {
    router.forward.push_back(work::aux_loss(gate_tokens, E));
  }
  auto gate = compute(Category::kGate, pre + "gate", router.forward, router.backward);
  if (input >= 0) gate.deps = {input};
  r.pre.push_back(p.make(std::move(gate)));
  const auto counts = c.impl.dispatcher.counts;
  if (counts != CountExchange::kNone && parallel_.ep > 1) {
    // Tokens per expert of every member (int64 each), or the largest count.
    constexpr double kCountBytes = 8;
    const double bytes = counts == CountExchange::kAllGather
                             ? static_cast<double>(parallel_.ep * E) * kCountBytes
                             : kCountBytes;
    Node exchange;
    exchange.stream = Stream::kEp;
    exchange.category = Category::kA2aDispatch;
    exchange.name = pre + "counts";
    exchange.collective =
        Collective{counts == CountExchange::kAllGather ? net::CollectiveKind::kAllGather
                                                       : net::CollectiveKind::kAllReduce,
                   Group::kEp, bytes, nullptr};
    exchange.deps = {r.pre.back()};
    exchange.mirrored = false;  // the backward exchange reuses the forward's sizes
    r.counts = p.make(std::move(exchange));
  }
  if (shape_.projections) {
    const auto down = linear(c, gate_tokens, w, h, false);
    r.pre.push_back(
        p.make(compute(Category::kProjections, pre + "descend", down.forward, down.backward)));
  }
  if (c.sp) {
    r.pre.push_back(p.make(tp_collective(pre, net::CollectiveKind::kAllGather,
                                         static_cast<double>(full * w) * c.elem(), r.pre.back())));
  }
  const auto grouped = permutation(c.impl.dispatcher, d);
  auto permute = compute(Category::kOther, pre + "permute", grouped.forward, grouped.backward);
  if (c.sp) permute.deps = {r.pre.back()};
  r.pre.push_back(p.make(std::move(permute)));
  if (shape_.lsh) {
    const auto& lsh = *shape_.lsh;
    const auto rows = full * shape_.k;
    const auto centroids = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil(lsh.rate * static_cast<double>(rows))));
    r.pre.push_back(p.make(compute(Category::kLsh, pre + "lsh_hash",
                                   {work::lsh_hash(rows, w, lsh.hashes, lsh.structured, t)}, {})));
    r.pre.push_back(p.make(compute(Category::kLsh, pre + "centroids",
                                   {work::segmented_mean(rows, w, centroids, t)},
                                   {work::segmented_mean(rows, w, centroids, t)})));
  }
}

void MoeBlock::post_exchange(Program& p, const LayerContext& c, const std::string& pre,
                             const DispatchShape& d, RoutedPath& r) const {
  const auto t = c.dtype();
  const auto h = model_.hidden;
  const auto w = shape_.width;
  const auto full = d.tokens;
  const auto gate_tokens = c.local(full);
  if (shape_.lsh) {
    const auto n = full * shape_.k * w;
    auto comp = compute(Category::kLsh, pre + "compensate", {work::elementwise_add(n, t)},
                        {work::elementwise_add(n, t)});
    comp.deps = r.combine;
    r.post.push_back(p.make(std::move(comp)));
  }
  const auto ungrouped = unpermutation(c.impl.dispatcher, d);
  auto unpermute =
      compute(Category::kOther, pre + "unpermute", ungrouped.forward, ungrouped.backward);
  if (r.post.empty()) unpermute.deps = r.combine;
  r.post.push_back(p.make(std::move(unpermute)));
  if (c.tp > 1) {
    r.post.push_back(p.make(
        tp_collective(pre, c.closing(), static_cast<double>(full * w) * c.elem(), r.post.back())));
  }
  if (shape_.projections) {
    const auto up = linear(c, gate_tokens, h, w, false);
    auto ascend = compute(Category::kProjections, pre + "ascend", up.forward, up.backward);
    if (c.tp > 1) ascend.deps = {r.post.back()};
    r.post.push_back(p.make(std::move(ascend)));
  }
}

std::vector<std::int64_t> MoeBlock::expert_rows(int rank, int moe_layer, int path,
                                                std::int64_t full) {
  const auto& rows = traffic_.rows(layout_.ep_group_of(rank), moe_layer, path, full, shape_.k);
  const auto local = model_.moe.experts / parallel_.ep;
  const auto first = layout_.ep_index(rank) * local;
  std::vector<std::int64_t> received(static_cast<std::size_t>(local), 0);
  for (const auto& src : rows) {
    for (std::int64_t e = 0; e < local; ++e) {
      received[static_cast<std::size_t>(e)] += src[static_cast<std::size_t>(first + e)];
    }
  }
  for (auto& m : received) {
    m = static_cast<std::int64_t>(std::ceil(static_cast<double>(m) * shape_.rows_factor() /
                                            static_cast<double>(shape_.chunks)));
  }
  return received;
}

RoutedPath MoeBlock::routed_path(Program& p, const LayerContext& c, int rank, int block,
                                 int moe_layer, int path, std::int64_t full, int input) {
  const auto t = c.dtype();
  const auto w = shape_.width;
  const auto chunks = shape_.chunks;
  const std::string pre =
      fmt::format("L{}.moe{}.", block, shape_.paths > 1 ? std::to_string(path) : "");
  RoutedPath r;
  const auto d = dispatch_shape(c, rank, moe_layer, path, full);
  pre_exchange(p, c, pre, d, input, r);
  const int ready = r.pre.back();  // the rows to send
  if (r.counts >= 0) r.pre.push_back(r.counts);

  const auto received = expert_rows(rank, moe_layer, path, full);
  const auto inner = shape_.expert_inner / c.tp;
  const auto up = inner * (model_.gated_mlp ? 2 : 1);
  std::int64_t act = 0;
  for (const auto m : received) act += m * inner;
  // Rows at their wire size in each direction (the schedule may dispatch in fp8, combine in
  // bf16), LSH's rate and the pipelining's chunks applied.
  const auto per_row = [&](cost::Dtype dtype) {
    return exchanged_row_bytes(w, dtype) * shape_.rows_factor() / static_cast<double>(chunks);
  };
  const auto out_type = shape_.dispatch_dtype.value_or(d.dtype);
  const auto back_type = shape_.combine_dtype.value_or(out_type);
  const auto group = layout_.ep_group_of(rank);
  const auto dispatched =
      traffic_.dispatch(group, moe_layer, path, full, shape_.k, per_row(out_type), shape_.dispatch);
  const auto combined = traffic_.transpose(*traffic_.dispatch(
      group, moe_layer, path, full, shape_.k, per_row(back_type), shape_.dispatch));
  const auto exchange = [&](Category category, std::string name, const auto& matrix, int after) {
    Node n;
    n.stream = Stream::kEp;
    n.category = category;
    n.name = std::move(name);
    n.collective = Collective{net::CollectiveKind::kAllToAll, Group::kEp, 0, matrix};
    n.deps = {after};
    return p.make(std::move(n));
  };
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk) {
    const std::string suffix = chunks > 1 ? fmt::format(".c{}", chunk) : "";
    r.dispatch.push_back(
        exchange(Category::kA2aDispatch, pre + "dispatch" + suffix, dispatched, ready));
    // The host reads the counts (or a capacity) before it can issue the exchange.
    if (c.impl.dispatcher.host_sync) {
      p.node(r.dispatch.back()).host_waits_for = r.counts >= 0 ? r.counts : r.pre.front();
    }
    auto expert = compute(
        Category::kExpertFfn, pre + "experts" + suffix,
        {work::grouped_gemm(received, up, w, t), work::activation(act, model_.gated_mlp, t),
         work::grouped_gemm(received, w, inner, t)},
        {work::grouped_gemm(received, up, w, t), work::grouped_gemm(received, up, w, t),
         work::activation(act, model_.gated_mlp, t), work::grouped_gemm(received, w, inner, t),
         work::grouped_gemm(received, w, inner, t)});
    expert.deps = {r.dispatch.back()};
    r.experts.push_back(p.make(std::move(expert)));
    r.combine.push_back(
        exchange(Category::kA2aCombine, pre + "combine" + suffix, combined, r.experts.back()));
  }
  post_exchange(p, c, pre, d, r);
  return r;
}

void MoeBlock::shared_experts(Program& p, const LayerContext& c, int block, std::int64_t full,
                              int input) const {
  for (std::int64_t e = 0; e < shape_.shared_experts; ++e) {
    dense_mlp(p, c, fmt::format("L{}.shared{}.", block, e), model_.shared_ffn(), c.local(full),
              false, input);
  }
}

std::vector<ShortcutPath> MoeBlock::lay_out(Program& p, const LayerContext& c, int rank, int block,
                                            int moe_layer, std::int64_t full,
                                            const std::vector<std::size_t>& block_start,
                                            const std::vector<std::size_t>& attention_end) {
  const auto t = model_.dtype;
  const auto h = model_.hidden;
  const auto local = c.local(full);
  const std::string pre = fmt::format("L{}.", block);
  const int ln = p.add(compute(Category::kOther, pre + "moe.ln", {work::layer_norm(local, h, t)},
                               {work::layer_norm(local, h, t)}));
  std::vector<RoutedPath> spliced;
  std::vector<int> outputs;  // the last node of each routed path: the sum waits for them
  for (int path = 0; path < shape_.paths; ++path) {
    const bool cut = shape_.shortcut[static_cast<std::size_t>(path)] && block > 0;
    auto r = routed_path(p, c, rank, block, moe_layer, path, full, cut ? -1 : ln);
    outputs.push_back(r.post.back());
    if (cut) {
      spliced.push_back(std::move(r));
      continue;
    }
    // In place: shared experts (below) run while the dispatch is in flight.
    for (const auto id : r.pre) p.order.push_back(id);
    for (const auto id : r.dispatch) p.order.push_back(id);
    shared_experts(p, c, block, full, ln);
    for (std::size_t chunk = 0; chunk < r.experts.size(); ++chunk) {
      p.order.push_back(r.experts[chunk]);
      p.order.push_back(r.combine[chunk]);
    }
    for (const auto id : r.post) p.order.push_back(id);
  }
  if (shape_.paths == static_cast<int>(spliced.size())) shared_experts(p, c, block, full, ln);
  const std::size_t sum_at = p.order.size();
  auto sum = compute(Category::kOther, pre + "moe.residual", {work::elementwise_add(local * h, t)},
                     {work::elementwise_add(local * h, t)});
  sum.deps = outputs;  // a path may end in a TP collective on its own stream
  p.add(std::move(sum));
  std::vector<ShortcutPath> out;
  if (spliced.empty()) return out;
  // Pos-1: output of block b-1 (also wherever that block is itself MoE); Pos-2: after its
  // attention; Pos-3: its input.
  const auto before = static_cast<std::size_t>(block - 1);
  const int pos = model_.is_moe_block(block - 1) ? 1 : shape_.shortcut_position;
  const std::size_t at = pos == 3   ? block_start[before]
                         : pos == 2 ? attention_end[before]
                                    : block_start[static_cast<std::size_t>(block)];
  for (auto& r : spliced) out.push_back({std::move(r), at, sum_at});
  return out;
}

}  // namespace moesim::model
