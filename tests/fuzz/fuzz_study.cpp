// A whole study from fuzzed YAML: the experiment read, its cluster, profile and implementation
// loaded, every schedule checked and simulated, under small size limits (limits.ops at most
// kMaxOps, so that one input stays a few milliseconds).
#include <algorithm>

#include "cli/experiment.hpp"
#include "cli/study.hpp"
#include "config/document.hpp"
#include "config/reader.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moesim;
  constexpr std::int64_t kMaxOps = 5000;
  return fuzz::expect_only_user_errors([&] {
    const auto doc = config::Document::from_string(fuzz::text(data, size), "fuzz");
    auto e = config::read_document<cli::ExperimentConfig>(doc);
    if (e.synthetic || e.collective || e.dispatch || e.sweep) return;
    e.limits.ops = std::min(e.limits.ops, kMaxOps);
    const auto inputs = cli::load_inputs_of(e, ".");
    cli::check_schedules(e, inputs);
    for (const auto& schedule : cli::schedules_of(e)) {
      (void)cli::run_point(e, schedule, inputs, {}, {});
    }
  });
}
