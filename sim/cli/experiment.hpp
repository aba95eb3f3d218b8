#pragma once
// An experiment file: what to simulate. Either a synthetic workload (`synthetic:`), or a MoE
// study: a model, its parallelism and routing on a cluster with a GPU profile, under one or
// more schedules. With no file, `moesim run` uses the synthetic demo.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/check.hpp"
#include "model/config.hpp"
#include "model/simulate.hpp"
#include "network_cases.hpp"
#include "synthetic/synthetic.hpp"

namespace moesim::cli {

// A grid of variations of one experiment (moesim sweep, or moesim run on a file that has one).
// Each axis sets one key to each of its values; each explicit point applies its assignments.
// Points are every combination: the explicit points (or one empty point) times the axes, the
// first varying slowest.
struct SweepAxis {
  std::string key;                  // key.path, as --set takes it
  std::vector<std::string> values;  // YAML values
  std::string label;                // "{}" is replaced by the value; empty: <last key>=<value>

  template <class V>
  void fields(V& v) {
    v.field("key", key, "key.path to set, as --set takes it");
    v.field("values", values, "the values it takes");
    v.field("label", label, "point label, '{}' replaced by the value (default key=value)");
  }
};

struct SweepPointSpec {
  std::string label;
  std::string base;              // a file merged over the experiment, e.g. a model preset
  std::vector<std::string> set;  // key.path=value

  template <class V>
  void fields(V& v) {
    v.field("label", label, "the point's label (unique in the sweep)");
    v.field("base", base,
            "YAML merged over the experiment for this point (path relative to the experiment, "
            "or a model preset name)");
    v.field("set", set, "assignments key.path=value, as --set takes them");
  }
};

struct SweepConfig {
  std::vector<SweepPointSpec> points;
  std::vector<SweepAxis> axes;

  template <class V>
  void fields(V& v) {
    v.field("points", points, "explicit points, each a label and its assignments");
    v.field("axes", axes, "axes whose values combine with each other and with the points");
  }
};

// A published measurement this experiment reproduces (experiments/fidelity/): the number, where
// it was read, and what it measures. `moesim fidelity` predicts the same quantity and reports
// the error.
enum class FidelityMetric {
  kIterationMs,         // one training iteration
  kTokensPerSecondGpu,  // training tokens per second per GPU
  kSamplesPerSecond,    // training sequences (samples) per second, all GPUs
  kTflopsPerGpu,        // model TFLOP/s per GPU, counted by the source's formula
  kFirstTokenMs,        // inference: the prefill of one batch
  kTimeUs,              // collective: nccl-tests' time
  kAlgbwGbps,           // collective: nccl-tests' algbw, size / time
  kBusbwGbps,           // collective: nccl-tests' busbw
  kDispatchGbps,        // dispatch: the bytes the benchmark counts over its time
};
constexpr auto enum_names(FidelityMetric) {
  return std::array{
      std::pair{std::string_view("iteration_ms"), FidelityMetric::kIterationMs},
      std::pair{std::string_view("tokens_per_s_per_gpu"), FidelityMetric::kTokensPerSecondGpu},
      std::pair{std::string_view("samples_per_s"), FidelityMetric::kSamplesPerSecond},
      std::pair{std::string_view("tflops_per_gpu"), FidelityMetric::kTflopsPerGpu},
      std::pair{std::string_view("first_token_ms"), FidelityMetric::kFirstTokenMs},
      std::pair{std::string_view("time_us"), FidelityMetric::kTimeUs},
      std::pair{std::string_view("algbw_gbps"), FidelityMetric::kAlgbwGbps},
      std::pair{std::string_view("busbw_gbps"), FidelityMetric::kBusbwGbps},
      std::pair{std::string_view("dispatch_gbps"), FidelityMetric::kDispatchGbps}};
}

// How a source counts an iteration's FLOPs for its TFLOP/s (for kTflopsPerGpu).
enum class FlopsFormula { kNone, kMegatron, kMegatronModel };
constexpr auto enum_names(FlopsFormula) {
  return std::array{std::pair{std::string_view("none"), FlopsFormula::kNone},
                    std::pair{std::string_view("megatron"), FlopsFormula::kMegatron},
                    std::pair{std::string_view("megatron_model"), FlopsFormula::kMegatronModel}};
}

struct FidelityConfig {
  std::string source;  // where the number was read: URL or repository, path and commit
  std::string quote;   // the row or sentence it stands in
  FidelityMetric metric = FidelityMetric::kIterationMs;
  double published = 0;
  FlopsFormula flops = FlopsFormula::kNone;
  std::string bound;  // what limits it, as the case's author judged: compute, communication
  std::vector<std::string> assumptions;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("source", source, "where the published number was read", Check::none().required());
    v.field("quote", quote, "the table row or sentence it stands in");
    v.field("metric", metric, "what it measures");
    v.field("published", published, "the published value, in the metric's unit",
            Check::positive().required());
    v.field("flops", flops,
            "tflops_per_gpu: the source's FLOPs per iteration: megatron (96 B s l h^2 (1 + s/6h + "
            "V/16lh), recomputation counted) or megatron_model (3/4 of it)");
    v.field("bound", bound, "what limits the case: compute or communication");
    v.field("assumptions", assumptions, "what the source does not state and the case assumes");
  }
};

