#include "permute.hpp"

#include <algorithm>
#include <stdexcept>

namespace moesim::kernels {

PermutePlan permute_plan_cpu(std::span<const std::int32_t> experts_of, std::int64_t tokens,
                             std::int64_t k, std::int64_t experts, std::int64_t capacity) {
  if (static_cast<std::int64_t>(experts_of.size()) != tokens * k) {
    throw std::invalid_argument("permute: expert indices are not tokens x k");
  }
  PermutePlan plan;
  plan.count.assign(static_cast<std::size_t>(experts), 0);
  std::vector<std::int64_t> wanted(static_cast<std::size_t>(experts), 0);
  for (const auto e : experts_of) {
    if (e < 0 || e >= experts) throw std::invalid_argument("permute: expert index out of range");
    ++wanted[static_cast<std::size_t>(e)];
  }
  // Each expert's first slot.
  std::vector<std::int64_t> start(static_cast<std::size_t>(experts), 0);
  std::int64_t slots = 0;
  for (std::int64_t e = 0; e < experts; ++e) {
    start[static_cast<std::size_t>(e)] = slots;
    slots += capacity > 0 ? capacity : wanted[static_cast<std::size_t>(e)];
  }
  plan.source.assign(static_cast<std::size_t>(slots), -1);
  plan.slot.assign(experts_of.size(), -1);
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t j = 0; j < k; ++j) {
      const auto e = static_cast<std::size_t>(experts_of[static_cast<std::size_t>(t * k + j)]);
      if (capacity > 0 && plan.count[e] >= capacity) continue;  // dropped
      const auto s = start[e] + plan.count[e]++;
      plan.slot[static_cast<std::size_t>(t * k + j)] = static_cast<std::int32_t>(s);
      plan.source[static_cast<std::size_t>(s)] = static_cast<std::int32_t>(t);
    }
  }
  return plan;
}

void combine_cpu(std::span<const float> expert_rows, std::int64_t width, const PermutePlan& plan,
                 std::span<const float> weights, std::int64_t k, std::span<float> out) {
  const auto tokens = static_cast<std::int64_t>(plan.slot.size()) / k;
  if (static_cast<std::int64_t>(out.size()) != tokens * width ||
      static_cast<std::int64_t>(expert_rows.size()) !=
          static_cast<std::int64_t>(plan.source.size()) * width ||
      weights.size() != plan.slot.size()) {
    throw std::invalid_argument("combine: sizes do not match the plan");
  }
  std::fill(out.begin(), out.end(), 0.0f);
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t j = 0; j < k; ++j) {
      const auto s = plan.slot[static_cast<std::size_t>(t * k + j)];
      if (s < 0) continue;
      const float w = weights[static_cast<std::size_t>(t * k + j)];
      for (std::int64_t c = 0; c < width; ++c) {
        out[static_cast<std::size_t>(t * width + c)] +=
            w * expert_rows[static_cast<std::size_t>(s * width + c)];
      }
    }
  }
}

}  // namespace moesim::kernels
