#pragma once
// How many tokens each source rank sends to each expert, per MoE layer: balanced, Zipf-skewed
// expert popularity (seeded), or read from a routing trace. Capacity factors pad or drop.
//
// A trace is CSV, `layer,source,expert,tokens` (that header optional; `#` comments): per MoE
// layer (0-based, counting MoE blocks only; DGMoE's two gates of layer l are 2l and 2l+1) and
// source rank, the tokens it sends to each expert. Its split over experts is kept and scaled to
// the rank's tokens x top-k at that point (largest remainders, none above the token count), so
// a trace taken at the model's batch gives its own counts and a decode step a scaled copy.
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"

namespace moesim::model {

// tokens[e] for one source rank: rows it routes to expert e (each token picks k distinct
// experts, so no entry exceeds the rank's token count).
using ExpertCounts = std::vector<std::int64_t>;

class RoutingModel {
 public:
  // Reads the trace file (if any) now, so a bad file fails before anything runs. Throws
  // ConfigError naming the file and line.
  RoutingModel(const RoutingConfig& config, std::int64_t experts);

  // Rows `source` (a global rank) routes to each expert in MoE layer `moe_layer`, for `tokens`
  // tokens with top-`k`.
  ExpertCounts route(int moe_layer, int source, std::int64_t tokens, std::int64_t k) const;

 private:
  RoutingConfig config_;
  std::int64_t experts_;
  std::map<std::pair<int, int>, ExpertCounts> trace_;  // (layer, source) -> counts
};

// The rows actually sent per expert: with a capacity factor c every expert gets exactly
// ceil(c*T*k/E) rows (padding fills, overflow is dropped); dropless sends what was routed.
ExpertCounts apply_capacity(const ExpertCounts& routed, std::int64_t tokens, std::int64_t k,
                            const std::optional<double>& capacity_factor);

}  // namespace moesim::model
