// A GPU profile: read, checked, and a cost model built from it pricing a few kernels.
#include "config/document.hpp"
#include "cost/cost_model.hpp"
#include "cost/profile.hpp"
#include "cost/work.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moesim::cost;
  return moesim::fuzz::expect_only_user_errors([&] {
    const auto doc = moesim::config::Document::from_string(moesim::fuzz::text(data, size), "fuzz");
    const CostModel model(read_profile(doc));
    (void)model.estimate(work::gemm(4096, 4096, 4096, Dtype::kBf16));
    (void)model.estimate(work::memcpy(1 << 20));
  });
}
