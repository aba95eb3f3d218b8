#include "layers.hpp"

#include <fmt/format.h>

namespace moesim::model {

namespace work = cost::work;
using cost::Dtype;

void Kernels::append(const Kernels& other) {
  forward.insert(forward.end(), other.forward.begin(), other.forward.end());
  backward.insert(backward.end(), other.backward.begin(), other.backward.end());
}

Node tp_collective(const std::string& prefix, net::CollectiveKind kind, double bytes, int after) {
  Node n;
  n.stream = Stream::kTp;
  n.category = Category::kTp;
  n.name = prefix + std::string(net::name(kind));
  n.collective = Collective{kind, Group::kTp, bytes, nullptr};
  if (after >= 0) n.deps = {after};
  return n;
}

std::vector<cost::Work> gemm_backward(std::int64_t m, std::int64_t n, std::int64_t k, Dtype t) {
  return {work::gemm(m, k, n, t), work::gemm(k, n, m, t)};
}

Kernels linear(const LayerContext& c, std::int64_t rows, std::int64_t out, std::int64_t in,
               bool biased) {
  const auto t = c.dtype();
  const auto g = c.model.gemm_type();
  Kernels k;
  if (c.impl.autocast) k.forward.push_back(work::cast(in * out, Dtype::kFp32, t));
  if (g != t) {
    // Transformer Engine quantises the GEMM's input (forward) and the output's gradient
    // (backward) before each FP8 GEMM, each with its transpose for the backward GEMMs (training);
    // the weight's cast is amortised over the step.
    k.forward.push_back(c.training ? work::cast_transpose(rows * in, t, g)
                                   : work::cast(rows * in, t, g));
    k.backward.push_back(work::cast_transpose(rows * out, t, g));
  }
  k.forward.push_back(work::gemm(rows, out, in, g));
  for (const auto& w : gemm_backward(rows, out, in, g)) k.backward.push_back(w);
  if (biased && !c.impl.fusions.bias_gradient)
    k.backward.push_back(work::bias_gradient(rows, out, t));
  return k;
}

Kernels residual_join(const LayerContext& c, std::int64_t rows, bool biased) {
  const auto t = c.dtype();
  const auto r = c.residual_dtype();
  const auto n = rows * c.model.hidden;
  // The add reads the residual (its type) and the branch (the model's), writes the residual.
  auto add = work::elementwise_add(n, r);
  add.bytes =
      static_cast<double>(n) * (2 * cost::bytes_per_element(r) + cost::bytes_per_element(t));
  Kernels k;
  if (c.impl.fusions.bias_dropout_add) {
    if (c.dropout())
      add.bytes +=
          work::bias_dropout_add(n, true, t).bytes - work::bias_dropout_add(n, false, t).bytes;
    k.forward.push_back(add);
  } else {
    if (biased) k.forward.push_back(work::elementwise(n, 1, 1, t));
    if (c.dropout()) k.forward.push_back(work::dropout(n, t));
    k.forward.push_back(add);
  }
  if (c.dropout()) k.backward.push_back(work::dropout_backward(n, t));
  if (biased && !c.impl.fusions.bias_gradient) {
    k.backward.push_back(work::bias_gradient(rows, c.model.hidden, t));
  }
  k.backward.push_back(work::elementwise_add(n, r));  // the fork sums the two gradients
  return k;
}

Kernels layer_norm(const LayerContext& c, std::int64_t rows) {
  const auto h = c.model.hidden;
  const auto r = c.residual_dtype(), t = c.dtype();
  if (r == t) return {{work::layer_norm(rows, h, t)}, {work::layer_norm_backward(rows, h, t)}};
  // An fp32 residual: the norm reads fp32. Fused with the residual add (one kernel), it writes
  // the model's type; eager, it writes fp32 and the GEMM that reads it casts it.
  auto norm = work::layer_norm(rows, h, r);
  auto back = work::layer_norm_backward(rows, h, r);
  Kernels k{{norm}, {back}};
  if (!c.impl.fusions.bias_dropout_add) {
    k.forward.push_back(work::cast(rows * h, r, t));
    k.backward.insert(k.backward.begin(), work::cast(rows * h, t, r));
  } else {
    k.forward.back().bytes -=
        static_cast<double>(rows * h) * (cost::bytes_per_element(r) - cost::bytes_per_element(t));
  }
  return k;
}

namespace {
Node node_of(Category category, std::string name, Kernels k) {
  return compute(category, std::move(name), std::move(k.forward), std::move(k.backward));
}
}  // namespace

std::vector<int> dense_mlp(Program& p, const LayerContext& c, const std::string& prefix,
                           std::int64_t ffn, std::int64_t tokens, bool tp_comm, int input) {
  constexpr Category kCategory = Category::kDenseMlp;  // dense blocks and shared experts alike
  const auto& m = c.model;
  const auto t = c.dtype();
  const auto tp = c.tp;
  const auto h = m.hidden;
  const auto up = ffn * (m.gated_mlp ? 2 : 1) / tp;
  std::vector<int> ids;
  if (tp_comm && c.sp) {
    ids.push_back(p.add(tp_collective(prefix, net::CollectiveKind::kAllGather,
                                      static_cast<double>(tokens * h) * c.elem(), input)));
  }
  auto fc1 = node_of(kCategory, prefix + "fc1", linear(c, tokens, up, h, m.bias));
  if (!ids.empty()) fc1.deps = {ids.back()};
  ids.push_back(p.add(std::move(fc1)));
  // The activation reads fc1's bias too when the two are fused; else the bias is its own pass.
  // Written as several pointwise ops, each is a kernel (and autograd's backward two each).
  const auto elements = tokens * ffn / tp;
  Kernels act;
  if (c.impl.fusions.activation_ops > 1) {
    for (std::int64_t i = 0; i < c.impl.fusions.activation_ops; ++i) {
      act.forward.push_back(work::elementwise(elements, 1, 1, t));
      act.backward.push_back(work::elementwise(elements, 2, 1, t));
      act.backward.push_back(work::elementwise(elements, 2, 1, t));
    }
  } else {
    act = {{work::activation(elements, m.gated_mlp, t)},
           {work::activation_backward(elements, m.gated_mlp, t)}};
  }
  if (m.bias && !c.impl.fusions.bias_activation) {
    act.forward.insert(act.forward.begin(), work::elementwise(tokens * up, 1, 1, t));
  }
  ids.push_back(p.add(node_of(kCategory, prefix + "act", std::move(act))));
  ids.push_back(p.add(node_of(kCategory, prefix + "fc2", linear(c, tokens, h, ffn / tp, false))));
  if (tp_comm && tp > 1) {
    ids.push_back(p.add(tp_collective(prefix, c.closing(),
                                      static_cast<double>(tokens * h) * c.elem(), ids.back())));
  }
  return ids;
}

void mlp_block(Program& p, const LayerContext& c, int block, std::int64_t full) {
  const auto local = c.local(full);
  const std::string pre = fmt::format("L{}.", block);
  const int ln = p.add(node_of(Category::kOther, pre + "mlp.ln", layer_norm(c, local)));
  const auto mlp = dense_mlp(p, c, pre + "mlp.", c.model.dense_ffn(), full, true, ln);
  auto residual =
      node_of(Category::kOther, pre + "mlp.residual", residual_join(c, local, c.model.bias));
  residual.deps = {mlp.back()};  // its output may come back through a TP collective
  p.add(std::move(residual));
}

void embedding(Program& p, const LayerContext& c, std::int64_t full) {
  const auto local = c.local(full);
  const auto bytes =
      static_cast<std::int64_t>(static_cast<double>(local * c.model.hidden) * c.elem());
  Kernels k{{work::memcpy(bytes)}, {work::memcpy(bytes)}};
  if (c.dropout()) {
    k.forward.push_back(work::dropout(local * c.model.hidden, c.dtype()));
    k.backward.insert(k.backward.begin(),
                      work::dropout_backward(local * c.model.hidden, c.dtype()));
  }
  p.add(node_of(Category::kOther, "embedding", std::move(k)));
}

void head(Program& p, const LayerContext& c, std::int64_t full, std::int64_t batch) {
  const auto local = c.local(full);
  p.add(node_of(Category::kOther, "final_ln", layer_norm(c, local)));
  if (c.model.vocab == 0) return;
  const auto v = c.model.vocab / c.tp;
  if (c.training) {
    p.add(node_of(Category::kOther, "lm_head", linear(c, local, v, c.model.hidden, false)));
    const bool fused = c.impl.fusions.cross_entropy;
    p.add(compute(Category::kOther, "loss",
                  {work::cross_entropy(local, v, c.dtype(), fused, false)},
                  {work::cross_entropy(local, v, c.dtype(), fused, true)}));
    return;
  }
  // Serving needs the next token of each sequence only: the last position's logits.
  const auto rows = c.impl.prefill_all_logits ? local : std::min(local, batch);
  p.add(node_of(Category::kOther, "lm_head", linear(c, rows, v, c.model.hidden, false)));
  p.add(compute(Category::kOther, "sampling", {work::sampling(batch, v)}, {}));
}

}  // namespace moesim::model
