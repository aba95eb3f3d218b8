#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
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
  // 128 rows, one 128-row tile deep (at 150 the second tile is mostly padding: tile
  // quantisation makes that GEMM compute-bound).
  EXPECT_EQ(h100.estimate(work::gemm(128, 7168, 7168, Dtype::kBf16)).rule, Rule::kMemoryBound);
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

namespace moesim::cost {
namespace {

TEST(CostModel, GemmShapeFactorIsTileAndWaveQuantisationAgainstASquare) {
  auto profile = round_model().profile();
  profile.compute.tiling = GemmTiling{108, 128, 128};
  const CostModel tiled(profile);
  // A square GEMM is what the efficiency curve describes: factor 1.
  EXPECT_DOUBLE_EQ(tiled.shape_factor(work::gemm(1024, 1024, 1024, Dtype::kBf16)), 1.0);
  // 64 tokens of an expert, 64 x 512 x 256: 4 tiles of 128 x 128, a quarter of each useful,
  // in one wave of 108, and K too short to split (256 deep at least): u = 64 x 512 / (108 x
  // 128 x 128). The square of the same 2^24 FLOPs has a side of 2^(23/3) = 203, 2 x 2 tiles,
  // one wave: u = side^2 / (108 x 128 x 128). The ratio is 2^15 / 2^(46/3) = 2^(-1/3).
  const auto skinny = work::gemm(64, 512, 256, Dtype::kBf16);
  EXPECT_NEAR(tiled.shape_factor(skinny), std::pow(2.0, -1.0 / 3), 1e-12);
  // With a K of 2048 the 4 tiles split K 8 ways (32 slices of 256): the SMs fill as well as the
  // square's 16 unsplit tiles do.
  EXPECT_DOUBLE_EQ(tiled.shape_factor(work::gemm(64, 512, 2048, Dtype::kBf16)), 1.0);
  // A wave tail: 109 row tiles x 1 column tile of a 13,952 x 128 x 4,096 GEMM need 2 waves of
  // 108: u = 109 / 216. Its square (side s = cbrt(13,952 x 128 x 4,096)) has ceil(s/128)^2 tiles
  // in ceil(tiles/108) waves.
  const double side = std::cbrt(13952.0 * 128 * 4096);
  const double square_tiles = std::pow(std::ceil(side / 128), 2);
  const double square_u = side * side / (std::ceil(square_tiles / 108) * 108 * 128 * 128);
  EXPECT_NEAR(tiled.shape_factor(work::gemm(13952, 128, 4096, Dtype::kBf16)),
              109.0 / 216 / square_u, 1e-12);
  // 8 experts of 64 rows in one grouped kernel, K 256: 8 x 4 = 32 tiles, one wave, useful area
  // 8 x 64 x 512 = 2^18; its square (2^27 FLOPs, side 2^(26/3) = 406) has 4 x 4 tiles in one
  // wave: the ratio is 2^18 / 2^(52/3) = 2^(2/3), capped at 1 (better than the square).
  const std::vector<std::int64_t> eight(8, 64);
  EXPECT_DOUBLE_EQ(tiled.shape_factor(work::grouped_gemm(eight, 512, 256, Dtype::kBf16)), 1.0);
  // Compute is priced at the curve's efficiency times the factor.
  EXPECT_NEAR(
      tiled.estimate(skinny).time.seconds(),
      std::max(skinny.flops / (100e12 * std::pow(2.0, -1.0 / 3)), skinny.bytes / 1e12) + 5e-6,
      1e-12);
  // No tiling in the profile: the FLOPs alone.
  EXPECT_EQ(round_model().shape_factor(skinny), 1.0);
}

}  // namespace
}  // namespace moesim::cost

