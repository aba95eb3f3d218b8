#include "parameters.hpp"

#include <algorithm>

namespace moesim::model {

BlockParameters Parameters::block(std::int64_t b) const {
  const auto tp = parallel_.tp;
  const auto h = model_.hidden;
  const auto hd = model_.hd();
  const std::int64_t mlp_gemms = model_.gated_mlp ? 3 : 2;
  BlockParameters p;
  p.dense = static_cast<double>(h * (model_.heads + 2 * model_.kv()) * hd / tp +
                                model_.heads * hd * h / tp);
  if (model_.is_moe_block(b)) {
    const auto E = model_.moe.experts;
    p.dense += static_cast<double>(shape_.paths * h * E);
    p.dense +=
        static_cast<double>(shape_.shared_experts * mlp_gemms * h * model_.shared_ffn() / tp);
    if (shape_.projections) p.dense += static_cast<double>(2 * h * shape_.width);
    p.expert =
        static_cast<double>(E / parallel_.ep * mlp_gemms * shape_.width * shape_.expert_inner / tp);
  } else {
    p.dense += static_cast<double>(mlp_gemms * h * model_.dense_ffn() / tp);
  }
  if (b == 0) p.dense += embedding();
  return p;
}

Footprint footprint(const ModelConfig& model, const MoeShape& shape) {
  ParallelConfig whole;
  whole.tp = 1;
  whole.ep = 1;
  whole.dp = 1;
  const Parameters parameters(model, whole, shape);
  const std::int64_t mlp_gemms = model.gated_mlp ? 3 : 2;
  const double per_expert = static_cast<double>(mlp_gemms * shape.width * shape.expert_inner);
  Footprint f;
  f.routed = shape.k * shape.paths;
  f.shared = shape.shared_experts;
  f.exchanged = static_cast<double>(shape.width) / static_cast<double>(model.hidden);
  f.computed_rows = shape.rows_factor();
  for (std::int64_t b = 0; b < model.layers; ++b) {
    const auto [dense, expert] = parameters.block(b);
    f.parameters += dense + expert;
    f.active += dense;
    if (model.is_moe_block(b)) {
      f.active += static_cast<double>(std::min(f.routed, model.moe.experts)) * per_expert;
    }
  }
  return f;
}

}  // namespace moesim::model
