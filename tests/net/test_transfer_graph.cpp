// A transfer graph's successor lists: a node's one successor is kept with it, several in a list;
// either way in the order the dependencies were added. A node whose one successor waits for
// nothing else says so.
#include "net/transfer_graph.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace moesim::net {
namespace {

std::vector<TransferGraph::Id> listed(const TransferGraph& g, TransferGraph::Id id) {
  const auto s = g.successors(id);
  return {s.begin(), s.end()};
}

TEST(TransferGraph, SuccessorsComeBackInTheOrderTheyWereAddedWhateverTheirNumber) {
  TransferGraph g;
  const auto a = g.add_transfer(0, 1, 10);
  const auto b = g.add_transfer(1, 2, 20);
  const auto c = g.add_delay(2, core::Time::ns(5));
  const auto d = g.add_transfer(2, 0, 30);
  const auto e = g.add_transfer(0, 2, 40);
  const auto f = g.add_transfer(1, 0, 50);
  g.depend(b, a);
  g.depend(d, a);
  g.depend(c, a);
  g.depend(e, b);
  g.depend(e, c);
  g.depend(e, d);
  g.depend(f, e);
  g.seal();
  EXPECT_EQ(listed(g, a), (std::vector<TransferGraph::Id>{b, d, c}));
  EXPECT_EQ(listed(g, b), (std::vector<TransferGraph::Id>{e}));
  EXPECT_EQ(listed(g, c), (std::vector<TransferGraph::Id>{e}));
  EXPECT_EQ(listed(g, d), (std::vector<TransferGraph::Id>{e}));
  EXPECT_EQ(listed(g, e), (std::vector<TransferGraph::Id>{f}));
  EXPECT_TRUE(listed(g, f).empty());
  EXPECT_FALSE(g.frees_successor(a));  // three successors
  EXPECT_FALSE(g.frees_successor(b));  // e also waits for c and d
  EXPECT_TRUE(g.frees_successor(e));   // f waits for e alone
  EXPECT_FALSE(g.frees_successor(f));  // no successor
  EXPECT_EQ(g.waits(a), 0u);
  EXPECT_EQ(g.waits(e), 3u);
  EXPECT_EQ(g.node(d).bytes, 30);
  EXPECT_EQ(g.node(c).delay, core::Time::ns(5));
  EXPECT_TRUE(g.is_delay(c));
}

TEST(TransferGraph, RandomDependenciesMatchAPlainListPerNode) {
  std::mt19937 rng(11);
  TransferGraph g;
  constexpr TransferGraph::Id kNodes = 300;
  std::vector<std::vector<TransferGraph::Id>> expected(kNodes);
  std::vector<std::uint32_t> prerequisites_of(kNodes, 0);
  for (TransferGraph::Id n = 0; n < kNodes; ++n) {
    g.add_transfer(0, 1, 1);
    const auto prerequisites = n == 0 ? 0u : rng() % 4;  // 0 to 3, repeats allowed
    for (std::uint32_t k = 0; k < prerequisites; ++k) {
      const auto pre = static_cast<TransferGraph::Id>(rng() % n);
      g.depend(n, pre);
      expected[pre].push_back(n);
      ++prerequisites_of[n];
    }
  }
  g.seal();
  int freeing = 0;
  for (TransferGraph::Id n = 0; n < kNodes; ++n) {
    ASSERT_EQ(listed(g, n), expected[n]) << n;
    const bool frees = expected[n].size() == 1 && prerequisites_of[expected[n][0]] == 1;
    ASSERT_EQ(g.frees_successor(n), frees) << n;
    freeing += frees;
  }
  EXPECT_GT(freeing, 0);  // the random graph has some of each
}

}  // namespace
}  // namespace moesim::net
