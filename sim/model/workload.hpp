#pragma once
// The MoE workload builder: turns a study (model, parallelism, routing, schedule, mode) into the
// op DAG of every rank, each op priced by the cost model or mapped to a collective call that the
// network model plays (net/collective_runner.hpp).
//
// Each rank's micro-batch is first described as a program (program.hpp, built by forward.hpp
// with the schedule's MoE shape, moe_shape.hpp); the emitter (emitter.hpp) turns programs into
// ops, training.hpp adds the backward passes, gradient reductions and the optimizer step.
#include <array>
#include <cstdint>
#include <vector>

#include "config.hpp"
#include "core/op_graph.hpp"
#include "cost/cost_model.hpp"
#include "exchanges.hpp"
#include "implementation.hpp"
#include "net/collective_runner.hpp"
#include "net/transfer_graph.hpp"
#include "program.hpp"
#include "serving.hpp"
#include "topologies/cluster.hpp"

namespace moesim::model {

struct Study {
  ModelConfig model;
  ParallelConfig parallel;
  RoutingConfig routing;
  ScheduleConfig schedule;
  Mode mode = Mode::kTrain;
  TrainingConfig training;
  InferenceConfig inference;
  Implementation implementation;  // default: fused_ideal (nothing beyond the model's kernels)
  std::int64_t window = 8;        // direct all-to-all: peers in flight per rank (0: all)
  Limits limits;
};

// The type gradients are accumulated and reduced in: training.grad_dtype, else the
// implementation's choice, else the model's dtype.
inline cost::Dtype gradient_dtype(const Study& s) {
  return s.training.grad_dtype.value_or(s.implementation.grad_dtype.value_or(s.model.dtype));
}

struct BuildOptions {
  bool op_args = false;         // attach shape, bytes and cost rule to every op (traces, DAG dumps)
  std::size_t link_tracks = 0;  // record the throughput of this many busiest links (traces)
};

struct Workload {
  core::OpGraph graph;             // finalized
  std::vector<net::OpWork> work;   // by op
  std::vector<Category> category;  // by op
  std::vector<net::TransferGraph> graphs;
  std::vector<net::CollectiveCall> calls;
  // Totals over every rank, for reports and identity checks.
  double a2a_bytes = 0;                              // all-to-all bytes sent to other ranks
  std::array<std::int64_t, kCategoryCount> gemms{};  // forward GEMM kernels per category
  std::int64_t moe_layers = 0;                       // MoE blocks in the model
  std::int64_t tokens = 0;                           // tokens processed (inference)
  // What each rank holds (every rank the same): its share of the dense weights and of the
  // experts (elements, before any ZeRO sharding), the data-parallel groups that ZeRO shards
  // each over (ranks), and, in inference, the KV cache at the last decode step.
  double dense_parameters_per_rank = 0;
  double expert_parameters_per_rank = 0;
  int dense_dp_group = 1;
  int expert_dp_group = 1;
  // The parameters (elements) a rank keeps of something ZeRO shards, or of one it does not.
  double parameters_held(bool sharded) const {
    return sharded ? dense_parameters_per_rank / dense_dp_group +
                         expert_parameters_per_rank / expert_dp_group
                   : dense_parameters_per_rank + expert_parameters_per_rank;
  }
  // ZeRO-3: the parameters (elements) of the largest unit gathered whole for a pass (a block,
  // or the embedding and head), beyond what the rank keeps of it as its shard.
  double largest_gather_beyond_shard = 0;
  double kv_cache_bytes_per_rank = 0;
  // Inference: one rank's requests (every rank serves the same draw), and the ops of each
  // rank's passes (prefill, then decode steps: inference_passes' order), first and last ids.
  std::vector<Request> requests;
  struct PassOpsRange {
    std::int64_t pass = 0;
    core::OpId first = core::kNoId, last = core::kNoId;
  };
  std::vector<PassOpsRange> pass_ops;
};

// Throws ConfigError for whatever build_workload() would refuse (ranks that do not fit the
// cluster, experts per token, model shapes, a bad routing trace), without building anything:
// for callers that check every study before running any. A problem with one of the schedule's
// own keys has the key "schedule.<key>" (ConfigError::key()).
void check_study(const Study& study, const topo::Cluster& cluster, const cost::CostModel& cost);

// Throws ConfigError when the study does not fit the cluster or itself.
Workload build_workload(const Study& study, const topo::Cluster& cluster,
                        const cost::CostModel& cost, const ExchangeEstimator& estimate,
                        const BuildOptions& options = {});

}  // namespace moesim::model
