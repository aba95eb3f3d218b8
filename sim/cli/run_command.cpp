#include "run_command.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <ostream>

#include "config/document.hpp"
#include "config/enum_name.hpp"
#include "config/reader.hpp"
#include "config/writer.hpp"
#include "core/engine.hpp"
#include "cost/profile.hpp"
#include "experiment.hpp"
#include "model/check.hpp"
#include "parallel.hpp"
#include "report/chrome_trace.hpp"
#include "report/dag_csv.hpp"
#include "report/output_dir.hpp"
#include "report/stream_summary.hpp"
#include "report/timeline_csv.hpp"
#include "study.hpp"
#include "sweep_command.hpp"
#include "topologies/build.hpp"

namespace moesim::cli {

namespace {

constexpr std::uint64_t kProgressEveryEvents = 1'000'000;

config::Document load(const RunOptions& options) {
  auto document = options.experiment
                      ? config::Document::load_file(*options.experiment, data_dir() / kModelPresets)
                      : config::Document::from_string("name: synthetic-demo\nsynthetic: {}\n",
                                                      "<embedded default experiment>");
  for (const auto& assignment : options.overrides) apply_assignment(document, assignment);
  return document;
}

void run_synthetic(const RunOptions& options, const ExperimentConfig& experiment,
                   const std::string& resolved, std::ostream& out, std::ostream& err);

}  // namespace

core::ProgressCallback progress_printer(std::ostream& err, std::string what) {
  return [&err, what = std::move(what)](const core::Progress& p) {
    err << fmt::format("\r[moesim] {}: {}/{} ops ({:.0f}%), simulated {:.3f} ms", what,
                       p.ops_finished, p.ops_total,
                       100.0 * static_cast<double>(p.ops_finished) /
                           static_cast<double>(std::max<std::size_t>(p.ops_total, 1)),
                       p.now.milliseconds())
        << (p.ops_finished == p.ops_total ? "\n" : "") << std::flush;
  };
}

std::vector<PointResult> run_study(const ExperimentConfig& e, const std::filesystem::path& base_dir,
                                   const StudyOutputs& outputs, bool progress, std::ostream& err,
                                   int jobs) {
  const auto inputs = load_inputs_of(e, base_dir);
  const auto schedules = schedules_of(e);
  if (progress) {
    for (const auto& note : inputs.cluster.notes()) {
      err << fmt::format("[moesim] note: {}\n", note);
    }
  }
  // Every schedule is checked before the first runs: a bad one should not wait for the others.
  check_schedules(e, inputs);
  if (progress) {
    // Settings that change nothing, each said once however many schedules it concerns.
    std::vector<std::string> said;
    for (const auto& schedule : schedules) {
      for (auto& note : model::study_notes(make_study(e, schedule, inputs), inputs.cluster)) {
        if (std::find(said.begin(), said.end(), note) != said.end()) continue;
        err << fmt::format("[moesim] note: {}\n", note);
        said.push_back(std::move(note));
      }
    }
  }
  const auto n = schedules.size();
  std::vector<PointResult> results(n);
  if (jobs <= 1 || n == 1) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto what = fmt::format("{} [{}/{}]", schedules[i].name, i + 1, n);
      if (progress) err << fmt::format("[moesim] {}: building\n", what) << std::flush;
      results[i] = run_point(e, schedules[i], inputs, outputs,
                             progress ? progress_printer(err, what) : core::ProgressCallback{});
    }
    return results;
  }
  if (progress) {
    err << fmt::format("[moesim] {} schedules, {} at a time\n", n,
                       std::min(n, static_cast<std::size_t>(jobs)))
        << std::flush;
  }
  std::vector<std::string> names;
  for (const auto& schedule : schedules) names.push_back(schedule.name);
  ParallelProgress shown(err, names);
  std::atomic<std::size_t> done{0};
  run_parallel(n, jobs, [&](std::size_t i) {
    const auto started = std::chrono::steady_clock::now();
    results[i] = run_point(e, schedules[i], inputs, outputs,
                           progress ? shown.callback(i) : core::ProgressCallback{});
    if (!progress) return;
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const auto time_ms =
        report::summary_values(e.mode, results[i], e.parallel.world())[report::kSummaryTimeColumn];
    shown.finished(i, fmt::format("[moesim] {}/{} {}: {:.3f} ms ({:.1f} s){}", ++done, n,
                                  schedules[i].name, time_ms, took.count(), results[i].fit_note()));
  });
  return results;
}

