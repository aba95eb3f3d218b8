// `moesim fidelity`: the metrics it derives from a simulation, the FLOP formula it credits
// sources with, and the cases it refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/fidelity_command.hpp"
#include "cli/study.hpp"
#include "config/error.hpp"

namespace moesim::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// GPT3-1.3B of the FlashAttention repository's table: 24 layers, hidden 2048, 2048 tokens,
// vocabulary 50,264.
model::ModelConfig gpt3_1p3b() {
  model::ModelConfig m;
  m.layers = 24;
  m.hidden = 2048;
  m.heads = 16;
  m.seq_len = 2048;
  m.vocab = 50264;
  return m;
}

TEST(FidelityFormula, MegatronCountsRecomputationAndModelFlopsDoNot) {
  // 96 B s l h^2 = 96 * 8 * 2048 * 24 * 2048^2 = 158,329,674,399,744; times
  // (1 + s/6h + V/16lh) = 1 + 1/6 + 50264/786432.
  const double base = 158329674399744.0;
  const double factor = 1 + 1.0 / 6 + 50264.0 / 786432;
  EXPECT_NEAR(formula_flops(FlopsFormula::kMegatron, gpt3_1p3b(), 8), base * factor, 1e3);
  EXPECT_NEAR(formula_flops(FlopsFormula::kMegatronModel, gpt3_1p3b(), 8), 0.75 * base * factor,
              1e3);
  EXPECT_EQ(formula_flops(FlopsFormula::kNone, gpt3_1p3b(), 8), 0);
}

ExperimentConfig train_case(FidelityMetric metric) {
  ExperimentConfig e;
  e.model = gpt3_1p3b();
  e.model.micro_batch = 4;
  e.model.global_batch = 64;
  e.parallel.ep = 1;
  e.parallel.dp = 8;
  e.fidelity = FidelityConfig{};
  e.fidelity->metric = metric;
  return e;
}

report::PointResult took(double seconds) {
  report::PointResult r;
  r.breakdown.makespan = core::Time::from_seconds(seconds);
  return r;
}

TEST(FidelityMetric, EachMetricFromOneIterationOfTwoSeconds) {
  const auto r = took(2.0);
  EXPECT_DOUBLE_EQ(predicted_metric(train_case(FidelityMetric::kIterationMs), r), 2000);
  // 64 sequences of 2048 tokens in 2 s over 8 GPUs.
  EXPECT_DOUBLE_EQ(predicted_metric(train_case(FidelityMetric::kTokensPerSecondGpu), r),
                   64.0 * 2048 / 2 / 8);
  EXPECT_DOUBLE_EQ(predicted_metric(train_case(FidelityMetric::kSamplesPerSecond), r), 32);
  auto tflops = train_case(FidelityMetric::kTflopsPerGpu);
  tflops.fidelity->flops = FlopsFormula::kMegatronModel;
  EXPECT_DOUBLE_EQ(predicted_metric(tflops, r),
                   formula_flops(FlopsFormula::kMegatronModel, tflops.model, 64) / 2 / 8 / 1e12);
}

TEST(FidelityMetric, WithoutAGlobalBatchAnIterationIsOneMicroBatchPerRank) {
  auto e = train_case(FidelityMetric::kSamplesPerSecond);
  e.model.global_batch = 0;
  EXPECT_DOUBLE_EQ(predicted_metric(e, took(1.0)), 4 * 8);
}

class FidelityCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    work_ = fs::temp_directory_path() / (std::string("moesim_fidelity_") + info->name());
    fs::remove_all(work_);
    fs::create_directories(work_ / "suite");
  }
  void TearDown() override { fs::remove_all(work_); }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(work_ / "suite" / name) << text;
    return work_ / "suite" / name;
  }
  FidelityOptions options() const {
    FidelityOptions o;
    o.paths = {(work_ / "suite").string()};
    o.out = (work_ / "out").string();
    o.progress = false;
    return o;
  }
  fs::path work_;
};

// A small dense model on one 8-GPU node; `extra` is appended to the file.
std::string small_case(const std::string& fidelity) {
  return "name: small\ncluster: dgx_h100_rail_ib400\ncluster_set: [nodes=1]\nprofile: h100_sxm\n"
         "model: {name: small, layers: 2, hidden: 1024, heads: 8, vocab: 32000, seq_len: 1024,\n"
         "        micro_batch: 2, moe: {experts: 0}}\n"
         "parallel: {tp: 1, ep: 1, dp: 8}\n" +
         fidelity;
}

