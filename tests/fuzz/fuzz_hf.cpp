// A Hugging Face config.json: mapped onto a model section (model/hf_config.hpp), then read as
// the model an experiment gets from `model: {hf_config: FILE}`.
#include "config/document.hpp"
#include "config/reader.hpp"
#include "fuzz_common.hpp"
#include "model/hf_config.hpp"
#include "model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moesim;
  return fuzz::expect_only_user_errors([&] {
    const auto imported = model::import_hf_config_text(fuzz::text(data, size), "fuzz.json");
    auto doc = config::Document::from_string("model: {hf_config: fuzz.json}\n", "fuzz");
    doc.import_section("model", "hf_config", imported.model, "fuzz.json");
    (void)config::read_document<fuzz::ModelFile>(doc);
  });
}
