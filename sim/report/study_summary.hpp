#pragma once
// What a MoE study found, per schedule and side by side: each schedule's breakdown, all-to-all
// volume and memory floor (PointResult); the summary CSV (one row per schedule, or per sweep
// point and schedule) and the terminal tables: times and speedups, where each saving comes from
// (fewer all-to-all bytes, more of the exchange hidden, compute), and which schedules need more
// device memory than the GPU has.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "breakdown.hpp"
#include "cost/profile.hpp"
#include "model/memory.hpp"
#include "model/parameters.hpp"
#include "model/serving.hpp"
#include "model/simulate.hpp"

namespace moesim::report {

struct PointResult {
  model::ScheduleConfig schedule;
  report::Breakdown breakdown;
  double a2a_bytes = 0;
  model::MemoryFloor memory;              // per GPU
  model::Footprint footprint;             // the model the schedule makes (whole)
  std::string gpu;                        // the profile's name
  std::optional<double> memory_capacity;  // bytes per GPU, when the profile gives it
  // The memory floor within the capacity (or no capacity to check against).
  bool fits() const { return !memory_capacity || memory.total() <= *memory_capacity; }
  // For a progress line: "; does not fit: X GiB per GPU" when it does not, else nothing.
  std::string fit_note() const;
  std::int64_t tokens = 0;
  std::size_t ops = 0;
  std::uint64_t transfers = 0;
  std::optional<model::ServingMetrics> serving;  // inference
  std::string trace;                             // Chrome JSON, when asked for
  std::string dag;                               // op DAG dump, when asked for
};

struct StudyOutputs {
  bool trace = false;
  bool dag = false;
  // Traces: a counter track for each of this many busiest links (by bytes carried).
  std::size_t trace_links = 32;
};

// One schedule's results from its simulation (`profile`: the GPU's, for the memory check).
PointResult point_result(const model::Study& study, const model::Simulation& sim,
                         const cost::Profile& profile, const StudyOutputs& outputs);

// The numeric cells of a summary.csv row (NaN: empty), in the order of its columns from `gpus`
// on, without `speedup`: gpus, time_ms, a2a_ms, a2a_exposed_ms, compute_ms, tp_comm_ms,
// dp_comm_ms, idle_ms, tokens_per_s (inference only), a2a_gib, memory_gib (model::MemoryFloor),
// host_ms, the serving columns (inference only), then compute by category.
std::vector<double> summary_values(model::Mode mode, const PointResult& r, std::int64_t gpus);
std::size_t summary_value_count();
// Inference's serving columns after host_ms: ttft_ms, tpot_ms, e2e_mean_ms, e2e_p90_ms,
// prefill_tokens_per_s, decode_tokens_per_s (empty in training).
inline constexpr std::size_t kServingColumns = 6;
inline constexpr std::size_t kSummaryTimeColumn = 1, kSummaryTokensColumn = 8,
                             kSummaryGibColumn = 9, kSummaryMemoryColumn = 10,
                             kSummaryHostColumn = 11;

struct SummaryRow {
  std::string point, schedule;
  model::Mode mode = model::Mode::kTrain;
  std::string implementation;      // as the experiment names it (a preset or a file)
  std::vector<std::string> extra;  // cells of the extra columns (a sweep's axes)
  std::vector<double> values;      // summary_values()
  double baseline_ms = 0;          // time of the point's baseline schedule: speedup = it / time
};
// One row per schedule of one study; the point is the schedule's name, the first the baseline.
std::vector<SummaryRow> summary_rows(model::Mode mode, const std::string& implementation,
                                     std::int64_t gpus, const std::vector<PointResult>& results);
// experiment,point,schedule,mode,implementation,<extra
// columns>,gpus,time_ms,speedup,a2a_ms,a2a_exposed_ms,
// compute_ms,tp_comm_ms,dp_comm_ms,idle_ms,tokens_per_s,a2a_gib,memory_gib,host_ms,ttft_ms,tpot_ms,
// e2e_mean_ms,e2e_p90_ms,prefill_tokens_per_s,decode_tokens_per_s, then compute by
// category.
// Whether summary.csv has a column of that name of its own (an extra column may not repeat it).
bool is_summary_column(std::string_view name);
std::string summary_csv(const std::string& experiment,
                        const std::vector<std::string>& extra_columns,
                        const std::vector<SummaryRow>& rows);
// Side by side, with what each schedule's saving against the baseline comes from, which change
// the model against the baseline (marked *, with what changed), and which need more device
// memory than the GPU has.
std::string summary_table(model::Mode mode, const std::vector<PointResult>& results);

}  // namespace moesim::report
