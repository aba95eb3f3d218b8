// Collectives on the flow model against closed forms; each prints expected next to simulated.
#include <gtest/gtest.h>

#include <cstdio>
#include <numeric>
#include <stdexcept>

#include "net/collectives.hpp"
#include "net/flow_model.hpp"
#include "net/run_transfers.hpp"
#include "topologies/build.hpp"
#include "topologies/routing.hpp"

namespace moesim::net {
namespace {

using topo::Cluster;
using topo::DeviceKind;
using topo::LinkKind;

constexpr double kGB = 1e9;
constexpr double kMiB = 1024.0 * 1024.0;

std::vector<int> identity(int n) {
  std::vector<int> r(static_cast<std::size_t>(n));
  std::iota(r.begin(), r.end(), 0);
  return r;
}

double run_seconds(const Cluster& c, const TransferGraph& g, int n, topo::RoutingOptions ro = {}) {
  topo::Router router(c, ro);
  FlowModel model(c, {});
  const auto ranks = identity(n);
  return run_transfers(g, ranks, router, model).end.seconds();
}

void report(const char* what, double expected, double simulated) {
  std::printf("  %-58s expected %10.3f us  simulated %10.3f us  (%+.2f%%)\n", what, expected * 1e6,
              simulated * 1e6, 100 * (simulated - expected) / expected);
}

// GPUs on one non-blocking switch, `bandwidth` per port and direction, no latency.
Cluster star(int gpus, double bandwidth) {
  Cluster c("star");
  const auto sw = c.add_device({DeviceKind::kSwitch, "sw", -1, 0});
  for (int g = 0; g < gpus; ++g) {
    const auto d = c.add_device({DeviceKind::kGpu, "g" + std::to_string(g), g, 0});
    c.add_duplex(d, sw, LinkKind::kNetwork, bandwidth, 1.0, core::Time::zero());
  }
  return c;
}

// A group of one rank (EP = 1, DP = 1) has nothing to send: every collective is empty and
// takes no time, as a one-rank NCCL communicator's do.
TEST(Collectives, OneParticipantExchangesNothing) {
  EXPECT_EQ(all_to_all(1, [](int, int) { return kMiB; }, {}).size(), 0u);
  for (const auto a : {AllReduceAlgorithm::kRing, AllReduceAlgorithm::kTree}) {
    EXPECT_EQ(all_reduce(1, kMiB, a).size(), 0u);
  }
  EXPECT_EQ(all_gather(1, kMiB).size(), 0u);
  EXPECT_EQ(reduce_scatter(1, kMiB).size(), 0u);
  EXPECT_EQ(run_seconds(star(1, 50 * kGB), all_to_all(1, [](int, int) { return kMiB; }, {}), 1),
            0.0);
  EXPECT_THROW(all_to_all(0, [](int, int) { return kMiB; }, {}), std::invalid_argument);
}

TEST(Collectives, AllToAllOnANonBlockingSwitchRunsAtPortSpeed) {
  // Each rank sends (n-1) x s through its port: t = (n-1) s / B, busbw = B.
  const int n = 16;
  const double s = 4 * kMiB, bandwidth = 50 * kGB;
  const auto c = star(n, bandwidth);
  for (const auto algorithm : {AllToAllAlgorithm::kDirect, AllToAllAlgorithm::kPairwise}) {
    AllToAllOptions o;
    o.algorithm = algorithm;
    const double t = run_seconds(c,
                                 all_to_all(
                                     n, [&](int, int) { return s; }, o),
                                 n);
    const double expected = (n - 1) * s / bandwidth;
    report(("all-to-all " + std::string(name(algorithm)) + ", 16 GPUs, one switch").c_str(),
           expected, t);
    EXPECT_NEAR(t, expected, expected * 0.01);
    const double busbw = n * s / t * busbw_factor(CollectiveKind::kAllToAll, n);
    EXPECT_NEAR(busbw, bandwidth, bandwidth * 0.01);
  }
}

TEST(Collectives, RingAllReduceMovesTwoNMinusOneOverNOfTheData) {
  const int n = 8;
  const double bytes = 256 * kMiB, bandwidth = 100 * kGB;
  const auto c = star(n, bandwidth);
  const double t = run_seconds(c, all_reduce(n, bytes, AllReduceAlgorithm::kRing), n);
  const double expected = 2.0 * (n - 1) / n * bytes / bandwidth;
  report("ring all-reduce, 8 GPUs, 256 MiB: 2(n-1)/n S / B", expected, t);
  EXPECT_NEAR(t, expected, expected * 1e-6);
  EXPECT_NEAR(bytes / t * busbw_factor(CollectiveKind::kAllReduce, n), bandwidth, bandwidth * 1e-6);
  const double gather = run_seconds(c, all_gather(n, bytes), n);
  report("ring all-gather: (n-1)/n S / B", (n - 1.0) / n * bytes / bandwidth, gather);
  EXPECT_NEAR(gather, (n - 1.0) / n * bytes / bandwidth, 1e-9);
}

TEST(Collectives, OversubscribedFatTreeAllToAllIsBoundedByItsBisection) {
  // 4 leaves x 8 GPUs, 4:1 oversubscribed. Each leaf sends 3/4 of its traffic up through
  // 8 x 50 / 4 = 100 GB/s: t >= 8 GPUs x 24 peers x s / 100 GB/s.
  const auto doc = config::Document::from_string(R"(
name: fat-tree
nodes: 32
node:
  gpus: 1
  fabric: pcie
  pcie: {bandwidth: 1000 GB/s}
  pcie_switches: 1
  pcie_uplink: {bandwidth: 1000 GB/s}
  nics: per_gpu
network:
  kind: fat_tree
  nic: {bandwidth: 50 GB/s}
  leaf_ports: 8
  oversubscription: 4
)",
                                                 "fat-tree.yaml");
  const auto c = topo::load_cluster(doc);
  const int n = 32;
  const double s = 1 * kMiB;
  const double bound = 8.0 * 24 * s / (8 * 50 * kGB / 4);
  for (const auto ecmp : {topo::Ecmp::kPerPair, topo::Ecmp::kPerFlow}) {
    const double t =
        run_seconds(c, all_to_all(n, [&](int, int) { return s; }, {}), n, {.ecmp = ecmp});
    report(ecmp == topo::Ecmp::kPerPair ? "all-to-all, 32 GPUs, fat tree 4:1, ECMP per pair"
                                        : "all-to-all, 32 GPUs, fat tree 4:1, ECMP per flow",
           bound, t);
    EXPECT_GE(t, bound * (1 - 1e-9));
    // Above the bound by the rotated order's lead-in: each rank's first 7 peers share its leaf,
    // so the uplinks start idle; ECMP hashing also loads the two spines unevenly.
    EXPECT_LE(t, bound * 1.25);
  }
}

TEST(Collectives, PcieNodeAllToAllIsBoundedByTheSharedUplinks) {
  // 8 x A30 preset: 2 switches x 4 GPUs, sockets joined at 10 GB/s. Across: 4 GPUs x 4 peers x s
  // each way through the socket link.
  const auto c = topo::load_cluster(MOESIM_SOURCE_DIR "/topologies/presets/nodes/pcie_a30.yaml");
  const int n = 8;
  const double s = 8 * kMiB;
  const double bound = 4.0 * 4 * s / (10 * kGB);
  const double t = run_seconds(c, all_to_all(n, [&](int, int) { return s; }, {}), n);
  report("all-to-all, 8 x A30 PCIe, socket link bound", bound, t);
  EXPECT_GE(t, bound);
  EXPECT_LE(t, bound * 1.10);
}

// 2 nodes x 4 GPUs on NVSwitch (1000 GB/s), each GPU with its own 25 GB/s NIC link to one
// switch; no latency.
constexpr double kNvlinkBandwidth = 1000 * kGB, kNicBandwidth = 25 * kGB;
Cluster two_nodes() {
  Cluster c("two-nodes");
  const auto net = c.add_device({DeviceKind::kSwitch, "net", -1, 0});
  for (int node = 0; node < 2; ++node) {
    const auto nvs = c.add_device({DeviceKind::kNvSwitch, "nvs" + std::to_string(node), node, 0});
    for (int g = 0; g < 4; ++g) {
      const auto gpu =
          c.add_device({DeviceKind::kGpu, "g" + std::to_string(node * 4 + g), node, g});
      c.add_duplex(gpu, nvs, LinkKind::kNvlink, kNvlinkBandwidth, 1.0, core::Time::zero());
      c.add_duplex(gpu, net, LinkKind::kNetwork, kNicBandwidth, 1.0, core::Time::zero());
    }
  }
  return c;
}

double total_bytes(const TransferGraph& g) {
  double sum = 0;
  for (TransferGraph::Id i = 0; i < g.size(); ++i) sum += g.node(i).bytes;
  return sum;
}

TEST(Collectives, MultiNodeAllToAllIsBoundedByOneNicPerGpu) {
  // Each GPU sends 4 x s to the other node through its NIC: t = 4 s / 25 GB/s.
  const auto c = two_nodes();
  const double s = 16 * kMiB;
  const double expected = 4 * s / (25 * kGB);
  const double t = run_seconds(c, all_to_all(8, [&](int, int) { return s; }, {}), 8);
  report("all-to-all, 2 x 4 GPUs, one NIC per GPU", expected, t);
  EXPECT_NEAR(t, expected, expected * 0.02);
  // Hierarchical: same network bytes, so the same bound, plus the intra-node step.
  AllToAllOptions h;
  h.algorithm = AllToAllAlgorithm::kHierarchical;
  h.gpus_per_node = 4;
  const double t2 = run_seconds(c,
                                all_to_all(
                                    8, [&](int, int) { return s; }, h),
                                8);
  report("hierarchical all-to-all, same cluster", expected, t2);
  EXPECT_GE(t2, expected);
  EXPECT_LE(t2, expected * 1.2);
}

// A flat ring over two nodes crosses the network on one GPU's NIC per node; the 2-D forms
// reduce inside each node first and then use every GPU's NIC, for the same bytes in all.
TEST(Collectives, TwoDimensionalReduceScatterAndAllGatherUseEveryNic) {
  const auto c = two_nodes();
  const int n = 8, per_node = 4;
  const double s = 64 * kMiB;
  // Flat: 7 steps of S/8, each held up by the step that crosses a NIC.
  const double flat = (n - 1) * (s / n) / kNicBandwidth;
  // 2-D: 3 steps of S/4 over NVLink, then one step of S/8 through each GPU's NIC.
  const double two_d = (per_node - 1) * (s / per_node) / kNvlinkBandwidth + s / n / kNicBandwidth;
  for (const bool gather : {false, true}) {
    const auto ring = gather ? all_gather(n, s) : reduce_scatter(n, s);
    const auto layered = gather ? all_gather(n, s, per_node) : reduce_scatter(n, s, per_node);
    const char* what = gather ? "all-gather" : "reduce-scatter";
    const double t_ring = run_seconds(c, ring, n), t_layered = run_seconds(c, layered, n);
    report((std::string("flat ring ") + what + ", 2 x 4 GPUs, 64 MiB").c_str(), flat, t_ring);
    report((std::string("2-D ") + what + ", same").c_str(), two_d, t_layered);
    EXPECT_NEAR(t_ring, flat, flat * 1e-6) << what;
    EXPECT_NEAR(t_layered, two_d, two_d * 1e-6) << what;
    EXPECT_NEAR(total_bytes(layered), total_bytes(ring), total_bytes(ring) * 1e-12) << what;
  }
  // One GPU per node, or one node: the flat ring.
  EXPECT_EQ(reduce_scatter(n, s, 1).size(), reduce_scatter(n, s).size());
  EXPECT_EQ(all_gather(n, s, n).size(), all_gather(n, s).size());
  EXPECT_THROW(reduce_scatter(n, s, 3), std::invalid_argument);
}

TEST(Collectives, TreeAllReduceTakesTwiceTheDepth) {
  const int n = 7;  // a full binary tree of depth 2
  const double bytes = 64 * kMiB, bandwidth = 100 * kGB;
  const auto c = star(n, bandwidth);
  const double t = run_seconds(c, all_reduce(n, bytes, AllReduceAlgorithm::kTree), n);
  // Up: two levels, each parent's port receiving two children at once (2 S / B per level);
  // down: the same: 4 levels x 2 S / B.
  const double expected = 4 * 2 * bytes / bandwidth;
  report("tree all-reduce, 7 GPUs, unpipelined", expected, t);
  EXPECT_NEAR(t, expected, expected * 1e-6);
}

}  // namespace
}  // namespace moesim::net
