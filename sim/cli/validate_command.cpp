#include "validate_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "comm.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "core/error.hpp"
#include "device_session.hpp"
#include "model/forward.hpp"
#include "model/serving.hpp"
#include "model/simulate.hpp"
#include "plot_runner.hpp"
#include "report/output_dir.hpp"
#include "study.hpp"
#include "topologies/routing.hpp"
#include "validate/comparison.hpp"
#include "validate/lsh_rate.hpp"
#include "validate/replay.hpp"

namespace moesim::cli {

namespace {

namespace fs = std::filesystem;
using model::Category;
using model::kCategoryCount;

// The LSH rate is measured on at most this many rows (host: seconds).
constexpr std::int64_t kLshRowsCap = 16384;

config::Document load(const ValidateOptions& o) {
  auto document = config::Document::load_file(o.experiment, data_dir() / kModelPresets);
  document.apply_override(
      "profile=" +
      fs::absolute(resolve_file(o.profile, ".", kProfilePresets, "--profile")).string());
  for (const auto& assignment : o.overrides) apply_assignment(document, assignment);
  return document;
}

std::vector<float> read_tokens(const std::string& path, std::int64_t width) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error(fmt::format("--tokens {}: cannot open the file", path));
  const auto bytes = static_cast<std::size_t>(in.tellg());
  const auto row = static_cast<std::size_t>(width) * sizeof(float);
  if (bytes == 0 || bytes % row != 0) {
    throw Error(fmt::format(
        "--tokens {}: {} bytes is not a whole number of rows of {} fp32 values ({} bytes); "
        "expected raw little-endian fp32, tokens x hidden",
        path, bytes, width, row));
  }
  std::vector<float> values(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(bytes));
  return values;
}

// The steps one rank replays: training, a micro-batch's forward and its backward; inference,
// the prefill and each decode step, as the workload builder lays them out.
std::vector<validate::Step> rank_steps(const model::Study& s, model::ProgramBuilder& builder,
                                       int rank) {
  std::vector<validate::Step> steps;
  const auto append = [&](std::vector<validate::Step> more) {
    const auto offset = static_cast<int>(steps.size());
    for (auto& step : more) {
      for (auto& d : step.deps) d += offset;
      steps.push_back(std::move(step));
    }
  };
  const auto& m = s.model;
  if (s.mode == model::Mode::kTrain) {
    const auto program = builder.training_forward(rank);
    append(validate::steps_of(program, false));
    append(validate::steps_of(program, true));
    return steps;
  }
  const auto requests = model::requests_of(m, s.inference);
  for (const auto& pass : model::inference_passes(requests)) {
    append(validate::steps_of(
        builder.forward(rank, pass.batch, pass.seq_q, pass.seq_kv, pass.tokens), false));
  }
  return steps;
}

validate::GroupMembers members_of(const model::RankLayout& layout, int rank) {
  return [&layout, rank](model::Group g) {
    switch (g) {
      case model::Group::kEp:
        return layout.ep_group(layout.ep_group_of(rank));
      case model::Group::kTp:
        return layout.tp_group(layout.tp_group_of(rank));
      case model::Group::kDenseDp:
        return layout.dense_dp_group(layout.dense_dp_group_of(rank));
      case model::Group::kExpertDp:
        break;
    }
    return layout.expert_dp_group(layout.expert_dp_group_of(rank));
  };
}

struct Measured {
  std::array<double, kCategoryCount> ms{};  // the largest over ranks; by category
  std::array<bool, kCategoryCount> replayed{};
  double total_ms = 0;
  std::size_t steps = 0;
};

Measured replay(const ValidateOptions& o, const model::Study& study, const ExperimentConfig& e,
                const StudyInputs& inputs, kernels::Backend& backend, kernels::Communicator& comm,
                bool& local_exchanges) {
  const topo::Router router(inputs.cluster, {.ecmp = e.network.ecmp, .pxn = e.network.pxn});
  // The builder keeps a reference to the estimator: it must outlive it.
  const auto estimate = model::idle_exchange_estimator(inputs.cluster, router, e.network);
  model::ProgramBuilder builder(study, inputs.cluster, inputs.cost, estimate);
  const int rank = comm.info().size == 1 ? 0 : comm.info().rank;
  const auto steps = rank_steps(study, builder, rank);
  validate::Replayer replayer(backend, comm, members_of(builder.layout(), rank));
  local_exchanges = replayer.local_exchanges();
  for (int i = 0; i < o.warmup; ++i) replayer.run(steps);
  std::vector<std::vector<double>> per_step(steps.size());
  std::vector<double> totals;
  for (int i = 0; i < o.reps; ++i) {
    const auto t = replayer.run(steps);
    for (std::size_t s = 0; s < steps.size(); ++s) per_step[s].push_back(t.step_seconds[s]);
    totals.push_back(t.whole_seconds);
  }
  Measured m;
  m.steps = steps.size();
  for (std::size_t s = 0; s < steps.size(); ++s) {
    const auto c = static_cast<std::size_t>(steps[s].category);
    m.ms[c] += *validate::median(per_step[s]) * 1e3;
    m.replayed[c] = true;
  }
  for (auto& v : m.ms) v = comm.max_over_ranks(v);
  m.total_ms = comm.max_over_ranks(*validate::median(totals) * 1e3);
  return m;
}

std::vector<validate::PhaseRow> compare(const std::string& schedule, const Measured& m,
                                        const PointResult& predicted) {
  const auto& b = predicted.breakdown;
  std::vector<validate::PhaseRow> rows;
  for (std::size_t c = 0; c < kCategoryCount; ++c) {
    double busy = 0;
    for (const auto& r : b.ranks) busy = std::max(busy, r.busy[c].milliseconds());
    if (busy <= 0 && !m.replayed[c]) continue;
    validate::PhaseRow row{schedule, std::string(model::name(static_cast<Category>(c))),
                           std::nullopt, busy};
    if (m.replayed[c]) row.measured_ms = m.ms[c];
    rows.push_back(std::move(row));
  }
  rows.push_back({schedule, validate::kTotalPhase, m.total_ms, b.makespan.milliseconds()});
  return rows;
}

void run(const ValidateOptions& o, std::ostream& out, std::ostream& err) {
  if (o.reps < 1 || o.warmup < 0) {
    throw config::ConfigError(fmt::format(
        "--reps {} --warmup {}: expected at least one repetition and no negative warm-up", o.reps,
        o.warmup));
  }
  auto backend = make_device_backend(o.device);
  auto comm = kernels::make_communicator(*backend);
  const bool root = comm->info().rank == 0;
  auto document = load(o);
  auto experiment = read_experiment(document, std::filesystem::path(o.experiment).parent_path(),
                                    root && !o.quiet ? &err : nullptr);
  if (experiment.synthetic || experiment.collective || experiment.dispatch) {
    throw config::ConfigError(fmt::format(
        "{}: validate replays MoE studies; this experiment has no model to run", o.experiment));
  }
  const auto base_dir = fs::path(o.experiment).parent_path();
  std::vector<std::string> notes;
  if (experiment.mode == model::Mode::kTrain) {
    // One micro-batch: the replay runs one forward and backward.
    experiment.model.global_batch = 0;
    notes.push_back(
        "Training: one micro-batch's forward and backward is replayed and predicted "
        "(model.global_batch is set to 0); the gradient reduction (dp) is predicted, "
        "not replayed, and the optimizer step is in the prediction's `other` only.");
  }
  const auto inputs = load_inputs_of(experiment, base_dir);
  check_schedules(experiment, inputs);
  std::vector<float> tokens;
  if (!o.tokens.empty()) tokens = read_tokens(o.tokens, experiment.model.hidden);

  const auto& info = backend->info();
  const auto world = comm->info().size;
  std::vector<validate::PhaseRow> rows;
  bool any_local = false;
  for (const auto& schedule : schedules_of(experiment)) {
    const auto study = make_study(experiment, schedule, inputs);
    const auto ranks = study.parallel.tp * study.parallel.ep * study.parallel.dp;
    if (world > 1 && ranks != world) {
      throw config::ConfigError(fmt::format(
          "{}: the experiment lays out {} ranks (tp x ep x dp) but {} run; start it with "
          "mpirun -n {} (or as one process, which replays rank 0 with local exchanges)",
          o.experiment, ranks, world, ranks));
    }
    const auto start = std::chrono::steady_clock::now();
    bool local = false;
    const auto measured = replay(o, study, experiment, inputs, *backend, *comm, local);
    any_local = any_local || local;
    if (schedule.lsh && root) {
      const auto rows_lsh = std::min<std::int64_t>(
          kLshRowsCap, study.model.micro_batch * study.model.seq_len * study.model.moe.top_k);
      const auto rate = validate::measure_lsh_rate(*backend, tokens, rows_lsh, study.model.hidden,
                                                   schedule.lsh->hashes, 1);
      notes.push_back(fmt::format(
          "{}: LSH on {} {} rows with {} hashes reached {} buckets, a rate of {:.3f} against the "
          "configured {:.3f}{}.",
          schedule.name, rate.rows, tokens.empty() ? "random" : "given", schedule.lsh->hashes,
          rate.buckets, rate.rate(), schedule.lsh->rate,
          tokens.empty() ? " (random rows cluster far worse than a model's tokens: pass saved "
                           "activations with --tokens)"
                         : ""));
    }
    if (!root) continue;
    const auto predicted = run_point(experiment, schedule, inputs, {}, {});
    auto more = compare(schedule.name, measured, predicted);
    rows.insert(rows.end(), more.begin(), more.end());
    if (!o.quiet) {
      err << fmt::format(
          "[moesim] validate {}: {} steps x {} reps on {} rank(s), {:.1f} s\n", schedule.name,
          measured.steps, o.reps, world,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  if (!root) return;

  if (any_local) {
    notes.push_back(
        "One process: exchanges over larger groups ran as local copies of what this "
        "rank sends; their phases do not measure a network.");
  }
  if (info.backend == "host") {
    notes.push_back(
        "Host backend: kernels ran on the CPU in issue order (no overlap between "
        "compute and exchanges) and collectives through MPI; the errors test the "
        "pipeline, not the GPU model.");
  }
  notes.push_back(
      "Attention ran unfused (scores, softmax, weighted sum); memory-bound kernels "
      "ran as device copies of their bytes; attention's backward as GEMMs of its "
      "FLOPs.");
  validate::RunInfo run;
  run.command = o.command;
  run.date = today_utc();
  run.device = info.device;
  run.backend = info.backend;
  run.comm = comm->info().library;
  run.experiment = experiment.name.empty() ? o.experiment : experiment.name;
  run.profile = o.profile;
  run.ranks = world;
  run.warmup = o.warmup;
  run.reps = o.reps;
  run.notes = notes;

  report::OutputDir dir(o.out);
  const auto csv = dir.write("validation.csv", validate::validation_csv(rows));
  dir.write("report.md", validate::report_markdown(run, rows));
  dir.commit();
  out << validate::validation_table(rows);
  const auto s = validate::summarise(rows);
  out << fmt::format(
      "median |error|: {} per phase ({} compared), {} per total; error = (predicted - "
      "measured) / measured\n",
      s.median_phase_abs_percent ? fmt::format("{:.1f}%", *s.median_phase_abs_percent) : "-",
      s.phases,
      s.median_total_abs_percent ? fmt::format("{:.1f}%", *s.median_total_abs_percent) : "-");
  for (const auto& n : notes) out << "note: " << n << "\n";
  out << "wrote " << csv.string() << ", " << (dir.path() / "report.md").string() << "\n";
  if (o.figure) {
    std::string why;
    if (can_plot("validation.py", why)) {
      const auto png = dir.path() / "validation.png";
      run_plot("validation.py", {csv.string(), png.string()});
      out << "figure: " << png.string() << "\n";
    } else {
      out << "no figure: " << why << "\n";
    }
  }
}

}  // namespace

void validate_command(const ValidateOptions& o, std::ostream& out, std::ostream& err) {
  run_on_ranks([&](const MpiSession&) { run(o, out, err); }, err);
}

}  // namespace moesim::cli
