#pragma once
// Runs a MoE study (one experiment, each of its schedules) and formats what it found: the
// summary table and CSV (one row per schedule), per-rank breakdowns, traces and op DAGs.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cost/cost_model.hpp"
#include "experiment.hpp"
#include "model/simulate.hpp"
#include "report/breakdown.hpp"
#include "topologies/cluster.hpp"

namespace moesim::cli {

// Where presets live: $MOESIM_DATA, else the source tree moesim was built from.
std::filesystem::path data_dir();
// A file named by path (relative to `base_dir`, then the working directory) or by preset name
// (<data>/<preset_dir>/<name>.yaml). Throws ConfigError listing what was tried.
std::filesystem::path resolve_file(const std::string& value, const std::filesystem::path& base_dir,
                                   const std::string& preset_dir, std::string_view key);

struct PointResult {
  model::ScheduleConfig schedule;
  report::Breakdown breakdown;
  double a2a_bytes = 0;
  std::int64_t tokens = 0;
  std::size_t ops = 0;
  std::uint64_t transfers = 0;
  std::string trace;  // Chrome JSON, when asked for
  std::string dag;    // op DAG dump, when asked for
};

struct StudyOutputs {
  bool trace = false;
  bool dag = false;
};

model::Study make_study(const ExperimentConfig& e, const model::ScheduleConfig& schedule);
std::vector<model::ScheduleConfig> schedules_of(const ExperimentConfig& e);

PointResult run_point(const ExperimentConfig& e, const model::ScheduleConfig& schedule,
                      const topo::Cluster& cluster, const cost::CostModel& cost,
                      const StudyOutputs& outputs, const core::ProgressCallback& progress);

// experiment,point,schedule,mode,time_ms,speedup,a2a_ms,a2a_exposed_ms,compute_ms,tp_comm_ms,
// dp_comm_ms,idle_ms,tokens_per_s,a2a_gib, then compute by category. The first result is the
// baseline of `speedup`.
std::string summary_csv(const std::string& experiment, model::Mode mode,
                        const std::vector<PointResult>& results);
// Side by side, with what each schedule's saving against the baseline comes from.
std::string summary_table(model::Mode mode, const std::vector<PointResult>& results);

// "cdac", "dcca", "lsh", "scmoe", "dcca+scmoe", "lsh+pipe4", "2d", "pos3", ...: a schedule from
// its name. Throws ConfigError for an unknown part.
model::ScheduleConfig schedule_from_name(const std::string& name);

}  // namespace moesim::cli
