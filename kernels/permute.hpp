#pragma once
// Grouping token rows by expert and back. The plan says, for every (token, choice), which slot
// of the expert-grouped buffer holds its row: experts one after another, each with its tokens in
// token order. With a capacity, every expert gets exactly `capacity` slots: tokens beyond it are
// dropped (slot -1) and unused slots are padding (gather index -1, rows of zeros). The rows are
// then moved with gather_rows (gather_rows.hpp), and the experts' outputs are combined back, each
// token the weighted sum of its k rows (a dropped choice adds nothing). The CPU references define
// the results.
#include <cstdint>
#include <span>
#include <vector>

namespace moesim::kernels {

struct PermutePlan {
  std::vector<std::int32_t> slot;    // tokens x k: slot of each choice's row, or -1 if dropped
  std::vector<std::int32_t> source;  // by slot: the token whose row fills it, or -1 (padding)
  std::vector<std::int64_t> count;   // by expert: rows kept
};

// `experts_of`: tokens x k expert indices (gate_topk_cpu's). `capacity` 0: dropless (no padding).
// Throws std::invalid_argument for an index outside [0, experts).
PermutePlan permute_plan_cpu(std::span<const std::int32_t> experts_of, std::int64_t tokens,
                             std::int64_t k, std::int64_t experts, std::int64_t capacity);

// rows[plan.slot] x weight summed per token: `expert_rows` holds one row of `width` floats per
// slot; writes tokens x width into `out`.
void combine_cpu(std::span<const float> expert_rows, std::int64_t width, const PermutePlan& plan,
                 std::span<const float> weights, std::int64_t k, std::span<float> out);

}  // namespace moesim::kernels
