// The calibration harness's plain-CPU parts: statistics, the fits (on recorded sweeps and on
// sweeps generated from a known profile), the network overlay, the outputs, and the harness
// itself on the host backend (every op checked; a corrupted op caught).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "calibrate/collectives.hpp"
#include "calibrate/fit.hpp"
#include "calibrate/harness.hpp"
#include "calibrate/network_fit.hpp"
#include "calibrate/ops.hpp"
#include "calibrate/outputs.hpp"
#include "comm.hpp"
#include "config/document.hpp"
#include "config/writer.hpp"
#include "core/error.hpp"
#include "cost/cost_model.hpp"
#include "topologies/build.hpp"

namespace moesim::calibrate {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

const fs::path kData = fs::path(MOESIM_SOURCE_DIR) / "tests/calibrate/data";

std::vector<Measurement> only(const std::vector<Measurement>& all, const std::string& op) {
  std::vector<Measurement> out;
  for (const auto& m : all) {
    if (m.op == op) out.push_back(m);
  }
  return out;
}

TEST(Summarise, MedianAndNearestRankPercentiles) {
  const auto t = summarise({5, 1, 4, 2, 3, 10, 6, 7, 9, 8});
  EXPECT_DOUBLE_EQ(t.median, 5.5);
  EXPECT_DOUBLE_EQ(t.p10, 1);
  EXPECT_DOUBLE_EQ(t.p90, 9);
  EXPECT_DOUBLE_EQ(t.min, 1);
  EXPECT_EQ(t.reps, 10);
  EXPECT_DOUBLE_EQ(summarise({3, 1, 2}).median, 2);
  EXPECT_THROW(summarise({}), std::invalid_argument);
}

TEST(BinnedMonotone, MediansPerBinThenPoolsViolators) {
  // Bins of factor 4: [1,4) holds 1 and 2 (median 0.3), [4,16) holds 5 (0.6), [16,64) holds 20
  // (0.4), [64, 256) holds 100 (0.9). 0.6 then 0.4 violate: pooled to their mean, 0.5.
  const auto c = binned_monotone({{1, 0.2}, {2, 0.4}, {5, 0.6}, {20, 0.4}, {100, 0.9}}, 4);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_NEAR(c[0].first, std::sqrt(2.0), 1e-12);  // geometric mean of the bin's sizes
  EXPECT_NEAR(c[0].second, 0.3, 1e-12);
  EXPECT_NEAR(c[1].second, 0.5, 1e-12);
  EXPECT_NEAR(c[2].second, 0.5, 1e-12);
  EXPECT_NEAR(c[3].second, 0.9, 1e-12);
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_GT(c[i].first, c[i - 1].first);
  EXPECT_THROW(binned_monotone({{0, 1}}, 4), Error);
}

TEST(MonotoneEnvelope, EachSizeTakesTheLeastTimeAtItOrAbove) {
  const auto e = monotone_envelope({{4, 3.0}, {1, 2.0}, {2, 5.0}, {8, 7.0}});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0], std::make_pair(1.0, 2.0));
  EXPECT_EQ(e[1], std::make_pair(2.0, 3.0));  // 5 at size 2, but size 4 took 3
  EXPECT_EQ(e[2], std::make_pair(4.0, 3.0));
  EXPECT_EQ(e[3], std::make_pair(8.0, 7.0));
}

TEST(CalibrationCsv, RoundTripsAndNamesTheFileOnError) {
  const auto recorded = read_csv(kData / "host_quick_2ranks.csv");
  ASSERT_GT(recorded.size(), 50u);
  std::ostringstream text;
  write_csv(recorded, text);
  const auto path = fs::path(testing::TempDir()) / "round_trip.csv";
  std::ofstream(path) << text.str();
  const auto again = read_csv(path);
  ASSERT_EQ(again.size(), recorded.size());
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].op, recorded[i].op);
    EXPECT_EQ(again[i].m, recorded[i].m);
    EXPECT_NEAR(again[i].time.median, recorded[i].time.median, 1e-6 * recorded[i].time.median);
  }
  const auto bad = fs::path(testing::TempDir()) / "bad.csv";
  std::ofstream(bad) << "op,dtype,m\ngemm,bf16,1\n";
  try {
    read_csv(bad);
    FAIL() << "a file without the columns was read";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("bad.csv"));
  }
}

