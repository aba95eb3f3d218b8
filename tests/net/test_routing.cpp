// Routes from the shortest-path trees against an independent reference: every route is a
// cheapest path between its GPUs that relays through no other GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "config/enum_name.hpp"
#include "rail_cluster.hpp"
#include "topologies/build.hpp"
#include "topologies/routing.hpp"

namespace moesim::topo {
namespace {

constexpr std::int64_t kInfinite = std::numeric_limits<std::int64_t>::max();

std::int64_t link_cost(const Link& l) {  // femtoseconds per byte, as the router counts
  return std::llround(1e15 / l.capacity());
}

// Which paths a reference may take: any; inside the node (no network switch); or through the
// network as NCCL's NET transport goes (no host, no NVLink).
enum class Within { kAny, kInside, kOutside };

// Bellman-Ford from one GPU, relaying through non-GPU devices only.
std::vector<std::int64_t> cheapest_from(const Cluster& c, DeviceId start,
                                        Within within = Within::kAny) {
  std::vector<std::int64_t> cost(c.device_count(), kInfinite);
  cost[start] = 0;
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& l : c.links()) {
      if (cost[l.from] == kInfinite) continue;
      if (l.from != start && c.device(l.from).kind == DeviceKind::kGpu) continue;
      const auto to = c.device(l.to).kind;
      if (within == Within::kInside && to == DeviceKind::kSwitch) continue;
      if (within == Within::kOutside && (to == DeviceKind::kHost || l.kind == LinkKind::kNvlink)) {
        continue;
      }
      if (cost[l.from] + link_cost(l) < cost[l.to]) {
        cost[l.to] = cost[l.from] + link_cost(l);
        changed = true;
      }
    }
  }
  return cost;
}

void expect_cheapest_routes(const Cluster& c, RoutingOptions options, std::uint64_t flow) {
  const Router router(c, options);
  const auto& gpus = c.gpus();
  for (std::size_t s = 0; s < gpus.size(); ++s) {
    const auto any = cheapest_from(c, gpus[s]);
    const auto inside = cheapest_from(c, gpus[s], Within::kInside);
    const auto outside = cheapest_from(c, gpus[s], Within::kOutside);
    for (std::size_t d = 0; d < gpus.size(); ++d) {
      if (s == d) continue;
      const auto route = router.route(static_cast<int>(s), static_cast<int>(d), flow + d);
      ASSERT_FALSE(route.empty());
      DeviceId at = gpus[s];
      std::int64_t total = 0;
      for (std::size_t h = 0; h < route.size(); ++h) {
        const auto& l = c.link(route[h]);
        ASSERT_EQ(l.from, at) << c.name() << ": route " << s << " -> " << d << " breaks at hop "
                              << h;
        if (h > 0) {
          ASSERT_NE(c.device(at).kind, DeviceKind::kGpu) << "relays through a GPU";
        }
        total += link_cost(l);
        at = l.to;
      }
      EXPECT_EQ(at, gpus[d]);
      // Within a node the transport is NCCL's choice (tested below); the route is the cheapest
      // of that kind.
      const bool same_node = c.gpu_node(static_cast<int>(s)) == c.gpu_node(static_cast<int>(d));
      const bool leaves = std::any_of(route.begin(), route.end(), [&](LinkId id) {
        return c.link(id).kind == LinkKind::kNetwork;
      });
      const auto& cost = !same_node ? any : leaves ? outside : inside;
      EXPECT_EQ(total, cost[gpus[d]]) << c.name() << ": route " << s << " -> " << d;
    }
  }
}

TEST(Routing, EveryRouteIsACheapestPathThatRelaysThroughNoOtherGpu) {
  for (const std::string preset : {"nodes/dgx1_v100.yaml", "nodes/pcie_a40.yaml",
                                   "bigmac_4x8_a40_ib100.yaml", "dgx_h100_rail_ib400.yaml"}) {
    auto doc = config::Document::load_file(MOESIM_SOURCE_DIR "/topologies/presets/" + preset);
    if (preset == "dgx_h100_rail_ib400.yaml") doc.apply_override("nodes=2");
    SCOPED_TRACE(preset);
    const auto c = load_cluster(doc);
    for (const auto ecmp : {Ecmp::kPerPair, Ecmp::kPerFlow, Ecmp::kOff}) {
      SCOPED_TRACE(std::string(config::enum_name(ecmp)));
      for (const std::uint64_t flow : {0, 7}) {
        expect_cheapest_routes(c, {.ecmp = ecmp, .pxn = false}, flow);
      }
    }
  }
}