namespace moesim::cost {
namespace {

// A measured series: TFLOP/s at 1k, 4k and 16k tokens.
FlashSeries flash_series(int version, FlashPass pass, bool causal, std::int64_t head_dim,
                         std::vector<double> tflops) {
  return FlashSeries{version, pass, causal, head_dim, {1024, 4096, 16384}, std::move(tflops)};
}

// Fused attention runs at what its FlashAttention generation was measured at, as a fraction of
// the peak it was measured against; a version the GPU lacks falls back to the newest older one.
TEST(CostModel, FusedAttentionRunsAtItsGenerationsMeasuredThroughput) {
  auto profile = round_model().profile();  // 100 TFLOP/s, curve 1 everywhere
  profile.compute.flash =
      FlashTable{config::FlopRate{200e12},
                 {flash_series(1, FlashPass::kForwardBackward, false, 128, {40, 50, 60}),
                  flash_series(2, FlashPass::kForwardBackward, false, 128, {80, 100, 120})}};
  const CostModel model(profile);
  AttentionShape shape{8, 16, 16, 4096, 4096, 128, false, 2};
  const auto w = work::attention(shape, Dtype::kBf16);
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(w), 0.5);  // 100 of 200
  shape.flash_version = 3;                            // no FlashAttention-3 measured: the second
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(work::attention(shape, Dtype::kBf16)), 0.5);
  shape.flash_version = 1;
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(work::attention_backward(shape, Dtype::kBf16)), 0.25);
  // 2k is halfway between 1k and 4k in log(seq): (40 + 50) / 2 of 200.
  shape.seq_q = shape.seq_kv = 2048;
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(work::attention(shape, Dtype::kBf16)), 0.225);
  // 4 b h s^2 d FLOPs at half of this GPU's 100 TFLOP/s (+ 5 us launch).
  EXPECT_NEAR(model.estimate(w).time.seconds(), w.flops / (100e12 * 0.5) + 5e-6, 1e-12);
  // GEMMs keep the curve.
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(work::gemm(4096, 4096, 4096, Dtype::kBf16)), 1.0);
}

// The passes and masks a table lacks are derived from those it has.
TEST(FlashTable, DerivesMissingPassesMasksAndHeadWidths) {
  const FlashTable t{config::FlopRate{100e12},
                     {flash_series(2, FlashPass::kForwardBackward, false, 64, {35, 35, 35}),
                      flash_series(2, FlashPass::kForward, false, 64, {50, 50, 50}),
                      flash_series(2, FlashPass::kForward, true, 64, {40, 40, 40}),
                      flash_series(2, FlashPass::kForward, false, 128, {70, 70, 70})}};
  // Backward from both: 3.5 / 35 = 1 / 50 + 2.5 / b, so b = 2.5 / (0.1 - 0.02) = 31.25.
  EXPECT_NEAR(*t.fraction(2, FlashPass::kBackward, false, 64, 4096), 0.3125, 1e-12);
  // A causal backward: the non-causal one times the forward's 40 / 50.
  EXPECT_NEAR(*t.fraction(2, FlashPass::kBackward, true, 64, 4096), 0.3125 * 0.8, 1e-12);
  // Head width 96 lies halfway between the forward's 64 and 128: 60.
  EXPECT_NEAR(*t.fraction(2, FlashPass::kForward, false, 96, 4096), 0.6, 1e-12);
  // Beyond the measured widths and lengths: the nearest.
  EXPECT_NEAR(*t.fraction(2, FlashPass::kForward, false, 256, 65536), 0.7, 1e-12);
  EXPECT_FALSE(t.fraction(1, FlashPass::kForward, false, 64, 4096)) << "no generation 1 or older";
}

TEST(CostModel, Fp8GemmsReachTheirOwnFractionOfTheirPeak) {
  auto profile = round_model().profile();
  profile.compute.peak.fp8 = config::FlopRate{200e12};
  profile.compute.dtype_efficiency.fp8 = 0.883;
  const CostModel model(profile);
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(work::gemm(4096, 4096, 4096, Dtype::kFp8)), 0.883);
  EXPECT_DOUBLE_EQ(model.kernel_efficiency(work::gemm(4096, 4096, 4096, Dtype::kBf16)), 1.0);
}

// A pipeline of 3 stages fills with 2 K-steps of 64: a K of 256 (4 steps) computes 4 of 6.
TEST(CostModel, AShortKCannotAmortiseThePipelineFill) {
  auto profile = round_model().profile();
  profile.compute.tiling = GemmTiling{108, 128, 128, 256, 3};
  const CostModel model(profile);
  // 108 x 1 tiles of 128 x 128 fill one wave exactly (u = 1) with a K of 256: 4 / 6. Its square
  // (side s = cbrt(13,824 x 128 x 256)) fills ceil(s/128)^2 tiles over its own waves, with a
  // K of s: ceil(s/64) / (ceil(s/64) + 2).
  const double side = std::cbrt(13824.0 * 128 * 256);
  const double tiles = std::pow(std::ceil(side / 128), 2);
  const double square = side * side / (std::ceil(tiles / 108) * 108 * 128 * 128) *
                        std::ceil(side / 64) / (std::ceil(side / 64) + 2);
  EXPECT_NEAR(model.shape_factor(work::gemm(13824, 128, 256, Dtype::kBf16)),
              std::min(1.0, (4.0 / 6) / square), 1e-12);
}

}  // namespace
}  // namespace moesim::cost