// A real host run, fitted: the profile reads back as a profile, its tables give every measured
// GEMM and copy exactly, and its peaks are the best rates measured.
TEST(FitProfile, RecordedHostRunGivesAProfileThatReproducesItsTables) {
  const auto recorded = read_csv(kData / "host_quick_2ranks.csv");
  FitInputs in;
  in.name = "host test";
  in.provenance.device = "host";
  in.provenance.driver = in.provenance.cuda = "none";
  in.provenance.date = "2026-12-05";
  in.provenance.command = "moesim calibrate --device host --quick";
  const auto fit = fit_profile(recorded, in);
  const auto text = config::to_yaml(fit.profile, "test", config::ListStyle::kCompactLists);
  const auto back = cost::read_profile(config::Document::from_string(text, "profile.yaml"));
  EXPECT_EQ(back.provenance.kind, cost::ProvenanceKind::kMeasured);
  EXPECT_EQ(back.tables.gemm.size(), fit.profile.tables.gemm.size());
  ASSERT_FALSE(back.tables.gemm.empty());
  ASSERT_FALSE(back.tables.memory.empty());

  double best_bf16 = 0;
  const double launch = fit.profile.launch_overhead.seconds();
  for (const auto& m : only(recorded, "gemm")) {
    if (m.dtype == "bf16") best_bf16 = std::max(best_bf16, m.flops / (m.time.median - launch));
  }
  EXPECT_NEAR(back.compute.peak.bf16->flops_per_second, best_bf16, 1e-3 * best_bf16);
  for (std::size_t i = 1; i < back.compute.efficiency.size(); ++i) {
    EXPECT_GE(back.compute.efficiency[i].fraction, back.compute.efficiency[i - 1].fraction);
  }
  for (const auto& e : back.compute.efficiency) EXPECT_LE(e.fraction, 1.0);

  // With the tables, a measured point is priced at its envelope: at most what was measured, and
  // exactly that where the series is already monotone; the copies' series is.
  for (const auto& r : fit.residuals) {
    if (r.measured.op != "gemm" && r.measured.op != "copy") continue;
    ASSERT_TRUE(r.with_tables_s) << describe(r.measured);
    EXPECT_LE(*r.with_tables_s, r.measured.time.median * (1 + 1e-6)) << describe(r.measured);
  }
  int exact = 0, gemms = 0;
  for (const auto& r : fit.residuals) {
    if (r.measured.op != "gemm") continue;
    ++gemms;
    exact += std::abs(*r.with_tables_s - r.measured.time.median) <=
             1e-12 + 1e-6 * r.measured.time.median;
  }
  EXPECT_GT(exact, gemms / 2);
  // Ops the cost model has no kernel for are not priced.
  for (const auto& r : fit.residuals) {
    if (r.measured.op == "h2d") {
      EXPECT_FALSE(r.with_tables_s);
    }
  }
}

