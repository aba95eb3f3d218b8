// check_study(): what a study must satisfy before anything is built, each problem named by the
// key that set it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "check.hpp"
#include "config/enum_name.hpp"
#include "config/error.hpp"

namespace moesim::model {

namespace {

void check_model(const ModelConfig& m) {
  if (m.hidden % m.heads != 0) {
    throw config::ConfigError::about(
        "model.hidden", fmt::format("{} is not a multiple of model.heads {}", m.hidden, m.heads));
  }
  if (m.heads % m.kv() != 0) {
    throw config::ConfigError::about(
        "model.kv_heads", fmt::format("{} does not divide model.heads {}", m.kv(), m.heads));
  }
  const auto& blocks = m.moe.blocks;
  for (auto b = blocks.begin(); b != blocks.end(); ++b) {
    if (*b < 0 || *b >= m.layers) {
      throw config::ConfigError::about(
          "model.moe.blocks",
          fmt::format("block {} is not one of the model's blocks 0..{}", *b, m.layers - 1));
    }
    // The list is a set of blocks (in any order); a repeat is most likely a typo for another.
    if (std::find(blocks.begin(), b, *b) != b) {
      throw config::ConfigError::about(
          "model.moe.blocks",
          fmt::format("block {} is listed twice: {}", *b, fmt::join(blocks, ", ")));
    }
  }
  if (m.moe.experts > 0 && m.moe.blocks.empty() && m.moe.first >= m.layers) {
    throw config::ConfigError::about(
        "model.moe.first",
        fmt::format("block {} is past the model's last block, {}: no block would be MoE",
                    m.moe.first, m.layers - 1));
  }
}

}  // namespace

void check_built(const Study& s, const MoeShape& shape, const RankLayout& layout,
                 const topo::Cluster& cluster) {
  const auto& m = s.model;
  check_model(m);
  if (m.moe.experts > 0 && shape.k > m.moe.experts) {
    throw config::ConfigError::about(
        std::string(shape.k_key),
        fmt::format("schedule '{}' sends each token to {} distinct experts, but "
                    "model.moe.experts is {}",
                    s.schedule.name, shape.k, m.moe.experts));
  }
  if (s.mode == Mode::kTrain && m.global_batch > 0) {
    const auto per_step = m.micro_batch * s.parallel.ep * s.parallel.dp;
    if (m.global_batch % per_step != 0) {
      throw config::ConfigError::about(
          "model.global_batch",
          fmt::format("{} is not a multiple of micro_batch {} x ep {} x dp {} = {}", m.global_batch,
                      m.micro_batch, s.parallel.ep, s.parallel.dp, per_step));
    }
  }
  if (shape.algorithm == ExchangeAlgorithm::kHierarchical &&
      shape.dispatch == DispatchMode::kPerNode) {
    throw config::ConfigError::about(
        "schedule.dispatch",
        fmt::format("schedule '{}': per_node dispatch forwards inside each node itself; it "
                    "takes a flat all-to-all, not a hierarchical one",
                    s.schedule.name));
  }
  if (s.parallel.ep > 1 && shape.algorithm == ExchangeAlgorithm::kHierarchical) {
    for (int g = 0; g < layout.ep_group_count(); ++g) {
      if (gpus_per_node(cluster, layout.ep_group(g)) == 0) {
        throw config::ConfigError::about(
            "schedule.all_to_all",
            fmt::format("schedule '{}' is hierarchical, which needs every expert-parallel "
                        "group to fill whole nodes, node by node (check parallel.order)",
                        s.schedule.name));
      }
    }
  }
}

std::vector<std::string> study_notes(const Study& s, const topo::Cluster& cluster) {
  std::vector<std::string> notes;
  const auto& m = s.model;
  const auto shape = moe_shape(m, s.schedule);
  // A shortcut reads the preceding block; after a MoE block it sits at position 1 whatever the
  // schedule says (moe_block.cpp), so the position matters only after a dense block.
  const bool shortcut = shape.shortcut[0] || shape.shortcut[1];
  bool after_dense = false;
  for (std::int64_t b = 1; b < m.layers; ++b) {
    after_dense = after_dense || (m.is_moe_block(b) && !m.is_moe_block(b - 1));
  }
  if (!shortcut && s.schedule.shortcut != ScheduleConfig{}.shortcut) {
    notes.push_back(fmt::format(
        "schedule {}: the shortcut position ({}) changes nothing: its blocks have no shortcut "
        "(scmoe, scmoe2 and dgmoe do)",
        s.schedule.name, s.schedule.shortcut));
  } else if (shortcut && !after_dense && s.schedule.shortcut != ScheduleConfig{}.shortcut) {
    notes.push_back(fmt::format(
        "schedule {}: the shortcut position changes nothing on {}: every MoE block follows a "
        "MoE block, where the shortcut reads at position 1 (positions 2 and 3 need a dense "
        "block before a MoE block)",
        s.schedule.name, m.name));
  }
  if (m.moe.experts > 0 && m.moe.capacity_factor && s.routing.kind != RoutingKind::kBalanced) {
    notes.push_back(fmt::format(
        "routing.kind {} changes nothing: model.moe.capacity_factor {} pads and caps every "
        "expert at c*T*k/E rows whatever the skew (set it to null for dropless routing)",
        config::enum_name(s.routing.kind), *m.moe.capacity_factor));
  }
  const auto gpus = static_cast<std::int64_t>(cluster.gpus().size());
  if (s.parallel.world() < gpus) {
    notes.push_back(fmt::format(
        "the study uses {} of the cluster's {} GPUs (tp {} x ep {} x dp {}); the other {} stay "
        "idle",
        s.parallel.world(), gpus, s.parallel.tp, s.parallel.ep, s.parallel.dp,
        gpus - s.parallel.world()));
  }
  return notes;
}

}  // namespace moesim::model
