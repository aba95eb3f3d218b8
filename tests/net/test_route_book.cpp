// The route book: a repeated call's routes read from one place must be the router's routes.
#include "net/route_book.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "net/collectives.hpp"
#include "rail_cluster.hpp"

namespace moesim::net {
namespace {

using test::rail_cluster;

// A 2-D all-to-all over 16 of the cluster's 32 GPUs, in a scrambled order: transfers inside and
// across nodes, and re-layout delays, which have no route.
TransferGraph hierarchical_graph(int participants) {
  AllToAllOptions options;
  options.algorithm = AllToAllAlgorithm::kHierarchical;
  options.gpus_per_node = 4;
  options.relayout_bandwidth = 100e9;
  return all_to_all(
      participants, [](int s, int d) { return 1000.0 * (s + 1) + d; }, options);
}

void expect_router_routes(const RouteBook& book, std::uint32_t id, const TransferGraph& graph,
                          const std::vector<int>& gpus, const topo::Router& router) {
  for (TransferGraph::Id n = 0; n < graph.size(); ++n) {
    const auto got = book.route(id, n);
    const std::vector<topo::LinkId> route(got.begin(), got.end());
    if (graph.is_delay(n)) {
      EXPECT_TRUE(route.empty()) << "delay " << n;
      continue;
    }
    const auto& node = graph.node(n);
    EXPECT_EQ(route, router.route(gpus[static_cast<std::size_t>(node.src)],
                                  gpus[static_cast<std::size_t>(node.dst)]))
        << "node " << n;
  }
}

TEST(RouteBook, HoldsTheRoutersRouteForEveryNodeAndOneBookPerGraphAndGpus) {
  const auto cluster = rail_cluster(4);
  for (const bool pxn : {false, true}) {
    const topo::Router router(cluster, {.ecmp = topo::Ecmp::kPerPair, .pxn = pxn});
    RouteBook book(router, std::size_t{1} << 20);
    const auto graph = hierarchical_graph(16);
    std::size_t delays = 0;
    for (TransferGraph::Id n = 0; n < graph.size(); ++n) delays += graph.is_delay(n);
    ASSERT_GT(delays, 0u);
    const std::vector<int> a = {31, 0, 9, 22, 4, 17, 28, 13, 2, 25, 10, 19, 7, 30, 14, 21};
    std::vector<int> b(a.rbegin(), a.rend());
    const auto first = book.book(0, graph, a);
    const auto second = book.book(0, graph, b);
    ASSERT_NE(first, RouteBook::kNoBook);
    ASSERT_NE(second, RouteBook::kNoBook);
    EXPECT_NE(first, second);
    EXPECT_EQ(book.book(0, graph, a), first);       // asked again: the same book, nothing added
    EXPECT_EQ(book.book(1, graph, a), second + 1);  // another graph index: a book of its own
    expect_router_routes(book, first, graph, a, router);
    expect_router_routes(book, second, graph, b, router);
  }
}

TEST(RouteBook, NoBookUnderEcmpOrBeyondItsBound) {
  const auto cluster = rail_cluster(4);
  const auto graph = hierarchical_graph(16);
  std::vector<int> gpus(16);
  for (int i = 0; i < 16; ++i) gpus[static_cast<std::size_t>(i)] = 2 * i;

  const topo::Router ecmp(cluster, {.ecmp = topo::Ecmp::kPerFlow, .pxn = false});
  RouteBook spread(ecmp, std::size_t{1} << 20);
  EXPECT_EQ(spread.book(0, graph, gpus), RouteBook::kNoBook);  // a route depends on the flow

  const topo::Router router(cluster, {});
  RouteBook bounded(router, 1);
  ASSERT_NE(bounded.book(0, graph, gpus), RouteBook::kNoBook);  // under the bound when asked
  EXPECT_GT(bounded.links(), 1u);
  EXPECT_EQ(bounded.book(1, graph, gpus), RouteBook::kNoBook);  // the bound is reached
  EXPECT_EQ(bounded.book(0, graph, gpus), 0u);                  // made books still serve
}

}  // namespace
}  // namespace moesim::net
