#pragma once
// Runs a MoE study (one experiment, each of its schedules) and formats what it found: the
// summary table and CSV (one row per schedule), per-rank breakdowns, traces and op DAGs.
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
#include "report/breakdown.hpp"
#include "topologies/cluster.hpp"

namespace moesim::cli {

// Where presets live: $MOESIM_DATA, else the source tree moesim was built from.
std::filesystem::path data_dir();
// The preset folders under data_dir(), by kind of file.
inline constexpr std::string_view kModelPresets = "experiments/models";
inline constexpr std::string_view kClusterPresets = "topologies/presets";
inline constexpr std::string_view kProfilePresets = "calibrate/profiles";
// A file named by path (relative to `base_dir`, then the working directory) or by preset name
// (<data>/<preset_dir>/<name>.yaml). Throws ConfigError listing what was tried.
std::filesystem::path resolve_file(const std::string& value, const std::filesystem::path& base_dir,
                                   std::string_view preset_dir, std::string_view key);

// An assignment "cluster.<key>=<value>" is one to the cluster file: appended to cluster_set
// (the experiment's `cluster` is a file name). Anything else is applied to the document.
void apply_assignment(config::Document& document, std::string_view assignment);
// The experiment's cluster (with its cluster_set) and cost model; files relative to base_dir.
topo::Cluster load_cluster_of(const ExperimentConfig& e, const std::filesystem::path& base_dir);
cost::CostModel load_cost_of(const ExperimentConfig& e, const std::filesystem::path& base_dir);

struct PointResult {
  model::ScheduleConfig schedule;
  report::Breakdown breakdown;
  double a2a_bytes = 0;
  model::MemoryFloor memory;              // per GPU
  std::string gpu;                        // the profile's name
  std::optional<double> memory_capacity;  // bytes per GPU, when the profile gives it
  // The memory floor within the capacity (or no capacity to check against).
  bool fits() const { return !memory_capacity || memory.total() <= *memory_capacity; }
  // For a progress line: "; does not fit: X GiB per GPU" when it does not, else nothing.
  std::string fit_note() const;
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
// The experiment's schedules (the default one if none is listed). Throws ConfigError if one has
// no name, or two would write the same files (the same name, once made file-safe).
std::vector<model::ScheduleConfig> schedules_of(const ExperimentConfig& e);
// Checks every schedule of the experiment (model::check_study) before any runs. A problem with a
// schedule's own key is rethrown about the key in the experiment's list, "schedules[i].<key>",
// so that Document::located() finds where it was written.
void check_schedules(const ExperimentConfig& e, const topo::Cluster& cluster,
                     const cost::CostModel& cost);
// A schedule's name as it appears in file names: characters other than letters, digits and
// - _ + . become _.
std::string file_safe(std::string name);

PointResult run_point(const ExperimentConfig& e, const model::ScheduleConfig& schedule,
                      const topo::Cluster& cluster, const cost::CostModel& cost,
                      const StudyOutputs& outputs, const core::ProgressCallback& progress);

// The numeric cells of a summary.csv row (NaN: empty), in the order of its columns from `gpus`
// on, without `speedup`: gpus, time_ms, a2a_ms, a2a_exposed_ms, compute_ms, tp_comm_ms,
// dp_comm_ms, idle_ms, tokens_per_s (inference only), a2a_gib, memory_gib (model::MemoryFloor),
// then compute by category.
std::vector<double> summary_values(model::Mode mode, const PointResult& r, std::int64_t gpus);
std::size_t summary_value_count();
inline constexpr std::size_t kSummaryTimeColumn = 1, kSummaryTokensColumn = 8,
                             kSummaryGibColumn = 9, kSummaryMemoryColumn = 10;

struct SummaryRow {
  std::string point, schedule;
  model::Mode mode = model::Mode::kTrain;
  std::vector<std::string> extra;  // cells of the extra columns (a sweep's axes)
  std::vector<double> values;      // summary_values()
  double baseline_ms = 0;          // time of the point's baseline schedule: speedup = it / time
};
// One row per schedule of one study; the point is the schedule's name, the first the baseline.
std::vector<SummaryRow> summary_rows(const ExperimentConfig& e,
                                     const std::vector<PointResult>& results);
// experiment,point,schedule,mode,<extra columns>,gpus,time_ms,speedup,a2a_ms,a2a_exposed_ms,
// compute_ms,tp_comm_ms,dp_comm_ms,idle_ms,tokens_per_s,a2a_gib,memory_gib, then compute by
// category.
std::string summary_csv(const std::string& experiment,
                        const std::vector<std::string>& extra_columns,
                        const std::vector<SummaryRow>& rows);
// Side by side, with what each schedule's saving against the baseline comes from, and which
// need more device memory than the GPU has.
std::string summary_table(model::Mode mode, const std::vector<PointResult>& results);

}  // namespace moesim::cli
