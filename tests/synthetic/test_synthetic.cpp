#include <gtest/gtest.h>

#include "core/engine.hpp"
#include "synthetic/synthetic.hpp"

namespace moesim::synthetic {
namespace {

core::Time makespan(const SyntheticConfig& config) {
  auto w = build(config);
  core::DurationRunner runner([&](const core::OpGraph&, core::OpId op) { return w.duration[op]; });
  core::Engine engine(w.graph, runner);
  return engine.run().end();
}

SyntheticConfig even(std::int64_t layers, std::int64_t chunks) {
  SyntheticConfig c;
  c.ranks = 4;
  c.layers = layers;
  c.chunks = chunks;
  c.compute = core::Time::us(100);
  c.exchange = core::Time::us(100);
  c.skew = 0;
  return c;
}

TEST(Synthetic, ShapeOfTheGraph) {
  const auto w = build(even(3, 2));
  EXPECT_EQ(w.graph.op_count(), 4u * 3 * 2 * 2);
  EXPECT_EQ(w.graph.stream_count(), 8u);
  EXPECT_EQ(w.graph.gang_count(), 3u * 2);
  EXPECT_EQ(w.graph.rank_count(), 4u);
}

TEST(Synthetic, WithoutChunksNothingOverlaps) {
  // Each layer: compute, then exchange: layers * (compute + exchange).
  const auto expected = core::Time::us(3 * (100 + 100));
  const auto simulated = makespan(even(3, 1));
  EXPECT_EQ(simulated, expected) << "expected " << expected.microseconds() << " us, simulated "
                                 << simulated.microseconds() << " us";
}

TEST(Synthetic, TwoChunksHideAllButHalfAnExchange) {
  // With compute = exchange = T and 2 chunks the streams alternate and only the last half
  // exchange is exposed: layers * T + T / 2.
  const auto expected = core::Time::us(3 * 100 + 50);
  const auto simulated = makespan(even(3, 2));
  EXPECT_EQ(simulated, expected) << "expected " << expected.microseconds() << " us, simulated "
                                 << simulated.microseconds() << " us";
}

TEST(Synthetic, SkewSlowsTheGangDownToTheSlowestRank) {
  auto skewed = even(3, 1);
  skewed.skew = 0.5;
  EXPECT_GT(makespan(skewed), makespan(even(3, 1)));
  EXPECT_LE(makespan(skewed), core::Time::us(3 * (150 + 100)));
}

TEST(Synthetic, SameSeedSameDurationsOtherSeedOtherDurations) {
  auto a = even(2, 2);
  a.skew = 0.3;
  auto b = a;
  b.seed = 2;
  EXPECT_EQ(build(a).duration, build(a).duration);
  EXPECT_NE(build(a).duration, build(b).duration);
}

}  // namespace
}  // namespace moesim::synthetic
