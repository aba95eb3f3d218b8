#include "parameters.hpp"

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

}  // namespace moesim::model
