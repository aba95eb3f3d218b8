#pragma once
// What a study must satisfy beyond each key's own range (model shapes, experts per token, the
// global batch, the hierarchical exchange's groups), checked before anything is built.
#include "exchanges.hpp"
#include "layout.hpp"
#include "moe_shape.hpp"
#include "workload.hpp"

namespace moesim::model {

// Throws ConfigError about the key that set the problem.
void check_built(const Study& study, const MoeShape& shape, const RankLayout& layout,
                 const topo::Cluster& cluster);

}  // namespace moesim::model
