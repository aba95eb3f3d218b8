#pragma once
// The dense layers' math on the CPU, GEMMs through the BLAS (OpenBLAS): row-major fp32. These
// define what the device versions compute, and run the host backend's calibration.
#include <cstdint>
#include <span>
#include <vector>

namespace moesim::kernels {

// C (m x n) = A (m x k) B (k x n), row-major. Throws std::invalid_argument on sizes that do not
// hold.
void gemm_cpu(std::int64_t m, std::int64_t n, std::int64_t k, std::span<const float> a,
              std::span<const float> b, std::span<float> c);

// Each row's softmax, in place; with `causal`, row i of each block of `cols` rows keeps columns
// 0..i (rows past `cols` wrap: row r is query r % cols).
void softmax_rows_cpu(std::span<float> x, std::int64_t rows, std::int64_t cols, bool causal);

// Each row normalised to zero mean and unit variance (epsilon 1e-5), no affine part.
void layer_norm_cpu(std::span<const float> x, std::int64_t rows, std::int64_t cols,
                    std::span<float> out);
inline constexpr float kLayerNormEpsilon = 1e-5f;

// GeLU, tanh approximation, elementwise.
void gelu_cpu(std::span<const float> x, std::span<float> out);

// Attention forward for `batch` x `heads` independent heads, each seq x head_dim of q, k, v laid
// out [batch][heads][seq][head_dim]: out = softmax(q k^T / sqrt(head_dim), causal) v.
void attention_cpu(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                   std::int64_t batch, std::int64_t heads, std::int64_t seq, std::int64_t head_dim,
                   bool causal, std::span<float> out);

// An expert FFN over each expert's rows (`rows[e]` consecutive rows of x, `width` each):
// gelu(x W1[e]) W2[e], W1 width x inner, W2 inner x width, experts' weights one after another.
void expert_ffn_cpu(std::span<const float> x, std::span<const std::int64_t> rows,
                    std::int64_t width, std::int64_t inner, std::span<const float> w1,
                    std::span<const float> w2, std::span<float> out);

}  // namespace moesim::kernels
