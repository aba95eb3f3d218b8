#pragma once
// The transformer's dense layers as program nodes: linear layers with what an implementation
// launches around their GEMMs, dense MLPs (and shared experts), residual joins, embedding, LM
// head and loss, and the tensor-parallel collectives around them. Attention is in attention.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"
#include "implementation.hpp"
#include "program.hpp"

namespace moesim::model {

// What the layers of one program share.
struct LayerContext {
  const ModelConfig& model;
  const Implementation& impl;
  std::int64_t tp = 1;
  bool sp = false;       // the sequence is split over the tensor-parallel group (this program)
  bool training = true;  // a training micro-batch (dropout, loss), else inference

  double elem() const { return cost::bytes_per_element(model.dtype); }
  cost::Dtype dtype() const { return model.dtype; }
  // Tokens this rank holds of `full` between tensor-parallel regions.
  std::int64_t local(std::int64_t full) const { return sp ? full / tp : full; }
  // What ends a tensor-parallel region: reduce-scatter with sequence parallelism, else
  // all-reduce.
  net::CollectiveKind closing() const {
    return sp ? net::CollectiveKind::kReduceScatter : net::CollectiveKind::kAllReduce;
  }
  bool dropout() const { return training && model.dropout > 0; }
  // The residual stream's type: fp32 where the implementation keeps it so.
  cost::Dtype residual_dtype() const {
    return impl.residual_fp32 ? cost::Dtype::kFp32 : model.dtype;
  }
};

// Forward and backward kernels of one piece of a layer.
struct Kernels {
  std::vector<cost::Work> forward, backward;
  void append(const Kernels& other);
};

// A tensor-parallel collective of `bytes` (total size S), issued after node `after` (-1: none).
Node tp_collective(const std::string& prefix, net::CollectiveKind kind, double bytes, int after);
// A GEMM's backward: data gradient (m x k from m x n and n x k) and weight gradient (k x n).
std::vector<cost::Work> gemm_backward(std::int64_t m, std::int64_t n, std::int64_t k,
                                      cost::Dtype t);
// y = x W (rows x in -> rows x out): the GEMM in the model's GEMM type; with autocast
// the weight cast to the model's type first; FP8 GEMMs cast their input (and in backward the
// output's gradient) first; a bias's gradient reduced by its own kernel unless fused.
Kernels linear(const LayerContext& c, std::int64_t rows, std::int64_t out, std::int64_t in,
               bool biased);
// Where a branch (attention or MLP output, `rows` x h) rejoins the residual stream: its bias
// (deferred from the GEMM), dropout, and the residual add, fused into one kernel or separate.
// Backward: dropout's, the bias gradient unless fused, and the add at the fork that sums the
// two gradients.
Kernels residual_join(const LayerContext& c, std::int64_t rows, bool biased);

// [TP all-gather], fc1, activation, fc2, [TP collective] over `tokens` (all of the sequence);
// `input` is the node whose output it reads (its all-gather waits for it). fc2's bias is
// deferred to the residual join.
std::vector<int> dense_mlp(Program& p, const LayerContext& c, const std::string& prefix,
                           std::int64_t ffn, std::int64_t tokens, bool tp_comm, int input);
// A dense block's MLP: layer norm, dense_mlp, residual join.
void mlp_block(Program& p, const LayerContext& c, int block, std::int64_t full);
// Before the first block: the embedding lookup (and its dropout in training).
void embedding(Program& p, const LayerContext& c, std::int64_t full);
// After the last block: final norm, LM head and loss (training), or the logits of the last
// token of each of `batch` sequences and the sampling (inference).
void head(Program& p, const LayerContext& c, std::int64_t full, std::int64_t batch);
// A layer norm over `rows` x h as forward and backward kernels.
Kernels layer_norm(const LayerContext& c, std::int64_t rows);

}  // namespace moesim::model
