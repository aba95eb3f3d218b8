// Dispatch modes: the bytes each member sends each other member, against hand counts on a small
// routing.
#include <gtest/gtest.h>

#include "model/dispatcher.hpp"
#include "model/layout.hpp"
#include "model/traffic.hpp"
#include "topologies/build.hpp"

namespace moesim::model {
namespace {

// Two nodes of two GPUs (rails 0 and 1), EP 4: members 0, 1 on node 0, members 2, 3 on node 1.
struct Small {
  topo::Cluster cluster = [] {
    auto doc = config::Document::load_file(MOESIM_SOURCE_DIR
                                           "/topologies/presets/dgx_h100_rail_ib400.yaml");
    doc.apply_override("nodes=2");
    doc.apply_override("node.gpus=2");
    return topo::load_cluster(doc);
  }();
  ModelConfig model = [] {
    ModelConfig m;
    m.moe.experts = 8;  // two per member
    m.moe.top_k = 2;
    return m;
  }();
  ParallelConfig parallel = [] {
    ParallelConfig p;
    p.ep = 4;
    return p;
  }();
  RankLayout layout{model, parallel, 4, 2};
  RoutingModel routing{RoutingConfig{}, 8};
};

// 1024 tokens each, top-2 of 8 experts, balanced: 256 rows to each expert, so a token picks a
// given expert with p = 1/4.
constexpr std::int64_t kTokens = 1024;
constexpr double kRow = 10;  // bytes a row

TEST(Traffic, PerExpertSendsARowPerRoutedExpert) {
  Small s;
  Traffic t(s.model, s.layout, s.routing, 1, s.cluster);
  const auto m = t.dispatch(0, 0, 0, kTokens, 2, kRow, DispatchMode::kPerExpert);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_DOUBLE_EQ(m->at(i, j), 2 * 256 * kRow) << i << "->" << j;
  }
}

// A token reaches a member (two experts) unless it misses both: 1 - (3/4)^2 = 7/16.
TEST(Traffic, PerRankSendsATokenOnceToEachMemberItNeeds) {
  Small s;
  Traffic t(s.model, s.layout, s.routing, 1, s.cluster);
  const auto m = t.dispatch(0, 0, 0, kTokens, 2, kRow, DispatchMode::kPerRank);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) EXPECT_DOUBLE_EQ(m->at(i, j), kTokens * 7.0 / 16 * kRow);
  }
}

// Across nodes a token goes once to the member on the sender's rail there (a node, four
// experts: 1 - (3/4)^4 = 175/256), which forwards it to the other member if needed (7/16).
TEST(Traffic, PerNodeSendsATokenOnceToEachNodeAndForwardsItThere) {
  Small s;
  Traffic t(s.model, s.layout, s.routing, 1, s.cluster);
  const auto m = t.dispatch(0, 0, 0, kTokens, 2, kRow, DispatchMode::kPerNode);
  const double member = kTokens * 7.0 / 16 * kRow, node = kTokens * 175.0 / 256 * kRow;
  EXPECT_DOUBLE_EQ(m->at(0, 2), node);  // rail 0 of node 1
  EXPECT_DOUBLE_EQ(m->at(0, 3), 0);     // reached through member 2
  // Member 2 sends member 3 its own tokens and forwards member 0's; member 0 likewise sends
  // member 1 its own and member 2's.
  EXPECT_DOUBLE_EQ(m->at(2, 3), 2 * member);
  EXPECT_DOUBLE_EQ(m->at(0, 1), 2 * member);
  EXPECT_DOUBLE_EQ(m->at(1, 3), node);
  EXPECT_DOUBLE_EQ(m->at(1, 2), 0);
}

// Node-limited to one node of two: a token's node is node v with chance 1/2, its experts there
// picked with p = 1/2 each; a member is reached with 1/2 x (1 - (1/2)^2) = 3/8, a node 1/2 x
// (1 - (1/2)^4) = 15/32.
TEST(Traffic, NodeLimitedRoutingReachesFewerNodes) {
  Small s;
  Traffic t(s.model, s.layout, s.routing, 1, s.cluster, 1);
  const auto rank = t.dispatch(0, 0, 0, kTokens, 2, kRow, DispatchMode::kPerRank);
  EXPECT_DOUBLE_EQ(rank->at(0, 3), kTokens * 3.0 / 8 * kRow);
  const auto node = t.dispatch(0, 0, 0, kTokens, 2, kRow, DispatchMode::kPerNode);
  EXPECT_DOUBLE_EQ(node->at(0, 2), kTokens * 15.0 / 32 * kRow);
  // The rows each expert receives do not change: only how many times a token is sent.
  const auto expert = t.dispatch(0, 0, 0, kTokens, 2, kRow, DispatchMode::kPerExpert);
  EXPECT_DOUBLE_EQ(expert->at(0, 3), 2 * 256 * kRow);
}

// DeepEP's fp8 rows: a byte an element and a 4-byte scale per 128 (7168 -> 7168 + 56 x 4).
TEST(Traffic, Fp8RowsCarryTheirScales) {
  EXPECT_DOUBLE_EQ(exchanged_row_bytes(7168, cost::Dtype::kFp8), 7168 + 56 * 4);
  EXPECT_DOUBLE_EQ(exchanged_row_bytes(7168, cost::Dtype::kBf16), 2 * 7168);
  EXPECT_DOUBLE_EQ(exchanged_row_bytes(100, cost::Dtype::kFp8), 100 + 4);
}

}  // namespace
}  // namespace moesim::model
