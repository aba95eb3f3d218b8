// Every model preset in experiments/models parses, fits its own parallel layout and builds a
// training workload whose MoE layers are the ones its file names.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/document.hpp"
#include "config/reader.hpp"
#include "cost/profile.hpp"
#include "model/simulate.hpp"
#include "topologies/build.hpp"

namespace moesim::model {
namespace {

const std::string kSource = MOESIM_SOURCE_DIR;
constexpr std::int64_t kGpusPerNode = 8;  // dgx_h100 nodes

// What a preset file holds.
struct Preset {
  ModelConfig model;
  ParallelConfig parallel;
  RoutingConfig routing;
  template <class V>
  void fields(V& v) {
    v.field("model", model, "the model");
    v.field("parallel", parallel, "its default parallelism");
    v.field("routing", routing, "how its tokens choose experts");
  }
};

TEST(ModelPresets, EveryPresetBuildsOnAClusterOfItsSize) {
  const cost::CostModel cost(cost::load_profile(kSource + "/calibrate/profiles/h100_sxm.yaml"));
  const ExchangeEstimator no_estimate = [](const net::TransferGraph&, const std::vector<int>&) {
    return core::Time::zero();
  };
  int presets = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kSource + "/experiments/models")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().filename().string());
    const auto preset =
        config::read_document<Preset>(config::Document::load_file(entry.path().string()));
    Study study;
    study.model = preset.model;
    study.parallel = preset.parallel;
    study.routing = preset.routing;
    auto doc =
        config::Document::load_file(kSource + "/topologies/presets/dgx_h100_rail_ib400.yaml");
    const auto world = study.parallel.world();
    doc.apply_override("nodes=" + std::to_string((world + kGpusPerNode - 1) / kGpusPerNode));
    const auto cluster = topo::load_cluster(doc);
    const auto workload = build_workload(study, cluster, cost, no_estimate);
    std::int64_t moe_blocks = 0;
    for (std::int64_t b = 0; b < study.model.layers; ++b) moe_blocks += study.model.is_moe_block(b);
    EXPECT_GT(moe_blocks, 0);
    EXPECT_EQ(workload.moe_layers, moe_blocks);
    EXPECT_GT(workload.a2a_bytes, 0);
    ++presets;
  }
  EXPECT_GE(presets, 14) << "the papers' models and the DeepSeek-like shape";
}

}  // namespace
}  // namespace moesim::model
