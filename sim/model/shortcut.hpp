#pragma once
// Places the routed paths that read an earlier block through a shortcut (ScMoE, ScMoE-2,
// DGMoE's preceding half): gate and dispatch right after the shortcut point, post-processing
// before the block's final sum, and the expert computation at the slot in between that
// minimises max(0, dispatch - compute before) + max(0, combine - compute after), with the
// exchange times estimated by playing each exchange alone on the network model.
#include <vector>

#include "core/time.hpp"
#include "exchanges.hpp"
#include "layout.hpp"
#include "moe_block.hpp"
#include "net/transfer_graph.hpp"
#include "pricer.hpp"
#include "program.hpp"

namespace moesim::model {

class ShortcutPlacer {
 public:
  ShortcutPlacer(const RankLayout& layout, GraphCatalogue& graphs, Pricer& pricer,
                 const ExchangeEstimator& estimate)
      : layout_(layout), graphs_(graphs), pricer_(pricer), estimate_(estimate) {}

  // Splices `paths` into rank `rank`'s program, last first, so that earlier indices stay valid.
  void place(Program& p, int rank, std::vector<ShortcutPath>& paths);

 private:
  // The expert computation goes after window[slot - 1].
  std::size_t choose_slot(const Program& p, const std::vector<int>& window, const RoutedPath& r,
                          int rank);
  double exchange_seconds(const Collective& c, const std::vector<int>& gpus);

  const RankLayout& layout_;
  GraphCatalogue& graphs_;
  Pricer& pricer_;
  const ExchangeEstimator& estimate_;
  std::vector<double> seconds_;  // by graph: how long it takes alone (negative: not yet known)
};

}  // namespace moesim::model
