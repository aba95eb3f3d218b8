#pragma once
// A MoE study as the command line meets it: an experiment's files found (presets, paths relative
// to the experiment), its schedules listed and checked, and each schedule run.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/document.hpp"
#include "cost/cost_model.hpp"
#include "experiment.hpp"
#include "model/memory.hpp"
#include "model/simulate.hpp"
#include "report/study_summary.hpp"
#include "topologies/cluster.hpp"

namespace moesim::cli {

// Where presets, experiment files and plots/ live, and why there (for messages).
struct DataDir {
  std::filesystem::path path;
  std::string origin;
};
// The first of: $MOESIM_DATA_DIR; $MOESIM_DATA (its older name); the installed share/moesim
// beside the executable (<bin>/../share/moesim) when it holds the presets; the source tree this
// moesim was built from (none in a Python wheel's build).
DataDir find_data_dir();
inline std::filesystem::path data_dir() {
  return find_data_dir().path;
}
// The preset folders under data_dir(), by kind of file.
inline constexpr std::string_view kModelPresets = "experiments/models";
inline constexpr std::string_view kClusterPresets = "topologies/presets";
inline constexpr std::string_view kProfilePresets = "calibrate/profiles";
inline constexpr std::string_view kImplementationPresets = "experiments/implementations";
// The preset names in one of those folders (file names without .yaml), sorted, comma-separated:
// for help texts.
std::string preset_names(std::string_view preset_dir);
// A file named by path (relative to `base_dir`, then the working directory) or by preset name
// (<data>/<preset_dir>/<name>.yaml). Throws ConfigError listing what was tried.
std::filesystem::path resolve_file(const std::string& value, const std::filesystem::path& base_dir,
                                   std::string_view preset_dir, std::string_view key);

// out/<name>, the default output folder of an experiment named `name`. Throws ConfigError
// about `name` when it would put the folder elsewhere (a path separator, "." or "..") or is
// empty.
std::filesystem::path default_output(const std::string& name);

// Throws ConfigError when `output` (given by `option`) is the same file as `input`: a command
// never overwrites what it read.
void refuse_overwriting_input(const std::filesystem::path& output,
                              const std::filesystem::path& input, std::string_view option);

// An assignment "cluster.<key>=<value>" is one to the cluster file: appended to cluster_set
// (the experiment's `cluster` is a file name). Anything else is applied to the document.
void apply_assignment(config::Document& document, std::string_view assignment);

// The document of a --model value: a model file (YAML, with its bases), or a Hugging Face
// config.json (read as `model: {hf_config: FILE}`).
config::Document load_model_document(const std::filesystem::path& model_file);
// Reads an experiment, first replacing `model.hf_config: FILE` (relative to the file that wrote
// it, or to `base_dir` when --set did) by the model it describes (keys written beside it win). What
// the import used, approximated and ignored goes to `report` when given.
ExperimentConfig read_experiment(config::Document& document, const std::filesystem::path& base_dir,
                                 std::ostream* report = nullptr);
// The experiment's cluster (with its cluster_set) and cost model; files relative to base_dir.
topo::Cluster load_cluster_of(const ExperimentConfig& e, const std::filesystem::path& base_dir);
cost::CostModel load_cost_of(const ExperimentConfig& e, const std::filesystem::path& base_dir);
model::Implementation load_implementation_of(const ExperimentConfig& e,
                                             const std::filesystem::path& base_dir);
// What a study runs on, besides its own keys: the cluster, the GPU's cost model and the
// framework's implementation.
struct StudyInputs {
  topo::Cluster cluster;
  cost::CostModel cost;
  model::Implementation implementation;
  std::string routing_trace;  // routing.trace, relative to the experiment's folder (else as given)
};
StudyInputs load_inputs_of(const ExperimentConfig& e, const std::filesystem::path& base_dir);

// The results of one schedule, and how they are written (report/study_summary.hpp).
using report::PointResult;
using report::StudyOutputs;

model::Study make_study(const ExperimentConfig& e, const model::ScheduleConfig& schedule,
                        const StudyInputs& inputs);
// The experiment with the files it names by path (cluster, profile, implementation,
// routing.trace) made absolute, so that a resolved.yaml written elsewhere reruns as it ran.
// Preset names stay names.
ExperimentConfig with_absolute_paths(ExperimentConfig e, const std::filesystem::path& base_dir);

// The experiment's schedules (the default one if none is listed). Throws ConfigError if one has
// no name, or two would write the same files (the same name, once made file-safe).
std::vector<model::ScheduleConfig> schedules_of(const ExperimentConfig& e);
// Checks every schedule of the experiment (model::check_study) before any runs. A problem with a
// schedule's own key is rethrown about the key in the experiment's list, "schedules[i].<key>",
// so that Document::located() finds where it was written.
void check_schedules(const ExperimentConfig& e, const StudyInputs& inputs);
// A schedule's name as it appears in file names: characters other than letters, digits and
// - _ + . become _.
std::string file_safe(std::string name);

// Simulates one schedule of the experiment.
PointResult run_point(const ExperimentConfig& e, const model::ScheduleConfig& schedule,
                      const StudyInputs& inputs, const StudyOutputs& outputs,
                      const core::ProgressCallback& progress);

}  // namespace moesim::cli
