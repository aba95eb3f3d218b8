#pragma once
// A MoE block as program nodes (schedules.md 1-6). A routed path is gate, [DCCA descend], [TP
// all-gather], permute, [LSH hash and centroids], d x (dispatch, experts, combine),
// [compensation], unpermute, [TP reduce-scatter], [DCCA ascend]; a block is its routed paths,
// its shared experts and the sum of their outputs. A path that reads the preceding block
// through a shortcut (ScMoE) is made here but placed by shortcut.hpp.
#include <cstdint>
#include <vector>

#include "dispatcher.hpp"
#include "layers.hpp"
#include "layout.hpp"
#include "moe_shape.hpp"
#include "traffic.hpp"

namespace moesim::model {

// The nodes of one routed path, made but not yet placed in the program's order.
struct RoutedPath {
  std::vector<int> pre, dispatch, experts, combine, post;
  int counts = -1;  // the count exchange before the dispatch, if the dispatcher has one
};

// A routed path to be placed by shortcut.hpp: it may start right after `shortcut_at` (an index
// into the program's order) and must end before the block's final sum at `sum_at`.
struct ShortcutPath {
  RoutedPath routed;
  std::size_t shortcut_at = 0;
  std::size_t sum_at = 0;
};

class MoeBlock {
 public:
  MoeBlock(const ModelConfig& model, const ParallelConfig& parallel, const MoeShape& shape,
           const RankLayout& layout, Traffic& traffic)
      : model_(model), parallel_(parallel), shape_(shape), layout_(layout), traffic_(traffic) {}

  // Lays out MoE block `block` (the `moe_layer`-th MoE block) of rank `rank` after its attention
  // block, over `full` tokens: the in-place paths, the shared experts and the sum. Shortcut
  // paths are returned for placement; `block_start` and `attention_end` index the order at the
  // start of each block laid out so far and at the end of its attention.
  std::vector<ShortcutPath> lay_out(Program& p, const LayerContext& c, int rank, int block,
                                    int moe_layer, std::int64_t full,
                                    const std::vector<std::size_t>& block_start,
                                    const std::vector<std::size_t>& attention_end);

  // One routed path (`input`: the node it reads, -1: placed later).
  RoutedPath routed_path(Program& p, const LayerContext& c, int rank, int block, int moe_layer,
                         int path, std::int64_t full, int input);

 private:
  DispatchShape dispatch_shape(const LayerContext& c, int rank, int moe_layer, int path,
                               std::int64_t full);
  void pre_exchange(Program& p, const LayerContext& c, const std::string& pre,
                    const DispatchShape& d, int input, RoutedPath& r) const;
  void post_exchange(Program& p, const LayerContext& c, const std::string& pre,
                     const DispatchShape& d, RoutedPath& r) const;
  void shared_experts(Program& p, const LayerContext& c, int block, std::int64_t full,
                      int input) const;
  // Rows this rank's experts compute per chunk, by local expert.
  std::vector<std::int64_t> expert_rows(int rank, int moe_layer, int path, std::int64_t full);

  const ModelConfig& model_;
  const ParallelConfig& parallel_;
  const MoeShape& shape_;
  const RankLayout& layout_;
  Traffic& traffic_;
};

}  // namespace moesim::model
