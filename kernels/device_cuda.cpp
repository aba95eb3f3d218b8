#include <cuda_runtime.h>

#include "device.hpp"

namespace moesim::kernels {

DeviceAvailability cuda_devices() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return {0, std::string("no usable CUDA device: ") + cudaGetErrorString(status)};
  }
  if (count == 0) return {0, "no CUDA device is visible"};
  return {count, {}};
}

}  // namespace moesim::kernels
