#pragma once
// What a study must satisfy beyond each key's own range (model shapes, experts per token, the
// global batch, the hierarchical exchange's groups), checked before anything is built.
#include <string>
#include <vector>

#include "exchanges.hpp"
#include "layout.hpp"
#include "moe_shape.hpp"
#include "workload.hpp"

namespace moesim::model {

// Throws ConfigError about the key that set the problem.
void check_built(const Study& study, const MoeShape& shape, const RankLayout& layout,
                 const topo::Cluster& cluster);

// Settings of a study that change nothing in what it simulates (a shortcut position where every
// MoE block follows a MoE block, routing skew under capacity padding, a cluster with more GPUs
// than ranks), each as one sentence naming its key. Empty when every setting takes effect.
std::vector<std::string> study_notes(const Study& study, const topo::Cluster& cluster);

}  // namespace moesim::model
