// Models from Hugging Face config.json files: each fixture under tests/data/hf (public
// hyperparameters, sources in its SOURCES.md) read into the model moesim builds, checked field by
// field, against the native preset where one exists, and the errors a bad file gets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/study.hpp"
#include "config/document.hpp"
#include "config/error.hpp"

namespace moesim::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kFixtures = fs::path(MOESIM_SOURCE_DIR) / "tests/data/hf";

ExperimentConfig from_hf(const std::string& fixture, std::ostream* report = nullptr) {
  auto document = load_model_document(kFixtures / (fixture + ".json"));
  return read_experiment(document, ".", report);
}

struct Expected {
  std::string fixture;
  std::int64_t layers, hidden, heads, kv, head_dim, experts, top_k, expert_ffn, shared, shared_ffn,
      moe_blocks, vocab;
  bool bias, qk_norm;
};

// The values of each architecture's published config.json (tests/data/hf/SOURCES.md), as
// moesim's fields: head_dim and shared_ffn as the model uses them (hidden/heads and the routed
// experts' width where the file does not say).
const std::vector<Expected> kExpected{
    {"mixtral_8x7b", 32, 4096, 32, 8, 128, 8, 2, 14336, 0, 14336, 32, 32000, false, false},
    {"deepseek_v3", 61, 7168, 128, 128, 56, 256, 8, 2048, 1, 2048, 58, 129280, false, false},
    {"deepseek_v2_lite", 27, 2048, 16, 16, 128, 64, 6, 1408, 2, 1408, 26, 102400, false, false},
    {"qwen1_5_moe_a2_7b", 24, 2048, 16, 16, 128, 60, 4, 1408, 1, 5632, 24, 151936, false, false},
    {"qwen3_30b_a3b", 48, 2048, 32, 4, 128, 128, 8, 768, 0, 768, 48, 151936, false, true},
    {"olmoe_1b_7b_0924", 16, 2048, 16, 16, 128, 64, 8, 1024, 0, 1024, 16, 50304, false, true},
    {"dbrx_base", 40, 6144, 48, 8, 128, 16, 4, 10752, 0, 10752, 40, 100352, false, false},
    {"gpt_oss_20b", 24, 2880, 64, 8, 64, 32, 4, 2880, 0, 2880, 24, 201088, true, false},
    {"llama4_scout_17b_16e", 48, 5120, 40, 8, 128, 16, 1, 8192, 1, 8192, 48, 202048, false, true},
};

TEST(HfConfig, EveryFixtureGivesItsArchitecturesModel) {
  for (const auto& x : kExpected) {
    SCOPED_TRACE(x.fixture);
    const auto m = from_hf(x.fixture).model;
    EXPECT_EQ(m.name, x.fixture);
    EXPECT_EQ(m.layers, x.layers);
    EXPECT_EQ(m.hidden, x.hidden);
    EXPECT_EQ(m.heads, x.heads);
    EXPECT_EQ(m.kv(), x.kv);
    EXPECT_EQ(m.hd(), x.head_dim);
    EXPECT_EQ(m.moe.experts, x.experts);
    EXPECT_EQ(m.moe.top_k, x.top_k);
    EXPECT_EQ(m.expert_ffn(), x.expert_ffn);
    EXPECT_EQ(m.moe.shared_experts, x.shared);
    EXPECT_EQ(m.shared_ffn(), x.shared_ffn);
    std::int64_t moe_blocks = 0;
    for (std::int64_t b = 0; b < m.layers; ++b) moe_blocks += m.is_moe_block(b);
    EXPECT_EQ(moe_blocks, x.moe_blocks);
    EXPECT_EQ(m.vocab, x.vocab);
    EXPECT_EQ(m.bias, x.bias);
    EXPECT_EQ(m.qk_norm, x.qk_norm);
    EXPECT_TRUE(m.gated_mlp);
  }
}

// Where moesim has a native preset of the same model, the import gives its model field for
// field (but the name and what a preset chooses for a workload: sequence, batch, dtype).
TEST(HfConfig, DeepSeekV3MatchesTheNativePreset) {
  const auto imported = from_hf("deepseek_v3").model;
  auto document = config::Document::load_file(
      (fs::path(MOESIM_SOURCE_DIR) / "experiments/models/deepseek_v3_like.yaml").string());
  document.apply_override("cluster=dgx_h100_rail_ib400");
  const auto native =
      read_experiment(document, fs::path(MOESIM_SOURCE_DIR) / "experiments/models").model;
  EXPECT_EQ(imported.layers, native.layers);
  EXPECT_EQ(imported.hidden, native.hidden);
  EXPECT_EQ(imported.heads, native.heads);
  EXPECT_EQ(imported.kv(), native.kv());
  EXPECT_EQ(imported.hd(), native.hd());
  EXPECT_EQ(imported.dense_ffn(), native.dense_ffn());
  EXPECT_EQ(imported.gated_mlp, native.gated_mlp);
  EXPECT_EQ(imported.vocab, native.vocab);
  EXPECT_EQ(imported.bias, native.bias);
  EXPECT_EQ(imported.qk_norm, native.qk_norm);
  EXPECT_EQ(imported.moe.experts, native.moe.experts);
  EXPECT_EQ(imported.moe.top_k, native.moe.top_k);
  EXPECT_EQ(imported.expert_ffn(), native.expert_ffn());
  EXPECT_EQ(imported.moe.shared_experts, native.moe.shared_experts);
  EXPECT_EQ(imported.shared_ffn(), native.shared_ffn());
  for (std::int64_t b = 0; b < native.layers; ++b) {
    EXPECT_EQ(imported.is_moe_block(b), native.is_moe_block(b)) << "block " << b;
  }
}

