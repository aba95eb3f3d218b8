// One training iteration of a DeepSeek-V3-shaped model, end to end: build the op DAG of every
// rank, play it on the engine with the flow network model. The argument is the number of
// 8-GPU DGX H100 nodes; EP is 64 (8 nodes), DP fills the rest. The target of issue 5 is
// 256 nodes (2,048 GPUs, EP 64 x DP 32) in under 30 s and 4 GiB on one core.
//
// Inter-node traffic is routed as NCCL does on a rail-optimized fabric: over NVLink to the GPU on
// the destination's rail first (PXN; NCCL PXN, rail-optimised fat trees), so it crosses a
// spine only between the leaves of one rail (past 64 nodes). BM_TrainIterationWithoutPxn routes
// it between rails through the spines instead (ECMP per pair), where exact max-min sharing has
// far more to re-level per event. BM_TrainIterationNoContention plays the same iteration on the
// alpha-beta model, which shares nothing: the floor that building and playing the DAG, routing
// and the engine set under BM_TrainIteration, whatever the flow model does.
//
//   taskset -c 1 build/bench_model --benchmark_filter='BM_TrainIteration/256'
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <string>

#include "config/document.hpp"
#include "cost/profile.hpp"
#include "model/simulate.hpp"
#include "topologies/build.hpp"

namespace {

using namespace moesim;

model::Study deepseek_like(int gpus) {
  model::Study s;
  auto& m = s.model;
  m.name = "deepseek-v3-like";
  m.layers = 61;
  m.hidden = 7168;
  m.heads = 128;
  m.ffn = 18432;
  m.gated_mlp = true;
  m.vocab = 129280;
  m.seq_len = 4096;
  m.micro_batch = 1;
  m.moe.experts = 256;
  m.moe.top_k = 8;
  m.moe.expert_ffn = 2048;
  m.moe.shared_experts = 1;
  s.parallel.ep = 64;
  s.parallel.dp = gpus / 64;
  return s;
}

void train_iteration(benchmark::State& state, bool pxn, const std::string& network_model = "flow") {
  const int nodes = static_cast<int>(state.range(0));
  auto doc = config::Document::load_file(std::string(MOESIM_SOURCE_DIR) +
                                         "/topologies/presets/dgx_h100_rail_ib400.yaml");
  doc.apply_override("nodes=" + std::to_string(nodes));
  const auto cluster = topo::load_cluster(doc);
  const cost::CostModel cost(
      cost::load_profile(std::string(MOESIM_SOURCE_DIR) + "/calibrate/profiles/h100_sxm.yaml"));
  const auto study = deepseek_like(nodes * 8);
  model::NetworkConfig network;  // ECMP per pair
  network.pxn = pxn;
  network.model = network_model;
  std::uint64_t transfers = 0;
  std::size_t ops = 0;
  double simulated_ms = 0;
  for (auto _ : state) {
    const auto sim = model::simulate(study, cluster, cost, network);
    transfers = sim.transfers;
    ops = sim.workload->graph.op_count();
    simulated_ms = sim.timeline.end().milliseconds();
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["gpus"] = nodes * 8;
  state.counters["ops"] = static_cast<double>(ops);
  state.counters["transfers"] = static_cast<double>(transfers);
  state.counters["iteration_ms"] = simulated_ms;
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}
void BM_TrainIteration(benchmark::State& state) {
  train_iteration(state, true);
}
void BM_TrainIterationWithoutPxn(benchmark::State& state) {
  train_iteration(state, false);
}
void BM_TrainIterationNoContention(benchmark::State& state) {
  train_iteration(state, true, "alpha-beta");
}
BENCHMARK(BM_TrainIteration)->Arg(8)->Arg(32)->Arg(256)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_TrainIterationWithoutPxn)->Arg(8)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_TrainIterationNoContention)->Arg(256)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
