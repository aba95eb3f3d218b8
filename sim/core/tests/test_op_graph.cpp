#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/op_graph.hpp"

namespace moesim::core {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string finalize_error(OpGraph& g) {
  try {
    g.finalize();
  } catch (const GraphError& e) {
    return e.what();
  }
  ADD_FAILURE() << "finalize() accepted a malformed graph";
  return {};
}

TEST(OpGraph, RecordsStreamsOpsLabelsAndArgs) {
  OpGraph g;
  const auto s = g.add_stream(3, "compute");
  const auto a = g.add_op(s, "attn", {"compute", "attention"});
  const auto b = g.add_op(s, "mlp", {"compute"});
  g.set_args(a, {{"shape", "4096x1024"}});
  g.add_dependency(b, a);
  g.finalize();
  EXPECT_EQ(g.op_rank(a), 3u);
  EXPECT_EQ(g.rank_count(), 4u);
  EXPECT_EQ(g.op_name(b), "mlp");
  EXPECT_TRUE(g.has_label(a, "attention"));
  EXPECT_FALSE(g.has_label(b, "attention"));
  ASSERT_EQ(g.op_args(a).size(), 1u);
  EXPECT_EQ(g.op_args(a)[0].value, "4096x1024");
  EXPECT_TRUE(g.op_args(b).empty());
  EXPECT_EQ(g.next_on_stream(a), b);
  EXPECT_EQ(g.previous_on_stream(b), a);
  ASSERT_EQ(g.successors(a).size(), 1u);
  EXPECT_EQ(g.successors(a)[0], b);
  EXPECT_EQ(g.describe(a), "'attn' (rank 3, stream compute)");
}

TEST(OpGraph, DanglingDependencyNamesTheOpAndTheMissingId) {
  OpGraph g;
  const auto s = g.add_stream(0, "compute");
  const auto a = g.add_op(s, "gate");
  g.add_dependency(a, 17);
  EXPECT_THAT(finalize_error(g),
              AllOf(HasSubstr("dangling dependency"), HasSubstr("'gate' (rank 0, stream compute)"),
                    HasSubstr("op #17, which does not exist"), HasSubstr("has 1 ops")));
}

TEST(OpGraph, CycleAcrossRanksIsReportedWithTheOpNames) {
  OpGraph g;
  const auto s0 = g.add_stream(0, "comm");
  const auto s1 = g.add_stream(1, "comm");
  const auto a = g.add_op(s0, "send");
  const auto b = g.add_op(s1, "recv");
  const auto c = g.add_op(s1, "reply");
  g.add_dependency(b, a);
  g.add_dependency(a, c);  // c runs after b on its stream: a -> c -> b -> a
  const auto message = finalize_error(g);
  EXPECT_THAT(
      message,
      AllOf(HasSubstr("dependency cycle"), HasSubstr("'send' (rank 0, stream comm)"),
            HasSubstr("'recv' (rank 1, stream comm)"), HasSubstr("'reply' (rank 1, stream comm)"),
            HasSubstr("runs after (same stream)")));
}

TEST(OpGraph, SelfDependencyIsACycle) {
  OpGraph g;
  const auto a = g.add_op(g.add_stream(0, "s"), "loop");
  g.add_dependency(a, a);
  EXPECT_THAT(finalize_error(g), HasSubstr("'loop' (rank 0, stream s) waits for 'loop'"));
}

TEST(OpGraph, GangWithTwoOpsOnOneStreamIsRejected) {
  OpGraph g;
  const auto s = g.add_stream(0, "comm");
  const auto a = g.add_op(s, "a2a.dispatch");
  const auto b = g.add_op(s, "a2a.combine");
  g.add_gang({a, b});
  EXPECT_THAT(finalize_error(g),
              AllOf(HasSubstr("two ops on one stream"), HasSubstr("could never run together")));
}

TEST(OpGraph, OpInTwoGangsIsRejected) {
  OpGraph g;
  const auto a = g.add_op(g.add_stream(0, "comm"), "x");
  const auto b = g.add_op(g.add_stream(1, "comm"), "y");
  g.add_gang({a, b});
  g.add_gang({a});
  EXPECT_THAT(finalize_error(g), HasSubstr("'x' (rank 0, stream comm) is in two gangs"));
}

TEST(OpGraph, GangNamingAMissingOpIsRejected) {
  OpGraph g;
  g.add_op(g.add_stream(0, "comm"), "x");
  g.add_gang({0, 5});
  EXPECT_THAT(finalize_error(g), HasSubstr("gang #0 names op #5, which does not exist"));
}

TEST(OpGraph, OpOnMissingStreamIsRejectedAtOnce) {
  OpGraph g;
  EXPECT_THROW(g.add_op(2, "x"), GraphError);
}

TEST(OpGraph, FrozenAfterFinalize) {
  OpGraph g;
  const auto s = g.add_stream(0, "s");
  g.add_op(s, "x");
  g.finalize();
  EXPECT_THROW(g.add_op(s, "y"), std::logic_error);
}

}  // namespace
}  // namespace moesim::core
