#pragma once
// Which ranks form each tensor-, expert- and data-parallel group, and the checks that a model,
// its parallelism and a cluster fit together.
#include <cstdint>
#include <vector>

#include "config.hpp"

namespace moesim::model {

class RankLayout {
 public:
  // Throws ConfigError naming the offending keys and values. `gpus_per_node` (0: not known) lets
  // the error for too many ranks say how many nodes they need.
  RankLayout(const ModelConfig& model, const ParallelConfig& parallel, int cluster_gpus,
             int gpus_per_node = 0);

  int world() const { return world_; }
  int tp() const { return tp_; }
  int ep() const { return ep_; }
  int dp() const { return dp_; }
  // Coordinates of a rank, and back.
  int tp_index(int rank) const { return coords_[static_cast<std::size_t>(rank)][0]; }
  int ep_index(int rank) const { return coords_[static_cast<std::size_t>(rank)][1]; }
  int dp_index(int rank) const { return coords_[static_cast<std::size_t>(rank)][2]; }
  int rank_at(int tp, int ep, int dp) const;

  // Groups, each listed in the order of its varying coordinate. Group ids are dense.
  int ep_group_count() const { return tp_ * dp_; }
  int ep_group_of(int rank) const { return tp_index(rank) + tp_ * dp_index(rank); }
  std::vector<int> ep_group(int group) const;  // the ep ranks of one (tp, dp)
  int tp_group_of(int rank) const { return ep_index(rank) + ep_ * dp_index(rank); }
  std::vector<int> tp_group(int group) const;  // the tp ranks of one (ep, dp)
  // Dense (non-expert) gradients: every rank with the same tp index.
  int dense_dp_group_of(int rank) const { return tp_index(rank); }
  std::vector<int> dense_dp_group(int group) const;
  // Expert gradients: the dp replicas of one (tp, ep) position.
  int expert_dp_group_of(int rank) const { return tp_index(rank) + tp_ * ep_index(rank); }
  std::vector<int> expert_dp_group(int group) const;

 private:
  int world_, tp_, ep_, dp_;
  RankOrder order_;
  std::vector<std::array<int, 3>> coords_;  // by rank: (tp, ep, dp)
};

}  // namespace moesim::model