struct ExperimentConfig {
  std::string name = "moe-study";
  std::optional<synthetic::SyntheticConfig> synthetic;
  std::string cluster = "bigmac_4x8_a40_ib100";
  std::vector<std::string> cluster_set;  // key.path=value applied to the cluster file
  std::string profile = "a40";
  std::string implementation = "megatron";
  model::ModelConfig model;
  model::ParallelConfig parallel;
  model::RoutingConfig routing;
  model::Mode mode = model::Mode::kTrain;
  model::TrainingConfig training;
  model::InferenceConfig inference;
  model::NetworkConfig network;
  std::int64_t window = 8;
  model::Limits limits;
  std::vector<model::ScheduleConfig> schedules;  // empty: CDAC alone
  std::optional<SweepConfig> sweep;
  std::optional<FidelityConfig> fidelity;
  std::optional<CollectiveCase> collective;  // instead of a study: one collective (fidelity)
  std::optional<DispatchCase> dispatch;      // instead of a study: one MoE dispatch (fidelity)

  template <class V>
  void fields(V& v) {
    v.field("name", name, "names the run and its default output folder out/<name>");
    v.field("synthetic", synthetic, "a layered compute/exchange workload (instead of a MoE study)");
    v.field("cluster", cluster,
            "cluster YAML (path relative to this file) or preset name (topologies/presets)");
    v.field("cluster_set", cluster_set,
            "assignments to the cluster file's keys, e.g. [nodes=8] (in --set and sweeps: "
            "cluster.nodes=8)");
    v.field("profile", profile,
            "GPU profile YAML (path relative to this file) or name (calibrate/profiles)");
    v.field("implementation", implementation,
            "how the framework runs the model: preset name (experiments/implementations) or YAML "
            "path relative to this file");
    v.field("model", model, "the transformer and its MoE layers");
    v.field("parallel", parallel, "tensor, expert and data parallelism");
    v.field("routing", routing, "how tokens are routed to experts");
    v.field("mode", mode, "train (forward, backward, gradients, optimizer) or infer");
    v.field("training", training, "training-only settings");
    v.field("inference", inference, "inference-only settings");
    v.field("network", network, "network model");
    v.field("window", window,
            "all-to-all peers in flight per rank (NCCL issues p2p operations 8 peers at a time); "
            "0: every peer",
            config::Check::non_negative());
    v.field("limits", limits, "how large a study may be before it is refused");
    v.field("schedules", schedules, "schedules to compare; the first is the baseline");
    v.field("sweep", sweep, "a grid of variations, all written to one summary.csv");
    v.field("fidelity", fidelity,
            "a published measurement this experiment reproduces (moesim fidelity)");
    v.field("collective", collective,
            "fidelity cases: one collective over every GPU of the cluster instead of a study");
    v.field("dispatch", dispatch,
            "fidelity cases: one MoE dispatch over every GPU of the cluster instead of a study");
  }
};

}  // namespace moesim::cli