TEST_F(FidelityCommand, PrintsEachCaseAndTheSuiteMedianAndWritesTheCsv) {
  write("a.yaml", small_case("fidelity: {source: \"https://example.org/a table\", metric: "
                             "iteration_ms, published: 1000, bound: compute}\n"));
  write("b.yaml", small_case("fidelity: {source: \"https://example.org/b\", metric: "
                             "samples_per_s, published: 10}\n"));
  std::ostringstream out, err;
  fidelity(options(), out, err);
  EXPECT_THAT(out.str(), HasSubstr("suite/a"));
  EXPECT_THAT(out.str(), HasSubstr("suite/b"));
  EXPECT_THAT(out.str(), HasSubstr("suite: median |error|"));
  EXPECT_THAT(out.str(), HasSubstr("over 2 cases from 2 sources"));
  std::ifstream csv(work_ / "out" / "fidelity.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "suite,case,metric,published,predicted,error_pct,bound,source");
  std::string row;
  std::getline(csv, row);
  EXPECT_THAT(row, ::testing::StartsWith("suite,a,iteration_ms,1000,"));
}

TEST_F(FidelityCommand, AMedianAboveTheLimitFailsTheRunAfterReporting) {
  // A 2-block model cannot take 1000 s: the error is close to -100%.
  write("a.yaml", small_case("fidelity: {source: x, metric: iteration_ms, published: 1e6}\n"));
  auto o = options();
  o.max_median_error = 15;
  std::ostringstream out, err;
  EXPECT_THROW(
      {
        try {
          fidelity(o, out, err);
        } catch (const std::exception& e) {
          EXPECT_THAT(e.what(), HasSubstr("median |error| above 15.0%: suite"));
          throw;
        }
      },
      std::exception);
  EXPECT_TRUE(fs::exists(work_ / "out" / "fidelity.csv")) << "the table is written first";
}

struct BadCase {
  std::string text, message;
  friend void PrintTo(const BadCase& c, std::ostream* os) { *os << c.message; }
};

class FidelityRejects : public FidelityCommand, public ::testing::WithParamInterface<BadCase> {};

TEST_P(FidelityRejects, NamesTheFileAndTheKey) {
  const auto file = write("bad.yaml", GetParam().text);
  std::ostringstream out, err;
  try {
    fidelity(options(), out, err);
    FAIL() << "accepted: " << GetParam().text;
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.yaml"));
    EXPECT_THAT(e.what(), HasSubstr(GetParam().message));
  }
  EXPECT_FALSE(fs::exists(work_ / "out")) << "nothing is written for a rejected suite";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FidelityRejects,
    ::testing::Values(
        BadCase{small_case(""), "a fidelity case needs its published measurement"},
        BadCase{small_case("fidelity: {metric: iteration_ms, published: 5}\n"), "source"},
        BadCase{small_case("fidelity: {source: x, metric: iteration_ms, published: 0}\n"),
                "published"},
        BadCase{small_case("fidelity: {source: x, metric: first_token_ms, published: 5}\n"),
                "first_token_ms needs mode: infer"},
        BadCase{small_case("fidelity: {source: x, metric: tflops_per_gpu, published: 5}\n"),
                "tflops_per_gpu needs the source's formula"},
        BadCase{small_case("fidelity: {source: x, metric: hours, published: 5}\n"),
                "fidelity.metric"},
        BadCase{small_case("fidelity: {source: x, metric: busbw_gbps, published: 5}\n"),
                "need a collective"},
        BadCase{small_case("collective: {op: all_reduce, size: 1 MiB}\n"
                           "fidelity: {source: x, metric: iteration_ms, published: 5}\n"),
                "a collective is measured in time_us, algbw_gbps or busbw_gbps"},
        BadCase{small_case("dispatch: {tokens: 128}\n"
                           "fidelity: {source: x, metric: dispatch_gbps, published: 5}\n"
                           "collective: {op: all_reduce, size: 1 MiB}\n"),
                "a collective or a dispatch, not both"}));

// A collective case is nccl-tests' number for one size: busbw = size / time x 2(n-1)/n for an
// all-reduce; a dispatch case counts the bytes DeepEP's tests count.
TEST_F(FidelityCommand, CollectiveAndDispatchCasesPredictTheirBenchmarksNumbers) {
  ExperimentConfig e;
  e.cluster = "nodes/dgx_h100";
  e.fidelity = FidelityConfig{};
  e.fidelity->metric = FidelityMetric::kBusbwGbps;
  e.collective = CollectiveCase{};
  e.collective->size = config::Bytes{std::int64_t{1} << 30};
  const auto cluster = load_cluster_of(e, ".");
  const auto played = play_collective(cluster, {}, *e.collective, "flow", {});
  EXPECT_DOUBLE_EQ(network_metric(e, cluster),
                   std::pow(2.0, 30) / played.seconds / 1e9 * 2 * 7 / 8);
  EXPECT_EQ(played.algorithm, "nvls/Simple");
  e.fidelity->metric = FidelityMetric::kTimeUs;
  EXPECT_DOUBLE_EQ(network_metric(e, cluster), played.seconds * 1e6);

  // One node of 8 GPUs, 64 experts (8 each), top-2, 1024 tokens a rank in bf16 rows of 128:
  // a token reaches a rank with 1 - (1 - 2/64)^8, and rank 0 receives that of every rank's.
  ExperimentConfig d;
  d.cluster = "nodes/dgx_h100";
  d.fidelity = FidelityConfig{};
  d.fidelity->metric = FidelityMetric::kDispatchGbps;
  d.dispatch = DispatchCase{1024, 128, 2, 64, 0, model::DispatchMode::kPerRank};
  const auto dispatched = play_dispatch(cluster, *d.dispatch);
  const double reach = 1 - std::pow(1 - 2.0 / 64, 8);
  EXPECT_NEAR(dispatched.counted_bytes, 8 * 1024 * reach * 128 * 2, 1e-6);
  EXPECT_DOUBLE_EQ(network_metric(d, cluster), dispatched.counted_bytes / dispatched.seconds / 1e9);
}

TEST_F(FidelityCommand, AMissingPathIsNamed) {
  auto o = options();
  o.paths = {(work_ / "nowhere").string()};
  std::ostringstream out, err;
  try {
    fidelity(o, out, err);
    FAIL();
  } catch (const config::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nowhere: no such file or folder"));
  }
}

}  // namespace
}  // namespace moesim::cli
