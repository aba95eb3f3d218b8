#pragma once
// The parameters (elements) each rank holds, block by block: its share of the dense weights and
// of the experts, before any ZeRO sharding. Every rank holds the same. The memory floor and the
// data-parallel traffic (gradient buckets, ZeRO weight gathers) are counted from it.
#include <cstdint>

#include "config.hpp"
#include "moe_shape.hpp"

namespace moesim::model {

struct BlockParameters {
  double dense = 0, expert = 0;
};

class Parameters {
 public:
  Parameters(const ModelConfig& model, const ParallelConfig& parallel, const MoeShape& shape)
      : model_(model), parallel_(parallel), shape_(shape) {}

  // Block b's weights on one rank (block 0 also holds the embedding, shared with the LM head).
  BlockParameters block(std::int64_t b) const;
  double embedding() const {
    return static_cast<double>(model_.vocab * model_.hidden / parallel_.tp);
  }

 private:
  const ModelConfig& model_;
  const ParallelConfig& parallel_;
  const MoeShape& shape_;
};

// The model a schedule makes, whole (no parallelism): what a comparison of schedules must show
// when it differs from the baseline's, so that a speedup is never read as free.
struct Footprint {
  double parameters = 0;     // elements, every expert counted
  double active = 0;         // elements a token passes through (its k experts per path)
  std::int64_t routed = 0;   // routed experts per token, over every path (k x paths)
  std::int64_t shared = 0;   // shared experts
  double exchanged = 1;      // exchanged width over the hidden size (DCCA's r)
  double computed_rows = 1;  // fraction of routed rows the experts compute (LSH's rho)
};
Footprint footprint(const ModelConfig& model, const MoeShape& shape);

}  // namespace moesim::model
