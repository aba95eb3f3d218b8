#include "layout.hpp"

#include <fmt/format.h>

#include "config/error.hpp"

namespace moesim::model {

namespace {

// Strides of (tp, ep, dp) for a placement order, fastest-varying first.
std::array<int, 3> strides(RankOrder order, int tp, int ep, int dp) {
  switch (order) {
    case RankOrder::kTpEpDp:
      return {1, tp, tp * ep};
    case RankOrder::kEpTpDp:
      return {ep, 1, tp * ep};
    case RankOrder::kTpDpEp:
      return {1, tp * dp, tp};
  }
  return {1, tp, tp * ep};
}

}  // namespace

RankLayout::RankLayout(const ModelConfig& model, const ParallelConfig& parallel, int cluster_gpus,
                       int gpus_per_node)
    : world_(static_cast<int>(parallel.world())),
      tp_(static_cast<int>(parallel.tp)),
      ep_(static_cast<int>(parallel.ep)),
      dp_(static_cast<int>(parallel.dp)),
      order_(parallel.order) {
  using config::ConfigError;
  if (parallel.world() > cluster_gpus) {
    const auto world = parallel.world();
    const std::string need =
        gpus_per_node > 0 && world % gpus_per_node == 0
            ? fmt::format(" (they need {} nodes of {})", world / gpus_per_node, gpus_per_node)
            : "";
    throw ConfigError::about(
        "parallel", fmt::format("tp {} x ep {} x dp {} = {} ranks, but the cluster has {} GPUs{}",
                                parallel.tp, parallel.ep, parallel.dp, world, cluster_gpus, need));
  }
  if (model.moe.experts % parallel.ep != 0) {
    throw ConfigError::about("parallel.ep", fmt::format("{} does not divide model.moe.experts {}",
                                                        parallel.ep, model.moe.experts));
  }
  if (model.heads % parallel.tp != 0 || model.kv() % parallel.tp != 0) {
    throw ConfigError::about("parallel.tp",
                             fmt::format("{} does not divide model.heads {} and model.kv_heads {}",
                                         parallel.tp, model.heads, model.kv()));
  }
  if (parallel.tp > 1 && parallel.sp && (model.seq_len * model.micro_batch) % parallel.tp != 0) {
    throw ConfigError::about("parallel.sp",
                             fmt::format("the {} tokens of a micro-batch do not split over tp {}",
                                         model.seq_len * model.micro_batch, parallel.tp));
  }
  if (model.dense_ffn() % parallel.tp != 0 || model.expert_ffn() % parallel.tp != 0) {
    throw ConfigError::about("parallel.tp",
                             fmt::format("{} does not divide the FFN sizes {} and {}", parallel.tp,
                                         model.dense_ffn(), model.expert_ffn()));
  }
  const auto s = strides(order_, tp_, ep_, dp_);
  coords_.resize(static_cast<std::size_t>(world_));
  for (int t = 0; t < tp_; ++t) {
    for (int e = 0; e < ep_; ++e) {
      for (int d = 0; d < dp_; ++d) {
        coords_[static_cast<std::size_t>(t * s[0] + e * s[1] + d * s[2])] = {t, e, d};
      }
    }
  }
}

int RankLayout::rank_at(int tp, int ep, int dp) const {
  const auto s = strides(order_, tp_, ep_, dp_);
  return tp * s[0] + ep * s[1] + dp * s[2];
}

std::vector<int> RankLayout::ep_group(int group) const {
  std::vector<int> ranks;
  for (int e = 0; e < ep_; ++e) ranks.push_back(rank_at(group % tp_, e, group / tp_));
  return ranks;
}

std::vector<int> RankLayout::tp_group(int group) const {
  std::vector<int> ranks;
  for (int t = 0; t < tp_; ++t) ranks.push_back(rank_at(t, group % ep_, group / ep_));
  return ranks;
}

std::vector<int> RankLayout::dense_dp_group(int group) const {
  std::vector<int> ranks;
  for (int d = 0; d < dp_; ++d) {
    for (int e = 0; e < ep_; ++e) ranks.push_back(rank_at(group, e, d));
  }
  return ranks;
}

std::vector<int> RankLayout::expert_dp_group(int group) const {
  std::vector<int> ranks;
  for (int d = 0; d < dp_; ++d) ranks.push_back(rank_at(group % tp_, group / tp_, d));
  return ranks;
}

}  // namespace moesim::model
