#include "synthetic.hpp"

#include <fmt/format.h>

#include <random>
#include <string>

#include "config/error.hpp"
#include "core/error.hpp"

namespace moesim::synthetic {

namespace {
// A uniform draw in [0, 1) defined bit for bit (std::uniform_real_distribution is not).
double unit_draw(std::mt19937_64& rng) {
  constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;
  return static_cast<double>(rng() >> 11) * kTwoToMinus53;
}
}  // namespace

Workload build(const SyntheticConfig& config) {
  // In long double: the product of three user counts may not fit 64 bits.
  const long double product = static_cast<long double>(config.ranks) *
                              static_cast<long double>(config.layers) *
                              static_cast<long double>(config.chunks) * 2;
  if (product >= static_cast<long double>(core::kNoId)) {
    throw config::ConfigError(fmt::format(
        "synthetic: ranks {} x layers {} x chunks {} x 2 = {:.3g} ops, more than an op graph "
        "holds ({})",
        config.ranks, config.layers, config.chunks, static_cast<double>(product), core::kNoId - 1));
  }
  const auto ranks = static_cast<std::uint64_t>(config.ranks);
  const auto layers = static_cast<std::uint64_t>(config.layers);
  const auto chunks = static_cast<std::uint64_t>(config.chunks);
  const auto ops = static_cast<std::uint64_t>(product);

  Workload w;
  auto& g = w.graph;
  g.reserve(ops, ops);
  w.duration.reserve(ops);
  std::mt19937_64 rng(static_cast<std::uint64_t>(config.seed));
  const auto compute_chunk = config.compute.count() / config.chunks;
  const core::Time exchange_chunk = core::Time::ps(config.exchange.count() / config.chunks);

  std::vector<core::StreamId> compute(ranks), comm(ranks);
  for (core::RankId r = 0; r < ranks; ++r) {
    compute[r] = g.add_stream(r, "compute");
    comm[r] = g.add_stream(r, "comm");
  }
  // Ops are created layer by layer, the order in which they run, which keeps the engine's
  // working set compact.
  std::vector<core::OpId> previous_exchange(ranks * chunks, core::kNoId);
  std::vector<core::OpId> gang(ranks);
  for (std::uint64_t layer = 0; layer < layers; ++layer) {
    const std::string prefix = "L" + std::to_string(layer) + ".";
    for (std::uint64_t chunk = 0; chunk < chunks; ++chunk) {
      const std::string suffix = ".c" + std::to_string(chunk);
      for (core::RankId r = 0; r < ranks; ++r) {
        const auto work = g.add_op(compute[r], prefix + "compute" + suffix, {"compute"});
        const double stretch = 1.0 + config.skew * unit_draw(rng);
        w.duration.push_back(core::Time::ps(
            static_cast<core::Time::Rep>(static_cast<double>(compute_chunk) * stretch)));
        auto& before = previous_exchange[r * chunks + chunk];
        if (before != core::kNoId) g.add_dependency(work, before);

        const auto exchange = g.add_op(comm[r], prefix + "exchange" + suffix, {"comm"});
        w.duration.push_back(exchange_chunk);
        g.add_dependency(exchange, work);
        before = exchange;
        gang[r] = exchange;
      }
      g.add_gang(gang);
    }
  }
  g.finalize();
  return w;
}

}  // namespace moesim::synthetic
