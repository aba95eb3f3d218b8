#include "attention.hpp"

#include <fmt/format.h>

namespace moesim::model {

namespace work = cost::work;
using cost::Dtype;

bool flash_attention(const LayerContext& c) {
  return c.impl.attention.kernel == AttentionKernel::kFlash && c.model.attention.fusable();
}

Kernels attention_scores(const LayerContext& c, std::int64_t batch, std::int64_t seq_q,
                         std::int64_t seq_kv) {
  const auto& m = c.model;
  const auto t = c.dtype();
  const auto heads = m.heads / c.tp, kv = m.kv() / c.tp, hd = m.hd();
  const auto s = m.attention.scores_dtype.value_or(c.impl.attention.scores_dtype.value_or(t));
  const auto groups = batch * heads;  // one GEMM per (sequence, head)
  const auto scores = groups * seq_q * seq_kv;
  const auto q = batch * seq_q * heads * hd, kvs = batch * seq_kv * kv * hd;
  const auto copies = c.impl.attention.layout_copies;
  Kernels k;
  auto& f = k.forward;
  auto& b = k.backward;
  for (std::int64_t i = 0; i < copies; ++i) {  // heads split and merged
    f.push_back(work::layout_copy(q, t));
    b.push_back(work::layout_copy(q, t));
  }
  if (m.attention.kind == AttentionKind::kCosine) {  // q and k normalised
    for (const auto n : {q, kvs}) {
      f.push_back(work::elementwise(n, 1, 1, t));
      b.push_back(work::elementwise(n, 2, 1, t));
    }
  }
  f.push_back(work::batched_gemm(groups, seq_q, seq_kv, hd, t));  // Q K^T
  if (s != t) f.push_back(work::cast(scores, t, s));
  if (!c.impl.attention.fused_softmax || m.attention.kind == AttentionKind::kCosine) {
    f.push_back(work::elementwise(scores, 1, 1, s));  // scale (the cosine logit scale)
    if (m.causal) f.push_back(work::elementwise(scores, 1, 1, s));  // mask
  }
  if (m.attention.position_bias) f.push_back(work::elementwise(scores, 2, 1, s));
  f.push_back(work::softmax(groups * seq_q, seq_kv, s, s));
  if (c.dropout()) f.push_back(work::dropout(scores, s));
  if (s != t) f.push_back(work::cast(scores, s, t));
  f.push_back(work::batched_gemm(groups, seq_q, hd, seq_kv, t));  // P V
  // Backward, in the order it runs: PV (dV, dP), dropout, softmax, scale, bias, QK^T.
  std::vector<cost::Work> back;
  back.push_back(work::batched_gemm(groups, seq_kv, hd, seq_q, t));  // dV = P^T dO
  back.push_back(work::batched_gemm(groups, seq_q, seq_kv, hd, t));  // dP = dO V^T
  if (c.dropout()) back.push_back(work::dropout_backward(scores, s));
  back.push_back(work::softmax_backward(groups * seq_q, seq_kv, s));
  if (!c.impl.attention.fused_softmax || m.attention.kind == AttentionKind::kCosine) {
    back.push_back(work::elementwise(scores, 1, 1, s));
  }
  if (m.attention.position_bias) {  // the bias table's gradient: summed over the sequences
    back.push_back(work::bias_gradient(batch, heads * seq_q * seq_kv, s));
  }
  back.push_back(work::batched_gemm(groups, seq_q, hd, seq_kv, t));  // dQ = dS K
  back.push_back(work::batched_gemm(groups, seq_kv, hd, seq_q, t));  // dK = dS^T Q
  b.insert(b.begin(), back.begin(), back.end());
  return k;
}

std::vector<int> attention_block(Program& p, const LayerContext& c, int block, std::int64_t batch,
                                 std::int64_t seq_q, std::int64_t seq_kv, std::int64_t tokens) {
  const auto& m = c.model;
  const auto t = c.dtype();
  const auto tp = c.tp;
  const auto full = tokens > 0 ? tokens : batch * seq_q;
  const auto local = c.local(full);
  const auto h = m.hidden;
  const auto hd = m.hd();
  const std::string pre = fmt::format("L{}.attn.", block);
  std::vector<int> ids;
  auto ln = layer_norm(c, local);
  if (m.windowed) {  // tokens partitioned into windows
    ln.forward.push_back(work::layout_copy(local * h, t));
    ln.backward.insert(ln.backward.begin(), work::layout_copy(local * h, t));
  }
  ids.push_back(p.add(compute(Category::kOther, pre + "ln", ln.forward, ln.backward)));
  if (c.sp) {
    ids.push_back(p.add(tp_collective(pre, net::CollectiveKind::kAllGather,
                                      static_cast<double>(full * h) * c.elem(), ids.back())));
  }
  const auto qkv_n = (m.heads + 2 * m.kv()) * hd / tp;
  auto qkv = linear(c, full, qkv_n, h, m.bias);
  if (m.qk_norm) {  // per-head norms of q and k
    for (const auto heads : {m.heads, m.kv()}) {
      qkv.forward.push_back(work::layer_norm(full * heads / tp, hd, t));
      qkv.backward.insert(qkv.backward.begin(),
                          work::layer_norm_backward(full * heads / tp, hd, t));
    }
  }
  if (!c.training) qkv.forward.push_back(work::kv_cache_write(full, m.kv() * hd / tp, t));
  auto qkv_node = compute(Category::kAttention, pre + "qkv", qkv.forward, qkv.backward);
  if (c.sp) qkv_node.deps = {ids.back()};
  ids.push_back(p.add(std::move(qkv_node)));
  Kernels core;
  if (flash_attention(c)) {
    cost::AttentionShape shape{batch,  m.heads / tp, m.kv() / tp, seq_q,
                               seq_kv, hd,           m.causal,    c.impl.attention.flash_version};
    core = {{work::attention(shape, t)}, {work::attention_backward(shape, t)}};
  } else {
    core = attention_scores(c, batch, seq_q, seq_kv);
  }
  auto core_node = compute(Category::kAttention, pre + "core", core.forward, core.backward);
  core_node.attention_core = true;
  ids.push_back(p.add(std::move(core_node)));
  const auto out = linear(c, full, h, m.heads * hd / tp, false);  // its bias joins the residual
  ids.push_back(p.add(compute(Category::kAttention, pre + "out", out.forward, out.backward)));
  if (tp > 1) {
    ids.push_back(p.add(
        tp_collective(pre, c.closing(), static_cast<double>(full * h) * c.elem(), ids.back())));
  }
  auto join = residual_join(c, local, m.bias);
  if (m.windowed) {  // windows put back
    join.forward.insert(join.forward.begin(), work::layout_copy(local * h, t));
    join.backward.push_back(work::layout_copy(local * h, t));
  }
  auto add = compute(Category::kOther, pre + "residual", join.forward, join.backward);
  if (tp > 1) add.deps = {ids.back()};
  ids.push_back(p.add(std::move(add)));
  return ids;
}

}  // namespace moesim::model
