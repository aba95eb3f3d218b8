#pragma once
// A model from a Hugging Face `config.json` (Mixtral, Qwen2-MoE, Qwen3-MoE, DeepSeek-V2/V3,
// OLMoE, DBRX, GPT-OSS, Llama 4): the architecture's keys mapped onto a `model:` section, one
// table row per `model_type`. Every key of the file is accounted for: used, approximated (it
// matters to cost but moesim prices it otherwise, with how) or ignored (it changes nothing
// moesim prices). Nothing is fetched: the user passes the file.
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace moesim::model {

struct HfImport {
  std::string architecture;  // the model_type read
  // The `model:` section: values are the file's own nodes where a key gives them (so errors
  // point into the file), computed ones where the architecture derives them (MoE blocks).
  YAML::Node model;
  std::vector<std::string> used;          // keys read, as "key -> model.field"
  std::vector<std::string> approximated;  // "key: how moesim prices it instead"
  std::vector<std::string> ignored;       // keys that change nothing moesim prices
};

// `json`: the parsed file (JSON is read as YAML); `file`: its path, for messages. Throws
// ConfigError naming the file and key for a missing model_type, an architecture moesim does not
// read (listing those it does), or a missing or malformed key the mapping needs.
HfImport import_hf_config(const YAML::Node& json, const std::string& file);

// The same from the file's text: parsed as a configuration document is (the same checks on the
// text, errors at a line and column of `file`; tabs are whitespace, as in JSON).
HfImport import_hf_config_text(std::string_view text, const std::string& file);

// The model_type values import_hf_config reads, comma-separated.
std::string hf_architectures();

}  // namespace moesim::model
