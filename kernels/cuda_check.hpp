#pragma once
// CUDA runtime errors as exceptions with the failing call named.
#include <cuda_runtime.h>

#include <string>

#include "core/error.hpp"

namespace moesim::kernels {

class CudaError : public moesim::Error {
 public:
  using moesim::Error::Error;
};

inline void cuda_check(cudaError_t status, const char* call) {
  if (status != cudaSuccess) {
    throw CudaError(std::string(call) + " failed: " + cudaGetErrorName(status) + ": " +
                    cudaGetErrorString(status));
  }
}

}  // namespace moesim::kernels

#define MOESIM_CUDA_CHECK(call) ::moesim::kernels::cuda_check((call), #call)
