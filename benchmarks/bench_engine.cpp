// Engine throughput: simulated events per second (items_per_second) on a synthetic DAG of at
// least 10 million ops over 1024 ranks x 2 streams, with a gang (all ranks) per exchange.
//   build/bench_engine --benchmark_filter=BM_Engine
#include <benchmark/benchmark.h>

#include <random>

#include "core/engine.hpp"
#include "core/event_queue.hpp"
#include "synthetic/synthetic.hpp"

namespace {

using namespace moesim;

const synthetic::Workload& large_workload() {
  static const synthetic::Workload workload = [] {
    synthetic::SyntheticConfig config;
    config.ranks = 1024;
    config.layers = 1250;
    config.chunks = 4;  // 1024 ranks x 1250 layers x 4 chunks x 2 ops = 10,240,000 ops
    config.skew = 0.2;
    return synthetic::build(config);
  }();
  return workload;
}

void BM_Engine_Synthetic10M(benchmark::State& state) {
  const auto& w = large_workload();
  std::uint64_t events = 0;
  for (auto _ : state) {
    core::DurationRunner runner(
        [&](const core::OpGraph&, core::OpId op) { return w.duration[op]; });
    core::Engine engine(w.graph, runner);
    auto timeline = engine.run();
    benchmark::DoNotOptimize(timeline.end());
    events += engine.events_processed();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
  state.counters["ops"] = static_cast<double>(w.graph.op_count());
  state.counters["ranks"] = static_cast<double>(w.graph.rank_count());
  state.counters["streams"] = static_cast<double>(w.graph.stream_count());
}
BENCHMARK(BM_Engine_Synthetic10M)->Unit(benchmark::kMillisecond)->Iterations(5);

// The queue alone: push/pop with a steady population of `range(0)` pending events.
void BM_EventQueue_Steady(benchmark::State& state) {
  const auto population = static_cast<std::size_t>(state.range(0));
  core::EventQueue<std::uint64_t> queue;
  std::mt19937_64 rng(1);
  for (std::size_t i = 0; i < population; ++i) queue.push(core::Time::ps(rng() % 1'000'000), i);
  for (auto _ : state) {
    const auto e = queue.pop();
    queue.push(e.time + core::Time::ps(static_cast<core::Time::Rep>(rng() % 1'000'000)), e.payload);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventQueue_Steady)->Arg(1 << 8)->Arg(1 << 12)->Arg(1 << 16);

}  // namespace

BENCHMARK_MAIN();
