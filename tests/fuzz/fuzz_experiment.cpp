// An experiment file as `run` reads it: YAML, then every key checked into ExperimentConfig.
#include "cli/experiment.hpp"
#include "config/document.hpp"
#include "config/reader.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return moesim::fuzz::expect_only_user_errors([&] {
    const auto doc = moesim::config::Document::from_string(moesim::fuzz::text(data, size), "fuzz");
    (void)moesim::config::read_document<moesim::cli::ExperimentConfig>(doc);
  });
}
