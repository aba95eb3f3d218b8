#include "outputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "collectives.hpp"
#include "config/writer.hpp"
#include "report/output_dir.hpp"

namespace moesim::calibrate {

namespace {

std::string optional_seconds(const std::optional<double>& s) {
  return s ? fmt::format("{:.6e}", *s) : "";
}

// Median and 90th percentile of |x|, in percent; "-" when there are none.
std::pair<std::string, std::string> spread(std::vector<double> errors) {
  if (errors.empty()) return {"-", "-"};
  for (auto& e : errors) e = std::abs(e);
  std::sort(errors.begin(), errors.end());
  const auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(errors.size())) - 1);
    return errors[std::min(i, errors.size() - 1)] * 100;
  };
  return {fmt::format("{:.1f}%", at(0.5)), fmt::format("{:.1f}%", at(0.9))};
}

double relative(double predicted, double measured) {
  return (predicted - measured) / measured;
}

std::string profile_header(const RunInfo& run) {
  return fmt::format(
      "Measured GPU profile, written by `{}` on {} ({} backend: {}).\n"
      "Use it as any profile: moesim predict --profile PATH, or `profile: PATH` in an experiment.\n"
      "report.md beside it says how well the fitted curves reproduce each measured case.",
      run.command, run.date, run.backend, run.device);
}

}  // namespace

std::string residuals_csv(const CalibrationOutputs& o) {
  std::ostringstream out;
  out << "op,dtype,batch,m,n,k,bytes,flops,ranks,link,measured_s,fitted_s,curves_only_s\n";
  const auto row = [&](const Measurement& m, const std::string& fitted, const std::string& curves) {
    out << fmt::format("{},{},{},{},{},{},{},{},{},{},{:.6e},{},{}\n", m.op, m.dtype, m.batch, m.m,
                       m.n, m.k, m.bytes, m.flops, m.ranks, m.link, m.time.median, fitted, curves);
  };
  if (o.profile != nullptr) {
    for (const auto& r : o.profile->residuals) {
      row(r.measured, optional_seconds(r.with_tables_s), optional_seconds(r.curves_only_s));
    }
  }
  for (const auto& r : o.network.residuals)
    row(r.measured, fmt::format("{:.6e}", r.predicted_s), "");
  return out.str();
}

