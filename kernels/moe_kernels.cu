#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include "cuda_check.hpp"
#include "fill.hpp"
#include "moe_kernels_cuda.hpp"

namespace moesim::kernels {

namespace {

constexpr int kThreads = 256;
constexpr float kGeluCoefficient = 0.044715f;
constexpr float kSqrtTwoOverPi = 0.7978845608028654f;
constexpr float kNormEpsilon = 1e-5f;
constexpr int kMaxExperts = 1024;  // per token, in shared memory
constexpr int kMaxK = 32;
// A group's score: the sum of its best two probabilities (kGroupScoreTop in gating.hpp, which
// this C++17 device code cannot include).
constexpr std::int64_t kGroupScoreTop = 2;

unsigned blocks_for(std::int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

// One thread per token: the gate's softmax, group scores and top-k, as gate_topk_cpu.
__global__ void gate_kernel(const float* logits, std::int64_t tokens, std::int64_t experts,
                            std::int64_t k, std::int64_t groups, std::int64_t limit,
                            std::int32_t* experts_out, float* weights_out) {
  const std::int64_t t = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (t >= tokens) return;
  const float* row = logits + t * experts;
  float top = row[0];
  for (std::int64_t e = 1; e < experts; ++e) top = fmaxf(top, row[e]);
  double sum = 0;
  for (std::int64_t e = 0; e < experts; ++e) sum += expf(row[e] - top);
  const std::int64_t per_group = experts / groups;
  // Group eligibility: the best `limit` groups by the sum of their two best probabilities.
  bool eligible_group[kMaxExperts];
  for (std::int64_t g = 0; g < groups; ++g) eligible_group[g] = true;
  if (limit > 0 && limit < groups) {
    float score[kMaxExperts];
    for (std::int64_t g = 0; g < groups; ++g) {
      float a = -1, b = -1;  // the two best probabilities of the group
      for (std::int64_t i = 0; i < per_group; ++i) {
        const float p = static_cast<float>(expf(row[g * per_group + i] - top) / sum);
        if (p > a) {
          b = a;
          a = p;
        } else if (p > b) {
          b = p;
        }
      }
      score[g] = a + (per_group >= kGroupScoreTop ? b : 0.0f);
      eligible_group[g] = false;
    }
    for (std::int64_t chosen = 0; chosen < limit; ++chosen) {
      std::int64_t best = -1;
      for (std::int64_t g = 0; g < groups; ++g) {
        if (!eligible_group[g] && (best < 0 || score[g] > score[best])) best = g;
      }
      eligible_group[best] = true;
      score[best] = -2;  // taken (scores are >= 0)
    }
  }
  std::int32_t picked[kMaxK];
  float prob[kMaxK];
  double kept = 0;
  for (std::int64_t j = 0; j < k; ++j) {
    std::int64_t best = -1;
    float best_p = -1;
    for (std::int64_t e = 0; e < experts; ++e) {
      if (!eligible_group[e / per_group]) continue;
      bool used = false;
      for (std::int64_t i = 0; i < j; ++i) used |= picked[i] == e;
      if (used) continue;
      const float p = static_cast<float>(expf(row[e] - top) / sum);
      if (p > best_p) {
        best_p = p;
        best = e;
      }
    }
    picked[j] = static_cast<std::int32_t>(best);
    prob[j] = best_p;
    kept += best_p;
  }
  for (std::int64_t j = 0; j < k; ++j) {
    experts_out[t * k + j] = picked[j];
    weights_out[t * k + j] = static_cast<float>(prob[j] / kept);
  }
}

// One block per token, threads over the width.
__global__ void combine_kernel(const float* rows, std::int64_t width, const std::int32_t* slot,
                               const float* weights, std::int64_t k, float* out) {
  const std::int64_t t = blockIdx.x;
  for (std::int64_t c = threadIdx.x; c < width; c += blockDim.x) {
    float acc = 0;
    for (std::int64_t j = 0; j < k; ++j) {
      const std::int32_t s = slot[t * k + j];
      if (s >= 0) acc += weights[t * k + j] * rows[static_cast<std::int64_t>(s) * width + c];
    }
    out[t * width + c] = acc;
  }
}

// One thread per (token, hash).
__global__ void codes_kernel(const float* projected, std::int64_t tokens, std::int64_t hashes,
                             std::int64_t dims, std::int32_t* codes) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= tokens * hashes) return;
  const float* y = projected + i * dims;
  std::int64_t best = 0;
  for (std::int64_t d = 1; d < dims; ++d) {
    if (fabsf(y[d]) > fabsf(y[best])) best = d;
  }
  codes[i] = static_cast<std::int32_t>(2 * best + (y[best] < 0 ? 1 : 0));
}

// One thread per row (the shapes calibrated are small enough).
__global__ void softmax_kernel(float* x, std::int64_t rows, std::int64_t cols, bool causal) {
  const std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  float* row = x + r * cols;
  const std::int64_t used = causal ? (r % cols) + 1 : cols;
  float top = row[0];
  for (std::int64_t c = 1; c < used; ++c) top = fmaxf(top, row[c]);
  double sum = 0;
  for (std::int64_t c = 0; c < used; ++c) {
    row[c] = expf(row[c] - top);
    sum += row[c];
  }
  for (std::int64_t c = 0; c < used; ++c) row[c] = static_cast<float>(row[c] / sum);
  for (std::int64_t c = used; c < cols; ++c) row[c] = 0;
}

__global__ void layer_norm_kernel(const float* x, std::int64_t rows, std::int64_t cols,
                                  float* out) {
  const std::int64_t r = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  const float* row = x + r * cols;
  double mean = 0, var = 0;
  for (std::int64_t c = 0; c < cols; ++c) mean += row[c];
  mean /= static_cast<double>(cols);
  for (std::int64_t c = 0; c < cols; ++c) var += (row[c] - mean) * (row[c] - mean);
  var /= static_cast<double>(cols);
  const double inv = 1.0 / sqrt(var + kNormEpsilon);
  for (std::int64_t c = 0; c < cols; ++c)
    out[r * cols + c] = static_cast<float>((row[c] - mean) * inv);
}

__global__ void gelu_kernel(const float* x, std::int64_t count, float* out) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  const float v = x[i];
  out[i] = 0.5f * v * (1.0f + tanhf(kSqrtTwoOverPi * (v + kGeluCoefficient * v * v * v)));
}