// The DGX H100 rail-optimized preset with `nodes` nodes of 8 GPUs.
using test::rail_cluster;

// Routes of every ordered pair of GPUs that cross a link into a spine, by link.
std::map<LinkId, int> spine_uplink_loads(const Cluster& c, const Router& router) {
  std::map<LinkId, int> loads;
  for (const auto& l : c.links()) {
    if (c.device(l.to).name.starts_with("spine")) loads[l.id] = 0;
  }
  const int n = static_cast<int>(c.gpus().size());
  for (int s = 0; s < n; ++s) {
    for (int d = 0; d < n; ++d) {
      for (const auto id : router.route(s, d)) {
        if (const auto it = loads.find(id); it != loads.end()) ++it->second;
      }
    }
  }
  return loads;
}

// Eight rails of 8 nodes: one leaf per rail, 8 spines, each leaf with a link to each. A route
// between rails (without PXN) goes up to one spine, where every spine is an equal-cost choice.
// The first path found takes the same spine for all of them; ECMP per pair spreads them.
TEST(Routing, EcmpPerPairSpreadsTheRoutesBetweenRailsOverEverySpine) {
  const auto c = rail_cluster(8);
  const auto off = spine_uplink_loads(c, Router(c, {.ecmp = Ecmp::kOff, .pxn = false}));
  const auto spread = spine_uplink_loads(c, Router(c, {.ecmp = Ecmp::kPerPair, .pxn = false}));
  ASSERT_EQ(off.size(), 64u);
  // A GPU reaches 49 GPUs on other rails and other nodes through the network (the other 7 of
  // its node over NVLink): 8 x 49 = 392 routes leave each leaf for a spine.
  const auto used = [](const std::map<LinkId, int>& loads) {
    return std::count_if(loads.begin(), loads.end(), [](const auto& e) { return e.second > 0; });
  };
  const auto busiest = [](const std::map<LinkId, int>& loads) {
    return std::max_element(loads.begin(), loads.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; })
        ->second;
  };
  EXPECT_EQ(used(off), 8);  // one spine link per leaf
  EXPECT_EQ(busiest(off), 392);
  EXPECT_EQ(used(spread), 64);
  const int mean = 392 / 8;
  std::printf("  busiest leaf-to-spine link: %d routes with ECMP off, %d per pair (mean %d)\n",
              busiest(off), busiest(spread), mean);
  EXPECT_LE(busiest(spread), mean * 3 / 2);  // a hash's collisions, not a funnel
}

TEST(Routing, EcmpPerPairIgnoresTheFlowAndPerFlowDoesNot) {
  const auto c = rail_cluster(8);
  const Router pair(c, {.ecmp = Ecmp::kPerPair, .pxn = false});
  const Router flow(c, {.ecmp = Ecmp::kPerFlow, .pxn = false});
  int differs = 0;
  for (std::uint64_t f = 1; f < 16; ++f) {
    EXPECT_EQ(pair.route(0, 63, f), pair.route(0, 63, 0));
    differs += flow.route(0, 63, f) != flow.route(0, 63, 0);
  }
  EXPECT_GT(differs, 0);
}

