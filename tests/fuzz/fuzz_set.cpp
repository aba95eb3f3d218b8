// --set assignments (key paths with list indices, YAML values) over a small experiment, then the
// experiment read: the first line of the input is the assignment.
#include <string>

#include "cli/experiment.hpp"
#include "config/document.hpp"
#include "config/reader.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moesim;
  return fuzz::expect_only_user_errors([&] {
    auto doc = config::Document::from_string(
        "name: f\nmodel: {layers: 2, hidden: 64, heads: 4}\nparallel: {ep: 2}\n"
        "schedules:\n  - {name: cdac}\n  - {name: lsh, lsh: {rate: 0.2}}\n",
        "fuzz");
    const auto input = fuzz::text(data, size);
    doc.apply_override(input.substr(0, input.find('\n')));
    (void)config::read_document<cli::ExperimentConfig>(doc);
  });
}
