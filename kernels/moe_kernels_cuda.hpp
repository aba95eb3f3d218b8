#pragma once
// The device versions of the CPU references (gating.hpp, permute.hpp, lsh.hpp, dense.hpp), on a
// stream. Pointers are device memory owned by the caller; shapes are checked by the callers.
#include <cuda_runtime.h>

#include <cstdint>

namespace moesim::kernels {

void gate_topk_cuda(const float* logits, std::int64_t tokens, std::int64_t experts, std::int64_t k,
                    std::int64_t groups, std::int64_t group_limit, std::int32_t* experts_out,
                    float* weights_out, cudaStream_t stream);
void combine_cuda(const float* rows, std::int64_t width, const std::int32_t* slot,
                  const float* weights, std::int64_t tokens, std::int64_t k, float* out,
                  cudaStream_t stream);
void cross_polytope_codes_cuda(const float* projected, std::int64_t tokens, std::int64_t hashes,
                               std::int64_t dims, std::int32_t* codes, cudaStream_t stream);
void softmax_rows_cuda(float* x, std::int64_t rows, std::int64_t cols, bool causal,
                       cudaStream_t stream);
void layer_norm_cuda(const float* x, std::int64_t rows, std::int64_t cols, float* out,
                     cudaStream_t stream);
void gelu_cuda(const float* x, std::int64_t count, float* out, cudaStream_t stream);
void empty_kernel_cuda(cudaStream_t stream);
// fill_value(seed, i) (fill.hpp) into `count` elements of the given type.
enum FillElement { kFillFp32, kFillBf16, kFillFp16, kFillFp8 };
void fill_cuda(void* out, std::int64_t count, int element, std::uint64_t seed, cudaStream_t stream);

}  // namespace moesim::kernels
