#pragma once
// An experiment file: what to simulate. Either a synthetic workload (`synthetic:`), or a MoE
// study: a model, its parallelism and routing on a cluster with a GPU profile, under one or
// more schedules. With no file, `moesim run` uses the synthetic demo.
#include <optional>
#include <string>
#include <vector>

#include "config/check.hpp"
#include "model/config.hpp"
#include "model/simulate.hpp"
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
  std::vector<model::ScheduleConfig> schedules;  // empty: CDAC alone
  std::optional<SweepConfig> sweep;

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
    v.field("window", window, "all-to-all peers in flight per rank (NCCL batches 8)",
            config::Check::at_least(1));
    v.field("schedules", schedules, "schedules to compare; the first is the baseline");
    v.field("sweep", sweep, "a grid of variations, all written to one summary.csv");
  }
};

}  // namespace moesim::cli
