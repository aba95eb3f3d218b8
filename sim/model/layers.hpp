#pragma once
// The transformer's dense layers as program nodes: attention blocks, dense MLPs (and shared
// experts), the tensor-parallel collectives around them.
#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"
#include "program.hpp"

namespace moesim::model {

// What the layers of one program share.
struct LayerContext {
  const ModelConfig& model;
  std::int64_t tp = 1;
  bool sp = false;  // the sequence is split over the tensor-parallel group (this program)

  double elem() const { return cost::bytes_per_element(model.dtype); }
  // Tokens this rank holds of `full` between tensor-parallel regions.
  std::int64_t local(std::int64_t full) const { return sp ? full / tp : full; }
  // What ends a tensor-parallel region: reduce-scatter with sequence parallelism, else
  // all-reduce.
  net::CollectiveKind closing() const {
    return sp ? net::CollectiveKind::kReduceScatter : net::CollectiveKind::kAllReduce;
  }
};

// A tensor-parallel collective of `bytes` (total size S), issued after node `after` (-1: none).
Node tp_collective(const std::string& prefix, net::CollectiveKind kind, double bytes, int after);
// A GEMM's backward: data gradient (m x k from m x n and n x k) and weight gradient (k x n).
std::vector<cost::Work> gemm_backward(std::int64_t m, std::int64_t n, std::int64_t k,
                                      cost::Dtype t);

// Layer norm, [TP all-gather], QKV, attention, output projection, [TP collective], residual.
std::vector<int> attention_block(Program& p, const LayerContext& c, int block,
                                 std::int64_t batch, std::int64_t seq_q, std::int64_t seq_kv);
// [TP all-gather], fc1, activation, fc2, [TP collective] over `tokens` (all of the sequence);
// `input` is the node whose output it reads (its all-gather waits for it).
std::vector<int> dense_mlp(Program& p, const LayerContext& c, const std::string& prefix,
                           std::int64_t ffn, std::int64_t tokens, bool tp_comm, int input);
// A dense block's MLP: layer norm, dense_mlp, residual.
void mlp_block(Program& p, const LayerContext& c, int block, std::int64_t full);
// Before the first block and after the last: embedding; final norm and LM head.
void embedding(Program& p, const LayerContext& c, std::int64_t full);
void head(Program& p, const LayerContext& c, std::int64_t full);

}  // namespace moesim::model
