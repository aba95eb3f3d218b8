#include "profile_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "config/quantity.hpp"
#include "cost/cost_model.hpp"
#include "report/output_dir.hpp"
#include "study.hpp"

namespace moesim::cli {

namespace {

// The sweep: square GEMMs, and expert GEMMs with few tokens (m) against a fixed weight.
constexpr std::int64_t kSquareMin = 128, kSquareMax = 16384;
constexpr std::int64_t kExpertWidth = 4096;  // n = k: an expert's hidden size
constexpr std::int64_t kExpertMinRows = 1, kExpertMaxRows = 16384;

std::string sweep_csv(const cost::CostModel& model, cost::Dtype dtype, double peak) {
  std::string out =
      "profile,series,m,n,k,dtype,gflop,mbytes,time_us,achieved_tflops,fraction_of_peak,rule\n";
  const auto row = [&](std::string_view series, std::int64_t m, std::int64_t n, std::int64_t k) {
    const auto e = model.estimate(cost::work::gemm(m, n, k, dtype));
    const double seconds = e.time.seconds();
    fmt::format_to(
        std::back_inserter(out), "{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{}\n",
        model.profile().name, series, m, n, k, cost::name(dtype), e.flops / 1e9, e.bytes / 1e6,
        seconds * 1e6, e.flops / seconds / 1e12, e.flops / seconds / peak, cost::name(e.rule));
  };
  for (std::int64_t s = kSquareMin; s <= kSquareMax; s *= 2) {
    row("square", s, s, s);
    if (s < kSquareMax) row("square", s + s / 2, s + s / 2, s + s / 2);
  }
  for (std::int64_t m = kExpertMinRows; m <= kExpertMaxRows; m *= 2) {
    row("expert", m, kExpertWidth, kExpertWidth);
  }
  return out;
}

}  // namespace

void profile(const ProfileOptions& options, std::ostream& out) {
  const cost::CostModel model(
      cost::load_profile(resolve_file(options.profile, ".", kProfilePresets, "profile").string()));
  const auto& p = model.profile();
  out << fmt::format("profile {} ({}, {} source(s))\n", p.name,
                     p.provenance.kind == cost::ProvenanceKind::kDerived ? "derived" : "measured",
                     p.provenance.sources.size());
  const auto& peak = p.compute.peak;
  for (const auto& [dtype, rate] : {std::pair{"bf16", peak.bf16}, std::pair{"fp16", peak.fp16},
                                    std::pair{"fp32", peak.fp32}, std::pair{"fp8", peak.fp8}}) {
    if (rate) out << fmt::format("  peak {:<5} {}\n", dtype, config::format(*rate));
  }
  out << fmt::format("  memory     {}{}\n  launch     {}\n", config::format(p.memory.bandwidth),
                     p.memory.capacity ? ", " + config::format(*p.memory.capacity) : "",
                     config::format(p.launch_overhead));
  out << fmt::format("  tables     gemm {}, memory {}, attention {}, collective {}\n",
                     p.tables.gemm.size(), p.tables.memory.size(), p.tables.attention.size(),
                     p.tables.collective.size());

  const cost::Dtype dtype = peak.bf16 ? cost::Dtype::kBf16 : cost::Dtype::kFp16;
  const double peak_rate = (peak.bf16 ? *peak.bf16 : *peak.fp16).flops_per_second;
  out << fmt::format("\n  {:<34} {:>12}  {:<19} {}\n", "kernel", "time", "rule", "how");
  const std::pair<std::string, cost::Work> samples[] = {
      {"gemm 8192x8192x8192", cost::work::gemm(8192, 8192, 8192, dtype)},
      {"expert gemm 64x4096x4096", cost::work::gemm(64, 4096, 4096, dtype)},
      {"expert gemm 2048x4096x4096", cost::work::gemm(2048, 4096, 4096, dtype)},
      {"attention b8 h32 s2048 d128 causal",
       cost::work::attention({8, 32, 32, 2048, 2048, 128, true}, dtype)},
      {"permute 16384 x 4096", cost::work::permute(16384, 4096, dtype)},
      {"add 1024 elements", cost::work::elementwise_add(1024, dtype)},
  };
  for (const auto& [label, w] : samples) {
    const auto e = model.estimate(w);
    out << fmt::format("  {:<34} {:>12}  {:<19} {}\n", label,
                       fmt::format("{:.2f} us", e.time.microseconds()), cost::name(e.rule),
                       e.detail);
  }
  if (options.sweep_csv) {
    const std::filesystem::path path(*options.sweep_csv);
    refuse_overwriting_input(path, resolve_file(options.profile, ".", kProfilePresets, "profile"),
                             "--sweep");
    report::write_file(path, sweep_csv(model, dtype, peak_rate));
    out << fmt::format("\nwrote {} (draw it with plots/gemm_efficiency.py)\n", path.string());
  }
}

}  // namespace moesim::cli
