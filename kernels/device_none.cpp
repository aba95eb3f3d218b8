// Built when moesim is configured without CUDA.
#include "device.hpp"

namespace moesim::kernels {

DeviceAvailability cuda_devices() {
  return {0, "moesim was built without CUDA (configure with -DMOESIM_CUDA=ON where nvcc exists)"};
}

}  // namespace moesim::kernels

#include "backend.hpp"
#include "core/error.hpp"

namespace moesim::kernels {

std::unique_ptr<Backend> make_cuda_backend(int) {
  throw moesim::Error(
      "--device cuda: moesim was built without CUDA (configure with -DMOESIM_CUDA=ON where nvcc "
      "exists); --device host runs the calibration on this machine");
}

bool cuda_backend_built() {
  return false;
}

}  // namespace moesim::kernels
