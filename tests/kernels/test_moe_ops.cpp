// The CPU references against hand computations: they define what every backend computes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "dense.hpp"
#include "gating.hpp"
#include "lsh.hpp"
#include "permute.hpp"

namespace moesim::kernels {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;

TEST(Gate, TopKOfTheSoftmaxRenormalised) {
  // One token over 4 experts, logits log(1), log(2), log(3), log(4): probabilities 0.1 .. 0.4.
  const std::vector<float> logits{0.0f, std::log(2.0f), std::log(3.0f), std::log(4.0f)};
  const auto r = gate_topk_cpu(logits, {1, 4, 2});
  EXPECT_THAT(r.experts, ElementsAre(3, 2));
  EXPECT_THAT(r.weights, ElementsAre(FloatNear(4.0f / 7, 1e-6f), FloatNear(3.0f / 7, 1e-6f)));
}

TEST(Gate, GroupLimitedPicksTheBestGroupsFirst) {
  // 6 experts in 3 groups of 2, probabilities (x 1/21): 1 2 | 6 0 | 5 7. Group scores (sum of
  // the best two): 3, 6, 12; with one group allowed only {4, 5} are eligible, with two {2..5}.
  std::vector<float> logits;
  for (const float p : {1.0f, 2.0f, 6.0f, 1e-9f, 5.0f, 7.0f}) logits.push_back(std::log(p));
  EXPECT_THAT(gate_topk_cpu(logits, {1, 6, 2, 3, 1}).experts, ElementsAre(5, 4));
  EXPECT_THAT(gate_topk_cpu(logits, {1, 6, 2, 3, 2}).experts, ElementsAre(5, 2));
  EXPECT_THAT(gate_topk_cpu(logits, {1, 6, 2, 3, 0}).experts, ElementsAre(5, 2));
  EXPECT_THROW(gate_topk_cpu(logits, {1, 6, 3, 3, 1}), std::invalid_argument);  // 2 < k
  EXPECT_THROW(gate_topk_cpu(logits, {1, 6, 2, 4, 1}),
               std::invalid_argument);  // 4 does not divide 6
}

TEST(Permute, GroupsRowsByExpertPadsAndDropsAtTheCapacity) {
  // 3 tokens, top-2 over 3 experts: (0,1) (0,2) (0,1).
  const std::vector<std::int32_t> experts{0, 1, 0, 2, 0, 1};
  const auto dropless = permute_plan_cpu(experts, 3, 2, 3, 0);
  EXPECT_THAT(dropless.count, ElementsAre(3, 2, 1));
  EXPECT_THAT(dropless.source, ElementsAre(0, 1, 2, 0, 2, 1));
  EXPECT_THAT(dropless.slot, ElementsAre(0, 3, 1, 5, 2, 4));
  // Capacity 2: expert 0 drops token 2's row, expert 2 has a padding slot.
  const auto capped = permute_plan_cpu(experts, 3, 2, 3, 2);
  EXPECT_THAT(capped.count, ElementsAre(2, 2, 1));
  EXPECT_THAT(capped.source, ElementsAre(0, 1, 0, 2, 1, -1));
  EXPECT_THAT(capped.slot, ElementsAre(0, 2, 1, 4, -1, 3));
  // Combine: each token the weighted sum of its rows (width 1, row value = 10 x slot).
  std::vector<float> rows{0, 10, 20, 30, 40, 50}, out(3);
  combine_cpu(rows, 1, capped, std::vector<float>{0.5f, 0.5f, 0.25f, 0.75f, 1, 1}, 2, out);
  EXPECT_THAT(out, ElementsAre(FloatNear(10, 1e-6f), FloatNear(32.5f, 1e-6f),
                               FloatNear(30, 1e-6f)));  // token 2 lost its first row
}

TEST(Lsh, CodesBucketsCentroidsAndCompensation) {
  // 3 tokens, 2 hashes of 2 dims each.
  const std::vector<float> projected{1,    -3, 2, 1,  // token 0: hash 0 -> dim 1 negative: 3;
                                     -2,   1,  0, 5,  //          hash 1 -> dim 0 positive: 0
                                     0.5f, -3, 4, 1};
  const auto codes = cross_polytope_codes_cpu(projected, 3, 2, 2);
  EXPECT_THAT(codes, ElementsAre(3, 0, 1, 2, 3, 0));
  const auto buckets = buckets_cpu(codes, 3, 2);
  EXPECT_EQ(buckets.count, 2);
  EXPECT_THAT(buckets.id, ElementsAre(0, 1, 0));
  const std::vector<float> rows{1, 2, 5, 5, 3, 6};  // width 2
  const auto c = centroids_cpu(rows, 2, buckets);
  EXPECT_THAT(c, ElementsAre(2, 4, 5, 5));
  const auto r = residuals_cpu(rows, 2, buckets, c);
  EXPECT_THAT(r, ElementsAre(-1, -2, 0, 0, 1, 2));
  // An identity expert gives back the rows exactly.
  EXPECT_EQ(compensate_cpu(c, 2, buckets, r), rows);
}

TEST(Dense, GemmSoftmaxNormGeluAndAttention) {
  std::vector<float> c(4);
  gemm_cpu(2, 2, 3, std::vector<float>{1, 2, 3, 4, 5, 6}, std::vector<float>{1, 0, 0, 1, 1, 1}, c);
  EXPECT_THAT(c, ElementsAre(4, 5, 10, 11));
  std::vector<float> s{0, 0, 0, 0};  // a 2 x 2 causal block
  softmax_rows_cpu(s, 2, 2, true);
  EXPECT_THAT(s, ElementsAre(1, 0, 0.5f, 0.5f));
  std::vector<float> norm(2);
  layer_norm_cpu(std::vector<float>{1, 3}, 1, 2, norm);
  EXPECT_THAT(norm, ElementsAre(FloatNear(-1, 1e-5f), FloatNear(1, 1e-5f)));
  std::vector<float> g(2);
  gelu_cpu(std::vector<float>{0, 10}, g);
  EXPECT_THAT(g, ElementsAre(0, FloatNear(10, 1e-5f)));
  // One head, two positions, causal: the first attends to itself, the second to the mean.
  const std::vector<float> q{0, 0}, k{0, 0}, v{2, 4};
  std::vector<float> o(2);
  attention_cpu(q, k, v, 1, 1, 2, 1, true, o);
  EXPECT_THAT(o, ElementsAre(FloatNear(2, 1e-6f), FloatNear(3, 1e-6f)));
}

}  // namespace
}  // namespace moesim::kernels
