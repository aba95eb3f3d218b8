// The moesim command line. Only here do errors become messages and exit codes.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <limits>
#include <string>

#include "build_info.hpp"
#include "calibrate_command.hpp"
#include "config/count.hpp"
#include "config/error.hpp"
#include "fidelity_command.hpp"
#include "figures_command.hpp"
#include "model/moe_shape.hpp"
#include "net/network_model.hpp"
#include "network_commands.hpp"
#include "predict_command.hpp"
#include "profile_command.hpp"
#include "report/interrupts.hpp"
#include "run_command.hpp"
#include "sweep_command.hpp"
#include "validate_command.hpp"

namespace {

constexpr int kExitRuntimeError = 1;  // the input was fine, the run failed (deadlock, disk)
constexpr int kExitUserError = 2;     // bad command line or configuration
constexpr int kExitInternalError = 3;
constexpr const char* kEcmpHelp =
    "Equal-cost paths: per_pair (hash of source and destination), per_flow (of each transfer "
    "too), off (the first path found)";
constexpr const char* kPxnHelp =
    "Traffic to another node relays over NVLink to the GPU on the destination's rail where that "
    "GPU has its own NIC, as NCCL does by default (--pxn, the default) or not (--no-pxn)";

// A count of at least 1 (jobs, peers in flight). CLI11's PositiveNumber would print its range
// up to the largest double.
const CLI::Validator kAtLeastOne(
    [](std::string& value) -> std::string {
      const auto n = moesim::config::count_from(value);
      if (!n) return fmt::format("{} is not a whole number of at least 1", value);
      if (*n > std::numeric_limits<int>::max()) {
        return fmt::format("{} is more than {}", value, std::numeric_limits<int>::max());
      }
      return {};
    },
    "INT >= 1");
const CLI::Validator kNotNegative(
    [](std::string& value) -> std::string {
      if (value == "0") return {};
      const auto n = moesim::config::count_from(value);
      if (!n) return fmt::format("{} is not a whole number of at least 0", value);
      if (*n > std::numeric_limits<int>::max()) {
        return fmt::format("{} is more than {}", value, std::numeric_limits<int>::max());
      }
      return {};
    },
    "INT >= 0");

std::string version_line() {
  const auto on = [](bool b) { return b ? "on" : "off"; };
  return fmt::format("moesim {} (CUDA {}, NCCL {}, MPI {})", moesim::cli::kVersion,
                     on(moesim::cli::kHaveCuda), on(moesim::cli::kHaveNccl),
                     on(moesim::cli::kHaveMpi));
}

}  // namespace

