// Quantities with units ("400 GB/s", "1.5 us"...), in every dimension.
#include "config/quantity.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moesim::config;
  const auto text = moesim::fuzz::text(data, size);
  for (const auto d : {Dimension::kBytes, Dimension::kBandwidth, Dimension::kTime,
                       Dimension::kFlops, Dimension::kFlopRate}) {
    moesim::fuzz::expect_only_user_errors([&] { (void)parse_quantity(text, d); });
  }
  moesim::fuzz::expect_only_user_errors([&] { (void)parse_bytes(text); });
  moesim::fuzz::expect_only_user_errors([&] { (void)parse_time(text); });
  return 0;
}
