#pragma once
// The MoE gate: a softmax over each token's expert logits, then its top-k experts, optionally
// group-limited (DeepSeek-V3: the experts split into `groups` equal groups, each scored by the
// sum of its two best probabilities, and only the best `group_limit` groups eligible). The
// chosen probabilities are renormalised to sum to 1. Ties go to the lower expert (and group)
// index. The CPU reference defines the result.
#include <cstdint>
#include <span>
#include <vector>

namespace moesim::kernels {

struct GateShape {
  std::int64_t tokens = 0, experts = 0, k = 1;
  std::int64_t groups = 1;       // equal groups of experts
  std::int64_t group_limit = 0;  // groups a token may pick from; 0: all
};

struct GateResult {
  std::vector<std::int32_t> experts;  // tokens x k, best first
  std::vector<float> weights;         // tokens x k
};

// Throws std::invalid_argument for a shape that does not hold (k > experts, groups not dividing
// the experts, logits of another size, k larger than the experts of the eligible groups).
GateResult gate_topk_cpu(std::span<const float> logits, const GateShape& shape);

// The group scores' rule: the sum of a group's best this many probabilities.
inline constexpr std::int64_t kGroupScoreTop = 2;

}  // namespace moesim::kernels
