#include "comparison.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "report/csv.hpp"
#include "report/csv_reader.hpp"
#include "report/text_table.hpp"

namespace moesim::validate {

namespace {

std::string cell(const std::optional<double>& v, int digits) {
  return v ? fmt::format("{:.{}f}", *v, digits) : std::string();
}

double number(const std::string& text, const std::filesystem::path& path, std::size_t line,
              const char* column) {
  double v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || !std::isfinite(v)) {
    throw Error(fmt::format("{}:{}: {} '{}' is not a number", path.string(), line, column, text));
  }
  return v;
}

}  // namespace

std::optional<double> median(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::optional<double> error_percent(const PhaseRow& row) {
  if (!row.measured_ms || *row.measured_ms <= 0) return std::nullopt;
  return (row.predicted_ms - *row.measured_ms) / *row.measured_ms * 100;
}

ErrorSummary summarise(const std::vector<PhaseRow>& rows) {
  ErrorSummary s;
  std::vector<double> phases, totals;
  for (const auto& r : rows) {
    const auto e = error_percent(r);
    if (!e) continue;
    if (r.phase == kTotalPhase) {
      totals.push_back(std::abs(*e));
      continue;
    }
    phases.push_back(std::abs(*e));
    if (!s.worst_phase_abs_percent || std::abs(*e) > *s.worst_phase_abs_percent) {
      s.worst_phase_abs_percent = std::abs(*e);
      s.worst_phase = r.schedule + "/" + r.phase;
    }
  }
  s.phases = phases.size();
  s.totals = totals.size();
  s.median_phase_abs_percent = median(phases);
  s.median_total_abs_percent = median(totals);
  return s;
}

std::string validation_csv(const std::vector<PhaseRow>& rows) {
  std::string out = "schedule,phase,measured_ms,predicted_ms,error_pct\n";
  for (const auto& r : rows) {
    out += fmt::format("{},{},{},{:.6f},{}\n", report::csv_field(r.schedule),
                       report::csv_field(r.phase), cell(r.measured_ms, 6), r.predicted_ms,
                       cell(error_percent(r), 2));
  }
  return out;
}

std::vector<PhaseRow> read_validation_csv(const std::filesystem::path& path) {
  std::vector<PhaseRow> out;
  try {
    io::CSVReader<4, io::trim_chars<' '>, io::double_quote_escape<',', '"'>> in(path.string());
    in.read_header(io::ignore_extra_column, "schedule", "phase", "measured_ms", "predicted_ms");
    std::string schedule, phase, measured, predicted;
    while (in.read_row(schedule, phase, measured, predicted)) {
      const auto line = static_cast<std::size_t>(in.get_file_line());
      PhaseRow r{schedule, phase, std::nullopt, number(predicted, path, line, "predicted_ms")};
      if (!measured.empty()) r.measured_ms = number(measured, path, line, "measured_ms");
      out.push_back(std::move(r));
    }
  } catch (const io::error::base& e) {
    throw Error(fmt::format("{}: {}", path.string(), e.what()));
  }
  return out;
}

std::string validation_table(const std::vector<PhaseRow>& rows) {
  using Col = report::TextTable::Column;
  const auto left = report::TextTable::Align::kLeft;
  report::TextTable t({Col{"schedule", 0, left}, Col{"phase", 0, left}, Col{"measured ms"},
                       Col{"predicted ms"}, Col{"error"}});
  for (const auto& r : rows) {
    const auto e = error_percent(r);
    t.add_row({r.schedule, r.phase, r.measured_ms ? fmt::format("{:.3f}", *r.measured_ms) : "-",
               fmt::format("{:.3f}", r.predicted_ms),
               e ? fmt::format("{:+.1f}%", *e) : "not replayed"});
  }
  return t.render();
}

std::string report_markdown(const RunInfo& run, const std::vector<PhaseRow>& rows) {
  const auto s = summarise(rows);
  std::string md = fmt::format(
      "# moesim validate: {}\n\n| | |\n|---|---|\n| command | `{}` |\n| date | {} |\n"
      "| backend | {} |\n| device | {} |\n| collectives | {} over {} rank{} |\n"
      "| profile | {} |\n| repetitions | {} after {} warm-up |\n\n",
      run.experiment, run.command, run.date, run.backend, run.device, run.comm, run.ranks,
      run.ranks == 1 ? "" : "s", run.profile, run.reps, run.warmup);
  md += "## Error\n\n";
  md += fmt::format(
      "- phases compared: {}; median |error| {}; worst {} ({})\n- totals compared: {}; median "
      "|error| {}\n\n",
      s.phases,
      s.median_phase_abs_percent ? fmt::format("{:.1f}%", *s.median_phase_abs_percent) : "-",
      s.worst_phase_abs_percent ? fmt::format("{:.1f}%", *s.worst_phase_abs_percent) : "-",
      s.worst_phase.empty() ? "-" : s.worst_phase, s.totals,
      s.median_total_abs_percent ? fmt::format("{:.1f}%", *s.median_total_abs_percent) : "-");
  md +=
      "Error is (predicted - measured) / measured. A phase is the busy time of its ops, the "
      "largest over ranks; `total` is the whole run against the simulated makespan.\n\n";
  md +=
      "## Per schedule and phase\n\n| schedule | phase | measured ms | predicted ms | error |\n"
      "|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const auto e = error_percent(r);
    md += fmt::format("| {} | {} | {} | {:.3f} | {} |\n", r.schedule, r.phase,
                      r.measured_ms ? fmt::format("{:.3f}", *r.measured_ms) : "-", r.predicted_ms,
                      e ? fmt::format("{:+.1f}%", *e) : "not replayed");
  }
  if (!run.notes.empty()) {
    md += "\n## Notes\n\n";
    for (const auto& n : run.notes) md += "- " + n + "\n";
  }
  return md;
}

}  // namespace moesim::validate
