#include <cuda_runtime.h>

#include "device.hpp"

namespace moesim::kernels {

DeviceAvailability cuda_devices() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later calls start clean
    const std::string detail =
        std::string(" (cudaGetDeviceCount: ") + cudaGetErrorString(status) + ")";
    if (status == cudaErrorInsufficientDriver || status == cudaErrorNoDevice) {
      return {0, "no CUDA driver or GPU on this machine, or a driver older than the CUDA runtime" +
                     detail};
    }
    return {0, "no usable CUDA device" + detail};
  }
  if (count == 0) return {0, "no CUDA device is visible"};
  return {count, {}};
}

}  // namespace moesim::kernels
