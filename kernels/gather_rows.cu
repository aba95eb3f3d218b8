#include "cuda_check.hpp"
#include "gather_rows_cuda.hpp"

namespace moesim::kernels {

namespace {

constexpr int kThreadsPerBlock = 256;

// One block per output row; threads stride over the row in `Word` units.
template <class Word>
__global__ void gather_rows_kernel(const Word* __restrict__ src,
                                   const std::int32_t* __restrict__ index,
                                   std::int64_t words_per_row, Word* __restrict__ dst) {
  const std::int64_t row = blockIdx.x;
  const Word* from = src + static_cast<std::int64_t>(index[row]) * words_per_row;
  Word* to = dst + row * words_per_row;
  for (std::int64_t w = threadIdx.x; w < words_per_row; w += blockDim.x) to[w] = from[w];
}

bool aligned16(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

}  // namespace

void gather_rows_cuda(const void* src, const std::int32_t* index, std::int64_t rows,
                      std::int64_t row_bytes, void* dst, cudaStream_t stream) {
  if (rows == 0 || row_bytes == 0) return;
  const dim3 grid(static_cast<unsigned>(rows));
  if (row_bytes % 16 == 0 && aligned16(src) && aligned16(dst)) {
    gather_rows_kernel<uint4><<<grid, kThreadsPerBlock, 0, stream>>>(
        static_cast<const uint4*>(src), index, row_bytes / 16, static_cast<uint4*>(dst));
  } else {
    gather_rows_kernel<unsigned char><<<grid, kThreadsPerBlock, 0, stream>>>(
        static_cast<const unsigned char*>(src), index, row_bytes, static_cast<unsigned char*>(dst));
  }
  MOESIM_CUDA_CHECK(cudaGetLastError());
}

}  // namespace moesim::kernels
