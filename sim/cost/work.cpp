#include "work.hpp"

#include <cmath>

namespace moesim::cost {

namespace {
// FLOPs per element of the memory-bound kernels: small enough that they never decide the
// roofline, listed so the numbers have names. (Estimates from the arithmetic of each kernel.)
constexpr double kLayerNormFlopsPerElement = 8;   // mean, variance, normalise, scale, shift
constexpr double kActivationFlopsPerElement = 8;  // an exp/tanh-based GELU or SiLU
constexpr double kSoftmaxFlopsPerLogit = 5;       // max, subtract, exp, sum, divide
constexpr double kAdamFlopsPerParameter = 10;
constexpr double kIndexBytes = 4;  // int32 row indices, bucket ids
// Adam, per parameter: reads gradient (dtype) + its fp32 states; writes the states + weight
// (dtype).
constexpr double kAdamFp32StatesRead = work::kAdamFp32StatesPerParameter;
constexpr double kAdamFp32StatesWritten = work::kAdamFp32StatesPerParameter;
// Flash attention backward does 5 matmuls of the forward's size to the forward's 2.
constexpr double kAttentionBackwardFlopRatio = 5.0 / 2.0;
// Cross-polytope LSH with structured rotations: three Hadamard-diagonal rounds per hash.
constexpr double kHadamardRoundsPerHash = 3;

double d(std::int64_t v) {
  return static_cast<double>(v);
}

Work begin(OpKind kind, Dtype dtype) {
  Work w;
  w.kind = kind;
  w.dtype = dtype;
  return w;
}
}  // namespace

std::string_view name(OpKind kind) {
  switch (kind) {
    case OpKind::kGemm:
      return "gemm";
    case OpKind::kGroupedGemm:
      return "grouped_gemm";
    case OpKind::kAttention:
      return "attention";
    case OpKind::kAttentionBackward:
      return "attention_backward";
    case OpKind::kLayerNorm:
      return "layer_norm";
    case OpKind::kActivation:
      return "activation";
    case OpKind::kGating:
      return "gating";
    case OpKind::kPermute:
      return "permute";
    case OpKind::kLshHash:
      return "lsh_hash";
    case OpKind::kSegmentedMean:
      return "segmented_mean";
    case OpKind::kElementwiseAdd:
      return "elementwise_add";
    case OpKind::kOptimizerStep:
      return "optimizer_step";
    case OpKind::kMemcpy:
      return "memcpy";
  }
  return "?";
}

namespace work {

Work gemm(std::int64_t m, std::int64_t n, std::int64_t k, Dtype dtype) {
  Work w = begin(OpKind::kGemm, dtype);
  w.flops = 2 * d(m) * d(n) * d(k);
  w.bytes = (d(m) * d(k) + d(k) * d(n) + d(m) * d(n)) * bytes_per_element(dtype);
  w.gemm = {m, n, k};
  return w;
}

Work grouped_gemm(std::span<const std::int64_t> rows_per_expert, std::int64_t n, std::int64_t k,
                  Dtype dtype) {
  Work w = begin(OpKind::kGroupedGemm, dtype);
  for (const auto m : rows_per_expert) {
    w.flops += 2 * d(m) * d(n) * d(k);
    w.bytes += (d(m) * d(k) + d(k) * d(n) + d(m) * d(n)) * bytes_per_element(dtype);
  }
  w.gemm = {0, n, k};
  w.groups.assign(rows_per_expert.begin(), rows_per_expert.end());
  return w;
}

namespace {
double attention_forward_flops(const AttentionShape& s) {
  const double full = 4 * d(s.batch) * d(s.heads) * d(s.seq_q) * d(s.seq_kv) * d(s.head_dim);
  return s.causal && s.seq_q == s.seq_kv ? full / 2 : full;
}
double qkv_o_bytes(const AttentionShape& s, Dtype dtype) {
  const double q_or_o = d(s.batch) * d(s.heads) * d(s.seq_q) * d(s.head_dim);
  const double k_or_v = d(s.batch) * d(s.kv_heads) * d(s.seq_kv) * d(s.head_dim);
  return (2 * q_or_o + 2 * k_or_v) * bytes_per_element(dtype);
}
}  // namespace

Work attention(const AttentionShape& shape, Dtype dtype) {
  Work w = begin(OpKind::kAttention, dtype);
  w.attention = shape;
  if (w.attention.kv_heads == 0) w.attention.kv_heads = shape.heads;
  w.flops = attention_forward_flops(w.attention);
  w.bytes = qkv_o_bytes(w.attention, dtype);
  return w;
}

Work attention_backward(const AttentionShape& shape, Dtype dtype) {
  Work w = attention(shape, dtype);
  w.kind = OpKind::kAttentionBackward;
  w.flops *= kAttentionBackwardFlopRatio;
  // Reads Q, K, V, O, dO; writes dQ, dK, dV: twice the forward's traffic, near enough.
  w.bytes *= 2;
  return w;
}

Work layer_norm(std::int64_t rows, std::int64_t width, Dtype dtype) {
  Work w = begin(OpKind::kLayerNorm, dtype);
  w.flops = kLayerNormFlopsPerElement * d(rows) * d(width);
  w.bytes = 2 * d(rows) * d(width) * bytes_per_element(dtype) + 2 * d(width) * kFp32Bytes;
  return w;
}

Work activation(std::int64_t elements, bool gated, Dtype dtype) {
  Work w = begin(OpKind::kActivation, dtype);
  const double inputs = gated ? 2 : 1;
  w.flops = kActivationFlopsPerElement * d(elements);
  w.bytes = (inputs + 1) * d(elements) * bytes_per_element(dtype);
  return w;
}

Work gating(std::int64_t tokens, std::int64_t experts, std::int64_t top_k, Dtype dtype) {
  Work w = begin(OpKind::kGating, dtype);
  w.flops = kSoftmaxFlopsPerLogit * d(tokens) * d(experts);
  w.bytes = d(tokens) * d(experts) * bytes_per_element(dtype) * 2 +
            d(tokens) * d(top_k) * (kIndexBytes + kFp32Bytes);
  return w;
}

Work permute(std::int64_t rows, std::int64_t width, Dtype dtype) {
  Work w = begin(OpKind::kPermute, dtype);
  w.bytes = 2 * d(rows) * d(width) * bytes_per_element(dtype) + d(rows) * kIndexBytes;
  return w;
}

Work lsh_hash(std::int64_t rows, std::int64_t width, std::int64_t hashes, bool structured,
              Dtype dtype) {
  Work w = begin(OpKind::kLshHash, dtype);
  if (structured) {
    w.flops = kHadamardRoundsPerHash * d(rows) * d(hashes) * d(width) * std::log2(d(width));
  } else {
    w.flops = 2 * d(rows) * d(width) * d(hashes) * d(width);
    w.bytes += d(width) * d(hashes) * d(width) * bytes_per_element(dtype);  // rotation matrices
  }
  w.bytes += d(rows) * d(width) * bytes_per_element(dtype) + d(rows) * kIndexBytes;
  return w;
}

Work segmented_mean(std::int64_t rows, std::int64_t width, std::int64_t segments, Dtype dtype) {
  Work w = begin(OpKind::kSegmentedMean, dtype);
  w.flops = d(rows) * d(width);
  w.bytes = (d(rows) + d(segments)) * d(width) * bytes_per_element(dtype) + d(rows) * kIndexBytes;
  return w;
}

Work elementwise_add(std::int64_t elements, Dtype dtype) {
  Work w = begin(OpKind::kElementwiseAdd, dtype);
  w.flops = d(elements);
  w.bytes = 3 * d(elements) * bytes_per_element(dtype);
  return w;
}

Work optimizer_step(std::int64_t parameters, Dtype dtype) {
  Work w = begin(OpKind::kOptimizerStep, dtype);
  w.flops = kAdamFlopsPerParameter * d(parameters);
  w.bytes = d(parameters) * (2 * bytes_per_element(dtype) +
                             (kAdamFp32StatesRead + kAdamFp32StatesWritten) * kFp32Bytes);
  return w;
}

Work memcpy(std::int64_t bytes) {
  Work w = begin(OpKind::kMemcpy, Dtype::kBf16);
  w.bytes = 2 * d(bytes);
  return w;
}

}  // namespace work
}  // namespace moesim::cost
