#pragma once
// Measured against predicted, per schedule and phase: the rows of validation.csv, their error
// statistics and the report. Plain data and text, so recorded runs are checked anywhere.
//
// A phase is one of the simulator's op categories (model::Category): the busy time of its ops
// on a rank, the largest over ranks, measured by the replay and predicted by the simulator; the
// row "total" is the whole run (the slowest rank's first issue to last completion, against the
// simulated makespan). A phase the replay does not run (e.g. data-parallel gradient traffic,
// the host's issue time) has no measurement and is listed, not compared.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace moesim::validate {

inline constexpr const char* kTotalPhase = "total";

struct PhaseRow {
  std::string schedule;
  std::string phase;
  std::optional<double> measured_ms;  // empty: not replayed
  double predicted_ms = 0;
};

// The median of `values` (the mean of the middle two for an even count); empty for none.
std::optional<double> median(std::vector<double> values);

// (predicted - measured) / measured, in percent; empty without a positive measurement.
std::optional<double> error_percent(const PhaseRow& row);

struct ErrorSummary {
  std::size_t phases = 0;  // phase rows compared (not "total")
  std::optional<double> median_phase_abs_percent;
  std::optional<double> worst_phase_abs_percent;
  std::string worst_phase;  // "schedule/phase"
  std::size_t totals = 0;
  std::optional<double> median_total_abs_percent;
};
ErrorSummary summarise(const std::vector<PhaseRow>& rows);

// schedule,phase,measured_ms,predicted_ms,error_pct (empty cells where there is nothing).
std::string validation_csv(const std::vector<PhaseRow>& rows);
// Throws moesim::Error naming the file on a missing column or a bad number.
std::vector<PhaseRow> read_validation_csv(const std::filesystem::path& path);

// The terminal table: one block per schedule, a line per phase.
std::string validation_table(const std::vector<PhaseRow>& rows);

struct RunInfo {
  std::string command, date, device, backend, comm, experiment, profile;
  int ranks = 1;
  int warmup = 0, reps = 0;
  std::vector<std::string> notes;  // what the replay approximated or left out
};
std::string report_markdown(const RunInfo& run, const std::vector<PhaseRow>& rows);

}  // namespace moesim::validate
