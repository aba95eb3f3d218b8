// A routing trace (layer,source,expert,tokens rows), read from a file as `routing.trace` is,
// then routed.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "fuzz_common.hpp"
#include "model/routing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moesim::model;
  static const auto path = std::filesystem::temp_directory_path() /
                           ("moesim_fuzz_trace_" + std::to_string(::getpid()) + ".csv");
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  return moesim::fuzz::expect_only_user_errors([&] {
    RoutingConfig config;
    config.kind = RoutingKind::kTrace;
    config.trace = path.string();
    constexpr std::int64_t kExperts = 8;
    RoutingModel routing(config, kExperts);
    (void)routing.route(0, 0, 64, 2);
  });
}
