#pragma once
// What one kernel does, in the terms the cost model prices: FLOPs and bytes moved, plus the
// shape where a measured table is keyed by it. One constructor per op kind; each states its
// formula. Sizes are element counts; bytes follow from the dtype.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dtype.hpp"

namespace moesim::cost {

enum class OpKind {
  kGemm,
  kGroupedGemm,
  kAttention,
  kAttentionBackward,
  kLayerNorm,
  kActivation,
  kGating,
  kPermute,
  kLshHash,
  kSegmentedMean,
  kElementwiseAdd,
  kOptimizerStep,
  kMemcpy,
};
std::string_view name(OpKind kind);

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
};
struct AttentionShape {
  std::int64_t batch = 0, heads = 0, kv_heads = 0, seq_q = 0, seq_kv = 0, head_dim = 0;
  bool causal = false;
};

struct Work {
  OpKind kind = OpKind::kGemm;
  Dtype dtype = Dtype::kBf16;
  double flops = 0;
  double bytes = 0;
  GemmShape gemm;                    // kGemm
  std::vector<std::int64_t> groups;  // kGroupedGemm: rows per expert (m_e), with gemm.n, gemm.k
  AttentionShape attention;          // kAttention, kAttentionBackward
};

namespace work {
// C[m,n] = A[m,k] B[k,n]: 2mnk FLOPs; reads A and B, writes C.
Work gemm(std::int64_t m, std::int64_t n, std::int64_t k, Dtype dtype);
// One kernel over experts e with m_e rows each and shared n, k: sum of the GEMMs; each expert's
// weights are read once.
Work grouped_gemm(std::span<const std::int64_t> rows_per_expert, std::int64_t n, std::int64_t k,
                  Dtype dtype);
// Flash-style attention forward: QK^T and PV, 4 b h s_q s_kv d FLOPs, halved when causal with
// s_q == s_kv; reads Q, K, V once and writes O (no s x s matrix in memory). K and V have
// kv_heads heads (grouped-query attention). Decode is s_q = 1 with s_kv the context.
Work attention(const AttentionShape& shape, Dtype dtype);
// Its backward: recomputes QK^T and does dV, dP, dQ, dK: 5 matmuls of the forward's size
// against its 2, so 2.5x the FLOPs; reads Q, K, V, O, dO, writes dQ, dK, dV.
Work attention_backward(const AttentionShape& shape, Dtype dtype);
// Layer norm or RMS norm over rows x width: reads x, writes y (about 8 FLOPs per element).
Work layer_norm(std::int64_t rows, std::int64_t width, Dtype dtype);
// GELU/SiLU over `elements`; gated (SwiGLU) reads two inputs.
Work activation(std::int64_t elements, bool gated, Dtype dtype);
// Softmax over tokens x experts logits and top-k: reads logits, writes probabilities and the
// k chosen (index + weight) per token.
Work gating(std::int64_t tokens, std::int64_t experts, std::int64_t top_k, Dtype dtype);
// Permute or unpermute: gathers rows x width (reads and writes each row, reads its index).
Work permute(std::int64_t rows, std::int64_t width, Dtype dtype);
// Cross-polytope LSH of rows x width with `hashes` functions. Dense rotation: a GEMM of
// rows x width x (hashes * width). Structured: three Hadamard-diagonal rounds per hash,
// 3 width log2(width) FLOPs each (an assumption about the implementation).
Work lsh_hash(std::int64_t rows, std::int64_t width, std::int64_t hashes, bool structured,
              Dtype dtype);
// Mean of rows in `segments` buckets: reads rows x width, writes segments x width.
Work segmented_mean(std::int64_t rows, std::int64_t width, std::int64_t segments, Dtype dtype);
// y = a + b over `elements`: reads two, writes one.
Work elementwise_add(std::int64_t elements, Dtype dtype);
// What Adam keeps per parameter beside the weight and its gradient (both in the model's dtype):
// an fp32 master weight and fp32 first and second moments.
inline constexpr double kAdamFp32StatesPerParameter = 3;
inline constexpr double kFp32Bytes = 4;
// Adam with fp32 master weights and moments: per parameter reads a low-precision gradient and
// fp32 master, m, v (2 + 12 bytes in bf16), writes fp32 master, m, v and the low-precision
// weight (12 + 2): 28 bytes; about 10 FLOPs.
Work optimizer_step(std::int64_t parameters, Dtype dtype);
// Device-to-device copy: reads and writes `bytes`.
Work memcpy(std::int64_t bytes);
}  // namespace work

}  // namespace moesim::cost
