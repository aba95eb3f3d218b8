#pragma once
// What moesim calibrate leaves in its folder:
//   profile.yaml      the GPU profile (provenance.kind measured), for predict/run/sweep --profile
//   network.yaml      the network overlay for a cluster file (runs with collectives only)
//   calibration.csv   every measured case (measurement.hpp), the fits' input
//   residuals.csv     every case's measured time beside the fitted profile's price
//   report.md         what ran, what was fitted, how well it fits, what was skipped
// Each file is written whole or not at all (report::OutputDir).
#include <filesystem>
#include <string>
#include <vector>

#include "fit.hpp"
#include "measurement.hpp"
#include "network_fit.hpp"

namespace moesim::calibrate {

struct RunInfo {
  std::string command, date;
  std::string backend, device, driver, runtime, blas, comm;
  int ranks = 1, hosts = 1;
  std::string model;
  bool quick = false;
  std::string launch = "stream";
  std::string link;  // the collectives' link class ("" without collectives)
  double wall_seconds = 0;
};

struct CalibrationOutputs {
  const std::vector<Measurement>& measurements;
  const std::vector<std::string>& skipped;
  const std::vector<std::pair<std::string, std::string>>& ops;  // (name, what) as run
  const ProfileFit* profile = nullptr;  // null: no profile written (results were wrong)
  const NetworkFit& network;
};

// Writes the files into `dir`; returns their paths, profile first.
std::vector<std::filesystem::path> write_outputs(const std::filesystem::path& dir,
                                                 const RunInfo& run,
                                                 const CalibrationOutputs& outputs);

// The report's text (for tests and for printing).
std::string report_markdown(const RunInfo& run, const CalibrationOutputs& outputs);
// residuals.csv's text.
std::string residuals_csv(const CalibrationOutputs& outputs);

}  // namespace moesim::calibrate
