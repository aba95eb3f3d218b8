// Serving: the requests a rank serves, the passes at their real shapes, and the metrics from the
// passes' end times, checked by hand and on a simulated study.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/error.hpp"
#include "cost/profile.hpp"
#include "model/serving.hpp"
#include "model/simulate.hpp"
#include "topologies/build.hpp"

namespace moesim::model {
namespace {

using core::Time;

TEST(Serving, AlikeRequestsGiveThePassesOfOneBatch) {
  ModelConfig m;
  m.micro_batch = 4;
  m.seq_len = 100;
  InferenceConfig inference;
  inference.generate = 3;
  const auto requests = requests_of(m, inference);
  ASSERT_EQ(requests.size(), 1u);  // alike: one entry
  EXPECT_EQ(requests[0].count, 4);
  const auto passes = inference_passes(requests);
  ASSERT_EQ(passes.size(), 4u);  // the prefill, then three decode steps
  EXPECT_EQ(passes[0].batch, 4);
  EXPECT_EQ(passes[0].seq_q, 100);
  EXPECT_EQ(passes[0].tokens, 400);
  EXPECT_EQ(passes[0].suffix, "");
  EXPECT_EQ(passes[2].batch, 4);
  EXPECT_EQ(passes[2].seq_q, 1);
  EXPECT_EQ(passes[2].seq_kv, 102);  // the prompt, the prefill's token and one decoded
  EXPECT_EQ(passes[2].suffix, ".decode1");
}

TEST(Serving, DecodeStepsHoldOnlyTheRequestsStillGenerating) {
  const std::vector<Request> requests{{10, 1}, {30, 3}, {20, 0}};
  const auto passes = inference_passes(requests);
  ASSERT_EQ(passes.size(), 4u);
  EXPECT_EQ(passes[0].tokens, 60);
  // Attention at the root mean square prompt: the scores' work of 10^2 + 30^2 + 20^2.
  EXPECT_EQ(passes[0].seq_q, 22);
  EXPECT_EQ(passes[1].batch, 2);    // the third request is done after its prefill
  EXPECT_EQ(passes[1].seq_kv, 21);  // contexts 11 and 31
  EXPECT_EQ(passes[3].batch, 1);    // only the second is left
  EXPECT_EQ(passes[3].seq_kv, 33);
}

TEST(Serving, LengthsAreDrawnWithinTheRangeAndTheSameForASeed) {
  ModelConfig m;
  m.micro_batch = 64;
  InferenceConfig inference;
  inference.prompt = 100;
  inference.generate = 40;
  inference.range_ratio = 0.5;
  const auto a = requests_of(m, inference);
  const auto b = requests_of(m, inference);
  bool differ = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_GE(a[i].prompt, 50);
    EXPECT_LE(a[i].prompt, 150);
    EXPECT_GE(a[i].generate, 20);
    EXPECT_LE(a[i].generate, 60);
    differ = differ || a[i].prompt != a[0].prompt;
  }
  EXPECT_TRUE(differ);
  inference.seed = 2;
  EXPECT_NE(requests_of(m, inference)[0].prompt + requests_of(m, inference)[1].prompt,
            a[0].prompt + a[1].prompt);
}

// Alike requests are one entry whatever their number, and count as many in the metrics.
TEST(Serving, AlikeRequestsCountAsMany) {
  ModelConfig m;
  m.micro_batch = 1'000'000'000;
  InferenceConfig inference;
  inference.generate = 2;
  const auto requests = requests_of(m, inference);
  ASSERT_EQ(requests.size(), 1u);
  const auto passes = inference_passes(requests);
  EXPECT_EQ(passes[0].tokens, 1'000'000'000 * m.seq_len);
  const std::vector<Time> end{Time::us(1), Time::us(2), Time::us(3)};
  const auto metrics = serving_metrics(requests, end, 1);
  EXPECT_EQ(metrics.requests, 1'000'000'000);
  EXPECT_EQ(metrics.e2e_p50, Time::us(3));
  inference.range_ratio = 0.1;  // each drawn: a bound, named
  EXPECT_THROW(requests_of(m, inference), config::ConfigError);
}

TEST(Serving, MetricsFollowFromThePassesEnds) {
  const std::vector<Request> requests{{10, 1}, {30, 3}, {20, 0}};
  const std::vector<Time> end{Time::from_seconds(1.0), Time::from_seconds(1.5),
                              Time::from_seconds(1.7), Time::from_seconds(2.0)};
  const auto m = serving_metrics(requests, end, 2);
  EXPECT_EQ(m.requests, 6);
  EXPECT_EQ(m.ttft, Time::from_seconds(1.0));
  EXPECT_EQ(m.e2e_max, Time::from_seconds(2.0));
  EXPECT_EQ(m.e2e_p50, Time::from_seconds(1.5));
  EXPECT_NEAR(m.e2e_mean.seconds(), (1.0 + 1.5 + 2.0) / 3, 1e-12);
  // Per request: (1.5 - 1) / 1 and (2 - 1) / 3, averaged over the two that decode.
  EXPECT_NEAR(m.tpot_mean.seconds(), (0.5 + 1.0 / 3) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(m.prompt_tokens, 120);
  EXPECT_DOUBLE_EQ(m.output_tokens, 2 * (2 + 4 + 1));
  EXPECT_DOUBLE_EQ(m.prefill_tokens_per_s, 120);
  EXPECT_DOUBLE_EQ(m.decode_tokens_per_s, 2 * 4 / 1.0);
}

// On a simulated study: the first token comes after the prefill, every decode step costs time,
// and fewer tokens per step (the batch draining) make each step no slower.
TEST(Serving, ASimulatedStudyReportsItsServingMetrics) {
  const std::string source = MOESIM_SOURCE_DIR;
  const auto cluster = topo::load_cluster(source + "/topologies/presets/bigmac_4x8_a40_ib100.yaml");
  const cost::CostModel cost(cost::load_profile(source + "/calibrate/profiles/a40.yaml"));
  Study s;
  s.model.layers = 2;
  s.model.hidden = 256;
  s.model.heads = 4;
  s.model.vocab = 1000;
  s.model.seq_len = 128;
  s.model.micro_batch = 4;
  s.model.moe.experts = 8;
  s.parallel.ep = 8;
  s.mode = Mode::kInfer;
  s.inference.generate = 4;
  const auto sim = simulate(s, cluster, cost, {});
  const auto& w = *sim.workload;
  ASSERT_EQ(w.requests.size(), 1u);
  EXPECT_EQ(w.requests[0].count, 4);
  ASSERT_EQ(w.pass_ops.size(), 8u * 5);  // every rank: the prefill and four decode steps
  std::vector<Time> end(5);
  for (const auto& range : w.pass_ops) {
    for (auto op = range.first; op <= range.last; ++op) {
      end[range.pass] = std::max(end[range.pass], sim.timeline.span(op).end);
    }
  }
  const auto m = serving_metrics(w.requests, end, 8);
  EXPECT_GT(m.ttft, Time::zero());
  EXPECT_EQ(m.e2e_max, sim.timeline.end());
  EXPECT_GT(m.tpot_mean, Time::zero());
  EXPECT_LT(m.tpot_mean, m.ttft);  // a step of 4 tokens against a prefill of 512
  for (std::size_t i = 1; i < end.size(); ++i) EXPECT_GT(end[i], end[i - 1]);
}

}  // namespace
}  // namespace moesim::model
