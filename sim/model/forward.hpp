#pragma once
// Builds the programs of a study (program.hpp): one micro-batch's forward pass on one rank is
// the embedding, each block (attention, then a dense MLP or a MoE block laid out by the
// schedule's shape, moe_shape.hpp), final norm and LM head. Blocks are laid out backbone first;
// shortcut paths are spliced in afterwards (shortcut.hpp).
//
// The builder owns what programs share: the rank layout, the routing and its byte matrices,
// the collectives' transfer graphs and the kernel prices. Both executors start here: the
// simulator (workload.hpp) and anything that replays programs on devices.
#include <cstdint>
#include <memory>

#include "layout.hpp"
#include "moe_block.hpp"
#include "moe_shape.hpp"
#include "routing.hpp"
#include "shortcut.hpp"
#include "workload.hpp"

namespace moesim::model {

class ProgramBuilder {
 public:
  // Checks the study (check.hpp) first: throws ConfigError as build_workload() would.
  ProgramBuilder(const Study& study, const topo::Cluster& cluster, const cost::CostModel& cost,
                 const ExchangeEstimator& estimate);

  // `batch` sequences of `seq_q` new tokens attending to `seq_kv` (a decode step: seq_q = 1).
  // `tokens`: the pass's tokens where the sequences' lengths differ (attention then runs at
  // seq_q x seq_kv per sequence, serving.hpp); 0: batch x seq_q.
  Program forward(int rank, std::int64_t batch, std::int64_t seq_q, std::int64_t seq_kv,
                  std::int64_t tokens = 0);
  // A training micro-batch: micro_batch sequences of seq_len tokens.
  Program training_forward(int rank) {
    return forward(rank, study_.model.micro_batch, study_.model.seq_len, study_.model.seq_len);
  }

  const Study& study() const { return study_; }
  const MoeShape& shape() const { return shape_; }
  const RankLayout& layout() const { return layout_; }
  Traffic& traffic() { return traffic_; }
  GraphCatalogue& graphs() { return graphs_; }
  Pricer& pricer() { return pricer_; }

 private:
  const Study& study_;
  RankLayout layout_;
  RoutingModel routing_;
  MoeShape shape_;
  Pricer pricer_;
  Traffic traffic_;
  GraphCatalogue graphs_;
  MoeBlock moe_;
  ShortcutPlacer shortcuts_;
};

}  // namespace moesim::model
