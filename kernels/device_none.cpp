// Built when moesim is configured without CUDA.
#include "device.hpp"

namespace moesim::kernels {

DeviceAvailability cuda_devices() {
  return {0, "moesim was built without CUDA (configure with -DMOESIM_CUDA=ON where nvcc exists)"};
}

}  // namespace moesim::kernels
