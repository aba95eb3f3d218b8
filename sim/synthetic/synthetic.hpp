#pragma once
// A synthetic layered workload: every rank computes, then all ranks exchange (a gang), layer
// after layer, optionally in chunks so that one chunk's exchange overlaps the next chunk's
// compute. It exercises streams, cross-stream dependencies and gangs without any MoE model, and
// serves as the demo run and the engine benchmark.
#include <cstdint>
#include <vector>

#include "config/check.hpp"
#include "core/op_graph.hpp"
#include "core/time.hpp"

namespace moesim::synthetic {

struct SyntheticConfig {
  std::int64_t ranks = 8;
  std::int64_t layers = 4;
  std::int64_t chunks = 2;
  core::Time compute = core::Time::us(400);
  core::Time exchange = core::Time::us(300);
  double skew = 0.1;
  std::int64_t seed = 1;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("ranks", ranks, "ranks (GPUs), each with a compute and a comm stream",
            Check::at_least(1));
    v.field("layers", layers, "layers, each a compute phase then an exchange", Check::at_least(1));
    v.field("chunks", chunks, "chunks per layer; chunk i's exchange overlaps chunk i+1's compute",
            Check::at_least(1));
    v.field("compute", compute, "compute time per layer and rank (split over chunks)",
            Check::positive());
    v.field("exchange", exchange, "exchange time per layer (split over chunks), all ranks at once",
            Check::positive());
    v.field("skew", skew, "each compute op takes up to this fraction longer, drawn per op",
            Check::between(0, 10));
    v.field("seed", seed, "seed of the skew draws", Check::non_negative());
  }
};

struct Workload {
  core::OpGraph graph;               // finalized
  std::vector<core::Time> duration;  // by op id
};

// Throws GraphError if the result is too large for 32-bit op ids.
Workload build(const SyntheticConfig& config);

}  // namespace moesim::synthetic
