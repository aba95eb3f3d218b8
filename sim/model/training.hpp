#pragma once
// A training iteration on one rank, around its forward program: micro-batches one after another
// (forward, then the mirrored backward), the data-parallel gradient reductions in buckets
// (training.bucket) over the blocks in backward order, the optimizer step, and the ZeRO stages'
// changes to them (training.zero):
//   0: each bucket all-reduced during the last backward;
//   1, 2: reduce-scattered; the step prices the rank's shard; each bucket's weights all-gathered
//         after it; from 2 on every micro-batch's backward reduces (a rank keeps only its shard
//         of the gradients, so they cannot accumulate: DeepSpeed, deepspeedai/DeepSpeed#2252);
//   3: and no gather after the step: before each pass, one gather per block (and the
//      embedding) in the order the pass first uses them, every op of a block waiting for its
//      gathers, and a block's gathers waiting for the first op of the block before.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "emitter.hpp"
#include "parameters.hpp"

namespace moesim::model {

class Training {
 public:
  Training(const Study& study, const RankLayout& layout, const Parameters& parameters,
           Emitter& emitter)
      : s_(study), layout_(layout), parameters_(parameters), emitter_(emitter) {}

  // Micro-batches (global batch / (micro-batch x ep x dp)), then the step.
  void iteration(int rank, const Program& program, std::int64_t micro_batches);

 private:
  // The reductions of one rank, and their buckets, which stages 1 and 2 gather back after the
  // step.
  struct Reductions {
    std::vector<core::OpId> ops;
    std::vector<std::pair<Group, double>> buckets;  // group, parameters (elements)
  };
  // ZeRO-3: the weight gathers of one pass, by unit (block + 1; unit 0 is the embedding, which
  // the LM head shares), in the order the pass first uses the units.
  struct WeightGathers {
    std::vector<int> order;                    // units, first used first
    std::vector<std::vector<core::OpId>> ops;  // by unit: its gathers (dense, expert)
    std::vector<core::OpId> first_use;         // by unit: the pass's first op of it
  };

  // One pass over the program; records the last op of each block in `last_of_block` if given.
  void pass(const Program& p, int rank, bool backward, const std::string& suffix,
            std::vector<core::OpId>* last_of_block);
  WeightGathers gather_weights(const Program& p, int rank, bool backward,
                               const std::string& suffix);
  // Reduces one backward pass's gradients, each bucket as soon as its last block is done.
  void reduce_gradients(int rank, const std::vector<core::OpId>& last_bwd_of_block,
                        const std::string& suffix, Reductions& out);
  // The optimizer step after every reduction, then (stages 1 and 2) the weights' gathers.
  void step(int rank, const Reductions& reductions);
  bool reduces_every_micro_batch() const { return s_.training.zero >= kZeroGradients; }
  bool gathers_weights() const { return s_.training.zero >= kZeroWeights; }
  int dense_dp_group() const { return layout_.ep() * layout_.dp(); }
  int expert_dp_group() const { return layout_.dp(); }
  double elem() const { return cost::bytes_per_element(s_.model.dtype); }
  double gradient_elem() const { return cost::bytes_per_element(gradient_dtype(s_)); }
  double held(bool sharded) const;

  const Study& s_;
  const RankLayout& layout_;
  const Parameters& parameters_;
  Emitter& emitter_;
};

}  // namespace moesim::model
