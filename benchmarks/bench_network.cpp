// The flow model on the MoE case: one all-to-all-v on GPUs under one switch, every pair a
// different size (uniform in [0.5, 1.5] x 1 MiB, fixed seed), NCCL-like direct algorithm with
// 8 peers in flight per rank. Reports wall time per all-to-all and peak memory.
//   build/bench_network --benchmark_filter='BM_AllToAllV/1024'
// BM_AllToAllVNoContention plays the same graph on the alpha-beta model: the cost of building
// the graph, walking it and routing every transfer, which the flow model's time includes.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <random>

#include "net/alpha_beta.hpp"
#include "net/collectives.hpp"
#include "net/flow_model.hpp"
#include "net/run_transfers.hpp"
#include "topologies/routing.hpp"

namespace {

using namespace moesim;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kPortBandwidth = 50e9;  // B/s per direction: a 400 Gb/s port
constexpr int kWindow = 8;

topo::Cluster one_switch(int gpus) {
  topo::Cluster c("one-switch");
  const auto sw = c.add_device({topo::DeviceKind::kSwitch, "switch", -1, 0});
  for (int g = 0; g < gpus; ++g) {
    const auto d = c.add_device({topo::DeviceKind::kGpu, "gpu" + std::to_string(g), g, 0});
    c.add_duplex(d, sw, topo::LinkKind::kNetwork, kPortBandwidth, 1.0, core::Time::us(1));
  }
  return c;
}

// Per-pair sizes uniform in [0.5, 1.5] MiB from a fixed seed, n x n, row = source.
std::vector<float> pair_sizes(int n) {
  std::vector<float> sizes(static_cast<std::size_t>(n) * static_cast<std::size_t>(n));
  std::mt19937_64 rng(2026);
  std::uniform_real_distribution<double> factor(0.5, 1.5);
  for (auto& s : sizes) s = static_cast<float>(factor(rng) * kMiB);
  return sizes;
}

net::TransferGraph direct_all_to_all(int n, const std::vector<float>& sizes) {
  net::AllToAllOptions options;
  options.window = kWindow;
  return net::all_to_all(
      n,
      [&](int s, int d) { return static_cast<double>(sizes[static_cast<std::size_t>(s) * n + d]); },
      options);
}

std::vector<int> identity_ranks(int n) {
  std::vector<int> ranks(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) ranks[static_cast<std::size_t>(r)] = r;
  return ranks;
}

// One all-to-all-v of the benchmark, played on a given model: graph and routes are built inside,
// as the simulator builds them for each collective.
struct Scenario {
  explicit Scenario(int gpus)
      : n(gpus), cluster(one_switch(gpus)), sizes(pair_sizes(gpus)), ranks(identity_ranks(gpus)) {}
  net::TransferRun play(net::NetworkModel& model) const {
    const auto graph = direct_all_to_all(n, sizes);
    const topo::Router router(cluster, {});
    return net::run_transfers(graph, ranks, router, model);
  }
  int n;
  topo::Cluster cluster;
  std::vector<float> sizes;
  std::vector<int> ranks;
};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void BM_AllToAllV(benchmark::State& state) {
  const Scenario scenario(static_cast<int>(state.range(0)));
  std::size_t transfers = 0;
  double simulated_ms = 0;
  net::FlowModel::Stats stats;
  for (auto _ : state) {
    net::FlowModel model(scenario.cluster, {});
    const auto run = scenario.play(model);
    transfers = run.transfers;
    stats = model.stats();
    simulated_ms = run.end.milliseconds();
    benchmark::DoNotOptimize(run.end);
  }
  state.counters["transfers"] = static_cast<double>(transfers);
  state.counters["simulated_ms"] = simulated_ms;
  const auto per_reallocation = [&](std::uint64_t count) {
    return static_cast<double>(count) /
           static_cast<double>(std::max<std::uint64_t>(1, stats.reallocations));
  };
  state.counters["relevels_per_realloc"] = per_reallocation(stats.link_updates);
  state.counters["moves_per_realloc"] = per_reallocation(stats.moves);
  state.counters["retimings_per_realloc"] = per_reallocation(stats.retimings);
  state.counters["flows_per_relevel"] =
      static_cast<double>(stats.flows_visited) /
      static_cast<double>(std::max<std::uint64_t>(1, stats.link_updates));
  state.counters["fallbacks"] = static_cast<double>(stats.fallbacks);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

void BM_AllToAllVNoContention(benchmark::State& state) {
  const Scenario scenario(static_cast<int>(state.range(0)));
  std::size_t transfers = 0;
  for (auto _ : state) {
    net::AlphaBetaModel model(scenario.cluster, {});
    const auto run = scenario.play(model);
    transfers = run.transfers;
    benchmark::DoNotOptimize(run.end);
  }
  state.counters["transfers"] = static_cast<double>(transfers);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_AllToAllV)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_AllToAllVNoContention)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
