#pragma once
// `moesim run [EXPERIMENT.yaml] [--set key=value ...] [--out DIR] [--trace]`
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "experiment.hpp"
#include "report/output_dir.hpp"
#include "study.hpp"

namespace moesim::cli {

struct RunOptions {
  std::optional<std::string> experiment;  // none: the embedded default
  std::vector<std::string> overrides;     // key.path=value
  std::optional<std::string> out;         // default: out/<name>
  bool trace = false;
  bool dag = false;  // dump each schedule's op DAG (dag_<schedule>.csv) for diffing
  bool progress = true;
  int jobs = 1;  // schedules (or a sweep's points) simulated at once
};

// Validates everything before writing anything; throws moesim::Error (ConfigError for input).
void run(const RunOptions& options, std::ostream& out, std::ostream& err);

// Shared with `predict`: run every schedule of a MoE study, then write its outputs. With jobs
// > 1 that many schedules are simulated at once, each reported on `err` as it ends instead of
// op by op; the results are the same, in the schedules' order.
std::vector<PointResult> run_study(const ExperimentConfig& e, const std::filesystem::path& base_dir,
                                   const StudyOutputs& outputs, bool progress, std::ostream& err,
                                   int jobs = 1);
void write_study(report::OutputDir& dir, const ExperimentConfig& e, const std::string& resolved,
                 const std::vector<PointResult>& results, std::ostream& out);

}  // namespace moesim::cli