// A sweep generated by a known profile (the shipped H100's curves and tiling, no tables) is
// fitted back: the fitted curves price the same GEMMs and copies within a few percent.
TEST(FitProfile, RecoversTheCurvesOfAKnownProfile) {
  const cost::CostModel truth(
      cost::load_profile(MOESIM_SOURCE_DIR "/calibrate/profiles/h100_sxm.yaml"));
  std::vector<Measurement> sweep;
  const auto add = [&](Measurement m, const cost::Work& w) {
    const double t = truth.estimate(w).time.seconds();
    m.time = {t, t, t, t, 1};
    sweep.push_back(m);
  };
  Measurement launch;
  launch.op = "launch";
  add(launch, cost::Work{cost::OpKind::kElementwise, cost::Dtype::kFp32, 0, 0, {}, {}, {}, {}});
  for (std::int64_t bytes = 4096; bytes <= (std::int64_t{1} << 30); bytes *= 2) {
    Measurement m;
    m.op = "copy";
    m.bytes = 2.0 * static_cast<double>(bytes);
    add(m, cost::work::memcpy(bytes));
  }
  for (const auto& [n, k] : {std::pair<std::int64_t, std::int64_t>{4096, 4096},
                             {14336, 4096},
                             {4096, 14336},
                             {1024, 8192}}) {
    for (std::int64_t m = 1; m <= 65536; m *= 2) {
      Measurement g;
      g.op = "gemm";
      g.dtype = "bf16";
      g.m = m;
      g.n = n;
      g.k = k;
      g.flops = 2.0 * static_cast<double>(m * n * k);
      add(g, cost::work::gemm(m, n, k, cost::Dtype::kBf16));
    }
  }
  FitInputs in;
  in.name = "round trip";
  in.sms = 132;
  in.provenance.device = in.provenance.driver = in.provenance.cuda = "generated";
  in.provenance.date = "2026-12-05";
  in.provenance.command = "test";
  const auto fit = fit_profile(sweep, in);
  std::vector<double> errors;
  for (const auto& r : fit.residuals) {
    if (r.measured.op != "gemm" || r.measured.m < 256) continue;  // compute-bound ones
    errors.push_back(std::abs(*r.curves_only_s / r.measured.time.median - 1));
  }
  std::sort(errors.begin(), errors.end());
  EXPECT_LT(errors[errors.size() / 2], 0.05);
  // One curve per dtype is shared by every shape: where two shapes of equal FLOPs quantise to
  // different tile counts (m = 256..1024 here) the curve alone is up to ~30% off; the measured
  // tables the profile also carries are what predict uses for those shapes.
  EXPECT_LT(errors.back(), 0.35);
  double worst_copy = 0;
  for (const auto& r : fit.residuals) {
    if (r.measured.op == "copy") {
      worst_copy = std::max(worst_copy, std::abs(*r.curves_only_s / r.measured.time.median - 1));
    }
  }
  EXPECT_LT(worst_copy, 0.25);
  // The best rate measured is the peak: the shipped curve's top (80.3% of 989 TFLOP/s) or,
  // for a tile-friendly shape, at most the datasheet's.
  const double peak = fit.profile.compute.peak.bf16->flops_per_second;
  EXPECT_GT(peak, 0.75 * 989e12);
  EXPECT_LE(peak, 989e12 * 1.001);
  EXPECT_EQ(fit.profile.compute.tiling->sms, 132);
}

// Published FP8 GEMMs: the peak is the best of them, and the curve goes through each square
// shape (one per bin) within the pooling.
TEST(FitCompute, PublishedH100Fp8Gemms) {
  const auto gemms = only(read_csv(kData / "azure_nd_h100_v5.csv"), "gemm");
  ASSERT_EQ(gemms.size(), 9u);
  const auto compute = fit_compute(gemms, 0, 0);
  ASSERT_TRUE(compute.peak.fp8);
  EXPECT_NEAR(compute.peak.fp8->flops_per_second, 1382.2e12, 0.001 * 1382.2e12);
  EXPECT_FALSE(compute.peak.bf16);
  ASSERT_FALSE(compute.efficiency.empty());
  EXPECT_NEAR(compute.efficiency.front().fraction, 274.1 / 1382.2, 0.001);
  EXPECT_NEAR(compute.efficiency.back().fraction, 1.0, 0.001);
}