// PXN (the default): on the rail-optimized DGX H100 fabric, traffic to a GPU of another node on
// another rail crosses NVLink (through the NVSwitches) to the source node's GPU on that rail and
// leaves through its NIC: it never reaches a spine. Traffic on one rail, or within a node, takes
// the direct route. Without PXN, traffic between rails crosses a spine.
TEST(Routing, PxnRelaysOverNvlinkToTheDestinationsRailAndKeepsOffTheSpines) {
  const auto c = rail_cluster(2);
  const Router pxn(c, {}), direct(c, {.pxn = false});
  const int n = static_cast<int>(c.gpus().size());
  const auto crosses_spine = [&c](const std::vector<LinkId>& route) {
    return std::any_of(route.begin(), route.end(), [&c](LinkId id) {
      return c.device(c.link(id).to).name.starts_with("spine");
    });
  };
  int relayed = 0;
  for (int s = 0; s < n; ++s) {
    for (int d = 0; d < n; ++d) {
      if (s == d) continue;
      SCOPED_TRACE(std::to_string(s) + " -> " + std::to_string(d));
      const auto route = pxn.route(s, d);
      const bool across = c.gpu_node(s) != c.gpu_node(d) && c.gpu_local(s) != c.gpu_local(d);
      EXPECT_EQ(crosses_spine(direct.route(s, d)), across);
      if (!across) {
        EXPECT_EQ(route, direct.route(s, d));
        continue;
      }
      ++relayed;
      EXPECT_FALSE(crosses_spine(route));
      // NVLink to the relay, the GPU of the source's node on the destination's rail; from
      // there, that GPU's route to the destination.
      const int relay = c.gpu_node(s) * c.gpus_per_node() + c.gpu_local(d);
      std::size_t h = 0;
      while (h < route.size() && c.link(route[h]).to != c.gpus()[relay]) {
        EXPECT_EQ(c.link(route[h]).kind, LinkKind::kNvlink) << "hop " << h;
        ++h;
      }
      ASSERT_LT(h, route.size()) << "the route does not pass the relay, GPU " << relay;
      const std::vector<LinkId> rest(route.begin() + static_cast<std::ptrdiff_t>(h) + 1,
                                     route.end());
      EXPECT_EQ(rest, direct.route(relay, d));
    }
  }
  EXPECT_EQ(relayed, 2 * 8 * 7);  // each GPU to the 7 GPUs of the other node on other rails
}

// NCCL relays only through a GPU joined to the source by NVLink that has a NIC of its own.
// Where no GPU qualifies (PCIe nodes, NICs shared by a node), PXN changes no route.
TEST(Routing, PxnChangesNoRouteWhereNoGpuJoinedByNvlinkHasItsOwnNic) {
  struct Case {
    std::string preset;
    std::vector<std::string> overrides;
  };
  for (const Case& k : std::vector<Case>{
           {"bigmac_4x8_a40_ib100.yaml", {}},                     // PCIe, two NICs a node
           {"bigmac_4x8_a40_ib100.yaml", {"node.nics=per_gpu"}},  // PCIe, a NIC per GPU
           {"lsh_2x8_v100_rdma100.yaml", {}},                     // NVLink, one NIC a node
           {"lsh_4x8_a100_2x100.yaml", {}},                       // NVSwitch, two NICs a node
       }) {
    auto doc = config::Document::load_file(MOESIM_SOURCE_DIR "/topologies/presets/" + k.preset);
    for (const auto& o : k.overrides) doc.apply_override(o);
    SCOPED_TRACE(k.preset + (k.overrides.empty() ? "" : " " + k.overrides.front()));
    const auto c = load_cluster(doc);
    ASSERT_GT(c.nodes(), 1);
    const Router pxn(c, {}), direct(c, {.pxn = false});
    const int n = static_cast<int>(c.gpus().size());
    for (int s = 0; s < n; ++s) {
      for (int d = 0; d < n; ++d) {
        ASSERT_EQ(pxn.route(s, d), direct.route(s, d)) << s << " -> " << d;
      }
    }
  }
}

// Routes that read a tree are kept in a table of fixed size (at 32 GPUs an entry per pair):
// whatever the order of requests, a route is the one a fresh router finds for that pair alone.
TEST(Routing, RememberedRoutesAreTheRoutesAFreshRouterFinds) {
  const auto c = rail_cluster(4);
  const int n = static_cast<int>(c.gpus().size());
  for (const bool pxn : {false, true}) {
    SCOPED_TRACE(pxn ? "pxn" : "direct");
    const Router shared(c, {.ecmp = Ecmp::kPerPair, .pxn = pxn});
    std::size_t multi_hop = 0;
    for (int pass = 0; pass < 3; ++pass) {  // forwards, backwards, forwards again
      for (int i = 0; i < n * n; ++i) {
        const int pair = pass == 1 ? n * n - 1 - i : i;
        const int s = pair / n, d = pair % n;
        const auto route = shared.route(s, d);
        const Router fresh(c, {.ecmp = Ecmp::kPerPair, .pxn = pxn});
        ASSERT_EQ(route, fresh.route(s, d)) << "pass " << pass << ": " << s << " -> " << d;
        multi_hop += route.size() > 2;
      }
    }
    EXPECT_GT(multi_hop, 0u);  // the table is in use: inter-node routes read the trees
  }
}

