#include "work.hpp"

#include <array>
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
// PyTorch's dropout keeps a bool (one byte) per element for the backward.
constexpr double kMaskBytes = 1;
// Index tensors in PyTorch default to int64.
constexpr double kInt64Bytes = 8;
// A radix sort handles 8 bits of key per pass (CUB's onesweep digit width).
constexpr int kRadixBitsPerPass = 8;
constexpr double kBitsPerByte = 8;

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

namespace {
struct KindRow {
  OpKind kind;
  std::string_view name;
  bool memory_bound;
};
// In OpKind order.
constexpr std::array<KindRow, 27> kKinds{{
    {OpKind::kGemm, "gemm", false},
    {OpKind::kGroupedGemm, "grouped_gemm", false},
    {OpKind::kAttention, "attention", false},
    {OpKind::kAttentionBackward, "attention_backward", false},
    {OpKind::kLayerNorm, "layer_norm", true},
    {OpKind::kActivation, "activation", true},
    {OpKind::kGating, "gating", true},
    {OpKind::kPermute, "permute", true},
    {OpKind::kLshHash, "lsh_hash", false},
    {OpKind::kSegmentedMean, "segmented_mean", true},
    {OpKind::kElementwiseAdd, "elementwise_add", true},
    {OpKind::kOptimizerStep, "optimizer_step", true},
    {OpKind::kMemcpy, "memcpy", true},
    {OpKind::kBatchedGemm, "batched_gemm", false},
    {OpKind::kSoftmax, "softmax", true},
    {OpKind::kElementwise, "elementwise", true},
    {OpKind::kDropout, "dropout", true},
    {OpKind::kCast, "cast", true},
    {OpKind::kLayoutCopy, "layout_copy", true},
    {OpKind::kReduction, "reduction", true},
    {OpKind::kCrossEntropy, "cross_entropy", true},
    {OpKind::kSort, "sort", true},
    {OpKind::kCumsum, "cumsum", true},
    {OpKind::kZeroFill, "zero_fill", true},
    {OpKind::kKvCacheWrite, "kv_cache_write", true},
    {OpKind::kSampling, "sampling", true},
}};
}  // namespace

std::string_view name(OpKind kind) {
  return kKinds[static_cast<std::size_t>(kind)].name;
}

