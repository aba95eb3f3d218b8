#pragma once
// Whether this process can run CUDA kernels, and why not when it cannot (for test skips and
// calibrate's messages).
#include <string>

namespace moesim::kernels {

struct DeviceAvailability {
  int count = 0;       // CUDA devices visible
  std::string reason;  // empty when count > 0
};

DeviceAvailability cuda_devices();

}  // namespace moesim::kernels
