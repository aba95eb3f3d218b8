// The moesim command line. Only here do errors become messages and exit codes.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "build_info.hpp"
#include "config/error.hpp"
#include "profile_command.hpp"
#include "run_command.hpp"

namespace {

constexpr int kExitRuntimeError = 1;  // the input was fine, the run failed (deadlock, disk)
constexpr int kExitUserError = 2;     // bad command line or configuration
constexpr int kExitInternalError = 3;

std::string version_line() {
  const auto on = [](bool b) { return b ? "on" : "off"; };
  return fmt::format("moesim {} (CUDA {}, NCCL {}, MPI {})", moesim::cli::kVersion,
                     on(moesim::cli::kHaveCuda), on(moesim::cli::kHaveNccl),
                     on(moesim::cli::kHaveMpi));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"moesim: simulate distributed Mixture-of-Experts training and inference"};
  app.set_version_flag("--version", version_line());
  app.require_subcommand(1);

  moesim::cli::RunOptions run_options;
  std::string experiment;
  auto* run = app.add_subcommand("run", "Simulate an experiment file (or the embedded default)");
  run->add_option("experiment", experiment, "Experiment YAML; omit for the embedded default")
      ->check(CLI::ExistingFile);
  run->add_option("--set", run_options.overrides,
                  "Override a key: --set synthetic.ranks=16 (repeatable)")
      ->take_all();
  run->add_option("--out", run_options.out, "Output folder (default: out/<name>)");
  run->add_flag("--trace", run_options.trace, "Also write a Chrome/Perfetto trace.json");
  bool quiet = false;
  run->add_flag("-q,--quiet", quiet, "No progress on stderr");

  moesim::cli::ProfileOptions profile_options;
  auto* profile = app.add_subcommand(
      "profile", "Check a GPU profile and show how the cost model prices kernels with it");
  profile->add_option("profile", profile_options.profile, "Profile YAML (calibrate/profiles/...)")
      ->required()
      ->check(CLI::ExistingFile);
  profile->add_option("--sweep", profile_options.sweep_csv,
                      "Write a GEMM efficiency sweep (CSV) for plots/gemm_efficiency.py");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUserError;
  }

  try {
    if (*run) {
      if (!experiment.empty()) run_options.experiment = experiment;
      run_options.progress = !quiet;
      moesim::cli::run(run_options, std::cout, std::cerr);
    } else if (*profile) {
      moesim::cli::profile(profile_options, std::cout);
    }
    return 0;
  } catch (const moesim::config::ConfigError& e) {
    std::cerr << "moesim: error: " << e.what() << '\n';
    return kExitUserError;
  } catch (const moesim::Error& e) {
    std::cerr << "moesim: error: " << e.what() << '\n';
    return kExitRuntimeError;
  } catch (const std::exception& e) {
    std::cerr << "moesim: internal error (please report): " << e.what() << '\n';
    return kExitInternalError;
  }
}