// Published all-reduce sweep: the line's bandwidth is the large sizes' busbw and its latency
// the small sizes' time; the overlay reads into a cluster and sets the NVLink rate to it.
TEST(FitNetwork, PublishedH100AllReduceSweep) {
  const auto measurements = read_csv(kData / "azure_nd_h100_v5.csv");
  const auto fit = fit_network(measurements);
  ASSERT_EQ(fit.links.size(), 1u);
  const auto& l = fit.links.front();
  EXPECT_EQ(l.link, "nvlink");
  EXPECT_EQ(l.ranks, 8);
  EXPECT_EQ(l.basis, "all_reduce");
  EXPECT_EQ(l.points, 24);
  EXPECT_GT(l.bandwidth_Bps, 0.9 * 478.87e9);
  EXPECT_LT(l.bandwidth_Bps, 1.1 * 478.87e9);
  const double smallest = 1024 * 1.75 / 0.07e9;  // 1 KiB at 0.07 GB/s busbw
  EXPECT_GT(l.latency_s, 0.8 * smallest);
  EXPECT_LT(l.latency_s, 1.3 * smallest);
  EXPECT_EQ(fit.residuals.size(), 24u);

  const auto dir = fs::path(testing::TempDir()) / "overlay";
  fs::create_directories(dir);
  std::ofstream(dir / "network.yaml") << overlay_yaml(fit, "test overlay");
  std::ofstream(dir / "cluster.yaml") << "base: [" << MOESIM_SOURCE_DIR
                                      << "/topologies/presets/nodes/dgx_h100.yaml, network.yaml]\n";
  const auto cluster = topo::load_cluster((dir / "cluster.yaml").string());
  int nvlinks = 0;
  for (const auto& link : cluster.links()) {
    if (link.kind != topo::LinkKind::kNvlink) continue;
    ++nvlinks;
    EXPECT_NEAR(link.capacity(), l.bandwidth_Bps, 1e-3 * l.bandwidth_Bps);
    EXPECT_NEAR(link.latency.seconds(), l.per_traversal_latency_s, 1e-3 * l.latency_s);
  }
  EXPECT_GT(nvlinks, 0);
}

TEST(FitNetwork, AnExactLineIsRecoveredAndANegativeInterceptClamped) {
  std::vector<Measurement> sweep;
  for (double bytes = 1024; bytes <= 1 << 26; bytes *= 4) {
    Measurement m;
    m.op = "send_recv";
    m.bytes = bytes;
    m.ranks = 2;
    m.link = "network";
    const double t = 5e-6 + bytes / 40e9;
    m.time = {t, t, t, t, 1};
    sweep.push_back(m);
  }
  auto fit = fit_network(sweep);
  ASSERT_EQ(fit.links.size(), 1u);
  EXPECT_NEAR(fit.links[0].latency_s, 5e-6, 1e-12);
  EXPECT_NEAR(fit.links[0].bandwidth_Bps, 40e9, 1e-3);
  EXPECT_LT(fit.links[0].max_abs_error, 1e-9);
  // Times growing faster than the bytes: the best line crosses zero above zero bytes.
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    sweep[i].bytes = 1e6 * static_cast<double>(i + 1);
    sweep[i].time.median = 1e-6 * static_cast<double>((i + 1) * (i + 1));
  }
  fit = fit_network(sweep);
  EXPECT_EQ(fit.links[0].latency_s, 0);
  EXPECT_TRUE(fit_network({}).links.empty());
}

TEST(BusFactor, AsNcclTestsCountsIt) {
  EXPECT_DOUBLE_EQ(bus_factor("all_reduce", 8), 1.75);
  EXPECT_DOUBLE_EQ(bus_factor("all_gather", 4), 0.75);
  EXPECT_DOUBLE_EQ(bus_factor("all_to_all", 2), 0.5);
  EXPECT_DOUBLE_EQ(bus_factor("send_recv", 16), 1);
  EXPECT_THROW(bus_factor("broadcast", 2), std::invalid_argument);
}

ModelShapes tiny() {
  ModelShapes s;
  s.model = "tiny";
  s.gemms = {{64, 32, "up"}, {32, 64, "down"}};
  s.hidden = 32;
  s.ffn_hidden = 64;
  s.heads = 2;
  s.head_dim = 16;
  s.seq_len = 128;
  s.tokens = 256;
  s.experts = 16;
  s.top_k = 2;
  s.groups = 4;
  s.group_limit = 2;
  s.lsh_hashes = 2;
  return s;
}

// Every op of the table runs on the host and agrees with its reference.
TEST(Harness, EveryOpRunsAndIsRightOnTheHost) {
  auto backend = kernels::make_host_backend();
  auto comm = kernels::make_communicator(*backend);
  const auto plan = make_plan(tiny(), {true, true, kernels::Launch::kStream}, *backend);
  const auto result = run_harness(*backend, *comm, plan, "pcie", nullptr);
  EXPECT_EQ(result.ops.size(), op_table().size());
  for (const auto& entry : op_table()) {
    const auto mine = only(result.measurements, std::string(entry.name));
    EXPECT_FALSE(mine.empty()) << entry.name;
    for (const auto& m : mine) {
      EXPECT_EQ(m.wrong, 0) << describe(m);
      EXPECT_GT(m.time.median, 0) << describe(m);
      EXPECT_GE(m.time.reps, kMinReps) << describe(m);
      if (m.op != "launch" && m.op != "h2d") {
        EXPECT_GT(m.checked, 0) << describe(m);
      }
    }
  }
}

