#include "predict_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <ostream>

#include "config/document.hpp"
#include "config/reader.hpp"
#include "config/writer.hpp"
#include "model/moe_shape.hpp"
#include "plot_runner.hpp"
#include "report/output_dir.hpp"
#include "run_command.hpp"
#include "study.hpp"

namespace moesim::cli {

void predict(const PredictOptions& o, std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  // The model file holds `model:` (and may hold parallel, routing, ... defaults for it).
  const auto model_file = resolve_file(o.model, ".", kModelPresets, "--model");
  auto document = config::Document::load_file(model_file.string(), data_dir() / kModelPresets);
  document.apply_override("name=predict");
  document.apply_override(
      "cluster=" +
      fs::absolute(resolve_file(o.cluster, ".", kClusterPresets, "--cluster")).string());
  document.apply_override(
      "profile=" +
      fs::absolute(resolve_file(o.profile, ".", kProfilePresets, "--profile")).string());
  document.apply_override(
      "implementation=" +
      fs::absolute(resolve_file(o.implementation, ".", kImplementationPresets, "--implementation"))
          .string());
  if (o.infer) document.apply_override("mode=infer");
  for (const auto& assignment : o.overrides) {
    // The schedules come from --schedules alone; an assignment to them would be dropped.
    const auto key = std::string_view(assignment).substr(0, assignment.find_first_of(".[="));
    if (key == "schedules") {
      throw config::ConfigError(fmt::format(
          "--set {}: predict takes its schedules from --schedules (e.g. --schedules cdac,dcca); "
          "to set a schedule's keys, write them in an experiment file for `moesim run`",
          assignment));
    }
    apply_assignment(document, assignment);
  }
  auto experiment = config::read_document<ExperimentConfig>(document);
  if (experiment.synthetic) {
    throw config::ConfigError(
        fmt::format("--model {}: a synthetic experiment has no schedules", o.model));
  }
  experiment.schedules.clear();
  std::size_t start = 0;
  while (start <= o.schedules.size()) {
    const auto end = std::min(o.schedules.find(',', start), o.schedules.size());
    if (end == start) {
      throw config::ConfigError(fmt::format(
          "--schedules {}: an empty name; expected names separated by ','", o.schedules));
    }
    experiment.schedules.push_back(
        model::schedule_from_name(o.schedules.substr(start, end - start)));
    start = end + 1;
  }
  schedules_of(experiment);  // names distinct, checked before anything runs
  const std::string resolved = config::to_yaml(
      with_absolute_paths(experiment, "."),
      fmt::format("moesim predict, resolved configuration (model from {})", model_file.string()));

  const auto results = [&] {
    try {
      return run_study(experiment, ".", {}, o.progress, err, o.jobs);
    } catch (const config::ConfigError& e) {
      // The schedules came from --schedules, not from the document.
      if (e.key().starts_with("schedules[")) {
        throw config::ConfigError(fmt::format("--schedules {}: {}", o.schedules, e.problem()));
      }
      throw document.located(e);  // where the model file or a --set gave the key
    }
  }();
  report::OutputDir dir(o.out);
  write_study(dir, experiment, resolved, results, out);
  if (!o.figure) return;
  std::string why;
  if (!can_plot("breakdown.py", why)) {
    out << fmt::format("no figure: {}\n", why);
    return;
  }
  const auto png = dir.path() / "breakdown.png";
  run_plot("breakdown.py", {(dir.path() / "summary.csv").string(), png.string()});
  out << fmt::format("figure: {}\n", png.string());
}

}  // namespace moesim::cli