void write_study(report::OutputDir& dir, const ExperimentConfig& e, const std::string& resolved,
                 const std::vector<PointResult>& results, std::ostream& out) {
  dir.write("resolved.yaml", resolved);
  dir.write("summary.csv", report::summary_csv(e.name, {},
                                               report::summary_rows(e.mode, e.implementation,
                                                                    e.parallel.world(), results)));
  std::vector<std::string> written{"resolved.yaml", "summary.csv"};
  for (const auto& r : results) {
    const auto stem = file_safe(r.schedule.name);
    dir.write("breakdown_" + stem + ".csv", report::breakdown_csv(r.breakdown));
    written.push_back("breakdown_" + stem + ".csv");
    if (!r.trace.empty()) {
      dir.write("trace_" + stem + ".json", r.trace);
      written.push_back("trace_" + stem + ".json");
    }
    if (!r.dag.empty()) {
      dir.write("dag_" + stem + ".csv", r.dag);
      written.push_back("dag_" + stem + ".csv");
    }
  }
  out << fmt::format("experiment {}: {} on {} ranks, {} mode\n", e.name, e.model.name,
                     e.parallel.world(), config::enum_name(e.mode));
  out << report::summary_table(e.mode, results);
  if (!results.empty()) {
    out << fmt::format("\nbreakdown of {} (critical rank {}):\n", results.front().schedule.name,
                       results.front().breakdown.critical);
    out << report::breakdown_table(results.front().breakdown);
  }
  dir.commit();
  std::string list;
  for (const auto& w : written) list += (list.empty() ? "" : ", ") + w;
  out << fmt::format("wrote {}/ ({})\n", dir.path().string(), list);
}

void run(const RunOptions& options, std::ostream& out, std::ostream& err) {
  auto document = load(options);
  const std::filesystem::path base_dir =
      options.experiment ? std::filesystem::path(*options.experiment).parent_path() : ".";
  const auto experiment = read_experiment(document, base_dir, options.progress ? &err : nullptr);
  const std::string resolved =
      config::to_yaml(experiment.synthetic ? experiment : with_absolute_paths(experiment, base_dir),
                      fmt::format("moesim resolved configuration (from {})", document.name()));
  if (experiment.synthetic) {
    run_synthetic(options, experiment, resolved, out, err);
    return;
  }
  if (experiment.sweep) {  // the same as `moesim sweep`
    if (options.trace || options.dag) {
      throw config::ConfigError(fmt::format(
          "{}{}: a sweep writes one summary.csv, not per-run traces; run one point with --trace "
          "or --dag (its settings as --set)",
          options.trace ? "--trace" : "", options.dag ? (options.trace ? " --dag" : "--dag") : ""));
    }
    const MpiSession mpi;
    sweep({*options.experiment, options.overrides, options.out, options.jobs, options.progress},
          mpi, out, err);
    return;
  }
  const auto results = [&] {
    try {
      return run_study(experiment, base_dir, {options.trace, options.dag}, options.progress, err,
                       options.jobs);
    } catch (const config::ConfigError& e) {
      throw document.located(e);  // where the file or a --set gave the key
    }
  }();
  // Everything is computed; only now touch the disk.
  report::OutputDir dir(options.out ? std::filesystem::path(*options.out)
                                    : default_output(experiment.name));
  write_study(dir, experiment, resolved, results, out);
}

namespace {

void run_synthetic(const RunOptions& options, const ExperimentConfig& experiment,
                   const std::string& resolved, std::ostream& out, std::ostream& err) {
  auto workload = synthetic::build(*experiment.synthetic);
  core::DurationRunner runner(
      [&](const core::OpGraph&, core::OpId op) { return workload.duration[op]; });
  core::Engine engine(workload.graph, runner);
  // Small runs finish before a progress line would help.
  if (options.progress && workload.graph.op_count() >= kProgressEveryEvents) {
    engine.set_progress(
        [&](const core::Progress& p) {
          err << fmt::format("\r[moesim] simulated {}/{} ops ({:.0f}%)", p.ops_finished,
                             p.ops_total,
                             100.0 * static_cast<double>(p.ops_finished) /
                                 static_cast<double>(std::max<std::size_t>(p.ops_total, 1)))
              << (p.ops_finished == p.ops_total ? "\n" : "") << std::flush;
        },
        kProgressEveryEvents);
  }
  const auto timeline = engine.run();
  const auto usage = report::stream_usage(workload.graph, timeline);

  // Everything is computed; only now touch the disk.
  report::OutputDir dir(options.out ? std::filesystem::path(*options.out)
                                    : default_output(experiment.name));
  dir.write("resolved.yaml", resolved);
  dir.write("timeline.csv", report::timeline_csv(workload.graph, timeline));
  dir.write("streams.csv", report::stream_usage_csv(usage, timeline.end()));
  if (options.trace) dir.write("trace.json", report::chrome_trace_json(workload.graph, timeline));
  if (options.dag) {
    const auto& g = workload.graph;
    dir.write(
        "dag.csv", report::dag_csv(g, [&](core::OpId op) {
          // A synthetic op's kind is its labels (compute, comm).
          return report::DagRow{report::op_labels_text(g, op), workload.duration[op].count(), ""};
        }));
  }

  dir.commit();
  out << fmt::format("experiment {}: {} ranks, {} ops, makespan {:.3f} ms\n", experiment.name,
                     workload.graph.rank_count(), workload.graph.op_count(),
                     timeline.end().milliseconds());
  out << report::stream_usage_table(usage, timeline.end());
  out << fmt::format("wrote {}/ (resolved.yaml, timeline.csv, streams.csv{}{})\n",
                     dir.path().string(), options.trace ? ", trace.json" : "",
                     options.dag ? ", dag.csv" : "");
}

}  // namespace

}  // namespace moesim::cli