// A backend whose GEMM is off by one element: the harness's check finds it.
class OffByOneGemm final : public kernels::Backend {
 public:
  explicit OffByOneGemm(std::unique_ptr<kernels::Backend> inner) : inner_(std::move(inner)) {}
  const kernels::DeviceInfo& info() const override { return inner_->info(); }
  bool supports(kernels::Precision p) const override { return inner_->supports(p); }
  std::size_t element_bytes(kernels::Precision p) const override {
    return inner_->element_bytes(p);
  }
  std::unique_ptr<kernels::Buffer> alloc(std::size_t b) override { return inner_->alloc(b); }
  void upload(kernels::Buffer& to, std::span<const float> v, kernels::Precision p) override {
    inner_->upload(to, v, p);
  }
  void upload_ints(kernels::Buffer& to, std::span<const std::int32_t> v) override {
    inner_->upload_ints(to, v);
  }
  std::vector<float> download(const kernels::Buffer& from, std::size_t n,
                              kernels::Precision p) override {
    return inner_->download(from, n, p);
  }
  std::vector<std::int32_t> download_ints(const kernels::Buffer& from, std::size_t n) override {
    return inner_->download_ints(from, n);
  }
  void fill(kernels::Buffer& to, std::size_t n, kernels::Precision p, std::uint64_t seed) override {
    inner_->fill(to, n, p, seed);
  }
  void gemm(kernels::Precision p, std::int64_t m, std::int64_t n, std::int64_t k,
            const kernels::Buffer& a, const kernels::Buffer& b, kernels::Buffer& c) override {
    inner_->gemm(p, m, n, k, a, b, c);
    // Every element of the first row off by one: whichever the check samples.
    auto row = inner_->download(c, static_cast<std::size_t>(m * n), p);
    for (std::int64_t j = 0; j < n; ++j) row[static_cast<std::size_t>(j)] += 1;
    inner_->upload(c, row, p);
  }
  void copy(const kernels::Buffer& f, kernels::Buffer& t, std::size_t b) override {
    inner_->copy(f, t, b);
  }
  void softmax_rows(kernels::Buffer& x, std::int64_t r, std::int64_t c, bool causal) override {
    inner_->softmax_rows(x, r, c, causal);
  }
  void layer_norm(const kernels::Buffer& x, std::int64_t r, std::int64_t c,
                  kernels::Buffer& o) override {
    inner_->layer_norm(x, r, c, o);
  }
  void gelu(const kernels::Buffer& x, std::int64_t n, kernels::Buffer& o) override {
    inner_->gelu(x, n, o);
  }
  void attention(const kernels::Buffer& q, const kernels::Buffer& k, const kernels::Buffer& v,
                 std::int64_t b, std::int64_t h, std::int64_t s, std::int64_t d, bool causal,
                 kernels::Buffer& o) override {
    inner_->attention(q, k, v, b, h, s, d, causal, o);
  }
  void gate(const kernels::Buffer& l, const kernels::GateShape& s, kernels::Buffer& e,
            kernels::Buffer& w) override {
    inner_->gate(l, s, e, w);
  }
  void gather(const kernels::Buffer& s, std::int64_t sr, const kernels::Buffer& i, std::int64_t r,
              std::int64_t rb, kernels::Buffer& d) override {
    inner_->gather(s, sr, i, r, rb, d);
  }
  void combine(const kernels::Buffer& r, std::int64_t w, const kernels::Buffer& s,
               const kernels::Buffer& wt, std::int64_t t, std::int64_t k,
               kernels::Buffer& o) override {
    inner_->combine(r, w, s, wt, t, k, o);
  }
  void lsh_codes(const kernels::Buffer& p, std::int64_t t, std::int64_t h, std::int64_t d,
                 kernels::Buffer& c) override {
    inner_->lsh_codes(p, t, h, d, c);
  }
  void nothing() override { inner_->nothing(); }
  std::vector<double> time(const std::function<void()>& op, int w, int r,
                           kernels::Launch l) override {
    return inner_->time(op, w, r, l);
  }
  void synchronize() override { inner_->synchronize(); }
  void* stream() override { return inner_->stream(); }
  void use_lane(int lane) override { inner_->use_lane(lane); }
  int mark() override { return inner_->mark(); }
  void wait_for(int id) override { inner_->wait_for(id); }
  double seconds_between(int a, int b) override { return inner_->seconds_between(a, b); }
  void clear_marks() override { inner_->clear_marks(); }
  double upload_seconds(std::size_t b) override { return inner_->upload_seconds(b); }

