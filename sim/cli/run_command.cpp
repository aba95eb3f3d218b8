#include "run_command.hpp"

#include <fmt/format.h>
#include <ostream>

#include "config/document.hpp"
#include "config/reader.hpp"
#include "config/writer.hpp"
#include "core/engine.hpp"
#include "experiment.hpp"
#include "report/chrome_trace.hpp"
#include "report/output_dir.hpp"
#include "report/stream_summary.hpp"
#include "report/timeline_csv.hpp"

namespace moesim::cli {

namespace {

constexpr std::uint64_t kProgressEveryEvents = 1'000'000;

config::Document load(const RunOptions& options) {
  auto document = options.experiment
                      ? config::Document::load_file(*options.experiment)
                      : config::Document::from_string("", "<embedded default experiment>");
  for (const auto& assignment : options.overrides) document.apply_override(assignment);
  return document;
}

}  // namespace

void run(const RunOptions& options, std::ostream& out, std::ostream& err) {
  const auto document = load(options);
  const auto experiment = config::read_document<ExperimentConfig>(document);
  const std::string resolved = config::to_yaml(
      experiment, fmt::format("moesim resolved configuration (from {})", document.name()));

  auto workload = synthetic::build(experiment.synthetic);
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
  const report::OutputDir dir(options.out ? *options.out : "out/" + experiment.name);
  dir.write("resolved.yaml", resolved);
  dir.write("timeline.csv", report::timeline_csv(workload.graph, timeline));
  dir.write("streams.csv", report::stream_usage_csv(usage, timeline.end()));
  if (options.trace) dir.write("trace.json", report::chrome_trace_json(workload.graph, timeline));

  out << fmt::format("experiment {}: {} ranks, {} ops, makespan {:.3f} ms\n", experiment.name,
                     workload.graph.rank_count(), workload.graph.op_count(),
                     timeline.end().milliseconds());
  out << report::stream_usage_table(usage, timeline.end());
  out << fmt::format("wrote {}/ (resolved.yaml, timeline.csv, streams.csv{})\n",
                     dir.path().string(), options.trace ? ", trace.json" : "");
}

}  // namespace moesim::cli
