// Programs checked directly, without the engine: for each schedule, which nodes a MoE block
// has, in which order, and which exchanges with which bytes (counted by hand below).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/error.hpp"
#include "cost/profile.hpp"
#include "model/forward.hpp"
#include "model/moe_shape.hpp"
#include "model/serving.hpp"
#include "topologies/build.hpp"

namespace moesim::model {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

const std::string kSource = MOESIM_SOURCE_DIR;

const topo::Cluster& bigmac() {
  static const auto c =
      topo::load_cluster(kSource + "/topologies/presets/bigmac_4x8_a40_ib100.yaml");
  return c;
}
const cost::CostModel& a40() {
  static const cost::CostModel m(cost::load_profile(kSource + "/calibrate/profiles/a40.yaml"));
  return m;
}
const ExchangeEstimator kNoEstimate = [](const net::TransferGraph&, const std::vector<int>&) {
  return core::Time::zero();
};

// 4 blocks, h = 256, 4 heads; 16 experts (f = 64) over EP = 8; 256 tokens per rank; top-4,
// balanced routing, no capacity factor: each rank routes 256 x 4 = 1,024 rows, 64 to each
// expert, so 2 x 64 = 128 rows to each member (itself included), and each member's two experts
// receive 8 x 64 = 512 rows each.
Study small(const std::string& schedule) {
  Study s;
  s.model.layers = 4;
  s.model.hidden = 256;
  s.model.heads = 4;
  s.model.vocab = 1000;
  s.model.seq_len = 256;
  s.model.moe.experts = 16;
  s.model.moe.top_k = 4;
  s.model.moe.expert_ffn = 64;
  s.model.moe.every = 2;
  s.model.moe.first = 1;  // blocks 1 and 3; blocks 0 and 2 are dense
  s.parallel.ep = 8;
  s.schedule = schedule_from_name(schedule);
  return s;
}

struct Built {
  Study study;
  Program program;
};

Built build(const std::string& schedule, const std::function<void(Study&)>& change = {}) {
  Built b{small(schedule), {}};
  if (change) change(b.study);
  ProgramBuilder builder(b.study, bigmac(), a40(), kNoEstimate);
  b.program = builder.training_forward(0);
  return b;
}

// Names of the nodes in issue order whose name starts with `prefix`.
std::vector<std::string> issued(const Program& p, const std::string& prefix) {
  std::vector<std::string> out;
  for (const int id : p.order) {
    if (p.node(id).name.starts_with(prefix)) out.push_back(p.node(id).name);
  }
  return out;
}

const Node& named(const Program& p, const std::string& name) {
  const auto it =
      std::find_if(p.nodes.begin(), p.nodes.end(), [&](const Node& n) { return n.name == name; });
  EXPECT_NE(it, p.nodes.end()) << name;
  return *it;
}

// Every entry of an all-to-all's matrix.
void expect_uniform(const Node& n, double bytes) {
  ASSERT_TRUE(n.collective) << n.name;
  EXPECT_EQ(n.collective->kind, net::CollectiveKind::kAllToAll) << n.name;
  EXPECT_EQ(n.collective->group, Group::kEp) << n.name;
  ASSERT_TRUE(n.collective->matrix) << n.name;
  const auto& m = *n.collective->matrix;
  ASSERT_EQ(m.n, 8);
  EXPECT_THAT(m.bytes, ::testing::Each(bytes)) << n.name;
  EXPECT_NEAR(m.payload, 8 * 7 * bytes, 1e-12 * m.payload) << n.name;  // a sum of 56
}

TEST(Program, CdacExchangesTokensAtFullWidth) {
  const auto [s, p] = build("cdac");
  // Every node is issued once; the dense block 0 has no exchange.
  EXPECT_EQ(p.order.size(), p.nodes.size());
  EXPECT_THAT(issued(p, "L0.moe"), ::testing::IsEmpty());
  EXPECT_THAT(
      issued(p, "L1.moe"),
      ElementsAre("L1.moe.ln", "L1.moe.gate", "L1.moe.permute", "L1.moe.dispatch", "L1.moe.experts",
                  "L1.moe.combine", "L1.moe.unpermute", "L1.moe.residual"));
  // 128 rows of h = 256 bf16 elements to each member.
  expect_uniform(named(p, "L1.moe.dispatch"), 128 * 256 * 2);
  expect_uniform(named(p, "L1.moe.combine"), 128 * 256 * 2);
  // Two local experts of 512 rows: h -> f -> h as two grouped GEMMs around the activation.
  const auto& experts = named(p, "L1.moe.experts").forward;
  ASSERT_EQ(experts.size(), 3u);
  EXPECT_THAT(experts[0].groups, ElementsAre(512, 512));
  EXPECT_EQ(experts[0].gemm.n, 64);
  EXPECT_EQ(experts[0].gemm.k, 256);
  EXPECT_EQ(experts[2].gemm.n, 256);
  EXPECT_EQ(experts[2].gemm.k, 64);
  // The permute gathers T x k rows of width h.
  EXPECT_EQ(named(p, "L1.moe.permute").forward[0].bytes, 2.0 * 1024 * 256 * 2 + 1024 * 4);
}

TEST(Program, DccaExchangesAtRTimesTheWidthBetweenTwoProjections) {
  const auto [s, p] = build("dcca");  // r = 0.25: width 64, experts 64 -> 256 -> 64
  EXPECT_THAT(issued(p, "L1.moe"),
              ElementsAre("L1.moe.ln", "L1.moe.gate", "L1.moe.descend", "L1.moe.permute",
                          "L1.moe.dispatch", "L1.moe.experts", "L1.moe.combine", "L1.moe.unpermute",
                          "L1.moe.ascend", "L1.moe.residual"));
  expect_uniform(named(p, "L1.moe.dispatch"), 128 * 64 * 2);
  const auto& descend = named(p, "L1.moe.descend").forward[0].gemm;
  EXPECT_EQ(std::tuple(descend.m, descend.n, descend.k), std::tuple(256, 64, 256));
  const auto& ascend = named(p, "L1.moe.ascend").forward[0].gemm;
  EXPECT_EQ(std::tuple(ascend.m, ascend.n, ascend.k), std::tuple(256, 256, 64));
  const auto& experts = named(p, "L1.moe.experts").forward;
  EXPECT_EQ(experts[0].gemm.n, 256);  // f / r
  EXPECT_EQ(experts[0].gemm.k, 64);   // r h
}

TEST(Program, LshExchangesCentroidsAndCompensates) {
  const auto [s, p] = build("lsh");  // rho = 0.2 of the rows
  EXPECT_THAT(issued(p, "L1.moe"),
              ElementsAre("L1.moe.ln", "L1.moe.gate", "L1.moe.permute", "L1.moe.lsh_hash",
                          "L1.moe.centroids", "L1.moe.dispatch", "L1.moe.experts", "L1.moe.combine",
                          "L1.moe.compensate", "L1.moe.unpermute", "L1.moe.residual"));
  expect_uniform(named(p, "L1.moe.dispatch"), 128 * 256 * 2 * 0.2);
  // Experts compute ceil(512 x 0.2) = 103 rows each; hashing has no backward.
  EXPECT_THAT(named(p, "L1.moe.experts").forward[0].groups, ElementsAre(103, 103));
  EXPECT_TRUE(named(p, "L1.moe.lsh_hash").backward.empty());
  // 1,024 rows x 0.2 = 205 centroids (rounded up).
  EXPECT_EQ(named(p, "L1.moe.centroids").forward[0].bytes, (1024.0 + 205) * 256 * 2 + 1024 * 4);
}

TEST(Program, PipeliningSplitsEachExchangeIntoChunksWithTheExpertsBetween) {
  const auto [s, p] = build("pipe2");
  EXPECT_THAT(
      issued(p, "L1.moe."),
      ElementsAre("L1.moe.ln", "L1.moe.gate", "L1.moe.permute", "L1.moe.dispatch.c0",
                  "L1.moe.dispatch.c1", "L1.moe.experts.c0", "L1.moe.combine.c0",
                  "L1.moe.experts.c1", "L1.moe.combine.c1", "L1.moe.unpermute", "L1.moe.residual"));
  expect_uniform(named(p, "L1.moe.dispatch.c0"), 128 * 256 * 2 / 2);
  EXPECT_THAT(named(p, "L1.moe.experts.c1").forward[0].groups, ElementsAre(256, 256));
}

TEST(Program, TopKChangesTheRowsAndTheHierarchicalExchangeOnlyItsAlgorithm) {
  const auto [s1, p1] = build("top1");  // 256 rows, 16 per expert, 32 to each member
  expect_uniform(named(p1, "L1.moe.dispatch"), 32 * 256 * 2);
  ProgramBuilder two_d(small("2d"), bigmac(), a40(), kNoEstimate);
  EXPECT_EQ(two_d.shape().algorithm, ExchangeAlgorithm::kHierarchical);
  const auto [s4, p4] = build("cdac");
  const auto p2d = two_d.training_forward(0);
  ASSERT_EQ(p2d.nodes.size(), p4.nodes.size());
  for (std::size_t i = 0; i < p2d.nodes.size(); ++i) EXPECT_EQ(p2d.nodes[i].name, p4.nodes[i].name);
}

// ScMoE Pos-2: block 1's routed top-1 path reads block 0 between its attention and its MLP; its
// gate and dispatch are issued there, ahead of block 0's MLP, and a shared expert runs on the
// current representation.
TEST(Program, ScMoeIssuesTheRoutedPathAtTheShortcutOfThePrecedingBlock) {
  const auto [s, p] = build("scmoe");
  const auto order = issued(p, "L");
  const auto at = [&](const std::string& name) {
    return std::find(order.begin(), order.end(), name) - order.begin();
  };
  EXPECT_LT(at("L0.attn.residual"), at("L1.moe.gate"));
  EXPECT_LT(at("L1.moe.dispatch"), at("L0.mlp.ln"));
  EXPECT_LT(at("L1.moe.combine"), at("L1.moe.unpermute"));
  EXPECT_LT(at("L1.moe.unpermute"), at("L1.moe.residual"));
  EXPECT_LT(at("L1.shared0.fc2"), at("L1.moe.residual"));
  // The gate reads the node before the shortcut point: block 0's attention output.
  EXPECT_THAT(named(p, "L1.moe.gate").deps,
              ElementsAre(std::find_if(p.nodes.begin(), p.nodes.end(),
                                       [](const Node& n) { return n.name == "L0.attn.residual"; }) -
                          p.nodes.begin()));
  // Top-1: 16 rows per expert, 32 to each member.
  expect_uniform(named(p, "L1.moe.dispatch"), 32 * 256 * 2);
  // Pos-3 moves it to block 0's input.
  const auto [s3, p3] = build("scmoe+pos3");
  const auto order3 = issued(p3, "L");
  EXPECT_LT(std::find(order3.begin(), order3.end(), "L1.moe.dispatch"),
            std::find(order3.begin(), order3.end(), "L0.attn.ln"));
}

TEST(Program, DgMoeHasTwoTopOnePathsAndScMoe2RoutesTwoExperts) {
  const auto [s, p] = build("dgmoe");
  EXPECT_EQ(issued(p, "L1.moe0.dispatch").size(), 1u);
  EXPECT_EQ(issued(p, "L1.moe1.dispatch").size(), 1u);
  EXPECT_THAT(issued(p, "L1.shared"), ::testing::IsEmpty());
  expect_uniform(named(p, "L1.moe0.dispatch"), 32 * 256 * 2);
  const auto [s2, p2] = build("scmoe2");
  expect_uniform(named(p2, "L1.moe.dispatch"), 64 * 256 * 2);
  EXPECT_FALSE(issued(p2, "L1.shared0").empty());
}

// With tensor and sequence parallelism the routed path gathers the sequence before the permute
// and scatters it after the unpermute, at the exchanged width.
TEST(Program, TensorParallelismAddsCollectivesAroundTheRoutedPath) {
  const auto [s, p] = build("dcca", [](Study& st) {
    st.parallel.tp = 2;
    st.parallel.ep = 4;
  });
  const auto& gather = named(p, "L1.moe.all_gather");
  ASSERT_TRUE(gather.collective);
  EXPECT_EQ(gather.stream, Stream::kTp);
  EXPECT_EQ(gather.collective->group, Group::kTp);
  EXPECT_EQ(gather.collective->bytes, 256.0 * 64 * 2);  // all 256 tokens at width 64
  EXPECT_EQ(named(p, "L1.moe.reduce_scatter").collective->kind,
            net::CollectiveKind::kReduceScatter);
  EXPECT_THAT(issued(p, "L1.moe"),
              ElementsAreArray({"L1.moe.ln", "L1.moe.gate", "L1.moe.descend", "L1.moe.all_gather",
                                "L1.moe.permute", "L1.moe.dispatch", "L1.moe.experts",
                                "L1.moe.combine", "L1.moe.unpermute", "L1.moe.reduce_scatter",
                                "L1.moe.ascend", "L1.moe.residual"}));
}

TEST(SchedulePart, TheTableParsesNamesAndListsEveryPart) {
  const auto s = schedule_from_name("dcca+scmoe+pipe4+pos3+top2");
  EXPECT_EQ(s.dcca, 0.25);
  EXPECT_EQ(s.structure, Structure::kScMoE);
  EXPECT_EQ(s.pipeline, 4);
  EXPECT_EQ(s.shortcut, 3);
  EXPECT_EQ(s.top_k, 2);
  for (const auto& part : schedule_parts()) {
    EXPECT_THAT(schedule_part_list(), ::testing::HasSubstr(std::string(part.description)));
  }
  EXPECT_EQ(schedule_from_name("dcca0.5").dcca, 0.5);
  EXPECT_EQ(schedule_from_name("lsh0.1+pipe2").lsh->rate, 0.1);
  EXPECT_EQ(schedule_from_name("lsh").lsh->rate, LshConfig{}.rate);
  EXPECT_EQ(schedule_from_name("scmoe2").structure, Structure::kScMoE2);
  EXPECT_THROW(schedule_from_name("dcca0"), config::ConfigError);
  EXPECT_THROW(schedule_from_name("dcca1.5"), config::ConfigError);
  EXPECT_THROW(schedule_from_name("lsh0.1.2"), config::ConfigError);
  EXPECT_THROW(schedule_from_name("pos4"), config::ConfigError);
  EXPECT_THROW(schedule_from_name("scmoe+dgmoe"), config::ConfigError);
}

// The README lists the parts from the same table, word for word.
// A schedule's top<N> wins over its structure's routing, per gate; the structure's otherwise.
TEST(SchedulePart, TopNOverridesTheStructuresRouting) {
  ModelConfig model;
  model.moe.top_k = 8;
  EXPECT_EQ(moe_shape(model, schedule_from_name("scmoe")).k, 1);
  EXPECT_EQ(moe_shape(model, schedule_from_name("scmoe+top8")).k, 8);
  EXPECT_EQ(moe_shape(model, schedule_from_name("scmoe2+top4")).k, 4);
  EXPECT_EQ(moe_shape(model, schedule_from_name("shared_expert+top2")).k, 2);
  const auto dgmoe = moe_shape(model, schedule_from_name("dgmoe+top2"));
  EXPECT_EQ(dgmoe.k * dgmoe.paths, 4);
  EXPECT_EQ(moe_shape(model, schedule_from_name("cdac")).k, 8);
}

// Requests of different lengths: the prefill's projections and collectives carry the real tokens
// (the sum of the prompts), only the attention core runs at the root mean square length.
TEST(Program, APrefillOfUnequalPromptsCarriesTheirTokens) {
  const auto b = build("cdac", [](Study& s) {
    s.mode = Mode::kInfer;
    s.parallel.tp = 2;
    s.parallel.ep = 4;
    s.model.micro_batch = 8;
    s.inference.range_ratio = 0.9;
  });
  const auto requests = requests_of(b.study.model, b.study.inference);
  const auto prefill = inference_passes(requests).front();
  std::int64_t prompts = 0;
  for (const auto& r : requests) prompts += r.prompt;
  ASSERT_NE(prefill.batch * prefill.seq_q, prompts);  // the draw makes them differ
  ProgramBuilder builder(b.study, bigmac(), a40(), kNoEstimate);
  const auto p = builder.forward(0, prefill.batch, prefill.seq_q, prefill.seq_kv, prefill.tokens);
  const auto elem = 2.0;  // bf16
  // The tensor-parallel collective closing the attention and the dense MLP of block 0.
  for (const std::string prefix : {"L0.attn.", "L0.mlp."}) {
    const Node* closing = nullptr;
    for (const int id : p.order) {
      if (p.node(id).name.starts_with(prefix) && p.node(id).collective) closing = &p.node(id);
    }
    ASSERT_NE(closing, nullptr) << prefix;
    EXPECT_DOUBLE_EQ(closing->collective->bytes,
                     static_cast<double>(prompts * b.study.model.hidden) * elem)
        << closing->name;
  }
}

TEST(SchedulePart, TheReadmeListsTheTable) {
  std::ifstream in(kSource + "/README.md");
  std::string line, listed;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.find("schedule parts: end") != std::string::npos) break;
    if (inside) listed += line.substr(line.find_first_not_of(' ')) + "\n";
    if (line.find("schedule parts: begin") != std::string::npos) inside = true;
  }
  std::string expected;
  std::istringstream table(schedule_part_list());
  while (std::getline(table, line)) expected += line.substr(line.find_first_not_of(' ')) + "\n";
  EXPECT_EQ(listed, expected) << "update README.md's list from `moesim predict --help`";
}

}  // namespace
}  // namespace moesim::model
