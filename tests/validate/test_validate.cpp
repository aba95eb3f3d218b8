#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend.hpp"
#include "comm.hpp"
#include "core/error.hpp"
#include "cost/work.hpp"
#include "validate/comparison.hpp"
#include "validate/lsh_rate.hpp"
#include "validate/replay.hpp"

namespace moesim::validate {
namespace {

namespace fs = std::filesystem;
using model::Category;

fs::path temp_file(const std::string& name, const std::string& text) {
  const auto path = fs::temp_directory_path() / ("moesim_test_validate_" + name);
  std::ofstream(path) << text;
  return path;
}

std::vector<PhaseRow> known_rows() {
  return {{"s", "attention", 10.0, 11.0},   // +10%
          {"s", "expert_ffn", 10.0, 8.0},   // -20%
          {"s", "dp", std::nullopt, 3.0},   // not replayed
          {"t", "attention", 4.0, 4.6},     // +15%
          {"s", kTotalPhase, 100.0, 95.0},  // -5%
          {"t", kTotalPhase, 50.0, 56.0}};  // +12%
}

TEST(Comparison, ErrorIsPredictedAgainstMeasured) {
  const auto rows = known_rows();
  EXPECT_NEAR(*error_percent(rows[0]), 10.0, 1e-9);
  EXPECT_NEAR(*error_percent(rows[1]), -20.0, 1e-9);
  EXPECT_FALSE(error_percent(rows[2]).has_value());
  EXPECT_FALSE(error_percent({"s", "x", 0.0, 1.0}).has_value());
}

TEST(Comparison, SummarisesPhasesAndTotalsApart) {
  const auto s = summarise(known_rows());
  EXPECT_EQ(s.phases, 3u);
  EXPECT_NEAR(*s.median_phase_abs_percent, 15.0, 1e-9);
  EXPECT_NEAR(*s.worst_phase_abs_percent, 20.0, 1e-9);
  EXPECT_EQ(s.worst_phase, "s/expert_ffn");
  EXPECT_EQ(s.totals, 2u);
  EXPECT_NEAR(*s.median_total_abs_percent, 8.5, 1e-9);
}

TEST(Comparison, CsvRoundTripsAndMarksWhatWasNotReplayed) {
  const auto rows = known_rows();
  const auto text = validation_csv(rows);
  EXPECT_NE(text.find("s,dp,,3.000000,\n"), std::string::npos) << text;
  const auto back = read_validation_csv(temp_file("roundtrip.csv", text));
  ASSERT_EQ(back.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(back[i].schedule, rows[i].schedule);
    EXPECT_EQ(back[i].phase, rows[i].phase);
    EXPECT_EQ(back[i].measured_ms.has_value(), rows[i].measured_ms.has_value());
    if (rows[i].measured_ms) {
      EXPECT_NEAR(*back[i].measured_ms, *rows[i].measured_ms, 1e-6);
    }
    EXPECT_NEAR(back[i].predicted_ms, rows[i].predicted_ms, 1e-6);
  }
}

TEST(Comparison, ReadsARecordedRunAndAgreesWithItsErrors) {
  const fs::path path = MOESIM_SOURCE_DIR "/tests/validate/data/host_2ranks_validation.csv";
  const auto rows = read_validation_csv(path);
  ASSERT_FALSE(rows.empty());
  // The error column the run wrote is what error_percent recomputes from its two times.
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::size_t i = 0, totals = 0;
  while (std::getline(in, line)) {
    const auto cut = line.rfind(',');
    const auto written = line.substr(cut + 1);
    const auto e = error_percent(rows[i]);
    ASSERT_EQ(written.empty(), !e.has_value()) << line;
    if (e) {
      EXPECT_NEAR(*e, std::stod(written), 0.01) << line;
    }
    if (rows[i].phase == kTotalPhase) ++totals;
    ++i;
  }
  EXPECT_EQ(i, rows.size());
  EXPECT_EQ(totals, 4u);  // cdac, dcca, lsh, scmoe
  const auto s = summarise(rows);
  EXPECT_EQ(s.totals, 4u);
  EXPECT_TRUE(s.median_phase_abs_percent.has_value());
  const auto md = report_markdown({}, rows);
  EXPECT_NE(md.find("| scmoe | total |"), std::string::npos);
}

TEST(Comparison, RefusesAFileWithoutItsColumnsOrWithABadNumber) {
  const auto missing = temp_file("missing.csv", "schedule,phase,measured_ms\ns,a,1\n");
  EXPECT_THROW(read_validation_csv(missing), Error);
  const auto bad =
      temp_file("bad.csv", "schedule,phase,measured_ms,predicted_ms,error_pct\ns,a,1,x2,\n");
  try {
    read_validation_csv(bad);
    FAIL() << "a bad number was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("predicted_ms 'x2'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(bad.string() + ":2"), std::string::npos) << e.what();
  }
}

// compute(A) -> all-to-all(B) -> compute(C); D: an all-gather on the tp stream after A.
model::Program small_program() {
  model::Program p;
  const auto gemm = cost::work::gemm(8, 16, 32, cost::Dtype::kFp32);
  p.add(model::compute(Category::kAttention, "A", {gemm}, {gemm, gemm}));
  model::Node b;
  b.stream = model::Stream::kEp;
  b.category = Category::kA2aDispatch;
  b.name = "B";
  auto m = std::make_shared<model::TrafficMatrix>();
  m->n = 2;
  m->bytes = {0, 100, 300, 0};
  b.collective = model::Collective{net::CollectiveKind::kAllToAll, model::Group::kEp, 0, m};
  b.deps = {0};
  p.add(std::move(b));
  auto c = model::compute(Category::kExpertFfn, "C", {gemm}, {gemm});
  c.deps = {1};
  p.add(std::move(c));
  model::Node d;
  d.stream = model::Stream::kTp;
  d.category = Category::kTp;
  d.name = "D";
  d.collective = model::Collective{net::CollectiveKind::kAllGather, model::Group::kTp, 64, {}};
  d.deps = {0};
  p.add(std::move(d));
  return p;
}

TEST(Steps, ForwardKeepsIssueOrderLanesAndDependencies) {
  const auto steps = steps_of(small_program(), false);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].lane, 0);
  EXPECT_EQ(steps[1].lane, 1);
  EXPECT_EQ(steps[1].deps, std::vector<int>{0});
  EXPECT_EQ(steps[2].deps, std::vector<int>{1});
  EXPECT_EQ(steps[0].kernels.size(), 1u);
}