__global__ void empty_kernel() {}

template <class T>
__global__ void fill_kernel(T* out, std::int64_t count, std::uint64_t seed) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= count) return;
  out[i] = T(fill_value(seed, static_cast<std::uint64_t>(i)));
}

template <class T>
void launch_fill(void* out, std::int64_t count, std::uint64_t seed, cudaStream_t stream) {
  fill_kernel<T><<<blocks_for(count), kThreads, 0, stream>>>(static_cast<T*>(out), count, seed);
}

}  // namespace

void gate_topk_cuda(const float* logits, std::int64_t tokens, std::int64_t experts, std::int64_t k,
                    std::int64_t groups, std::int64_t group_limit, std::int32_t* experts_out,
                    float* weights_out, cudaStream_t stream) {
  if (tokens == 0) return;
  gate_kernel<<<blocks_for(tokens), kThreads, 0, stream>>>(logits, tokens, experts, k, groups,
                                                           group_limit, experts_out, weights_out);
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void combine_cuda(const float* rows, std::int64_t width, const std::int32_t* slot,
                  const float* weights, std::int64_t tokens, std::int64_t k, float* out,
                  cudaStream_t stream) {
  if (tokens == 0) return;
  combine_kernel<<<static_cast<unsigned>(tokens), kThreads, 0, stream>>>(rows, width, slot, weights,
                                                                         k, out);
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void cross_polytope_codes_cuda(const float* projected, std::int64_t tokens, std::int64_t hashes,
                               std::int64_t dims, std::int32_t* codes, cudaStream_t stream) {
  if (tokens * hashes == 0) return;
  codes_kernel<<<blocks_for(tokens * hashes), kThreads, 0, stream>>>(projected, tokens, hashes,
                                                                     dims, codes);
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void softmax_rows_cuda(float* x, std::int64_t rows, std::int64_t cols, bool causal,
                       cudaStream_t stream) {
  if (rows == 0) return;
  softmax_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(x, rows, cols, causal);
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void layer_norm_cuda(const float* x, std::int64_t rows, std::int64_t cols, float* out,
                     cudaStream_t stream) {
  if (rows == 0) return;
  layer_norm_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(x, rows, cols, out);
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void gelu_cuda(const float* x, std::int64_t count, float* out, cudaStream_t stream) {
  if (count == 0) return;
  gelu_kernel<<<blocks_for(count), kThreads, 0, stream>>>(x, count, out);
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void empty_kernel_cuda(cudaStream_t stream) {
  empty_kernel<<<1, 1, 0, stream>>>();
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

void fill_cuda(void* out, std::int64_t count, int element, std::uint64_t seed,
               cudaStream_t stream) {
  if (count == 0) return;
  switch (element) {
    case kFillFp32:
      launch_fill<float>(out, count, seed, stream);
      break;
    case kFillBf16:
      launch_fill<__nv_bfloat16>(out, count, seed, stream);
      break;
    case kFillFp16:
      launch_fill<__half>(out, count, seed, stream);
      break;
    default:
      launch_fill<__nv_fp8_e4m3>(out, count, seed, stream);
      break;
  }
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moesim::kernels