TEST(HfConfig, EveryKeyIsReportedUsedApproximatedOrIgnored) {
  std::ostringstream report;
  from_hf("deepseek_v3", &report);
  const auto text = report.str();
  EXPECT_THAT(text, HasSubstr("(deepseek_v3):"));
  EXPECT_THAT(text, HasSubstr("first_k_dense_replace -> model.moe.first"));
  EXPECT_THAT(text, HasSubstr("n_shared_experts -> model.moe.shared_experts"));
  EXPECT_THAT(text, HasSubstr("kv_lora_rank: multi-head latent attention priced as"));
  EXPECT_THAT(text, HasSubstr("topk_group: group-limited routing"));
  EXPECT_THAT(text, HasSubstr("quantization_config: quantized weights"));
  EXPECT_THAT(text, HasSubstr("    rope_theta\n"));
  // Every key of the file appears in the report.
  std::ifstream in(kFixtures / "deepseek_v3.json");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("  \"", 0) != 0) continue;  // top-level keys only
    const auto key = line.substr(3, line.find('"', 3) - 3);
    EXPECT_THAT(text, HasSubstr(key)) << key;
  }
}

// A file in a temporary folder.
fs::path write(const std::string& name, const std::string& text) {
  const auto path = fs::temp_directory_path() / ("moesim_hf_" + name);
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const fs::path& file) {
  try {
    auto document = load_model_document(file);
    read_experiment(document, ".");
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(HfConfig, BadFilesAreRefusedNamingTheFileAndKey) {
  const auto unknown =
      write("unknown.json", "{\n  \"model_type\": \"bert\",\n  \"hidden_size\": 8\n}\n");
  EXPECT_THAT(error_of(unknown), HasSubstr("moesim_hf_unknown.json:2:17: model_type: 'bert' is not "
                                           "an architecture moesim reads; it reads mixtral, "));
  const auto untyped = write("untyped.json", "{\"hidden_size\": 8}");
  EXPECT_THAT(error_of(untyped), HasSubstr("model_type: missing"));
  const auto missing = write("missing.json", "{\"model_type\": \"mixtral\", \"hidden_size\": 8}");
  EXPECT_THAT(error_of(missing),
              HasSubstr("num_hidden_layers: missing; a mixtral config gives model.layers there"));
  // A bad value is found where the file wrote it.
  auto text =
      std::string("{\n  \"model_type\": \"mixtral\",\n  \"num_hidden_layers\": -2,\n") +
      "  \"hidden_size\": 64, \"num_attention_heads\": 4, \"vocab_size\": 100,\n" +
      "  \"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"intermediate_size\": 32\n}\n";
  EXPECT_THAT(error_of(write("negative.json", text)),
              HasSubstr("moesim_hf_negative.json:3:24: num_hidden_layers: -2 must be at least 1"));
  EXPECT_THAT(error_of(write("broken.json", "{\"model_type\": ")),
              HasSubstr("moesim_hf_broken.json:1:"));
  EXPECT_THAT(error_of(kFixtures / "no_such.json"), HasSubstr("cannot read"));
}

// Files a reviewer wrote to break the reader: each refused naming the file and key, none left to
// run as something else.
TEST(HfConfig, EdgeCasesAreRefusedOrReadAsTheirModellingCodeDoes) {
  const std::string mixtral_body =
      "\"hidden_size\": 64, \"num_attention_heads\": 4, \"vocab_size\": 100, "
      "\"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"intermediate_size\": 32";
  EXPECT_THAT(error_of(write("l4.json", "{\"model_type\": \"llama4\"}")),
              HasSubstr("text_config: missing or not an object; a llama4 config nests"));
  EXPECT_THAT(error_of(write("l4null.json", "{\"model_type\": \"llama4\", \"text_config\": 3}")),
              HasSubstr("moesim_hf_l4null.json:1:41: text_config: missing or not an object"));
  EXPECT_THAT(
      error_of(write("dup.json",
                     "{\"model_type\": \"mixtral\",\n \"num_hidden_layers\": 2,\n"
                     " \"num_hidden_layers\": 4, " +
                         mixtral_body + "}")),
      HasSubstr("moesim_hf_dup.json:3:2: num_hidden_layers: written twice (first at line 2)"));
  // Qwen: a block in mlp_only_layers is dense; all of them dense is no MoE model.
  const std::string qwen =
      "{\"model_type\": \"qwen2_moe\", \"num_hidden_layers\": 4, \"hidden_size\": 64, "
      "\"num_attention_heads\": 4, \"vocab_size\": 100, \"num_experts\": 4, "
      "\"num_experts_per_tok\": 2, \"moe_intermediate_size\": 32, ";
  auto document = load_model_document(write("qwen.json", qwen + "\"mlp_only_layers\": [1, 2]}"));
  const auto m = read_experiment(document, ".").model;
  EXPECT_EQ(m.moe.blocks, (std::vector<std::int64_t>{0, 3}));
  EXPECT_THAT(error_of(write("qwen_dense.json", qwen + "\"mlp_only_layers\": [0, 1, 2, 3]}")),
              HasSubstr("mlp_only_layers: leaves no MoE block"));
  // A block list is built only for a model of a believable depth.
  EXPECT_THAT(
      error_of(write("qwen_deep.json",
                     "{\"model_type\": \"qwen2_moe\", \"num_hidden_layers\": 1000000000000000, "
                     "\"hidden_size\": 64, \"num_attention_heads\": 4, \"vocab_size\": 100, "
                     "\"num_experts\": 4, \"num_experts_per_tok\": 2, "
                     "\"moe_intermediate_size\": 32, \"mlp_only_layers\": [1]}")),
      HasSubstr("num_hidden_layers: 1000000000000000 blocks with mlp_only_layers: more than"));
  // DeepSeek's moe_layer_freq: first and every, no list, whatever the depth.
  document = load_model_document(
      write("ds.json",
            "{\"model_type\": \"deepseek_v3\", \"num_hidden_layers\": 10, "
            "\"hidden_size\": 64, \"num_attention_heads\": 4, \"vocab_size\": 100, "
            "\"n_routed_experts\": 4, \"num_experts_per_tok\": 2, "
            "\"moe_intermediate_size\": 32, \"first_k_dense_replace\": 3, "
            "\"moe_layer_freq\": 2}"));
  const auto ds = read_experiment(document, ".").model;
  EXPECT_EQ(ds.moe.first, 4);
  EXPECT_EQ(ds.moe.every, 2);
  // JSON may indent with tabs; zero counts are refused (moesim's 0 would mean a default).
  document = load_model_document(write(
      "tabs.json",
      "{\n\t\"model_type\": \"mixtral\",\n\t\"num_hidden_layers\": 2,\n\t" + mixtral_body + "}"));
  EXPECT_EQ(read_experiment(document, ".").model.layers, 2);
  EXPECT_THAT(error_of(write("kv0.json",
                             "{\"model_type\": \"mixtral\", \"num_hidden_layers\": 2, "
                             "\"num_key_value_heads\": 0, " +
                                 mixtral_body + "}")),
              HasSubstr("num_key_value_heads: 0 must be at least 1"));
  // A moesim model file written as JSON is read as one.
  document = load_model_document(write("own.json", "{\"model\": {\"layers\": 3}}"));
  EXPECT_EQ(read_experiment(document, ".").model.layers, 3);
}

// A model file given to --model that names a config.json beside it.
TEST(HfConfig, APathInAModelFileIsThatFilesFolders) {
  const auto folder = fs::temp_directory_path() / "moesim_hf_model_file";
  fs::create_directories(folder);
  fs::copy_file(kFixtures / "mixtral_8x7b.json", folder / "mixtral.json",
                fs::copy_options::overwrite_existing);
  std::ofstream(folder / "m.yaml") << "model:\n  hf_config: mixtral.json\n";
  auto document = load_model_document(folder / "m.yaml");
  EXPECT_EQ(read_experiment(document, "/").model.hidden, 4096);  // not relative to "/"
}

// In an experiment: the path is the experiment's folder's, and keys beside it win.
TEST(HfConfig, AnExperimentNamesItAndOverridesItsKeys) {
  const auto folder = fs::temp_directory_path() / "moesim_hf_experiment";
  fs::create_directories(folder);
  fs::copy_file(kFixtures / "qwen3_30b_a3b.json", folder / "config.json",
                fs::copy_options::overwrite_existing);
  std::ofstream(folder / "e.yaml") << "model:\n  hf_config: config.json\n  layers: 4\n";
  auto document = config::Document::load_file((folder / "e.yaml").string());
  const auto e = read_experiment(document, folder);
  EXPECT_EQ(e.model.layers, 4);
  EXPECT_EQ(e.model.hidden, 2048);
  EXPECT_EQ(e.model.moe.experts, 128);
}

}  // namespace
}  // namespace moesim::cli
