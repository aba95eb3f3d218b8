#include "hf_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <string_view>

#include "config/document.hpp"
#include "config/error.hpp"

namespace moesim::model {

namespace {

// Which blocks are MoE blocks, as each architecture's modelling code decides.
enum class Blocks {
  kAll,         // every block (Mixtral, OLMoE, DBRX, GPT-OSS)
  kSparseStep,  // (i + 1) % decoder_sparse_step == 0 and i not in mlp_only_layers (Qwen)
  kFirstDense,  // i >= first_k_dense_replace and i % moe_layer_freq == 0 (DeepSeek)
  kInterleave,  // i in moe_layers, else every interleave_moe_layer_step-th from step-1 (Llama 4)
};
// Where the shared experts come from.
enum class Shared {
  kNone,
  kOneOfKey,       // one shared expert of shared_expert_intermediate_size, when > 0 (Qwen2-MoE)
  kCountOfExpert,  // n_shared_experts of the routed experts' width (DeepSeek)
  kOneOfExpert,    // one of the routed experts' width in every MoE block (Llama 4)
};

// One architecture: the keys (inside `section`, dotted for nested ones) that give each field;
// empty where the architecture has no such key.
struct Architecture {
  std::string_view type;
  std::string_view section;  // the text model's keys: "" (top level) or "text_config"
  std::string_view layers, hidden, heads, kv_heads, head_dim, dense_ffn, vocab;
  std::string_view experts, top_k, expert_ffn;
  Blocks blocks;
  Shared shared;
  bool qk_norm;                  // per-head q/k norms, whatever the file says
  std::string_view qk_norm_key;  // or as this key says
  std::string_view note;         // what moesim prices otherwise in this architecture, if anything
};

constexpr std::array<Architecture, 9> kArchitectures{{
    {"mixtral", "", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "head_dim", "", "vocab_size", "num_local_experts",
     "num_experts_per_tok", "intermediate_size", Blocks::kAll, Shared::kNone, false, "", ""},
    {"qwen2_moe", "", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "num_experts",
     "num_experts_per_tok", "moe_intermediate_size", Blocks::kSparseStep, Shared::kOneOfKey, false,
     "",
     "the q/k/v projections' biases (qkv_bias, true unless the file says) and the shared "
     "expert's sigmoid gate are not priced (model.bias: false)"},
    {"qwen3_moe", "", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size", "num_experts",
     "num_experts_per_tok", "moe_intermediate_size", Blocks::kSparseStep, Shared::kNone, true, "",
     ""},
    {"deepseek_v2", "", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "", "intermediate_size", "vocab_size", "n_routed_experts",
     "num_experts_per_tok", "moe_intermediate_size", Blocks::kFirstDense, Shared::kCountOfExpert,
     false, "", ""},
    {"deepseek_v3", "", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "", "intermediate_size", "vocab_size", "n_routed_experts",
     "num_experts_per_tok", "moe_intermediate_size", Blocks::kFirstDense, Shared::kCountOfExpert,
     false, "", ""},
    {"olmoe", "", "num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads",
     "head_dim", "", "vocab_size", "num_experts", "num_experts_per_tok", "intermediate_size",
     Blocks::kAll, Shared::kNone, true, "",
     "the q/k norms span the whole projection, priced as per-head norms of the same elements"},
    {"dbrx", "", "n_layers", "d_model", "n_heads", "attn_config.kv_n_heads", "", "", "vocab_size",
     "ffn_config.moe_num_experts", "ffn_config.moe_top_k", "ffn_config.ffn_hidden_size",
     Blocks::kAll, Shared::kNone, false, "", ""},
    {"gpt_oss", "", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "head_dim", "", "vocab_size", "num_local_experts",
     "num_experts_per_tok", "intermediate_size", Blocks::kAll, Shared::kNone, false, "",
     "the attention sinks (a learned logit per head) are not priced"},
    {"llama4", "text_config", "num_hidden_layers", "hidden_size", "num_attention_heads",
     "num_key_value_heads", "head_dim", "intermediate_size_mlp", "vocab_size", "num_local_experts",
     "num_experts_per_tok", "intermediate_size", Blocks::kInterleave, Shared::kOneOfExpert, false,
     "use_qk_norm",
     "q/k norms are priced on every block (Llama 4 has them on its RoPE blocks only); the "
     "vision tower is not priced"},
}};

// The most blocks a derived list of MoE blocks may hold: far beyond any model (hundreds), small
// enough that building the list costs nothing; the model's own limits refuse far fewer.
constexpr std::int64_t kMostListedBlocks = 65'536;

// Keys that matter to cost but that moesim prices otherwise: how, in a sentence.
struct Approximation {
  std::string_view key;
  std::string_view how;
};
constexpr std::string_view kMla =
    "multi-head latent attention priced as multi-head attention of hidden/heads per head (its "
    "projections' parameters come within about 10% of MLA's; the low-rank steps and the 192-wide "
    "q/k heads are not modelled)";
constexpr std::string_view kStorage =
    "the checkpoint's storage type; moesim prices the model at model.dtype (bf16 unless set)";
constexpr std::array<Approximation, 14> kApproximations{{
    {"torch_dtype", kStorage},
    {"dtype", kStorage},
    {"q_lora_rank", kMla},
    {"kv_lora_rank", kMla},
    {"qk_nope_head_dim", kMla},
    {"qk_rope_head_dim", kMla},
    {"v_head_dim", kMla},
    {"num_nextn_predict_layers", "multi-token prediction layers are left out"},
    {"topk_group",
     "group-limited routing: set routing.node_limit to it where each group's experts sit on one "
     "node"},
    {"sliding_window", "sliding-window attention, where a layer has it, is priced as full"},
    {"layer_types", "sliding-window attention, where a layer has it, is priced as full"},
    {"attention_chunk_size", "chunked attention is priced as full"},
    {"quantization_config",
     "quantized weights are priced at model.dtype (set model.gemm_dtype: fp8 for FP8 GEMMs)"},
    {"tie_word_embeddings",
     "untied input embeddings are not counted apart from the LM head's weights (memory, ZeRO "
     "traffic)"},
}};

// A JSON object with a key twice: the parser keeps one silently (Python's json keeps the last),
// so refuse it, as moesim refuses a YAML key written twice.
void check_unique_keys(const YAML::Node& map, const std::string& file, const std::string& path) {
  std::map<std::string, YAML::Mark> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const auto key = it->first.Scalar();
    const auto shown = path.empty() ? key : path + "." + key;
    if (const auto [at, fresh] = seen.emplace(key, it->first.Mark()); !fresh) {
      throw config::ConfigError(fmt::format("{}:{}:{}: {}: written twice (first at line {})", file,
                                            it->first.Mark().line + 1, it->first.Mark().column + 1,
                                            shown, at->second.line + 1));
    }
    if (it->second.IsMap()) check_unique_keys(it->second, file, shown);
  }
}

const Architecture* find_architecture(std::string_view type) {
  const auto* it = std::find_if(kArchitectures.begin(), kArchitectures.end(),
                                [type](const Architecture& a) { return a.type == type; });
  return it == kArchitectures.end() ? nullptr : &*it;
}

class Importer {
 public:
  Importer(const YAML::Node& json, const std::string& file, const Architecture& a)
      : file_(file), arch_(a), section_(a.section.empty() ? json : json[std::string(a.section)]) {
    result_.architecture = std::string(a.type);
    result_.model = YAML::Node(YAML::NodeType::Map);
  }

