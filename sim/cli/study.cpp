#include "study.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "config/enum_name.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "cost/profile.hpp"
#include "model/hf_config.hpp"
#include "topologies/build.hpp"

// The source tree moesim was built from (empty: none), and the installed data folder relative
// to the installed executable's folder (sim/cli/CMakeLists.txt).
#ifndef MOESIM_SOURCE_DATA_DIR
#define MOESIM_SOURCE_DATA_DIR "."
#endif
#ifndef MOESIM_INSTALLED_DATA_FROM_BIN
#define MOESIM_INSTALLED_DATA_FROM_BIN "../share/moesim"
#endif

namespace moesim::cli {

namespace {
// A YAML double-quoted scalar.
std::string quote_yaml(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The installed data folder beside the running executable, whether or not it exists; empty
// when the executable's path is unknown.
std::filesystem::path installed_data_dir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return {};
  return (exe.parent_path() / MOESIM_INSTALLED_DATA_FROM_BIN).lexically_normal();
}
}  // namespace

config::Document load_model_document(const std::filesystem::path& model_file) {
  // A .json file is a Hugging Face config unless it is a moesim model file written as JSON (one
  // with a `model` section), which is read as any other.
  const auto hugging_face = [&model_file] {
    if (model_file.extension() != ".json") return false;
    std::ifstream in(model_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str().find("\"model\"") == std::string::npos;
  };
  if (hugging_face()) {
    return config::Document::from_string(
        "model:\n  hf_config: " +
            quote_yaml(std::filesystem::absolute(model_file).lexically_normal().string()) + "\n",
        "--model " + model_file.string());
  }
  return config::Document::load_file(model_file.string(), data_dir() / kModelPresets);
}

ExperimentConfig read_experiment(config::Document& document, const std::filesystem::path& base_dir,
                                 std::ostream* report) {
  namespace fs = std::filesystem;
  const auto& model = document.root()["model"];
  if (model.IsDefined() && model.IsMap() && model["hf_config"].IsDefined()) {
    const auto& value = model["hf_config"];
    if (!value.IsScalar() || value.Scalar().empty()) {
      throw document.error_at("model.hf_config", "expected the path of a config.json");
    }
    // Relative to the file that wrote it (a base file's, an experiment's); from --set, to
    // base_dir.
    const auto written = document.file_of("model.hf_config");
    std::error_code ec;
    const auto from =
        written && fs::is_regular_file(*written, ec) ? fs::path(*written).parent_path() : base_dir;
    const auto file =
        fs::path(value.Scalar()).is_absolute() ? fs::path(value.Scalar()) : from / value.Scalar();
    std::ifstream in(file, std::ios::binary);
    if (!fs::is_regular_file(file, ec) || !in) {
      throw document.error_at("model.hf_config",
                              fmt::format("cannot read '{}' (not a readable file)", file.string()));
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto imported = model::import_hf_config_text(text.str(), file.string());
    // Keys written beside hf_config win: say so where the file's value is not the one used.
    std::vector<std::string> own;
    for (auto it = model.begin(); it != model.end(); ++it) {
      const auto key = it->first.Scalar();
      own.push_back("model." + key);
      if (!it->second.IsMap()) continue;
      for (auto inner = it->second.begin(); inner != it->second.end(); ++inner) {
        own.push_back("model." + key + "." + inner->first.Scalar());
      }
    }
    for (auto& used : imported.used) {
      const auto field = used.substr(used.find(" -> ") + 4);
      if (std::find(own.begin(), own.end(), field) != own.end()) {
        used += fmt::format(" (not used: {} sets {} itself)",
                            document.file_of(field).value_or("--set"), field);
      }
    }
    document.import_section("model", "hf_config", imported.model, file.string());
    if (report != nullptr) {
      const auto list = [](const std::vector<std::string>& items) {
        std::string out;
        for (const auto& item : items) out += "\n    " + item;
        return out.empty() ? std::string("\n    (none)") : out;
      };
      *report << fmt::format(
          "[moesim] {} ({}):\n  used:{}\n  approximated:{}\n  ignored (changes nothing "
          "moesim prices):{}\n",
          file.string(), imported.architecture, list(imported.used), list(imported.approximated),
          list(imported.ignored));
    }
  }
  return config::read_document<ExperimentConfig>(document);
}

DataDir find_data_dir() {
  for (const char* name : {"MOESIM_DATA_DIR", "MOESIM_DATA"}) {
    if (const char* env = std::getenv(name); env && *env) return {env, fmt::format("${}", name)};
  }
  static const std::filesystem::path installed = installed_data_dir();
  const std::filesystem::path source = MOESIM_SOURCE_DATA_DIR;
  std::error_code ec;
  if (!installed.empty() &&
      (source.empty() || std::filesystem::is_directory(installed / kModelPresets, ec))) {
    return {installed, "the installation beside the executable"};
  }
  return {source, "the source tree moesim was built from"};
}

std::string preset_names(std::string_view preset_dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir() / preset_dir, ec)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::filesystem::path resolve_file(const std::string& value, const std::filesystem::path& base_dir,
                                   std::string_view preset_dir, std::string_view key) {
  namespace fs = std::filesystem;
  const auto data = find_data_dir();
  std::vector<fs::path> tried;
  if (!value.empty()) {
    tried.push_back(base_dir / value);
    tried.push_back(fs::path(value));
    tried.push_back(config::preset_path(data.path / preset_dir, value));
  }
  // A data folder without presets at all: say where it came from.
  std::string missing = fmt::format("{}: '{}' is neither a file nor a preset name", key, value);
  std::error_code ec;
  if (!fs::is_directory(data.path / preset_dir, ec)) {
    missing += fmt::format(", and the data folder {} (from {}) has no {}/", data.path.string(),
                           data.origin, preset_dir);
  }
  return config::first_file(tried, missing);
}

void apply_assignment(config::Document& document, std::string_view assignment) {
  constexpr std::string_view kClusterPrefix = "cluster.";
  if (assignment.substr(0, kClusterPrefix.size()) != kClusterPrefix) {
    document.apply_override(assignment);
    return;
  }
  // Appended to the list: later assignments to the same key win, as --set does.
  const std::string item(assignment.substr(kClusterPrefix.size()));
  const YAML::Node root = document.root();
  YAML::Node list = root["cluster_set"];
  std::string value = "[";
  if (list.IsDefined() && list.IsSequence()) {
    for (const auto& item_node : list) value += quote_yaml(item_node.Scalar()) + ", ";
  }
  value += quote_yaml(item) + "]";
  document.apply_override("cluster_set=" + value);
}

topo::Cluster load_cluster_of(const ExperimentConfig& e, const std::filesystem::path& base_dir) {
  auto doc = config::Document::load_file(
      resolve_file(e.cluster, base_dir, kClusterPresets, "cluster").string(),
      data_dir() / kClusterPresets);
  // Named as "cluster.<key>=<value>", which is what both --set and cluster_set mean.
  for (const auto& assignment : e.cluster_set)
    doc.apply_override(assignment, "cluster." + assignment);
  return topo::load_cluster(doc);
}

cost::CostModel load_cost_of(const ExperimentConfig& e, const std::filesystem::path& base_dir) {
  return cost::CostModel(
      cost::load_profile(resolve_file(e.profile, base_dir, kProfilePresets, "profile").string()));
}

model::Implementation load_implementation_of(const ExperimentConfig& e,
                                             const std::filesystem::path& base_dir) {
  return model::read_implementation(config::Document::load_file(
      resolve_file(e.implementation, base_dir, kImplementationPresets, "implementation").string()));
}

StudyInputs load_inputs_of(const ExperimentConfig& e, const std::filesystem::path& base_dir) {
  // A trace named relative to the experiment is found beside it; otherwise as given (from the
  // working directory, e.g. one passed with --set).
  std::string trace = e.routing.trace;
  if (!trace.empty() && std::filesystem::path(trace).is_relative() &&
      std::filesystem::exists(base_dir / trace)) {
    trace = (base_dir / trace).string();
  }
  return {load_cluster_of(e, base_dir), load_cost_of(e, base_dir),
          load_implementation_of(e, base_dir), trace};
}

std::filesystem::path default_output(const std::string& name) {
  if (name.empty() || name == "." || name == ".." ||
      name.find_first_of("/\\") != std::string::npos || name.find('\0') != std::string::npos) {
    throw config::ConfigError::about(
        "name", fmt::format("'{}' would not name a folder inside out/: use letters, digits and "
                            "- _ + . without a path separator (or give --out)",
                            name));
  }
  return std::filesystem::path("out") / name;
}

void refuse_overwriting_input(const std::filesystem::path& output,
                              const std::filesystem::path& input, std::string_view option) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::weakly_canonical(output, ec) == fs::weakly_canonical(input, ec)) {
    throw config::ConfigError(fmt::format("{} {}: that is the input file {}; give another path",
                                          option, output.string(), input.string()));
  }
}

ExperimentConfig with_absolute_paths(ExperimentConfig e, const std::filesystem::path& base_dir) {
  namespace fs = std::filesystem;
  const auto absolute = [&](std::string& value, std::string_view preset_dir, const char* key) {
    const bool path = value.find('/') != std::string::npos || value.ends_with(".yaml");
    if (value.empty() || !path) return;
    value =
        fs::absolute(resolve_file(value, base_dir, preset_dir, key)).lexically_normal().string();
  };
  absolute(e.cluster, kClusterPresets, "cluster");
  absolute(e.profile, kProfilePresets, "profile");
  absolute(e.implementation, kImplementationPresets, "implementation");
  auto& trace = e.routing.trace;
  if (!trace.empty() && fs::path(trace).is_relative()) {
    const auto beside = base_dir / trace;
    trace = fs::absolute(fs::exists(beside) ? beside : fs::path(trace)).lexically_normal().string();
  }
  return e;
}

model::Study make_study(const ExperimentConfig& e, const model::ScheduleConfig& schedule,
                        const StudyInputs& inputs) {
  model::Study s;
  s.model = e.model;
  s.parallel = e.parallel;
  s.routing = e.routing;
  s.routing.trace = inputs.routing_trace;
  s.schedule = schedule;
  s.mode = e.mode;
  s.training = e.training;
  s.inference = e.inference;
  s.implementation = inputs.implementation;
  s.window = e.window;
  s.limits = e.limits;
  return s;
}

std::vector<model::ScheduleConfig> schedules_of(const ExperimentConfig& e) {
  if (e.schedules.empty()) return {model::ScheduleConfig{}};
  std::map<std::string, std::string> by_file;  // file-safe name -> name
  for (const auto& s : e.schedules) {
    if (s.name.empty()) throw config::ConfigError("schedules: a schedule has no name");
    const auto [it, fresh] = by_file.emplace(file_safe(s.name), s.name);
    if (fresh) continue;
    throw config::ConfigError(
        it->second == s.name
            ? fmt::format("schedules: '{}' is named twice; each schedule needs its own name",
                          s.name)
            : fmt::format("schedules: '{}' and '{}' would both write breakdown_{}.csv; give "
                          "them names that differ in letters, digits or - _ + .",
                          it->second, s.name, it->first));
  }
  return e.schedules;
}

void check_schedules(const ExperimentConfig& e, const StudyInputs& inputs) {
  const auto schedules = schedules_of(e);
  for (std::size_t i = 0; i < schedules.size(); ++i) {
    try {
      model::check_study(make_study(e, schedules[i], inputs), inputs.cluster, inputs.cost);
    } catch (const config::ConfigError& error) {
      constexpr std::string_view kOwn = "schedule.";
      if (e.schedules.empty() || !error.key().starts_with(kOwn)) throw;
      throw config::ConfigError::about(
          fmt::format("schedules[{}].{}", i, error.key().substr(kOwn.size())), error.problem());
    }
  }
}

std::string file_safe(std::string name) {
  for (auto& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '+' &&
        c != '.')
      c = '_';
  }
  return name;
}

PointResult run_point(const ExperimentConfig& e, const model::ScheduleConfig& schedule,
                      const StudyInputs& inputs, const StudyOutputs& outputs,
                      const core::ProgressCallback& progress) {
  const auto study = make_study(e, schedule, inputs);
  model::BuildOptions options;
  options.op_args = outputs.trace || outputs.dag;
  options.link_tracks = outputs.trace ? outputs.trace_links : 0;
  const auto sim =
      model::simulate(study, inputs.cluster, inputs.cost, e.network, options, progress);
  return report::point_result(study, sim, inputs.cost.profile(), outputs);
}

}  // namespace moesim::cli