bool memory_bound_kind(OpKind kind) {
  return kKinds[static_cast<std::size_t>(kind)].memory_bound;
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

Work layer_norm_backward(std::int64_t rows, std::int64_t width, Dtype dtype) {
  Work w = begin(OpKind::kLayerNorm, dtype);
  w.flops = 2 * kLayerNormFlopsPerElement * d(rows) * d(width);
  w.bytes = 3 * d(rows) * d(width) * bytes_per_element(dtype) + 2 * d(width) * kFp32Bytes;
  return w;
}

Work activation_backward(std::int64_t elements, bool gated, Dtype dtype) {
  Work w = begin(OpKind::kActivation, dtype);
  const double inputs = gated ? 2 : 1;
  w.flops = 2 * kActivationFlopsPerElement * d(elements);
  w.bytes = (2 * inputs + 1) * d(elements) * bytes_per_element(dtype);
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
  w.row = {tokens, experts, top_k};
  w.flops = kSoftmaxFlopsPerLogit * d(tokens) * d(experts);
  w.bytes = d(tokens) * d(experts) * bytes_per_element(dtype) * 2 +
            d(tokens) * d(top_k) * (kIndexBytes + kFp32Bytes);
  return w;
}

Work permute(std::int64_t rows, std::int64_t width, Dtype dtype) {
  Work w = begin(OpKind::kPermute, dtype);
  w.row = {rows, width, 0};
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
    w.gemm = {rows, hashes * width, width, 1};  // the projection, for a device replay
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

Work batched_gemm(std::int64_t batch, std::int64_t m, std::int64_t n, std::int64_t k, Dtype dtype) {
  Work w = gemm(m, n, k, dtype);
  w.kind = OpKind::kBatchedGemm;
  w.flops *= d(batch);
  w.bytes *= d(batch);
  w.gemm.batch = batch;
  return w;
}

Work softmax(std::int64_t rows, std::int64_t cols, Dtype in, Dtype out) {
  Work w = begin(OpKind::kSoftmax, in);
  w.flops = kSoftmaxFlopsPerLogit * d(rows) * d(cols);
  w.bytes = d(rows) * d(cols) * (bytes_per_element(in) + bytes_per_element(out));
  return w;
}

Work softmax_backward(std::int64_t rows, std::int64_t cols, Dtype dtype) {
  Work w = begin(OpKind::kSoftmax, dtype);
  w.flops = kSoftmaxFlopsPerLogit * d(rows) * d(cols);
  w.bytes = 3 * d(rows) * d(cols) * bytes_per_element(dtype);
  return w;
}

Work elementwise(std::int64_t elements, int inputs, int outputs, Dtype dtype) {
  Work w = begin(OpKind::kElementwise, dtype);
  w.flops = d(elements);
  w.bytes = d(elements) * (inputs + outputs) * bytes_per_element(dtype);
  return w;
}

Work dropout(std::int64_t elements, Dtype dtype) {
  Work w = begin(OpKind::kDropout, dtype);
  w.flops = d(elements);
  w.bytes = d(elements) * (2 * bytes_per_element(dtype) + kMaskBytes);
  return w;
}

Work dropout_backward(std::int64_t elements, Dtype dtype) {
  return dropout(elements, dtype);  // reads the gradient and the mask, writes the gradient
}

Work bias_dropout_add(std::int64_t elements, bool dropout, Dtype dtype) {
  Work w = elementwise_add(elements, dtype);
  if (dropout) w.bytes += d(elements) * kMaskBytes;
  return w;
}

Work cast(std::int64_t elements, Dtype from, Dtype to) {
  Work w = begin(OpKind::kCast, to);
  w.bytes = d(elements) * (bytes_per_element(from) + bytes_per_element(to));
  return w;
}

Work cast_transpose(std::int64_t elements, Dtype from, Dtype to) {
  Work w = cast(elements, from, to);
  w.bytes += d(elements) * bytes_per_element(to);
  return w;
}

Work layout_copy(std::int64_t elements, Dtype dtype) {
  Work w = begin(OpKind::kLayoutCopy, dtype);
  w.bytes = 2 * d(elements) * bytes_per_element(dtype);
  return w;
}

Work bias_gradient(std::int64_t rows, std::int64_t cols, Dtype dtype) {
  Work w = begin(OpKind::kReduction, dtype);
  w.flops = d(rows) * d(cols);
  w.bytes = (d(rows) + 1) * d(cols) * bytes_per_element(dtype);
  return w;
}

Work cross_entropy(std::int64_t tokens, std::int64_t vocab, Dtype dtype, bool fused,
                   bool backward) {
  Work w = begin(OpKind::kCrossEntropy, dtype);
  const double n = d(tokens) * d(vocab), e = bytes_per_element(dtype);
  w.flops = kSoftmaxFlopsPerLogit * n;
  if (fused) {
    w.bytes = backward ? 2 * n * e : n * e;
  } else if (backward) {
    w.bytes = n * 3 * kFp32Bytes + n * (kFp32Bytes + e);
  } else {
    w.bytes = n * (e + kFp32Bytes) + n * 2 * kFp32Bytes;
  }
  return w;
}

Work sort(std::int64_t keys, int key_bytes, int value_bytes) {
  Work w = begin(OpKind::kSort, Dtype::kFp32);
  const double passes = std::ceil(key_bytes * kBitsPerByte / kRadixBitsPerPass);
  w.bytes = d(keys) * key_bytes + passes * 2 * d(keys) * (key_bytes + value_bytes);
  return w;
}

Work one_hot_cumsum(std::int64_t tokens, std::int64_t experts) {
  Work w = begin(OpKind::kCumsum, Dtype::kFp32);
  w.bytes = 3 * d(tokens) * d(experts) * kInt64Bytes;
  return w;
}

Work zero_fill(std::int64_t bytes) {
  Work w = begin(OpKind::kZeroFill, Dtype::kBf16);
  w.bytes = d(bytes);
  return w;
}

Work aux_loss(std::int64_t tokens, std::int64_t experts) {
  Work w = begin(OpKind::kElementwise, Dtype::kFp32);
  w.flops = 2 * d(tokens) * d(experts);
  w.bytes = d(tokens) * d(experts) * (kFp32Bytes + kInt64Bytes);
  return w;
}

Work kv_cache_write(std::int64_t tokens, std::int64_t kv_width, Dtype dtype) {
  Work w = begin(OpKind::kKvCacheWrite, dtype);
  constexpr double kKeysAndValues = 2;
  w.bytes = 2 * kKeysAndValues * d(tokens) * d(kv_width) * bytes_per_element(dtype);
  return w;
}

Work sampling(std::int64_t sequences, std::int64_t vocab) {
  Work w = begin(OpKind::kSampling, Dtype::kFp32);
  w.flops = kSoftmaxFlopsPerLogit * d(sequences) * d(vocab);
  w.bytes = 2 * d(sequences) * d(vocab) * kFp32Bytes;
  return w;
}

}  // namespace work
}  // namespace moesim::cost
