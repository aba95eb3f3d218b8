#include "sweep_command.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>

#include "config/document.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "config/writer.hpp"
#include "cost/profile.hpp"
#include "parallel.hpp"
#include "report/output_dir.hpp"
#include "study.hpp"
#include "topologies/build.hpp"

namespace moesim::cli {

namespace {

// A point as an error names it: its label, or its assignments when it has none yet.
std::string point_name(const SweepPoint& p) {
  if (!p.label.empty()) return "'" + p.label + "'";
  std::string out;
  for (const auto& a : p.assignments) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string axis_label(const SweepAxis& axis, std::string value) {
  // Labels join with '/' and name files: values like "100 Gb/s" lose spaces and slashes.
  std::erase_if(value, [](char c) { return c == ' ' || c == '/'; });
  if (axis.label.empty()) {
    const auto dot = axis.key.rfind('.');
    return fmt::format("{}={}", dot == std::string::npos ? axis.key : axis.key.substr(dot + 1),
                       value);
  }
  std::string label = axis.label;
  const auto at = label.find("{}");
  if (at != std::string::npos) label.replace(at, 2, value);
  return label;
}

// One simulation: schedule `schedule` of point `point`.
struct Unit {
  std::size_t point;
  std::size_t schedule;
};

struct PreparedPoint {
  SweepPoint point;
  ExperimentConfig experiment;
};

}  // namespace

std::vector<std::string> sweep_columns(const SweepConfig& sweep) {
  std::vector<std::string> columns;
  if (!sweep.points.empty()) columns.push_back("case");
  // An axis over a key the summary has a column for (mode) is shown there.
  for (const auto& axis : sweep.axes) {
    if (!report::is_summary_column(axis.key)) columns.push_back(axis.key);
  }
  return columns;
}

std::vector<SweepPoint> sweep_points(const SweepConfig& sweep) {
  std::vector<SweepPoint> points;
  if (sweep.points.empty()) {
    points.push_back({});
  } else {
    for (const auto& p : sweep.points) {
      if (p.label.empty()) throw config::ConfigError("sweep.points: a point without a label");
      points.push_back({p.label, p.base, p.set, {p.label}});
    }
  }
  for (const auto& axis : sweep.axes) {
    if (axis.key.empty()) throw config::ConfigError("sweep.axes: an axis without a key");
    if (axis.values.empty()) {
      throw config::ConfigError(fmt::format("sweep.axes: {}: no values", axis.key));
    }
    std::vector<SweepPoint> grown;
    for (const auto& p : points) {
      for (const auto& value : axis.values) {
        SweepPoint q = p;
        const auto part = axis_label(axis, value);
        q.label = q.label.empty() ? part : q.label + "/" + part;
        q.assignments.push_back(axis.key + "=" + value);
        if (!report::is_summary_column(axis.key)) q.cells.push_back(value);
        grown.push_back(std::move(q));
      }
    }
    points = std::move(grown);
  }
  std::set<std::string> seen;
  for (const auto& p : points) {
    if (!seen.insert(p.label).second) {
      throw config::ConfigError(fmt::format("sweep: two points are labelled '{}'", p.label));
    }
  }
  return points;
}

std::string sweep(const SweepOptions& options, const MpiSession& mpi, std::ostream& out,
                  std::ostream& err) {
  // A point's document: the file, the point's base over it, the command line's overrides, then
  // the point's own assignments. Each is loaded afresh: copies of a document share its tree.
  const auto base_dir = std::filesystem::path(options.experiment).parent_path();
  const auto load = [&](const SweepPoint* point) {
    auto doc = config::Document::load_file(options.experiment, data_dir() / kModelPresets);
    if (point && !point->base.empty()) {
      doc.apply_file(
          resolve_file(point->base, base_dir, kModelPresets, "sweep.points.base").string());
    }
    for (const auto& assignment : options.overrides) apply_assignment(doc, assignment);
    if (point) {
      for (const auto& assignment : point->assignments) apply_assignment(doc, assignment);
    }
    return doc;
  };
  auto base_document = load(nullptr);
  const auto base = read_experiment(base_document, base_dir, options.progress ? &err : nullptr);
  if (base.synthetic) {
    throw config::ConfigError(
        fmt::format("{}: a synthetic experiment cannot be swept", options.experiment));
  }
  const SweepConfig grid = base.sweep.value_or(SweepConfig{});

  // Every point is read and checked before anything runs.
  std::vector<PreparedPoint> points;
  std::vector<Unit> units;
  for (auto& p : sweep_points(grid)) {
    std::optional<config::Document> document;  // to say where a checked key was written
    try {
      document = load(&p);
      auto e = read_experiment(*document, base_dir);
      if (p.label.empty()) p.label = e.name;
      const auto inputs = load_inputs_of(e, base_dir);
      const auto schedules = schedules_of(e);
      check_schedules(e, inputs);
      if (options.progress && mpi.rank() == 0) {
        for (const auto& note : inputs.cluster.notes()) {
          err << fmt::format("[moesim] sweep point {} ({}): note: {}\n", points.size() + 1,
                             point_name(p), note);
        }
      }
      for (std::size_t s = 0; s < schedules.size(); ++s) units.push_back({points.size(), s});
      points.push_back({std::move(p), std::move(e)});
    } catch (const config::ConfigError& error) {
      throw config::ConfigError(fmt::format("sweep point {} ({}): {}", points.size() + 1,
                                            point_name(p),
                                            (document ? document->located(error) : error).what()));
    }
  }
  const std::size_t columns = report::summary_value_count();
  std::vector<double> values(units.size() * columns, 0.0);

  // This rank's units, `jobs` at a time.
  std::vector<std::size_t> mine;
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (static_cast<int>(u % static_cast<std::size_t>(mpi.size())) == mpi.rank()) mine.push_back(u);
  }
  std::vector<std::string> names;
  for (const auto u : mine) {
    const auto& prepared = points[units[u].point];
    names.push_back(fmt::format("{} {}", prepared.point.label,
                                schedules_of(prepared.experiment)[units[u].schedule].name));
  }
  ParallelProgress shown(err, names);
  std::atomic<std::size_t> done{0};
  std::mutex warning_mutex;
  run_parallel(mine.size(), options.jobs, [&](std::size_t i) {
    const auto u = mine[i];
    const auto& prepared = points[units[u].point];
    const auto& e = prepared.experiment;
    const auto schedule = schedules_of(e)[units[u].schedule];
    const auto started = std::chrono::steady_clock::now();
    const auto inputs = load_inputs_of(e, base_dir);
    // Under mpirun the ranks share a terminal: one running line each would overwrite another's.
    const bool running_line = options.progress && mpi.size() == 1;
    const auto result = run_point(e, schedule, inputs, {},
                                  running_line ? shown.callback(i) : core::ProgressCallback{});
    const auto v = report::summary_values(e.mode, result, e.parallel.world());
    std::copy(v.begin(), v.end(), values.begin() + static_cast<std::ptrdiff_t>(u * columns));
    if (!options.progress) {
      // -q hides progress, never a warning.
      if (!result.fits()) {
        const std::lock_guard lock(warning_mutex);
        err << fmt::format("moesim: warning: {}{}\n", names[i], result.fit_note());
      }
      return;
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    shown.finished(
        i, fmt::format("[moesim] {}/{} {}: {:.3f} ms ({:.1f} s){}{}", ++done, mine.size(), names[i],
                       v[report::kSummaryTimeColumn], took.count(),
                       mpi.size() > 1 ? fmt::format(" [rank {}]", mpi.rank()) : "",
                       result.fit_note()));
  });
  mpi.sum_to_root(values);
  if (mpi.rank() != 0) return {};

  std::vector<report::SummaryRow> rows;
  for (std::size_t u = 0; u < units.size(); ++u) {
    const auto& prepared = points[units[u].point];
    report::SummaryRow row;
    row.schedule = schedules_of(prepared.experiment)[units[u].schedule].name;
    row.point = base.sweep ? prepared.point.label + "/" + row.schedule : row.schedule;
    row.mode = prepared.experiment.mode;
    row.implementation = prepared.experiment.implementation;
    row.extra = prepared.point.cells;
    row.values.assign(values.begin() + static_cast<std::ptrdiff_t>(u * columns),
                      values.begin() + static_cast<std::ptrdiff_t>((u + 1) * columns));
    // The point's first schedule is its baseline.
    const auto first = u - units[u].schedule;
    row.baseline_ms = values[first * columns + report::kSummaryTimeColumn];
    rows.push_back(std::move(row));
  }
  report::OutputDir dir(options.out ? std::filesystem::path(*options.out)
                                    : default_output(base.name));
  dir.write("resolved.yaml", config::to_yaml(with_absolute_paths(base, base_dir),
                                             fmt::format("moesim resolved configuration (from {})",
                                                         options.experiment)));
  dir.write("summary.csv", report::summary_csv(base.name, sweep_columns(grid), rows));
  dir.commit();
  out << fmt::format("sweep {}: {} points, {} simulations{}; wrote {}/summary.csv\n", base.name,
                     points.size(), units.size(),
                     mpi.size() > 1 ? fmt::format(" over {} MPI ranks", mpi.size()) : "",
                     dir.path().string());
  return dir.path().string();
}

}  // namespace moesim::cli
