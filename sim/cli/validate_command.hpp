#pragma once
// `moesim validate EXPERIMENT --profile P [--device cuda|host] [--out DIR]`, one MPI rank per
// device: builds each schedule's programs as predict does, replays them with real kernels and
// collectives (sim/validate), simulates the same study on the same profile, and writes per
// schedule and phase the measured, predicted and error: validation.csv, report.md and
// validation.png.
#include <iosfwd>
#include <string>
#include <vector>

namespace moesim::cli {

struct ValidateOptions {
  std::string experiment;
  std::string profile;  // a file or a shipped profile's name
  std::string device = "cuda";
  std::string out = "out/validate";
  std::vector<std::string> overrides;  // --set key=value
  int warmup = 2;
  int reps = 5;
  std::string tokens;  // raw fp32 activations (tokens x hidden) for the LSH rate
  bool figure = true;
  bool quiet = false;
  std::string command;
};

void validate_command(const ValidateOptions& options, std::ostream& out, std::ostream& err);

}  // namespace moesim::cli
