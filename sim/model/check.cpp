// check_study(): what a study must satisfy before anything is built, each problem named by the
// key that set it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "check.hpp"
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

}  // namespace moesim::model
