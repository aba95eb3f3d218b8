// A model file (experiments/models/*.yaml): its `model:` section read alone.
#include "config/document.hpp"
#include "config/reader.hpp"
#include "fuzz_common.hpp"
#include "model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return moesim::fuzz::expect_only_user_errors([&] {
    const auto doc = moesim::config::Document::from_string(moesim::fuzz::text(data, size), "fuzz");
    (void)moesim::config::read_document<moesim::fuzz::ModelFile>(doc);
  });
}
