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
  auto document = load_model_document(model_file);
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
  // The schedules come from --schedules, written into the document so that --set can reach
  // their keys (schedules[1].lsh.rate=0.1) as it does in an experiment file.
  std::vector<model::ScheduleConfig> schedules;
  std::size_t start = 0;
  while (start <= o.schedules.size()) {
    const auto end = std::min(o.schedules.find(',', start), o.schedules.size());
    if (end == start) {
      throw config::ConfigError(fmt::format(
          "--schedules {}: an empty name; expected names separated by ','", o.schedules));
    }
    schedules.push_back(model::schedule_from_name(o.schedules.substr(start, end - start)));
    start = end + 1;
  }
  document.apply_override("schedules=" + config::list_to_yaml(schedules),
                          "--schedules " + o.schedules);
  // Assignments to the schedules after the others: they address the list --schedules made.
  std::vector<std::string> assignments;
  for (const auto& a : o.overrides) {
    if (!std::string_view(a).starts_with("schedules")) assignments.push_back(a);
  }
  for (const auto& a : o.overrides) {
    if (std::string_view(a).starts_with("schedules")) assignments.push_back(a);
  }
  for (const auto& assignment : assignments) {
    const auto key = std::string_view(assignment).substr(0, assignment.find_first_of(".[="));
    if (key == "schedules" && assignment.find('[') != key.size()) {
      throw config::ConfigError(fmt::format(
          "--set {}: predict takes its list of schedules from --schedules; set one schedule's "
          "keys by its place in that list, e.g. --schedules cdac,lsh --set "
          "'schedules[1].lsh.rate=0.1'",
          assignment));
    }
    apply_assignment(document, assignment);
  }
  auto experiment = read_experiment(document, ".", o.progress ? &err : nullptr);
  if (experiment.synthetic) {
    throw config::ConfigError(
        fmt::format("--model {}: a synthetic experiment has no schedules", o.model));
  }
  schedules_of(experiment);  // names distinct, checked before anything runs
  const std::string resolved = config::to_yaml(
      with_absolute_paths(experiment, "."),
      fmt::format("moesim predict, resolved configuration (model from {})", model_file.string()));

  const auto results = [&] {
    try {
      return run_study(experiment, ".", {.trace = o.trace}, o.progress, err, o.jobs);
    } catch (const config::ConfigError& e) {
      throw document.located(e);  // where the model file, --schedules or a --set gave the key
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
