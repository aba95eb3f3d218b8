// Cluster files that cannot be simulated are clear errors naming what is wrong (issue 3: a
// disconnected graph, a link without bandwidth; and GPUs out of rank order), while a valid
// explicit cluster builds. A GPU reachable only through another GPU: test_routing.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/document.hpp"
#include "config/error.hpp"
#include "topologies/build.hpp"

namespace moesim::topo {
namespace {

using ::testing::HasSubstr;

// The error building the cluster `yaml` throws, or "built".
std::string error_of(const std::string& yaml) {
  try {
    load_cluster(config::Document::from_string(yaml, "cluster.yaml"));
  } catch (const std::exception& e) {  // ConfigError (the file) or TopologyError (the graph)
    return e.what();
  }
  return "built";
}

const std::string kLink = "link: {bandwidth: 100 GB/s, latency: 1 us}";

TEST(Cluster, AValidExplicitClusterBuilds) {
  EXPECT_EQ(error_of("name: pair\n"
                     "devices:\n"
                     "  - {name: g0, kind: gpu, node: 0, local: 0}\n"
                     "  - {name: g1, kind: gpu, node: 0, local: 1}\n"
                     "links:\n"
                     "  - {from: g0, to: g1, kind: nvlink, " +
                     kLink + "}\n"),
            "built");
}

TEST(Cluster, ADisconnectedGraphNamesTheGpuNoPathReaches) {
  EXPECT_EQ(error_of("name: apart\n"
                     "devices:\n"
                     "  - {name: g0, kind: gpu, node: 0, local: 0}\n"
                     "  - {name: g1, kind: gpu, node: 0, local: 1}\n"
                     "links: []\n"),
            "cluster 'apart': GPU g1 cannot be reached from GPU g0: the graph is disconnected");
}

TEST(Cluster, ALinkWithoutBandwidthIsNamedWithItsPlaceInTheFile) {
  EXPECT_THAT(error_of("name: slow\n"
                       "devices:\n"
                       "  - {name: g0, kind: gpu, node: 0, local: 0}\n"
                       "  - {name: g1, kind: gpu, node: 0, local: 1}\n"
                       "links:\n"
                       "  - {from: g0, to: g1, kind: nvlink, link: {bandwidth: 0 GB/s, latency: "
                       "1 us}}\n"),
              HasSubstr("cluster.yaml:6:56: links[0].link.bandwidth: \"0 GB/s\" must be positive"));
}

TEST(Cluster, GpusOutOfRankOrderAreNamed) {
  const std::string head = "name: order\ndevices:\n";
  const std::string tail = "links:\n  - {from: a, to: b, kind: nvlink, " + kLink + "}\n";
  // The same place twice.
  EXPECT_EQ(error_of(head + "  - {name: a, kind: gpu, node: 0, local: 0}\n" +
                     "  - {name: b, kind: gpu, node: 0, local: 0}\n" + tail),
            "cluster 'order': GPU b is node 0 local 0 where rank order expects node 0 local 1 "
            "or node 1 local 0: list the GPUs node by node from node 0, each node's from local "
            "0, without gaps or repeats");
  // A node skipped, and a node listed before the one ahead of it.
  EXPECT_THAT(error_of(head + "  - {name: a, kind: gpu, node: 0, local: 0}\n" +
                       "  - {name: b, kind: gpu, node: 2, local: 0}\n" + tail),
              HasSubstr("GPU b is node 2 local 0 where rank order expects node 0 local 1"));
  EXPECT_THAT(error_of(head + "  - {name: a, kind: gpu, node: 1, local: 0}\n" +
                       "  - {name: b, kind: gpu, node: 0, local: 0}\n" + tail),
              HasSubstr("GPU a is node 1 local 0 where rank order expects node 0 local 0:"));
  // Two nodes of different sizes, in order: fine.
  EXPECT_EQ(error_of(head + "  - {name: a, kind: gpu, node: 0, local: 0}\n" +
                     "  - {name: c, kind: gpu, node: 0, local: 1}\n" +
                     "  - {name: b, kind: gpu, node: 1, local: 0}\n" + tail +
                     "  - {from: c, to: b, kind: nvlink, " + kLink + "}\n"),
            "built");
}

TEST(Cluster, ALinkFromADeviceToItselfIsNamed) {
  EXPECT_THAT(error_of("name: loop\n"
                       "devices:\n"
                       "  - {name: g0, kind: gpu, node: 0, local: 0}\n"
                       "links:\n"
                       "  - {from: g0, to: g0, kind: nvlink, " +
                       kLink + "}\n"),
              HasSubstr("links[0].to: 'g0' again: a link joins two different devices"));
}

TEST(Cluster, ALinkToAnUnknownDeviceOrAGpuWithoutPlaceIsNamed) {
  EXPECT_THAT(error_of("name: typo\n"
                       "devices:\n"
                       "  - {name: g0, kind: gpu, node: 0, local: 0}\n"
                       "links:\n"
                       "  - {from: g0, to: g9, kind: nvlink, " +
                       kLink + "}\n"),
              HasSubstr("links[0].to: no device named 'g9'"));
  EXPECT_THAT(error_of("name: nowhere\n"
                       "devices:\n"
                       "  - {name: g0, kind: gpu}\n"
                       "links: []\n"),
              HasSubstr("devices[0]: a GPU needs node and local"));
}

// Settings that change nothing in the graph built are pointed out (topo show prints the notes),
// and a setting that does change it is not.
std::vector<std::string> notes_of(const std::string& network, int nodes) {
  const std::string yaml = "name: n\nnodes: " + std::to_string(nodes) +
                           "\nnode:\n  gpus: 1\n  fabric: pcie\n  pcie: {bandwidth: 100 GB/s}\n"
                           "  pcie_switches: 1\n  pcie_uplink: {bandwidth: 100 GB/s}\n"
                           "  nics: per_gpu\nnetwork: {nic: {bandwidth: 50 GB/s}, " +
                           network + "}\n";
  return load_cluster(config::Document::from_string(yaml, "n.yaml")).notes();
}

TEST(Cluster, LeafAndSpineSettingsThatChangeNothingAreNoted) {
  using ::testing::ElementsAre;
  EXPECT_THAT(notes_of("kind: fat_tree, leaf_ports: 8, oversubscription: 2", 4),
              ElementsAre("network.oversubscription 2 has no effect: all 4 NICs fit on one leaf "
                          "(leaf_ports 8), so there are no spines"));
  EXPECT_THAT(notes_of("kind: fat_tree, leaf_ports: 2, oversubscription: 2", 4),
              ::testing::IsEmpty());
  EXPECT_THAT(notes_of("kind: fat_tree, leaf_ports: 8", 4), ::testing::IsEmpty());
  EXPECT_THAT(notes_of("kind: single_switch, leaf_ports: 2, oversubscription: 3", 4),
              ElementsAre("network: leaf_ports 2, oversubscription 3 have no effect on a "
                          "single_switch network (fat_tree and rail_optimized have leaves and "
                          "spines)"));
  EXPECT_THAT(notes_of("kind: single_switch, spine_link: {bandwidth: 10 GB/s}", 4),
              ElementsAre(HasSubstr("network: spine_link has no effect")));
  EXPECT_THAT(notes_of("kind: single_switch", 4), ::testing::IsEmpty());
}

}  // namespace
}  // namespace moesim::topo
