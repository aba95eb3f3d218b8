#include "gating.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace moesim::kernels {

namespace {

void check(std::span<const float> logits, const GateShape& s) {
  if (s.tokens < 0 || s.experts < 1 || s.k < 1 || s.k > s.experts) {
    throw std::invalid_argument("gate: need 1 <= k <= experts");
  }
  if (s.groups < 1 || s.experts % s.groups != 0) {
    throw std::invalid_argument("gate: groups must divide the experts");
  }
  const auto limit = s.group_limit > 0 ? std::min(s.group_limit, s.groups) : s.groups;
  if (limit * (s.experts / s.groups) < s.k) {
    throw std::invalid_argument("gate: the eligible groups hold fewer than k experts");
  }
  if (static_cast<std::int64_t>(logits.size()) != s.tokens * s.experts) {
    throw std::invalid_argument("gate: logits are not tokens x experts");
  }
}

// Indices of the `count` largest of `values` among those `eligible`, best first, ties to the
// lower index.
std::vector<std::int64_t> best(std::span<const float> values, std::int64_t count,
                               const std::vector<char>& eligible) {
  std::vector<std::int64_t> order;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(values.size()); ++i) {
    if (eligible[static_cast<std::size_t>(i)]) order.push_back(i);
  }
  std::partial_sort(order.begin(), order.begin() + count, order.end(),
                    [&](std::int64_t a, std::int64_t b) {
                      const auto va = values[static_cast<std::size_t>(a)];
                      const auto vb = values[static_cast<std::size_t>(b)];
                      return va > vb || (va == vb && a < b);
                    });
  order.resize(static_cast<std::size_t>(count));
  return order;
}

}  // namespace

GateResult gate_topk_cpu(std::span<const float> logits, const GateShape& s) {
  check(logits, s);
  GateResult out;
  out.experts.resize(static_cast<std::size_t>(s.tokens * s.k));
  out.weights.resize(out.experts.size());
  const auto per_group = s.experts / s.groups;
  const auto limit = s.group_limit > 0 ? std::min(s.group_limit, s.groups) : s.groups;
  std::vector<float> p(static_cast<std::size_t>(s.experts));
  for (std::int64_t t = 0; t < s.tokens; ++t) {
    const auto row = logits.subspan(static_cast<std::size_t>(t * s.experts),
                                    static_cast<std::size_t>(s.experts));
    const float top = *std::max_element(row.begin(), row.end());
    double sum = 0;
    for (std::int64_t e = 0; e < s.experts; ++e) {
      p[static_cast<std::size_t>(e)] = std::exp(row[static_cast<std::size_t>(e)] - top);
      sum += p[static_cast<std::size_t>(e)];
    }
    for (auto& v : p) v = static_cast<float>(v / sum);
    std::vector<char> eligible(static_cast<std::size_t>(s.experts), 1);
    if (limit < s.groups) {
      std::vector<float> score(static_cast<std::size_t>(s.groups));
      std::vector<char> all_experts(static_cast<std::size_t>(per_group), 1);
      for (std::int64_t g = 0; g < s.groups; ++g) {
        const auto members = std::span<const float>(p).subspan(
            static_cast<std::size_t>(g * per_group), static_cast<std::size_t>(per_group));
        const auto top2 = best(members, std::min(kGroupScoreTop, per_group), all_experts);
        float v = 0;
        for (const auto i : top2) v += members[static_cast<std::size_t>(i)];
        score[static_cast<std::size_t>(g)] = v;
      }
      const auto chosen = best(score, limit, std::vector<char>(score.size(), 1));
      std::fill(eligible.begin(), eligible.end(), 0);
      for (const auto g : chosen) {
        std::fill_n(eligible.begin() + g * per_group, per_group, 1);
      }
    }
    const auto picked = best(p, s.k, eligible);
    double kept = 0;
    for (const auto e : picked) kept += p[static_cast<std::size_t>(e)];
    for (std::int64_t j = 0; j < s.k; ++j) {
      const auto e = picked[static_cast<std::size_t>(j)];
      out.experts[static_cast<std::size_t>(t * s.k + j)] = static_cast<std::int32_t>(e);
      out.weights[static_cast<std::size_t>(t * s.k + j)] =
          static_cast<float>(p[static_cast<std::size_t>(e)] / kept);
    }
  }
  return out;
}

}  // namespace moesim::kernels