int main(int argc, char** argv) {
  // Ctrl-C or a kill removes a run's unfinished output folder (report/interrupts.hpp).
  const moesim::report::InterruptGuard interrupts;
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
  run->add_flag("--dag", run_options.dag, "Also dump each schedule's op DAG (dag_<schedule>.csv)");
  bool quiet = false;
  run->add_flag("-q,--quiet", quiet, "No progress on stderr");
  run->add_option("-j,--jobs", run_options.jobs,
                  "Schedules (a file with a sweep: points) simulated at once")
      ->check(kAtLeastOne);

  moesim::cli::SweepOptions sweep_options;
  auto* sweep = app.add_subcommand(
      "sweep", "Every point of an experiment's sweep grid into one summary.csv (-j N, mpirun)");
  sweep->add_option("experiment", sweep_options.experiment, "Experiment YAML with a sweep: grid")
      ->required()
      ->check(CLI::ExistingFile);
  sweep->add_option("--set", sweep_options.overrides, "Override a key before each point's own")
      ->take_all();
  sweep->add_option("--out", sweep_options.out, "Output folder (default: out/<name>)");
  sweep->add_option("-j,--jobs", sweep_options.jobs, "Points run at once on this machine")
      ->capture_default_str()
      ->check(kAtLeastOne);
  bool sweep_quiet = false;
  sweep->add_flag("-q,--quiet", sweep_quiet, "No progress on stderr");

  moesim::cli::FiguresOptions figures_options;
  auto* figures = app.add_subcommand(
      "figures", "Regenerate every figure of experiments/figures.yaml from scratch");
  figures->add_option("--out", figures_options.out, "Output folder")->capture_default_str();
  figures->add_option("-j,--jobs", figures_options.jobs, "Points run at once (default: all cores)")
      ->check(kAtLeastOne);
  figures->add_option("--only", figures_options.only, "Only these figures")->delimiter(',');
  bool figures_quiet = false;
  figures->add_flag("-q,--quiet", figures_quiet, "No progress on stderr");

  moesim::cli::FidelityOptions fidelity_options;
  auto* fidelity = app.add_subcommand(
      "fidelity", "Published measurements (experiments/fidelity) against the predictions");
  fidelity->add_option("paths", fidelity_options.paths,
                       "Case files or folders (default: experiments/fidelity)");
  fidelity->add_option("--out", fidelity_options.out, "Output folder")->capture_default_str();
  fidelity->add_option("-j,--jobs", fidelity_options.jobs, "Cases simulated at once")
      ->check(kAtLeastOne)
      ->capture_default_str();
  fidelity
      ->add_option("--max-median-error", fidelity_options.max_median_error,
                   "Fail when a suite's median absolute error exceeds this many percent")
      ->check(CLI::NonNegativeNumber);
  bool fidelity_quiet = false;
  fidelity->add_flag("-q,--quiet", fidelity_quiet, "No progress on stderr");

  moesim::cli::PredictOptions predict_options;
  auto* predict = app.add_subcommand(
      "predict",
      "Schedules side by side on one cluster: time, speedup, and why (no arguments: "
      "the embedded default)");
  predict
      ->add_option("--model", predict_options.model,
                   "Model YAML, preset name (experiments/models) or Hugging Face config.json")
      ->capture_default_str();
  predict
      ->add_option("--cluster", predict_options.cluster,
                   "Cluster YAML or preset name (topologies/presets)")
      ->capture_default_str();
  predict
      ->add_option("--profile", predict_options.profile,
                   "GPU profile YAML or name (calibrate/profiles)")
      ->capture_default_str();
  predict
      ->add_option("--implementation", predict_options.implementation,
                   "How the framework runs the model: preset name (experiments/implementations: " +
                       moesim::cli::preset_names(moesim::cli::kImplementationPresets) + ") or YAML")
      ->capture_default_str();
  predict
      ->add_option("--schedules", predict_options.schedules,
                   "Comma-separated schedule names, the first the baseline; a name joins parts "
                   "with '+' (dcca+scmoe, lsh+pipe4):\n" +
                       moesim::model::schedule_part_list())
      ->capture_default_str();
  bool train = false;
  auto* train_flag = predict->add_flag("--train", train, "Training iteration (default)");
  predict->add_flag("--infer", predict_options.infer, "Inference (prefill, then decode steps)")
      ->excludes(train_flag);
  predict
      ->add_option("--set", predict_options.overrides,
                   "Override a key: --set parallel.ep=16; a schedule's by its place in "
                   "--schedules: --set 'schedules[1].lsh.rate=0.1'; null removes a key: --set "
                   "model.moe.capacity_factor=null (repeatable)")
      ->take_all();
  predict->add_option("--out", predict_options.out, "Output folder")->capture_default_str();
  bool no_figure = false;
  predict->add_flag("--no-figure", no_figure, "Do not draw breakdown.png");
  predict->add_flag("--trace", predict_options.trace,
                    "Also write a Chrome/Perfetto trace per schedule, with the busiest links' "
                    "utilisation as counter tracks");
  bool predict_quiet = false;
  predict->add_flag("-q,--quiet", predict_quiet, "No progress on stderr");
  predict->add_option("-j,--jobs", predict_options.jobs, "Schedules simulated at once")
      ->check(kAtLeastOne)
      ->capture_default_str();

  moesim::cli::ProfileOptions profile_options;
  auto* profile = app.add_subcommand(
      "profile", "Check a GPU profile and show how the cost model prices kernels with it");
  profile
      ->add_option("profile", profile_options.profile, "Profile YAML or name (calibrate/profiles)")
      ->required();
  profile->add_option("--sweep", profile_options.sweep_csv,
                      "Write a GEMM efficiency sweep (CSV) for plots/gemm_efficiency.py");

  moesim::cli::CalibrateOptions calibrate_options;
  auto* calibrate = app.add_subcommand(
      "calibrate",
      "Measure this machine's GPU (one rank per GPU under mpirun for the collectives) and write "
      "a measured profile and network overlay");
  calibrate
      ->add_option("--model", calibrate_options.model,
                   "Model whose GEMM shapes and layer sizes the sweeps take: " +
                       moesim::cli::preset_names(moesim::cli::kModelPresets) + ", or a file")
      ->capture_default_str();
  calibrate
      ->add_option("--cluster", calibrate_options.cluster,
                   "Cluster the model is laid out on to read its shapes (its parallel "
                   "layout must fit)")
      ->capture_default_str();
  calibrate->add_flag("--quick", calibrate_options.quick,
                      "Fewer sizes and repetitions (minutes on one GPU, seconds on the host)");
  calibrate->add_option("--out", calibrate_options.out, "Output folder")->capture_default_str();
  calibrate
      ->add_option("--device", calibrate_options.device,
                   "cuda (this rank's GPU) or host (the CPU and MPI: tests the pipeline)")
      ->capture_default_str();
  calibrate
      ->add_option("--link", calibrate_options.link,
                   "Link class the collectives cross: auto (network across hosts, else "
                   "nvlink or pcie as the GPUs reach each other), nvlink, pcie, network")
      ->capture_default_str();
  calibrate
      ->add_option("--launch", calibrate_options.launch,
                   "stream (each run between CUDA events) or graph (replays of a CUDA graph)")
      ->capture_default_str();
  calibrate->add_option("--name", calibrate_options.name,
                        "The profile's name (default: the device's)");
  calibrate->add_flag(
      "--no-figure", [&](std::int64_t) { calibrate_options.figure = false; },
      "Do not draw calibration.png");

  moesim::cli::ValidateOptions validate_options;
  auto* validate = app.add_subcommand(
      "validate",
      "Replay an experiment's programs with real kernels and collectives (one rank per device "
      "under mpirun) and hold them against the prediction, per schedule and phase");
  validate->add_option("experiment", validate_options.experiment, "Experiment YAML (a MoE study)")
      ->required();
  validate
      ->add_option("--profile", validate_options.profile,
                   "GPU profile the prediction uses: a file (e.g. moesim calibrate's) or a name "
                   "in calibrate/profiles")
      ->required();
  validate
      ->add_option("--device", validate_options.device,
                   "cuda (this rank's GPU) or host (the CPU and MPI: tests the pipeline)")
      ->capture_default_str();
  validate->add_option("--out", validate_options.out, "Output folder")->capture_default_str();
  validate->add_option("--set", validate_options.overrides,
                       "Override a key, e.g. --set model.layers=2");
  validate->add_option("--warmup", validate_options.warmup, "Replays before timing")
      ->capture_default_str();
  validate->add_option("--reps", validate_options.reps, "Timed replays (the median is kept)")
      ->capture_default_str();
  validate->add_option("--tokens", validate_options.tokens,
                       "Saved activations for the LSH rate: raw little-endian fp32, tokens x "
                       "hidden");
  validate->add_flag(
      "--no-figure", [&](std::int64_t) { validate_options.figure = false; },
      "Do not draw validation.png");
  validate->add_flag("-q,--quiet", validate_options.quiet, "No progress lines");

  moesim::cli::TopoOptions topo_options;
  auto* topo = app.add_subcommand("topo", "Cluster topologies");
  topo->require_subcommand(1);
  auto* topo_show = topo->add_subcommand(
      "show", "Counts, per-GPU injection and bisection bandwidth, sample routes");
  topo_show
      ->add_option("cluster", topo_options.cluster,
                   "Cluster YAML or preset name (topologies/presets)")
      ->required();
  topo_show->add_option("--set", topo_options.overrides, "Override a key, e.g. --set nodes=4")
      ->take_all();
  topo_show->add_option("--dot", topo_options.dot, "Also write the graph in Graphviz DOT");
  topo_show->add_option("--ecmp", topo_options.ecmp, kEcmpHelp)->capture_default_str();
  topo_show->add_flag("--pxn,!--no-pxn", topo_options.pxn, kPxnHelp);

  moesim::cli::CollectiveOptions coll_options;
  std::string models_help = "Network model:";
  for (const auto& m : moesim::net::network_models()) {
    models_help += fmt::format("\n  {}: {}", m.name, m.equation);
  }
  auto* coll = app.add_subcommand(
      "collective", "Simulate a collective over every GPU of a cluster, nccl-tests style");
  coll->add_option("cluster", coll_options.topo.cluster,
                   "Cluster YAML or preset name (topologies/presets)")
      ->required();
  coll->add_option("--set", coll_options.topo.overrides, "Override a cluster key")->take_all();
  coll->add_option("--op", coll_options.op,
                   "all_to_all, all_reduce, all_gather, reduce_scatter, send_recv")
      ->capture_default_str();
  coll->add_option("--algo", coll_options.algorithm,
                   "Algorithm (default: the first): " + moesim::cli::algorithm_help());
  coll->add_option("--proto", coll_options.protocol,
                   "NCCL protocol for NCCL's algorithms: auto (its tuner), LL, LL128 or Simple")
      ->capture_default_str();
  coll->add_option("--model", coll_options.model, models_help)->capture_default_str();
  coll->add_option("--sizes", coll_options.sizes, "Sizes as nccl-tests prints them")
      ->delimiter(',')
      ->capture_default_str();
  coll->add_option("--window", coll_options.window,
                   "All-to-all peers in flight per rank (0: all, as NCCL's grouped send/recv)")
      ->capture_default_str()
      ->check(kNotNegative);
  coll->add_option("--overhead", coll_options.overhead, "Per-message overhead")
      ->capture_default_str();
  coll->add_option("--ecmp", coll_options.topo.ecmp, kEcmpHelp)->capture_default_str();
  coll->add_flag("--pxn,!--no-pxn", coll_options.topo.pxn, kPxnHelp);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RequiredError& e) {
    // No subcommand, or an unknown word where one belongs: say which exist.
    if (app.get_subcommands().empty()) {
      std::string names;
      for (const auto* sub : app.get_subcommands({})) {
        names += (names.empty() ? "" : ", ") + sub->get_name();
      }
      std::cerr << "moesim: error: "
                << (argc > 1 && argv[1][0] != '-' ? fmt::format("'{}' is not a command", argv[1])
                                                  : std::string("a command is required"))
                << "; the commands: " << names << " (moesim COMMAND --help for each)\n";
      return kExitUserError;
    }
    return app.exit(e) == 0 ? 0 : kExitUserError;
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUserError;
  }

  try {
    if (*run) {
      if (!experiment.empty()) run_options.experiment = experiment;
      run_options.progress = !quiet;
      moesim::cli::run(run_options, std::cout, std::cerr);
    } else if (*sweep) {
      sweep_options.progress = !sweep_quiet;
      const moesim::cli::MpiSession mpi;
      moesim::cli::sweep(sweep_options, mpi, std::cout, std::cerr);
    } else if (*figures) {
      figures_options.progress = !figures_quiet;
      moesim::cli::figures(figures_options, std::cout, std::cerr);
    } else if (*fidelity) {
      fidelity_options.progress = !fidelity_quiet;
      moesim::cli::fidelity(fidelity_options, std::cout, std::cerr);
    } else if (*predict) {
      predict_options.figure = !no_figure;
      predict_options.progress = !predict_quiet;
      moesim::cli::predict(predict_options, std::cout, std::cerr);
    } else if (*profile) {
      moesim::cli::profile(profile_options, std::cout);
    } else if (*calibrate) {
      calibrate_options.command = "moesim";
      for (int i = 1; i < argc; ++i) calibrate_options.command += std::string(" ") + argv[i];
      moesim::cli::calibrate_command(calibrate_options, std::cout, std::cerr);
    } else if (*validate) {
      validate_options.command = "moesim";
      for (int i = 1; i < argc; ++i) validate_options.command += std::string(" ") + argv[i];
      moesim::cli::validate_command(validate_options, std::cout, std::cerr);
    } else if (*topo_show) {
      moesim::cli::topo_show(topo_options, std::cout);
    } else if (*coll) {
      moesim::cli::collective(coll_options, std::cout);
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
