// What each kernel constructor counts, against a hand count of the bytes it reads and writes
// and the FLOPs it does.
#include <gtest/gtest.h>

#include "cost/work.hpp"

namespace moesim::cost {
namespace {

constexpr auto kBf16 = Dtype::kBf16;
constexpr auto kFp32 = Dtype::kFp32;

TEST(Work, BatchedGemmIsBatchTimesOneGemm) {
  // 48 heads x (2048 x 2048 x 128): QK^T of 4 sequences x 12 heads.
  const auto w = work::batched_gemm(48, 2048, 2048, 128, kBf16);
  EXPECT_EQ(w.flops, 48 * 2.0 * 2048 * 2048 * 128);
  EXPECT_EQ(w.bytes, 48 * (2048.0 * 128 + 128 * 2048 + 2048 * 2048) * 2);
  EXPECT_EQ(w.gemm.batch, 48);
}

TEST(Work, SoftmaxReadsItsInputAndWritesItsOutput) {
  // 1,000 rows of 500 bf16 scores into fp32 probabilities.
  EXPECT_EQ(work::softmax(1000, 500, kBf16, kFp32).bytes, 1000 * 500 * (2.0 + 4.0));
  // Backward: probabilities and their gradient in, the scores' gradient out.
  EXPECT_EQ(work::softmax_backward(1000, 500, kFp32).bytes, 3 * 1000 * 500 * 4.0);
}

TEST(Work, DropoutKeepsAOneByteMaskPerElement) {
  EXPECT_EQ(work::dropout(1 << 20, kBf16).bytes, (1 << 20) * (2 * 2.0 + 1));
  EXPECT_EQ(work::dropout_backward(1 << 20, kBf16).bytes, (1 << 20) * (2 * 2.0 + 1));
  // Fused with the bias and the residual add: two tensors in, one out, and the mask.
  EXPECT_EQ(work::bias_dropout_add(1000, true, kBf16).bytes, 1000 * (3 * 2.0 + 1));
  EXPECT_EQ(work::bias_dropout_add(1000, false, kBf16).bytes, 1000 * 3 * 2.0);
}

TEST(Work, CastsCopiesAndBiasGradients) {
  EXPECT_EQ(work::cast(1000, kFp32, kBf16).bytes, 1000 * 6.0);
  EXPECT_EQ(work::layout_copy(1000, kBf16).bytes, 1000 * 4.0);
  // A bias gradient over 4,096 rows of 1,024: every element read, one row written.
  EXPECT_EQ(work::bias_gradient(4096, 1024, kBf16).bytes, (4096 + 1) * 1024 * 2.0);
  EXPECT_EQ(work::elementwise(1000, 2, 1, kFp32).bytes, 1000 * 3 * 4.0);
}

TEST(Work, BackwardKernelsMoveMoreThanTheirForward) {
  // Layer norm: x in, y out (plus the fp32 scale and shift); backward x and dy in, dx out.
  EXPECT_EQ(work::layer_norm(100, 64, kBf16).bytes, 2 * 100 * 64 * 2.0 + 2 * 64 * 4.0);
  EXPECT_EQ(work::layer_norm_backward(100, 64, kBf16).bytes, 3 * 100 * 64 * 2.0 + 2 * 64 * 4.0);
  // GELU: 2 tensors forward, 3 backward; SwiGLU: 3 and 5.
  EXPECT_EQ(work::activation(1000, false, kBf16).bytes, 2 * 1000 * 2.0);
  EXPECT_EQ(work::activation_backward(1000, false, kBf16).bytes, 3 * 1000 * 2.0);
  EXPECT_EQ(work::activation(1000, true, kBf16).bytes, 3 * 1000 * 2.0);
  EXPECT_EQ(work::activation_backward(1000, true, kBf16).bytes, 5 * 1000 * 2.0);
}

// 8 sequences x 1,024 tokens over a 50,304-word vocabulary in bf16.
TEST(Work, CrossEntropyFusedReadsTheLogitsOnceEagerMakesFp32Copies) {
  const double n = 8192.0 * 50304;
  EXPECT_EQ(work::cross_entropy(8192, 50304, kBf16, true, false).bytes, n * 2);
  EXPECT_EQ(work::cross_entropy(8192, 50304, kBf16, true, true).bytes, n * 2 * 2);
  // Eager: cast to fp32 (2 in, 4 out), log-softmax (4 in, 4 out).
  EXPECT_EQ(work::cross_entropy(8192, 50304, kBf16, false, false).bytes, n * (2 + 4 + 8));
  // Backward: log-softmax backward (two fp32 in, one out), cast back (4 in, 2 out).
  EXPECT_EQ(work::cross_entropy(8192, 50304, kBf16, false, true).bytes, n * (12 + 6));
}

TEST(Work, RouterBookkeeping) {
  // Argsort of a 64 x 4,096 bool routing map with int64 indices: one radix pass (8 bits of
  // key) reading and writing keys and values, after a histogram pass over the keys.
  EXPECT_EQ(work::sort(64 * 4096, 1, 8).bytes, 64 * 4096 * (1 + 2 * 9.0));
  // 4-byte keys: four passes.
  EXPECT_EQ(work::sort(1000, 4, 4).bytes, 1000 * (4 + 4 * 2 * 8.0));
  // One-hot of 4,096 x 64 as int64, cumsum reads and writes it.
  EXPECT_EQ(work::one_hot_cumsum(4096, 64).bytes, 3 * 4096 * 64 * 8.0);
  // The load-balancing loss reads fp32 probabilities and int64 choices once.
  EXPECT_EQ(work::aux_loss(4096, 64).bytes, 4096 * 64 * (4.0 + 8.0));
  EXPECT_EQ(work::zero_fill(12345).bytes, 12345);
}

TEST(Work, InferenceKernels) {
  // 512 new tokens of 8 kv heads x 128: keys and values read and written.
  EXPECT_EQ(work::kv_cache_write(512, 8 * 128, kBf16).bytes, 2 * 2 * 512 * 1024 * 2.0);
  // Sampling 4 sequences over 32,000 fp32 logits: softmax and top-k, each reading the row.
  EXPECT_EQ(work::sampling(4, 32000).bytes, 2 * 4 * 32000 * 4.0);
}

TEST(Work, KindsHaveNamesAndTheMemoryBoundOnesAreMarked) {
  EXPECT_EQ(name(OpKind::kCrossEntropy), "cross_entropy");
  EXPECT_EQ(name(OpKind::kSampling), "sampling");
  EXPECT_TRUE(memory_bound_kind(OpKind::kSoftmax));
  EXPECT_FALSE(memory_bound_kind(OpKind::kBatchedGemm));
  EXPECT_FALSE(memory_bound_kind(OpKind::kGemm));
}

}  // namespace
}  // namespace moesim::cost
