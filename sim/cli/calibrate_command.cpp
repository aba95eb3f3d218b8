#include "calibrate_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <ostream>

#include "calibrate/fit.hpp"
#include "calibrate/harness.hpp"
#include "calibrate/network_fit.hpp"
#include "calibrate/ops.hpp"
#include "calibrate/outputs.hpp"
#include "comm.hpp"
#include "config/document.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "device_session.hpp"
#include "model/forward.hpp"
#include "model/moe_shape.hpp"
#include "mpi_session.hpp"
#include "plot_runner.hpp"
#include "study.hpp"

namespace moesim::cli {

namespace {

namespace fs = std::filesystem;

// The schedules whose GEMMs the sweep covers: the baseline, BigMac's reduced width (descend and
// ascend projections), LSH-MoE's rotation.
constexpr const char* kShapeSchedules[] = {"cdac", "dcca", "lsh"};
// Any shipped profile will do to lay the model out: only shapes are read.
constexpr const char* kLayoutProfile = "h100_sxm";
constexpr const char* kLayoutImplementation = "megatron";

kernels::Launch launch_of(const std::string& launch) {
  if (launch == "stream") return kernels::Launch::kStream;
  if (launch == "graph") return kernels::Launch::kGraph;
  throw config::ConfigError(fmt::format("--launch {}: expected stream or graph", launch));
}

void run(const CalibrateOptions& o, const MpiSession& session, std::ostream& out,
         std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  if (o.link != "auto" && o.link != "nvlink" && o.link != "pcie" && o.link != "network") {
    throw config::ConfigError(
        fmt::format("--link {}: expected auto, nvlink, pcie or network", o.link));
  }
  const auto launch = launch_of(o.launch);
  const auto shapes = model_shapes(o.model, o.cluster);
  auto backend = make_device_backend(o.device);
  auto comm = kernels::make_communicator(*backend);
  const bool root = comm->info().rank == 0;
  const auto plan = calibrate::make_plan(shapes, {o.quick, o.device == "host", launch}, *backend);
  const std::string link = o.link == "auto" ? calibrate::link_class(*backend, *comm) : o.link;
  const auto& info = backend->info();
  if (root) {
    std::string precisions;
    for (const auto p : plan.precisions) {
      precisions +=
          std::string(precisions.empty() ? "" : ", ") + std::string(calibrate::precision_name(p));
    }
    out << fmt::format(
        "moesim calibrate: {} ({} backend), {} rank(s) on {} host(s), {} run\n"
        "  model {}: {} GEMM shapes x {} row counts ({}..{}) in {}\n",
        info.device, info.backend, comm->info().size, comm->info().hosts,
        o.quick ? "quick" : "full", shapes.model, plan.gemms.size(), plan.gemm_m.size(),
        plan.gemm_m.front(), plan.gemm_m.back(), precisions);
  }
  const auto result = calibrate::run_harness(*backend, *comm, plan, link, root ? &out : nullptr);
  if (!root) return;

  calibrate::RunInfo run;
  run.command = o.command;
  run.date = today_utc();
  run.backend = info.backend;
  run.device = info.device;
  run.driver = info.driver;
  run.runtime = info.runtime;
  run.blas = info.blas;
  run.comm = comm->info().library;
  run.ranks = comm->info().size;
  run.hosts = comm->info().hosts;
  run.model = shapes.model;
  run.quick = o.quick;
  run.launch = o.launch;
  run.link = comm->info().size > 1 ? link : "";

  std::int64_t wrong = 0;
  std::string wrong_ops;
  for (const auto& m : result.measurements) {
    if (m.wrong == 0) continue;
    wrong += m.wrong;
    if (wrong_ops.find(m.op) == std::string::npos)
      wrong_ops += (wrong_ops.empty() ? "" : ", ") + m.op;
  }
  calibrate::FitInputs fit_inputs;
  fit_inputs.name = o.name.empty()
                        ? (info.backend == "host" ? "host CPU (" + info.device + ")" : info.device)
                        : o.name;
  auto& prov = fit_inputs.provenance;
  prov.kind = cost::ProvenanceKind::kMeasured;
  prov.device = info.backend == "host" ? "host backend: " + info.device : info.device;
  prov.driver = info.driver;
  prov.cuda = info.runtime;
  prov.cublas = info.blas;
  prov.nccl = comm->info().library.rfind("NCCL", 0) == 0 ? comm->info().library : "not used";
  prov.date = run.date;
  prov.command = o.command;
  if (info.backend == "host") {
    fit_inputs.notes.push_back(
        "Host backend, for testing the pipeline: the ops ran on the CPU (GEMMs through the BLAS, "
        "every precision as fp32) and collectives through MPI; it does not describe a GPU.");
  } else {
    fit_inputs.sms = info.multiprocessors;
    fit_inputs.memory_capacity_bytes = static_cast<double>(info.memory_bytes);
    fit_inputs.notes.push_back(
        "GEMM tiling assumed: 128 x 128 tiles over the SMs (the efficiency curve is fitted "
        "through it).");
  }
  std::optional<calibrate::ProfileFit> fit;
  if (wrong == 0) fit = calibrate::fit_profile(result.measurements, fit_inputs);
  const auto network = calibrate::fit_network(result.measurements);
  run.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto files = calibrate::write_outputs(
      o.out, run,
      {result.measurements, result.skipped, result.ops, fit ? &*fit : nullptr, network});
  for (const auto& f : files) out << "wrote " << f.string() << "\n";
  if (o.figure) {
    std::string why;
    if (can_plot("calibration.py", why)) {
      const auto png = fs::path(o.out) / "calibration.png";
      run_plot("calibration.py", {(fs::path(o.out) / "residuals.csv").string(), png.string()});
      out << "figure: " << png.string() << "\n";
    } else {
      out << "no figure: " << why << "\n";
    }
  }
  if (wrong > 0) {
    throw Error(fmt::format("{} wrong result(s) in {}: no profile written (see {}/report.md)",
                            wrong, wrong_ops, o.out));
  }
  out << fmt::format("use it: moesim predict --profile {}\n",
                     (fs::path(o.out) / "profile.yaml").string());
  (void)err;
  (void)session;
}

}  // namespace

calibrate::ModelShapes model_shapes(const std::string& model, const std::string& cluster) {
  const auto model_file = resolve_file(model, ".", kModelPresets, "--model");
  auto document = load_model_document(model_file);
  document.apply_override("name=calibrate");
  document.apply_override(
      "cluster=" + fs::absolute(resolve_file(cluster, ".", kClusterPresets, "--cluster")).string());
  document.apply_override(
      "profile=" +
      fs::absolute(resolve_file(kLayoutProfile, ".", kProfilePresets, "profile")).string());
  document.apply_override("implementation=" +
                          fs::absolute(resolve_file(kLayoutImplementation, ".",
                                                    kImplementationPresets, "implementation"))
                              .string());
  const auto experiment = read_experiment(document, ".");
  if (experiment.synthetic) {
    throw config::ConfigError(
        fmt::format("--model {}: a synthetic experiment has no model", model));
  }
  const auto inputs = load_inputs_of(experiment, ".");
  const model::ExchangeEstimator no_estimate =
      [](const net::TransferGraph&, const std::vector<int>&) { return core::Time::zero(); };
  const auto& m = experiment.model;
  calibrate::ModelShapes s;
  s.model = m.name.empty() ? model : m.name;
  s.hidden = m.hidden;
  s.ffn_hidden = m.moe.experts > 0 ? m.expert_ffn() : m.dense_ffn();
  s.heads = m.heads;
  s.head_dim = m.hd();
  s.seq_len = m.seq_len;
  s.tokens = m.micro_batch * m.seq_len;
  s.experts = m.moe.experts;
  s.top_k = m.moe.top_k;
  const auto add = [&](std::int64_t n, std::int64_t k, std::string origin) {
    const bool known = std::any_of(s.gemms.begin(), s.gemms.end(),
                                   [&](const auto& g) { return g.n == n && g.k == k; });
    if (!known) s.gemms.push_back({n, k, std::move(origin)});
  };
  for (const char* name : kShapeSchedules) {
    const auto schedule = model::schedule_from_name(name);
    if (schedule.lsh) s.lsh_hashes = schedule.lsh->hashes;
    const auto study = make_study(experiment, schedule, inputs);
    try {
      model::ProgramBuilder builder(study, inputs.cluster, inputs.cost, no_estimate);
      const auto program = builder.training_forward(0);
      for (const auto& node : program.nodes) {
        for (const auto& w : node.forward) {
          if (w.kind != cost::OpKind::kGemm && w.kind != cost::OpKind::kGroupedGemm) continue;
          add(w.gemm.n, w.gemm.k, fmt::format("{} ({})", node.name, name));
          add(w.gemm.k, w.gemm.n, fmt::format("{} input gradient ({})", node.name, name));
        }
      }
    } catch (const config::ConfigError& e) {
      throw config::ConfigError(fmt::format(
          "--model {} on --cluster {}: {} (give a cluster the model's parallel layout fits)", model,
          cluster, e.what()));
    }
  }
  return s;
}

void calibrate_command(const CalibrateOptions& o, std::ostream& out, std::ostream& err) {
  run_on_ranks([&](const MpiSession& session) { run(o, session, out, err); }, err);
}

}  // namespace moesim::cli
