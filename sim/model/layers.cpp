#include "layers.hpp"

#include <fmt/format.h>

namespace moesim::model {

namespace work = cost::work;

Node tp_collective(const std::string& prefix, net::CollectiveKind kind, double bytes, int after) {
  Node n;
  n.stream = Stream::kTp;
  n.category = Category::kTp;
  n.name = prefix + std::string(net::name(kind));
  n.collective = Collective{kind, Group::kTp, bytes, nullptr};
  if (after >= 0) n.deps = {after};
  return n;
}

std::vector<cost::Work> gemm_backward(std::int64_t m, std::int64_t n, std::int64_t k,
                                      cost::Dtype t) {
  return {work::gemm(m, k, n, t), work::gemm(k, n, m, t)};
}

std::vector<int> attention_block(Program& p, const LayerContext& c, int block,
                                 std::int64_t batch, std::int64_t seq_q, std::int64_t seq_kv) {
  const auto& m = c.model;
  const auto t = m.dtype;
  const auto tp = c.tp;
  const auto full = batch * seq_q;
  const auto local = c.local(full);
  const auto h = m.hidden;
  const auto hd = h / m.heads;
  const std::string pre = fmt::format("L{}.attn.", block);
  std::vector<int> ids;
  ids.push_back(p.add(compute(Category::kOther, pre + "ln", {work::layer_norm(local, h, t)},
                              {work::layer_norm(local, h, t)})));
  if (c.sp) {
    ids.push_back(p.add(tp_collective(pre, net::CollectiveKind::kAllGather,
                                      static_cast<double>(full * h) * c.elem(), ids.back())));
  }
  const auto qkv_n = (m.heads + 2 * m.kv()) * hd / tp;
  auto qkv = compute(Category::kAttention, pre + "qkv", {work::gemm(full, qkv_n, h, t)},
                     gemm_backward(full, qkv_n, h, t));
  if (c.sp) qkv.deps = {ids.back()};
  ids.push_back(p.add(std::move(qkv)));
  cost::AttentionShape shape{batch, m.heads / tp, m.kv() / tp, seq_q, seq_kv, hd, true};
  ids.push_back(p.add(compute(Category::kAttention, pre + "core", {work::attention(shape, t)},
                              {work::attention_backward(shape, t)})));
  ids.push_back(p.add(compute(Category::kAttention, pre + "out", {work::gemm(full, h, h / tp, t)},
                              gemm_backward(full, h, h / tp, t))));
  if (tp > 1) {
    ids.push_back(p.add(
        tp_collective(pre, c.closing(), static_cast<double>(full * h) * c.elem(), ids.back())));
  }
  auto add = compute(Category::kOther, pre + "residual", {work::elementwise_add(local * h, t)},
                     {work::elementwise_add(local * h, t)});
  if (tp > 1) add.deps = {ids.back()};
  ids.push_back(p.add(std::move(add)));
  return ids;
}

std::vector<int> dense_mlp(Program& p, const LayerContext& c, const std::string& prefix,
                           std::int64_t ffn, std::int64_t tokens, bool tp_comm, int input) {
  constexpr Category kCategory = Category::kDenseMlp;  // dense blocks and shared experts alike
  const auto& m = c.model;
  const auto t = m.dtype;
  const auto tp = c.tp;
  const auto h = m.hidden;
  const auto up = ffn * (m.gated_mlp ? 2 : 1) / tp;
  std::vector<int> ids;
  if (tp_comm && c.sp) {
    ids.push_back(p.add(tp_collective(prefix, net::CollectiveKind::kAllGather,
                                      static_cast<double>(tokens * h) * c.elem(), input)));
  }
  auto fc1 = compute(kCategory, prefix + "fc1", {work::gemm(tokens, up, h, t)},
                     gemm_backward(tokens, up, h, t));
  if (!ids.empty()) fc1.deps = {ids.back()};
  ids.push_back(p.add(std::move(fc1)));
  ids.push_back(
      p.add(compute(kCategory, prefix + "act", {work::activation(tokens * ffn / tp, m.gated_mlp, t)},
                    {work::activation(tokens * ffn / tp, m.gated_mlp, t)})));
  ids.push_back(p.add(compute(kCategory, prefix + "fc2", {work::gemm(tokens, h, ffn / tp, t)},
                              gemm_backward(tokens, h, ffn / tp, t))));
  if (tp_comm && tp > 1) {
    ids.push_back(p.add(
        tp_collective(prefix, c.closing(), static_cast<double>(tokens * h) * c.elem(), ids.back())));
  }
  return ids;
}

void mlp_block(Program& p, const LayerContext& c, int block, std::int64_t full) {
  const auto t = c.model.dtype;
  const auto h = c.model.hidden;
  const auto local = c.local(full);
  const std::string pre = fmt::format("L{}.", block);
  const int ln = p.add(compute(Category::kOther, pre + "mlp.ln", {work::layer_norm(local, h, t)},
                               {work::layer_norm(local, h, t)}));
  const auto mlp = dense_mlp(p, c, pre + "mlp.", c.model.dense_ffn(), full, true, ln);
  auto residual =
      compute(Category::kOther, pre + "mlp.residual", {work::elementwise_add(local * h, t)},
              {work::elementwise_add(local * h, t)});
  residual.deps = {mlp.back()};  // its output may come back through a TP collective
  p.add(std::move(residual));
}

void embedding(Program& p, const LayerContext& c, std::int64_t full) {
  const auto bytes = static_cast<std::int64_t>(
      static_cast<double>(c.local(full) * c.model.hidden) * c.elem());
  p.add(compute(Category::kOther, "embedding", {work::memcpy(bytes)}, {work::memcpy(bytes)}));
}

void head(Program& p, const LayerContext& c, std::int64_t full) {
  const auto t = c.model.dtype;
  const auto h = c.model.hidden;
  const auto local = c.local(full);
  p.add(compute(Category::kOther, "final_ln", {work::layer_norm(local, h, t)},
                {work::layer_norm(local, h, t)}));
  if (c.model.vocab > 0) {
    const auto v = c.model.vocab / c.tp;
    p.add(compute(Category::kOther, "lm_head", {work::gemm(local, v, h, t)},
                  gemm_backward(local, v, h, t)));
  }
}

}  // namespace moesim::model
