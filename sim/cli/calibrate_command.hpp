#pragma once
// `moesim calibrate [--model M] [--quick] [--out DIR] [--device cuda|host]`: measures this
// machine's GPU (or, with --device host, its CPU, to test the pipeline) with the harness of
// calibrate/, and writes a measured profile, a network overlay (under mpirun, one rank per
// GPU), calibration.csv, residuals.csv, report.md and calibration.png into DIR.
#include <iosfwd>
#include <string>

#include "calibrate/plan.hpp"

namespace moesim::cli {

struct CalibrateOptions {
  std::string model = "gpt3_xl_moe64";           // sizes the GEMM shapes and the per-token ops
  std::string cluster = "bigmac_4x8_a40_ib100";  // only to lay the model out for its shapes
  std::string out = "out/calibrate";
  std::string device = "cuda";    // cuda or host
  std::string link = "auto";      // the collectives' link class: auto, nvlink, pcie, network
  std::string launch = "stream";  // stream (events around each) or graph (CUDA-graph replays)
  std::string name;               // the profile's name (default: the device's)
  bool quick = false;
  bool figure = true;
  std::string command;  // the command line, for the provenance
};

// The model's GEMM shapes (forward GEMMs and their input-gradient GEMMs, of the CDAC, DCCA and
// LSH schedules) and layer sizes, as the workload builder lays the model out.
calibrate::ModelShapes model_shapes(const std::string& model, const std::string& cluster);

void calibrate_command(const CalibrateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace moesim::cli