 private:
  std::unique_ptr<kernels::Backend> inner_;
};

TEST(Harness, AWrongGemmIsCounted) {
  OffByOneGemm backend(kernels::make_host_backend());
  const auto plan = make_plan(tiny(), {true, true, kernels::Launch::kStream}, backend);
  Driver driver(backend, plan, nullptr);
  for (const auto& entry : op_table()) {
    if (entry.name == "gemm" || entry.name == "copy") entry.sweep(driver);
  }
  std::int64_t gemm_wrong = 0, copy_wrong = 0;
  for (const auto& m : driver.measurements()) (m.op == "gemm" ? gemm_wrong : copy_wrong) += m.wrong;
  EXPECT_GT(gemm_wrong, 0);
  EXPECT_EQ(copy_wrong, 0);
}

TEST(CheckResult, NaNAndOutOfBoundAreWrong) {
  CheckResult r;
  r.compare(1.0, 1.0, 0);
  r.compare(1.5, 1.0, 0.25);
  r.compare(NAN, 1.0, 10);
  EXPECT_EQ(r.checked, 3);
  EXPECT_EQ(r.wrong, 2);
  EXPECT_TRUE(std::isinf(r.max_error));
}

TEST(Plan, SweepsTheIssuesRangesOnAGpuAndLessOnTheHost) {
  auto host = kernels::make_host_backend();
  const auto gpu_like = make_plan(tiny(), {false, false, kernels::Launch::kStream}, *host);
  EXPECT_EQ(gpu_like.gemm_m.front(), 1);
  EXPECT_EQ(gpu_like.gemm_m.back(), 65536);
  EXPECT_EQ(gpu_like.collective_bytes.front(), 1024u);
  EXPECT_EQ(gpu_like.collective_bytes.back(), std::size_t{1} << 30);
  const auto quick_host = make_plan(tiny(), {true, true, kernels::Launch::kStream}, *host);
  EXPECT_LT(quick_host.gemm_m.back(), 65536);
  EXPECT_LT(quick_host.max_case_flops, gpu_like.max_case_flops);
  ModelShapes none = tiny();
  none.gemms.clear();
  EXPECT_THROW(make_plan(none, {}, *host), Error);
}

TEST(Outputs, ReportSaysWhatRanAndWhatWasWrong) {
  const auto recorded = read_csv(kData / "host_quick_2ranks.csv");
  auto wrong = recorded;
  wrong[5].wrong = 3;
  RunInfo run;
  run.backend = "host";
  run.device = "test CPU";
  const std::vector<std::string> skipped{"gemm bf16 m=4096: too large"};
  const std::vector<std::pair<std::string, std::string>> ops{{"gemm", "GEMMs"}};
  const auto network = fit_network(recorded);
  const auto text = report_markdown(run, {wrong, skipped, ops, nullptr, network});
  EXPECT_THAT(text, HasSubstr("3 wrong"));
  EXPECT_THAT(text, HasSubstr("No profile was written"));
  EXPECT_THAT(text, HasSubstr("for testing the pipeline"));
  EXPECT_THAT(text, HasSubstr("too large"));
  EXPECT_THAT(text, HasSubstr("send_recv"));
  const auto csv = residuals_csv({recorded, skipped, ops, nullptr, network});
  EXPECT_THAT(csv, HasSubstr("measured_s,fitted_s,curves_only_s"));
}

}  // namespace
}  // namespace moesim::calibrate