// Past 512 GPUs the pairs outnumber the table's entries, which are then found by a hash and
// evicted by a colliding pair: 51,200 pairs (every destination, from a different GPU of each
// node) share 262,144 entries, requested three times in different orders, each checked against
// the route of a router that was asked for that pair once (so its table never answered).
TEST(Routing, RememberedRoutesSurviveCollisionsInALargeCluster) {
  const auto c = rail_cluster(80);
  const int n = static_cast<int>(c.gpus().size());
  const int per_node = c.gpus_per_node();
  std::vector<std::pair<int, int>> pairs;
  std::vector<std::vector<LinkId>> expected;
  for (int s = 0; s < n; s += per_node) {
    const Router fresh(c, {});
    for (int d = 0; d < n; ++d) {
      pairs.emplace_back(s + (d % per_node), d);  // a different local GPU per destination
      expected.push_back(fresh.route(pairs.back().first, d));
    }
  }
  const Router shared(c, {});
  std::mt19937 rng(11);
  std::vector<std::size_t> order(pairs.size());
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    if (pass > 0) std::shuffle(order.begin(), order.end(), rng);
    for (const auto i : order) {
      ASSERT_EQ(shared.route(pairs[i].first, pairs[i].second), expected[i])
          << "pass " << pass << ": " << pairs[i].first << " -> " << pairs[i].second;
    }
  }
}

TEST(Routing, AGpuReachableOnlyThroughAnotherGpuIsAClearError) {
  Cluster c("chain");  // a -- b -- c over NVLink: a reaches c only if b relays
  std::vector<DeviceId> g;
  for (int i = 0; i < 3; ++i) {
    g.push_back(c.add_device({DeviceKind::kGpu, "gpu" + std::to_string(i), i, 0}));
  }
  c.add_duplex(g[0], g[1], LinkKind::kNvlink, 50e9, 1.0, core::Time::ns(100));
  c.add_duplex(g[1], g[2], LinkKind::kNvlink, 50e9, 1.0, core::Time::ns(100));
  const Router router(c, {});
  EXPECT_EQ(router.route(0, 1).size(), 1u);
  try {
    router.route(0, 2);
    FAIL() << "expected a TopologyError";
  } catch (const TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("no route from GPU 0 to GPU 2"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace moesim::topo

namespace moesim::topo {
namespace {

bool uses(const Cluster& c, const std::vector<LinkId>& route, LinkKind kind) {
  return std::any_of(route.begin(), route.end(),
                     [&](LinkId id) { return c.link(id).kind == kind; });
}

// Two GPUs of one node meet through the network only where NCCL would send them there: both reach
// a NIC through PCIe switches alone faster than they reach each other (ncclTopoCheckNet).
TEST(Routing, GpusOfOneNodeLeaveItOnlyWhereNcclWould) {
  struct Case {
    std::vector<std::string> overrides;
    int src, dst;
    bool leaves;
    std::string why;
  };
  for (const Case& k : std::vector<Case>{
           {{},
            0,
            4,
            true,
            "across the sockets (10 GB/s) both have a 12 GB/s NIC under their switch"},
           {{"node.host_link.bandwidth=40 GB/s"},
            0,
            4,
            false,
            "the sockets' link (40) and PCIe (24) are faster than the NIC (12)"},
           {{"node.pcie_switches=4"},
            0,
            2,
            false,
            "one socket, two switches: PCIe through the host bridge (24) beats the NIC (12)"},
           {{"node.host_link.bandwidth=40 GB/s", "network.nic.bandwidth=400 Gb/s"},
            0,
            4,
            false,
            "a faster NIC still sits behind the GPU's 24 GB/s PCIe link: not faster"},
           {{"node.nics_per_node=1"}, 0, 4, false, "GPU 4 has no NIC under its switch"},
       }) {
    auto doc = config::Document::load_file(MOESIM_SOURCE_DIR
                                           "/topologies/presets/bigmac_4x8_a40_ib100.yaml");
    doc.apply_override("nodes=2");
    for (const auto& o : k.overrides) doc.apply_override(o);
    SCOPED_TRACE(k.why);
    const auto c = load_cluster(doc);
    const Router router(c, {});
    const auto route = router.route(k.src, k.dst);
    EXPECT_EQ(uses(c, route, LinkKind::kNetwork), k.leaves);
    EXPECT_EQ(router.route(k.dst, k.src).empty(), false);
    // Between nodes every route crosses the network.
    EXPECT_TRUE(uses(c, router.route(k.src, 8 + k.dst), LinkKind::kNetwork));
  }
}

}  // namespace
}  // namespace moesim::topo
