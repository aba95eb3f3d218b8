#pragma once
// The device version of gather_rows_cpu (gather_rows.hpp). Pointers are device memory owned by
// the caller; indices are not checked on the device (check them on the host when in doubt).
#include <cuda_runtime.h>

#include <cstdint>

namespace moesim::kernels {

void gather_rows_cuda(const void* src, const std::int32_t* index, std::int64_t rows,
                      std::int64_t row_bytes, void* dst, cudaStream_t stream);

}  // namespace moesim::kernels