TEST(Steps, BackwardMirrorsTheProgram) {
  const auto steps = steps_of(small_program(), true);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].name, "D.backward");
  EXPECT_EQ(steps[0].collective->kind, net::CollectiveKind::kReduceScatter);
  EXPECT_EQ(steps[1].name, "C.backward");
  EXPECT_EQ(steps[2].name, "B.backward");
  EXPECT_EQ(steps[2].collective->matrix->at(0, 1), 300);  // transposed
  EXPECT_EQ(steps[2].collective->matrix->at(1, 0), 100);
  EXPECT_EQ(steps[2].deps, std::vector<int>{1});  // the exchange waits for C's backward
  EXPECT_EQ(steps[3].name, "A.backward");
  EXPECT_EQ(steps[3].kernels.size(), 2u);
  // A's backward waits for both mirrored collectives (D and B) that followed A forward.
  auto deps = steps[3].deps;
  std::sort(deps.begin(), deps.end());
  EXPECT_EQ(deps, (std::vector<int>{0, 2}));
}

TEST(Replayer, RunsAProgramOnTheHostAndTimesEveryStep) {
  auto backend = kernels::make_host_backend();
  auto comm = kernels::make_communicator(*backend);
  ASSERT_EQ(comm->info().size, 1);
  Replayer replayer(*backend, *comm, [](model::Group g) {
    return g == model::Group::kEp ? std::vector<int>{0, 1} : std::vector<int>{0};
  });
  EXPECT_TRUE(replayer.local_exchanges());
  auto steps = steps_of(small_program(), false);
  auto backward = steps_of(small_program(), true);
  steps.insert(steps.end(), backward.begin(), backward.end());
  // A memory-bound kernel, the MoE kernels (gating, permute, LSH) and attention run as well.
  steps[2].kernels.push_back(cost::work::layer_norm(64, 128, cost::Dtype::kBf16));
  steps[2].kernels.push_back(cost::work::gating(64, 8, 2, cost::Dtype::kBf16));
  steps[2].kernels.push_back(cost::work::permute(128, 32, cost::Dtype::kBf16));
  steps[2].kernels.push_back(cost::work::lsh_hash(128, 32, 2, false, cost::Dtype::kBf16));
  cost::AttentionShape a{1, 2, 2, 16, 16, 8, true, 0};
  steps[0].kernels.push_back(cost::work::attention(a, cost::Dtype::kBf16));
  steps[0].kernels.push_back(cost::work::attention_backward(a, cost::Dtype::kBf16));
  const auto t = replayer.run(steps);
  ASSERT_EQ(t.step_seconds.size(), steps.size());
  double longest = 0;
  for (const auto s : t.step_seconds) {
    EXPECT_GE(s, 0);
    longest = std::max(longest, s);
  }
  EXPECT_GT(t.step_seconds[0], 0);
  EXPECT_GE(t.whole_seconds, longest);
}

TEST(LshRate, IdenticalRowsShareOneBucketAndRandomRowsDoNot) {
  auto backend = kernels::make_host_backend();
  const std::int64_t width = 32, rows = 64;
  std::vector<float> same(static_cast<std::size_t>(rows * width));
  for (std::size_t i = 0; i < same.size(); ++i) same[i] = static_cast<float>(i % width) - 10.5f;
  const auto one = measure_lsh_rate(*backend, same, 0, width, 4, 7);
  EXPECT_EQ(one.rows, rows);
  EXPECT_EQ(one.buckets, 1);
  const auto random = measure_lsh_rate(*backend, {}, rows, width, 4, 7);
  EXPECT_EQ(random.rows, rows);
  EXPECT_GT(random.rate(), 0.9);
  EXPECT_THROW(measure_lsh_rate(*backend, std::vector<float>(33), 0, width, 4, 7),
               std::invalid_argument);
}

TEST(Backends, HostLanesAreCheckedAndMarksAreOrdered) {
  auto backend = kernels::make_host_backend();
  EXPECT_THROW(backend->use_lane(kernels::Backend::kLanes), std::invalid_argument);
  backend->use_lane(1);
  const int a = backend->mark();
  backend->nothing();
  const int b = backend->mark();
  EXPECT_GE(backend->seconds_between(a, b), 0);
  backend->clear_marks();
  EXPECT_EQ(backend->mark(), 0);
}

}  // namespace
}  // namespace moesim::validate