std::string report_markdown(const RunInfo& run, const CalibrationOutputs& o) {
  std::string md = fmt::format("# moesim calibrate: {}\n\n", run.device);
  md += fmt::format(
      "| | |\n|---|---|\n| command | `{}` |\n| date | {} |\n| backend | {} |\n| device | {} |\n"
      "| driver / runtime | {} / {} |\n| BLAS | {} |\n| collectives | {} |\n"
      "| ranks (hosts) | {} ({}) |\n| model | {} |\n| run | {}, {} launches, {:.1f} s |\n\n",
      run.command, run.date, run.backend, run.device, run.driver, run.runtime, run.blas, run.comm,
      run.ranks, run.hosts, run.model, run.quick ? "quick" : "full", run.launch, run.wall_seconds);
  if (run.backend == "host") {
    md +=
        "This is the host backend: the ops ran on this machine's CPU (GEMMs through the BLAS, "
        "every precision as fp32) and the collectives through MPI. Its profile is for testing "
        "the pipeline, not for predicting a GPU.\n\n";
  }

  // Correctness.
  std::int64_t checked = 0, wrong = 0;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> wrong_by_op;
  for (const auto& m : o.measurements) {
    checked += m.checked;
    wrong += m.wrong;
    if (m.wrong > 0) {
      wrong_by_op[m.op].first += 1;
      wrong_by_op[m.op].second += m.wrong;
    }
  }
  md += fmt::format(
      "## Correctness\n\n{} cases; {} output elements compared with the CPU "
      "reference; {} wrong.\n\n",
      o.measurements.size(), checked, wrong);
  if (wrong > 0) {
    md += "| op | cases with errors | wrong elements |\n|---|---|---|\n";
    for (const auto& [op, w] : wrong_by_op)
      md += fmt::format("| {} | {} | {} |\n", op, w.first, w.second);
    md += "\nNo profile was written: a kernel whose results are wrong is not timed honestly.\n\n";
  }

  if (o.profile != nullptr) {
    const auto& p = o.profile->profile;
    md += "## Fitted profile\n\n| quantity | value |\n|---|---|\n";
    const auto peak = [&](const char* name, const std::optional<config::FlopRate>& r) {
      if (r)
        md += fmt::format("| peak {} (best GEMM) | {:.2f} TFLOP/s |\n", name,
                          r->flops_per_second / 1e12);
    };
    peak("bf16", p.compute.peak.bf16);
    peak("fp16", p.compute.peak.fp16);
    peak("fp8", p.compute.peak.fp8);
    peak("fp32", p.compute.peak.fp32);
    md += fmt::format("| memory bandwidth (best copy) | {:.1f} GB/s |\n",
                      p.memory.bandwidth.bytes_per_second / 1e9);
    md += fmt::format("| launch overhead | {:.2f} us |\n", p.launch_overhead.microseconds());
    double h2d = 0;
    for (const auto& m : o.measurements) {
      if (m.op == "h2d") h2d = std::max(h2d, m.bytes / m.time.median);
    }
    if (h2d > 0) md += fmt::format("| host to device (best) | {:.1f} GB/s |\n", h2d / 1e9);
    if (p.compute.tiling) {
      md += fmt::format("| GEMM tiling | {} SMs, {}x{} tiles (assumed) |\n", p.compute.tiling->sms,
                        p.compute.tiling->tile_m, p.compute.tiling->tile_n);
    }
    md += "\nCompute efficiency (reference dtype, per square-equivalent GEMM): ";
    for (const auto& e : p.compute.efficiency)
      md += fmt::format("{:.3g} GFLOP {:.3f}; ", e.size.count / 1e9, e.fraction);
    md += "\n\nMemory efficiency: ";
    for (const auto& e : p.memory.efficiency)
      md += fmt::format("{:.3g} MB {:.3f}; ", static_cast<double>(e.size.count) / 1e6, e.fraction);
    md += fmt::format(
        "\n\nTables: {} GEMM, {} memory, {} attention (materialised scores: recorded, "
        "not used for fused attention), {} collective points.\n\n",
        p.tables.gemm.size(), p.tables.memory.size(), p.tables.attention.size(),
        p.tables.collective.size());
    for (const auto& note : o.profile->notes) md += "- " + note + "\n";

    md +=
        "## Measured vs fitted, per op\n\nRelative error of the fitted profile's price "
        "against the measured median: with the measured tables (what predict uses) and by the "
        "fitted curves alone (what a shape outside the tables gets).\n\n"
        "| op | what | cases | with tables: median | p90 | curves only: median | p90 |\n"
        "|---|---|---|---|---|---|---|\n";
    for (const auto& [name, what] : o.ops) {
      std::vector<double> tables, curves;
      int cases = 0;
      for (const auto& r : o.profile->residuals) {
        if (r.measured.op != name) continue;
        ++cases;
        if (r.with_tables_s) tables.push_back(relative(*r.with_tables_s, r.measured.time.median));
        if (r.curves_only_s) curves.push_back(relative(*r.curves_only_s, r.measured.time.median));
      }
      if (cases == 0) continue;
      const auto [tm, tp] = spread(tables);
      const auto [cm, cp] = spread(curves);
      md +=
          fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", name, what, cases, tm, tp, cm, cp);
    }
    md += "\n";
  }

  if (!o.network.links.empty()) {
    md +=
        "## Collectives and the network overlay\n\n"
        "| link | ranks | fitted to | latency a | per traversal | bandwidth B | median / max "
        "|residual| |\n|---|---|---|---|---|---|---|\n";
    for (const auto& l : o.network.links) {
      md += fmt::format(
          "| {} | {} | {} ({} sizes) | {:.2f} us | {:.2f} us | {:.2f} GB/s | {:.1f}% / {:.1f}% |\n",
          l.link, l.ranks, l.basis, l.points, l.latency_s * 1e6, l.per_traversal_latency_s * 1e6,
          l.bandwidth_Bps / 1e9, l.median_abs_error * 100, l.max_abs_error * 100);
    }
    md +=
        "\nEvery collective against the fitted line t = a + S x busbw factor / B:\n\n"
        "| op | link | ranks | sizes | largest: algbw | busbw | median |residual| | p90 |\n"
        "|---|---|---|---|---|---|---|---|\n";
    std::map<std::tuple<std::string, std::string, int>, std::vector<const CollectiveResidual*>>
        groups;
    for (const auto& r : o.network.residuals)
      groups[{r.measured.op, r.measured.link, r.measured.ranks}].push_back(&r);
    for (const auto& [key, rs] : groups) {
      std::vector<double> errors;
      const Measurement* largest = &rs.front()->measured;
      for (const auto* r : rs) {
        errors.push_back(relative(r->predicted_s, r->measured.time.median));
        if (r->measured.bytes > largest->bytes) largest = &r->measured;
      }
      const double algbw = largest->bytes / largest->time.median;
      const auto [em, ep] = spread(errors);
      md += fmt::format("| {} | {} | {} | {} | {:.2f} GB/s | {:.2f} GB/s | {} | {} |\n",
                        std::get<0>(key), std::get<1>(key), std::get<2>(key), rs.size(),
                        algbw / 1e9, algbw * bus_factor(largest->op, largest->ranks) / 1e9, em, ep);
    }
    md += "\n";
  } else {
    md +=
        "## Collectives\n\nNone: one rank ran. Launch under mpirun with one rank per GPU to "
        "sweep the collectives and fit the network overlay.\n\n";
  }

  if (!o.skipped.empty()) {
    md += fmt::format("## Skipped ({})\n\n", o.skipped.size());
    for (const auto& s : o.skipped) md += "- " + s + "\n";
    md += "\n";
  }
  return md;
}

std::vector<std::filesystem::path> write_outputs(const std::filesystem::path& dir,
                                                 const RunInfo& run, const CalibrationOutputs& o) {
  report::OutputDir out(dir);
  std::vector<std::filesystem::path> written;
  if (o.profile != nullptr) {
    written.push_back(
        out.write("profile.yaml", config::to_yaml(o.profile->profile, profile_header(run),
                                                  config::ListStyle::kCompactLists)));
  }
  if (!o.network.links.empty()) {
    written.push_back(out.write(
        "network.yaml",
        overlay_yaml(
            o.network,
            fmt::format("Network overlay measured by `{}` on {} ({} ranks on {} host{}, {}).\n"
                        "Put it last in a cluster file's base list to use the measured "
                        "links:\n  base: [my_cluster.yaml, network.yaml]",
                        run.command, run.date, run.ranks, run.hosts, run.hosts == 1 ? "" : "s",
                        run.comm))));
  }
  std::ostringstream csv;
  write_csv(o.measurements, csv);
  written.push_back(out.write("calibration.csv", csv.str()));
  written.push_back(out.write("residuals.csv", residuals_csv(o)));
  written.push_back(out.write("report.md", report_markdown(run, o)));
  out.commit();
  return written;
}

}  // namespace moesim::calibrate