  // The node at a dotted key inside the section (undefined when absent).
  YAML::Node at(std::string_view key) const {
    YAML::Node node;
    node.reset(section_);
    std::size_t start = 0;
    for (;;) {
      const auto dot = key.find('.', start);
      const std::string part(key.substr(start, dot - start));
      if (!node.IsMap() || !node[part].IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
      YAML::Node child = node[part];
      node.reset(child);
      if (dot == std::string_view::npos) return node;
      start = dot + 1;
    }
  }
  bool has(std::string_view key) const {
    if (key.empty()) return false;
    const auto node = at(key);
    return node.IsDefined() && !node.IsNull();
  }

  // model.<field> = the file's value at `key` (its node, so errors point into the file).
  void take(std::string_view key, std::string_view field, bool required) {
    if (!has(key)) {
      if (required)
        fail(key, fmt::format("missing; a {} config gives model.{} there", arch_.type, field));
      return;
    }
    // Every count and width in these files is positive (moesim's 0 would mean a default).
    if (integer(key, 1) < 1) fail(key, fmt::format("{} must be at least 1", at(key).Scalar()));
    set(field, at(key));
    use(key, field);
  }
  void set(std::string_view field, const YAML::Node& value) {
    YAML::Node section;
    section.reset(result_.model);
    std::size_t start = 0;
    for (;;) {
      const auto dot = field.find('.', start);
      const std::string part(field.substr(start, dot - start));
      if (dot == std::string_view::npos) {
        section[part] = value;
        return;
      }
      if (!section[part].IsDefined()) section[part] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child = section[part];
      section.reset(child);
      start = dot + 1;
    }
  }
  template <class T>
  void set_value(std::string_view field, const T& value) {
    set(field, YAML::Node(value));
  }
  void use(std::string_view key, std::string_view field) {
    used_keys_.emplace_back(key);
    result_.used.push_back(fmt::format("{} -> model.{}", key, field));
  }
  std::int64_t integer(std::string_view key, std::int64_t fallback) const {
    if (!has(key)) return fallback;
    try {
      return at(key).as<std::int64_t>();
    } catch (const YAML::Exception&) {
      fail(key, fmt::format("'{}' is not a whole number", at(key).Scalar()));
    }
  }
  std::vector<std::int64_t> integers(std::string_view key) const {
    std::vector<std::int64_t> out;
    if (!has(key)) return out;
    const auto node = at(key);
    if (!node.IsSequence()) fail(key, "expected a list of block indices");
    for (const auto& item : node) {
      try {
        out.push_back(item.as<std::int64_t>());
      } catch (const YAML::Exception&) {
        fail(key, fmt::format("'{}' is not a whole number", item.Scalar()));
      }
    }
    return out;
  }
  bool flag(std::string_view key, bool fallback) const {
    if (!has(key)) return fallback;
    try {
      return at(key).as<bool>();
    } catch (const YAML::Exception&) {
      fail(key, fmt::format("'{}' is not true or false", at(key).Scalar()));
    }
  }

  [[noreturn]] void fail(std::string_view key, std::string_view problem) const {
    const auto node = key.empty() ? YAML::Node() : at(key);
    const auto where =
        node.IsDefined() && node.Mark().line >= 0
            ? fmt::format("{}:{}:{}", file_, node.Mark().line + 1, node.Mark().column + 1)
            : file_;
    const auto shown = arch_.section.empty() || key.empty()
                           ? std::string(key)
                           : fmt::format("{}.{}", arch_.section, key);
    throw config::ConfigError(fmt::format("{}: {}: {}", where, shown, problem));
  }

  HfImport run(const std::string& name) {
    const auto& a = arch_;
    result_.used.push_back(fmt::format("model_type -> the architecture ({})", a.type));
    set_value("name", name);
    take(a.layers, "layers", true);
    take(a.hidden, "hidden", true);
    take(a.heads, "heads", true);
    take(a.kv_heads, "kv_heads", false);
    take(a.head_dim, "head_dim", false);
    take(a.vocab, "vocab", true);
    take(a.experts, "moe.experts", true);
    take(a.top_k, "moe.top_k", true);
    take(a.expert_ffn, "moe.expert_ffn", true);
    set_value("gated_mlp", true);  // every architecture read here has SwiGLU-style MLPs
    set_value("bias", flag("attention_bias", false));
    if (has("attention_bias")) use("attention_bias", "bias");
    const bool qk_norm = a.qk_norm || (!a.qk_norm_key.empty() && flag(a.qk_norm_key, false));
    set_value("qk_norm", qk_norm);
    if (has(a.qk_norm_key)) use(a.qk_norm_key, "qk_norm");
    blocks();
    shared();
    if (a.blocks != Blocks::kAll) take(a.dense_ffn, "ffn", false);
    if (!a.note.empty()) result_.approximated.push_back(std::string(a.note));
    account_for_the_rest();
    return result_;
  }

 private:
  void blocks() {
    const auto layers = integer(arch_.layers, 0);
    std::int64_t first = 0, every = 1;
    std::vector<std::int64_t> list;
    bool listed = false;  // the blocks are a list (possibly empty), not first and every
    switch (arch_.blocks) {
      case Blocks::kAll:
        break;
      case Blocks::kSparseStep: {
        every = integer("decoder_sparse_step", 1);
        if (every < 1) fail("decoder_sparse_step", "must be at least 1");
        first = every - 1;
        const auto dense = integers("mlp_only_layers");
        if (!dense.empty()) {
          if (layers > kMostListedBlocks) {
            fail(arch_.layers, fmt::format("{} blocks with mlp_only_layers: more than the {} a "
                                           "list of MoE blocks may hold",
                                           layers, kMostListedBlocks));
          }
          listed = true;
          for (std::int64_t i = first; i < layers; i += every) {
            if (std::find(dense.begin(), dense.end(), i) == dense.end()) list.push_back(i);
          }
        }
        mark_used("decoder_sparse_step", "model.moe.every/first");
        mark_used("mlp_only_layers", "model.moe.blocks");
        break;
      }
      case Blocks::kFirstDense: {
        // i >= k and i % freq == 0: from the first multiple of freq at or after k, every freq.
        const auto k = integer("first_k_dense_replace", 0);
        every = integer("moe_layer_freq", 1);
        if (k < 0) fail("first_k_dense_replace", "must not be negative");
        if (every < 1) fail("moe_layer_freq", "must be at least 1");
        first = (k + every - 1) / every * every;
        mark_used("first_k_dense_replace", "model.moe.first");
        mark_used("moe_layer_freq", "model.moe.every");
        break;
      }
      case Blocks::kInterleave: {
        listed = has("moe_layers");
        list = integers("moe_layers");
        every = integer("interleave_moe_layer_step", 1);
        if (every < 1) fail("interleave_moe_layer_step", "must be at least 1");
        first = every - 1;
        mark_used("moe_layers", "model.moe.blocks");
        mark_used("interleave_moe_layer_step", "model.moe.every/first");
        break;
      }
    }
    if (listed && list.empty()) {
      fail(arch_.blocks == Blocks::kInterleave ? "moe_layers" : "mlp_only_layers",
           "leaves no MoE block: a dense model, which moesim's MoE schedules do not apply to");
    }
    if (listed) {
      set_value("moe.blocks", list);
      return;
    }
    set_value("moe.first", first);
    set_value("moe.every", every);
  }
  void mark_used(std::string_view key, std::string_view field) {
    if (has(key)) use(key, field.substr(std::string_view("model.").size()));
  }

  void shared() {
    switch (arch_.shared) {
      case Shared::kNone:
        return;
      case Shared::kOneOfKey: {
        constexpr std::string_view kKey = "shared_expert_intermediate_size";
        if (integer(kKey, 0) < 0) fail(kKey, "must not be negative");
        if (integer(kKey, 0) == 0) return;
        set_value("moe.shared_experts", 1);
        take(kKey, "moe.shared_ffn", true);
        return;
      }
      case Shared::kCountOfExpert:
        take("n_shared_experts", "moe.shared_experts", false);
        return;
      case Shared::kOneOfExpert:
        set_value("moe.shared_experts", 1);
        return;
    }
  }

  // Every key not used is approximated (it matters to cost) or ignored.
  void account_for_the_rest() {
    for (auto it = section_.begin(); it != section_.end(); ++it) {
      const auto key = it->first.Scalar();
      if (std::find(used_keys_.begin(), used_keys_.end(), key) != used_keys_.end()) continue;
      if (key == "model_type" && arch_.section.empty()) continue;  // the architecture
      // A nested section some of whose keys were used (dbrx's ffn_config): its other keys.
      if (it->second.IsMap()) {
        bool partly = false;
        for (const auto& u : used_keys_) partly = partly || u.starts_with(key + ".");
        if (partly) {
          for (auto inner = it->second.begin(); inner != it->second.end(); ++inner) {
            const auto dotted = key + "." + inner->first.Scalar();
            if (std::find(used_keys_.begin(), used_keys_.end(), dotted) == used_keys_.end()) {
              result_.ignored.push_back(dotted);
            }
          }
          continue;
        }
      }
      const auto* approx = std::find_if(kApproximations.begin(), kApproximations.end(),
                                        [&key](const Approximation& x) { return x.key == key; });
      const bool matters = approx != kApproximations.end() && !it->second.IsNull() &&
                           !(key == "tie_word_embeddings" && flag(key, false));
      if (matters) {
        result_.approximated.push_back(fmt::format("{}: {}", key, approx->how));
      } else {
        result_.ignored.push_back(key);
      }
    }
  }

  std::string file_;
  const Architecture& arch_;
  YAML::Node section_;
  HfImport result_;
  std::vector<std::string> used_keys_;
};

}  // namespace

HfImport import_hf_config_text(std::string_view text, const std::string& file) {
  // JSON separates tokens with tabs as with spaces (a tab inside a string is not JSON), where
  // YAML's indentation takes no tabs: read them as spaces.
  std::string json(text);
  std::replace(json.begin(), json.end(), '\t', ' ');
  const auto document = config::Document::from_string(json, file);
  return import_hf_config(document.root(), file);
}

std::string hf_architectures() {
  std::string out;
  for (const auto& a : kArchitectures) out += (out.empty() ? "" : ", ") + std::string(a.type);
  return out;
}

HfImport import_hf_config(const YAML::Node& json, const std::string& file) {
  if (!json.IsMap()) {
    throw config::ConfigError(
        fmt::format("{}: expected a Hugging Face config.json (a JSON object of keys)", file));
  }
  const auto type = json["model_type"];
  if (!type.IsDefined() || !type.IsScalar() || type.Scalar().empty()) {
    throw config::ConfigError(fmt::format(
        "{}: model_type: missing; a Hugging Face config.json names its architecture there "
        "(moesim reads {})",
        file, hf_architectures()));
  }
  const auto* architecture = find_architecture(type.Scalar());
  if (architecture == nullptr) {
    throw config::ConfigError(fmt::format(
        "{}:{}:{}: model_type: '{}' is not an architecture moesim reads; it reads {} (or describe "
        "the model in a model: section)",
        file, type.Mark().line + 1, type.Mark().column + 1, type.Scalar(), hf_architectures()));
  }
  if (!architecture->section.empty()) {
    const auto section = json[std::string(architecture->section)];
    if (!section.IsDefined() || !section.IsMap()) {
      const auto where =
          section.IsDefined()
              ? fmt::format("{}:{}:{}", file, section.Mark().line + 1, section.Mark().column + 1)
              : file;
      throw config::ConfigError(fmt::format(
          "{}: {}: missing or not an object; a {} config nests the text model's keys there", where,
          architecture->section, architecture->type));
    }
  }
  check_unique_keys(json, file, "");
  Importer importer(json, file, *architecture);
  auto result = importer.run(std::filesystem::path(file).stem().string());
  // The top level's own keys, beside a nested text model's (Llama 4).
  if (!architecture->section.empty()) {
    for (auto it = json.begin(); it != json.end(); ++it) {
      const auto key = it->first.Scalar();
      if (key == architecture->section || key == "model_type") continue;
      const bool untied =
          key == "tie_word_embeddings" && it->second.IsScalar() && it->second.Scalar() == "false";
      if (untied) {
        result.approximated.push_back(fmt::format("{}: {}", key, kApproximations.back().how));
      } else {
        result.ignored.push_back(key);
      }
    }
  }
  return result;
}

}  // namespace moesim::model
