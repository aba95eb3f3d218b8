#include "device_session.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <ostream>

#include "comm.hpp"
#include "config/error.hpp"
#include "core/error.hpp"
#include "device.hpp"

namespace moesim::cli {

std::unique_ptr<kernels::Backend> make_device_backend(const std::string& device) {
  if (device == "host") return kernels::make_host_backend();
  if (device != "cuda") {
    throw config::ConfigError(fmt::format("--device {}: expected cuda or host", device));
  }
  const auto available = kernels::cuda_devices();
  if (available.count == 0) {
    throw Error(fmt::format(
        "--device cuda: {}; --device host runs on this machine's CPU (to test the pipeline)",
        available.reason));
  }
  return kernels::make_cuda_backend(kernels::local_rank() % available.count);
}

std::string today_utc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &utc);
  return text;
}

void run_on_ranks(const std::function<void(const MpiSession&)>& body, std::ostream& err) {
  const MpiSession session;
  try {
    body(session);
  } catch (const std::exception& e) {
    if (session.size() > 1) {
      err << fmt::format("moesim: error on rank {}: {}\n", session.rank(), e.what());
      err.flush();
      session.abort(1);
    }
    throw;
  }
}

}  // namespace moesim::cli
