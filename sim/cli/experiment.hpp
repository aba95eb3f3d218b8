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

struct ExperimentConfig {
  std::string name = "moe-study";
  std::optional<synthetic::SyntheticConfig> synthetic;
  std::string cluster = "bigmac_4x8_a40_ib100";
  std::string profile = "a40";
  model::ModelConfig model;
  model::ParallelConfig parallel;
  model::RoutingConfig routing;
  model::Mode mode = model::Mode::kTrain;
  model::TrainingConfig training;
  model::InferenceConfig inference;
  model::NetworkConfig network;
  std::int64_t window = 8;
  std::vector<model::ScheduleConfig> schedules;  // empty: CDAC alone

  template <class V>
  void fields(V& v) {
    v.field("name", name, "names the run and its default output folder out/<name>");
    v.field("synthetic", synthetic, "a layered compute/exchange workload (instead of a MoE study)");
    v.field("cluster", cluster,
            "cluster YAML (path relative to this file) or preset name (topologies/presets)");
    v.field("profile", profile,
            "GPU profile YAML (path relative to this file) or name (calibrate/profiles)");
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
  }
};

}  // namespace moesim::cli
