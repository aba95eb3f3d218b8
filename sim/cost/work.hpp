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
  kBatchedGemm,
  kSoftmax,
  kElementwise,  // scale, mask, bias add: reads and writes each element
  kDropout,
  kCast,
  kLayoutCopy,
  kReduction,  // a bias gradient: sums rows
  kCrossEntropy,
  kSort,
  kCumsum,
  kZeroFill,
  kKvCacheWrite,
  kSampling,
};
std::string_view name(OpKind kind);
// Kernels whose FLOPs never decide their time: priced by the bytes they move (the memory table
// or the roofline's memory term).
bool memory_bound_kind(OpKind kind);

struct GemmShape {
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t batch = 1;  // independent GEMMs of this shape in one kernel
};
struct AttentionShape {
  std::int64_t batch = 0, heads = 0, kv_heads = 0, seq_q = 0, seq_kv = 0, head_dim = 0;
  bool causal = false;
  int flash_version = 0;  // the FlashAttention generation that runs it (0: not said)
};

// The rows a row-wise kernel works on, kept so that a device replay can run it at its shape
// (pricing reads bytes and FLOPs only): gating (rows = tokens, width = experts, k = top-k),
// permute (rows gathered, width of a row).
struct RowShape {
  std::int64_t rows = 0, width = 0, k = 0;
};

struct Work {
  OpKind kind = OpKind::kGemm;
  Dtype dtype = Dtype::kBf16;
  double flops = 0;
  double bytes = 0;
  GemmShape gemm;                    // kGemm
  std::vector<std::int64_t> groups;  // kGroupedGemm: rows per expert (m_e), with gemm.n, gemm.k
  AttentionShape attention;          // kAttention, kAttentionBackward
  RowShape row;                      // kGating, kPermute
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
// Its backward: reads x and the gradient, writes dx; the scale and shift gradients are summed
// over the rows (one more row written each).
Work layer_norm_backward(std::int64_t rows, std::int64_t width, Dtype dtype);
// GELU/SiLU over `elements`; gated (SwiGLU) reads two inputs.
Work activation(std::int64_t elements, bool gated, Dtype dtype);
// Its backward: reads the input(s) and the output's gradient, writes the input gradient(s):
// 3 tensors, 5 gated.
Work activation_backward(std::int64_t elements, bool gated, Dtype dtype);
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

// --- what real implementations launch beside the GEMMs (see docs/implementations.md) ---------
// `batch` independent GEMMs of m x n x k in one kernel (attention's QK^T and PV when the scores
// are materialised): 2 batch m n k FLOPs; reads and writes each operand once per GEMM.
Work batched_gemm(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k, Dtype dtype);
// Softmax over rows of `cols` (attention scores): reads `in`, writes `out` (about 5 FLOPs per
// element); scaling and masking fused into it cost nothing more.
Work softmax(std::int64_t rows, std::int64_t cols, Dtype in, Dtype out);
// Its backward: reads the probabilities and their gradient, writes the scores' gradient.
Work softmax_backward(std::int64_t rows, std::int64_t cols, Dtype dtype);
// An elementwise kernel over `elements` reading `inputs` tensors and writing `outputs` of them
// (a scale or a mask: 1 and 1; a bias add: 1 and 1, plus the bias row, negligible).
Work elementwise(std::int64_t elements, int inputs, int outputs, Dtype dtype);
// Dropout: reads x, writes y and a one-byte keep mask per element; its backward reads the
// gradient and the mask and writes the gradient (PyTorch saves a bool mask).
Work dropout(std::int64_t elements, Dtype dtype);
Work dropout_backward(std::int64_t elements, Dtype dtype);
// Bias, dropout and residual add in one kernel (Megatron's bias_dropout_add): reads the branch
// and the residual, writes the sum, and with dropout its one-byte mask.
Work bias_dropout_add(std::int64_t elements, bool dropout, Dtype dtype);
// A dtype conversion: reads `from`, writes `to`.
Work cast(std::int64_t elements, Dtype from, Dtype to);
// A cast that also writes the transpose (Transformer Engine's cast_transpose before an FP8 GEMM
// on Hopper, whose FP8 tensor cores take one operand layout: the backward GEMMs read the
// transposed copy): reads `from`, writes `to` twice.
Work cast_transpose(std::int64_t elements, Dtype from, Dtype to);
// A layout copy (.contiguous() of a permuted view: heads split or merged, windows partitioned):
// reads and writes each element.
Work layout_copy(std::int64_t elements, Dtype dtype);
// A bias gradient: sums rows x cols over the rows, reads every element, writes one row.
Work bias_gradient(std::int64_t rows, std::int64_t cols, Dtype dtype);
// Cross-entropy over tokens x vocab logits (in `dtype`), forward or backward. Fused (one kernel
// that reads the logits, computes in fp32 in registers): reads the logits; its backward reads
// them and writes their gradient. Unfused, as eager PyTorch runs it (cast to fp32,
// log-softmax, gather; and back): forward casts (reads dtype, writes fp32) then log-softmax
// (reads and writes fp32); backward log-softmax backward (reads two fp32, writes fp32) then
// casts back (reads fp32, writes dtype).
Work cross_entropy(std::int64_t tokens, std::int64_t vocab, Dtype dtype, bool fused, bool backward);
// A radix sort of `keys` keys of `key_bytes` with `value_bytes` payloads, as CUB's onesweep
// runs it: one pass per 8 bits of key, each reading and writing keys and values, after a
// histogram pass that reads the keys.
Work sort(std::int64_t keys, int key_bytes, int value_bytes);
// One-hot of tokens x experts as int64 and a cumsum down the tokens (the locations of GShard-
// style gating): writes the one-hot, reads and writes it for the cumsum.
Work one_hot_cumsum(std::int64_t tokens, std::int64_t experts);
// Writes `bytes` of zeros (a padded dispatch buffer).
Work zero_fill(std::int64_t bytes);
// The load-balancing loss: reads the router's fp32 probabilities and the tokens' one-hot
// choices (tokens x experts each) once to average them per expert.
Work aux_loss(std::int64_t tokens, std::int64_t experts);
// Appends `tokens` new keys and values of `kv_width` elements each to the KV cache.
Work kv_cache_write(std::int64_t tokens, std::int64_t kv_width, Dtype dtype);
// Sampling the next token of `sequences` from their fp32 logits over `vocab`: a softmax and a
// top-k/top-p selection, each reading the row once.
Work sampling(std::int64_t sequences, std::int64_t vocab);
}  // namespace work

}  // namespace moesim::cost
