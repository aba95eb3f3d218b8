#pragma once
// An attention block as program nodes: layer norm, [windows partitioned], [TP all-gather], QKV
// projection, [q/k norms], [KV cache write in inference], the attention itself, output
// projection, [TP collective], residual join, [windows put back].
//
// The attention runs as one flash kernel when the implementation has one and the model's
// attention is plain scaled dot product (no cosine similarity, no bias on the scores);
// otherwise the scores are materialised (attention_scores()).
#include <cstdint>
#include <vector>

#include "layers.hpp"

namespace moesim::model {

// `tokens`: the block's tokens where the sequences' lengths differ (the projections, norms and
// collectives take them; the attention core runs at batch x seq_q x seq_kv); 0: batch x seq_q.
std::vector<int> attention_block(Program& p, const LayerContext& c, int block, std::int64_t batch,
                                 std::int64_t seq_q, std::int64_t seq_kv, std::int64_t tokens = 0);

// Whether the attention of `c` runs as one fused kernel.
bool flash_attention(const LayerContext& c);
// The unfused attention of `batch` sequences: [head split copies], [cosine normalisation], QK^T,
// scale and mask (in the softmax kernel, or each its own), [position bias], softmax, [dropout
// on the probabilities], PV, [head merge copy]; backward the reverse with two GEMMs per GEMM.
// Scores are in the model's scores type, else the implementation's, else the model's dtype.
Kernels attention_scores(const LayerContext& c, std::int64_t batch, std::int64_t seq_q,
                         std::int64_t seq_kv);

}  // namespace moesim::model
