#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "config/document.hpp"
#include "core/error.hpp"
#include "cost/cost_model.hpp"
#include "cost/interpolate.hpp"

namespace moesim::cost {
namespace {

using ::testing::HasSubstr;

// A profile with round numbers: 100 TFLOP/s, 1 TB/s, full efficiency, 5 us launch.
constexpr const char* kRoundProfile = R"(
name: round
provenance: {kind: derived, sources: ["test numbers"]}
compute:
  peak: {bf16: 100 TFLOP/s}
  efficiency: [{size: 1 GFLOP, fraction: 1}]
memory:
  bandwidth: 1 TB/s
  efficiency: [{size: 1 MB, fraction: 1}]
launch_overhead: 5 us
)";

CostModel round_model(const std::string& extra = "") {
  return CostModel(read_profile(
      config::Document::from_string(std::string(kRoundProfile) + extra, "round.yaml")));
}

TEST(Interpolate, ReproducesPointsExactlyAndIsMonotoneBetween) {
  const std::vector<std::pair<double, double>> pts{{1, 2e-6}, {8, 3e-6}, {64, 40e-6}, {512, 41e-6}};
  for (const auto& [x, y] : pts) EXPECT_EQ(interpolate_log_log(pts, x), y);
  double previous = 0;
  for (double x = 1; x <= 512; x *= 1.01) {
    const auto y = interpolate_log_log(pts, x);
    ASSERT_TRUE(y.has_value());
    EXPECT_GE(*y, previous) << "at x = " << x;
    previous = *y;
  }
  EXPECT_FALSE(interpolate_log_log(pts, 0.5).has_value()) << "no extrapolation";
  EXPECT_FALSE(interpolate_log_log(pts, 600).has_value());
  // Halfway in log space between 8 and 64 is the geometric mean of 3 and 40 us.
  EXPECT_NEAR(*interpolate_log_log(pts, std::sqrt(8.0 * 64.0)), std::sqrt(3e-6 * 40e-6), 1e-12);
}

TEST(Interpolate, EfficiencyCurveIsLinearInLogSizeAndClamped) {
  const std::vector<std::pair<double, double>> pts{{1e9, 0.2}, {1e11, 0.8}};
  EXPECT_DOUBLE_EQ(interpolate_log_x(pts, 1e10), 0.5);
  EXPECT_DOUBLE_EQ(interpolate_log_x(pts, 1e6), 0.2);
  EXPECT_DOUBLE_EQ(interpolate_log_x(pts, 1e14), 0.8);
}

TEST(CostModel, ComputeBoundCorner) {
  // 8192^3: 1.0995 TFLOP -> 10.995 ms at 100 TFLOP/s; bytes 402.7 MB -> 0.40 ms.
  const auto e = round_model().estimate(work::gemm(8192, 8192, 8192, Dtype::kBf16));
  const double expected = 2.0 * 8192 * 8192 * 8192 / 100e12 + 5e-6;
  EXPECT_EQ(e.rule, Rule::kComputeBound);
  EXPECT_NEAR(e.time.seconds(), expected, 1e-12) << "expected " << expected * 1e6 << " us";
}

TEST(CostModel, SmallMGemmIsMemoryBound) {
  // m = 16 tokens against an 8192 x 8192 weight: 2.1 GFLOP (21 us) but 134.7 MB (135 us).
  const auto e = round_model().estimate(work::gemm(16, 8192, 8192, Dtype::kBf16));
  const double bytes = (16.0 * 8192 + 8192.0 * 8192 + 16.0 * 8192) * 2;
  EXPECT_EQ(e.rule, Rule::kMemoryBound);
  EXPECT_NEAR(e.time.seconds(), bytes / 1e12 + 5e-6, 1e-12);
}

TEST(CostModel, TinyKernelIsLaunchBound) {
  const auto e = round_model().estimate(work::elementwise_add(1000, Dtype::kBf16));
  EXPECT_EQ(e.rule, Rule::kLaunchBound);
  EXPECT_NEAR(e.time.seconds(), 5e-6 + 6000 / 1e12, 1e-12);
}

TEST(CostModel, ShippedProfilesPutTheCrossoverNearPeakOverBandwidth) {
  // hardware.md §4.2: M* = peak / HBM bandwidth, ~295 tokens per expert on H100. With the
  // efficiency curves the crossover moves but stays within a factor of two.
  const CostModel h100(load_profile(MOESIM_SOURCE_DIR "/calibrate/profiles/h100_sxm.yaml"));
  EXPECT_EQ(h100.estimate(work::gemm(64, 7168, 7168, Dtype::kBf16)).rule, Rule::kMemoryBound);
  EXPECT_EQ(h100.estimate(work::gemm(150, 7168, 7168, Dtype::kBf16)).rule, Rule::kMemoryBound);
  EXPECT_EQ(h100.estimate(work::gemm(600, 7168, 7168, Dtype::kBf16)).rule, Rule::kComputeBound);
  EXPECT_EQ(h100.estimate(work::gemm(8192, 7168, 7168, Dtype::kBf16)).rule, Rule::kComputeBound);
}

TEST(CostModel, MeasuredTablesWinAndInterpolate) {
  const auto model = round_model(R"(
tables:
  gemm:
    - {m: 64, n: 4096, k: 4096, dtype: bf16, time: 20 us}
    - {m: 256, n: 4096, k: 4096, dtype: bf16, time: 40 us}
  memory:
    - {bytes: 1 MiB, time: 8 us}
    - {bytes: 16 MiB, time: 30 us}
)");
  const auto exact = model.estimate(work::gemm(256, 4096, 4096, Dtype::kBf16));
  EXPECT_EQ(exact.rule, Rule::kTable);
  EXPECT_EQ(exact.time, core::Time::us(40));
  const auto between = model.estimate(work::gemm(128, 4096, 4096, Dtype::kBf16));
  EXPECT_EQ(between.rule, Rule::kTableInterpolated);
  EXPECT_NEAR(between.time.microseconds(), std::sqrt(20.0 * 40.0), 1e-6) << "log-log midpoint";
  const auto outside = model.estimate(work::gemm(1024, 4096, 4096, Dtype::kBf16));
  EXPECT_EQ(outside.rule, Rule::kComputeBound) << "outside the table: roofline";
  const auto other_shape = model.estimate(work::gemm(128, 1024, 4096, Dtype::kBf16));
  EXPECT_NE(other_shape.rule, Rule::kTableInterpolated);
  const auto grouped = model.estimate(
      work::grouped_gemm(std::vector<std::int64_t>{64, 0, 256}, 4096, 4096, Dtype::kBf16));
  EXPECT_EQ(grouped.time, core::Time::us(60)) << "sum of the experts' table times";
  // Permute of 2048 rows x 256 bf16 values moves 2 MiB + 8 KiB of indices.
  const auto permute = model.estimate(work::permute(2048, 256, Dtype::kBf16));
  EXPECT_EQ(permute.rule, Rule::kTableInterpolated);
  EXPECT_GT(permute.time, core::Time::us(8));
  EXPECT_LT(permute.time, core::Time::us(30));
}

TEST(CostModel, MissingDtypePeakIsAClearError) {
  try {
    round_model().estimate(work::gemm(128, 128, 128, Dtype::kFp8));
    FAIL() << "expected an error";
  } catch (const moesim::Error& e) {
    EXPECT_THAT(std::string(e.what()),
                HasSubstr("profile 'round' has no fp8 peak, which a gemm op needs"));
  }
  // Memory-bound kinds do not need that dtype's peak.
  EXPECT_EQ(round_model().estimate(work::permute(16384, 4096, Dtype::kFp8)).rule,
            Rule::kMemoryBound);
}

TEST(CostModel, RuleIsExplainedInTheDetail) {
  const auto e = round_model().estimate(work::gemm(16, 8192, 8192, Dtype::kBf16));
  EXPECT_THAT(e.detail, HasSubstr("roofline-memory"));
  EXPECT_THAT(e.detail, HasSubstr("+ launch 5 us"));
}

TEST(Work, FormulasOfTheOpKinds) {
  EXPECT_DOUBLE_EQ(work::gemm(2, 3, 4, Dtype::kBf16).flops, 48);
  EXPECT_DOUBLE_EQ(work::gemm(2, 3, 4, Dtype::kBf16).bytes, (8 + 12 + 6) * 2);
  const AttentionShape s{1, 2, 2, 8, 8, 4, false};
  EXPECT_DOUBLE_EQ(work::attention(s, Dtype::kBf16).flops, 4.0 * 2 * 8 * 8 * 4);
  auto causal = s;
  causal.causal = true;
  EXPECT_DOUBLE_EQ(work::attention(causal, Dtype::kBf16).flops, 2.0 * 2 * 8 * 8 * 4);
  EXPECT_DOUBLE_EQ(work::attention_backward(s, Dtype::kBf16).flops, 2.5 * 4.0 * 2 * 8 * 8 * 4);
  const AttentionShape decode{1, 32, 8, 1, 4096, 128, true};  // GQA, one new token
  const auto d = work::attention(decode, Dtype::kBf16);
  EXPECT_DOUBLE_EQ(d.bytes, (2.0 * 32 * 128 + 2.0 * 8 * 4096 * 128) * 2) << "reads the KV cache";
  EXPECT_DOUBLE_EQ(work::elementwise_add(10, Dtype::kFp32).bytes, 120);
  EXPECT_DOUBLE_EQ(work::optimizer_step(1000, Dtype::kBf16).bytes, 28000);
  EXPECT_DOUBLE_EQ(work::memcpy(100).bytes, 200);
  EXPECT_DOUBLE_EQ(work::lsh_hash(10, 8, 6, false, Dtype::kBf16).flops, 2.0 * 10 * 8 * 6 * 8);
}

}  // namespace
}  // namespace moesim::cost
