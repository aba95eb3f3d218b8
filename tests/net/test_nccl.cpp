// NCCL's algorithms and protocols: its tuner's numbers against hand computations from its
// constants, what it enables where, and the graphs that play the choice on the flow model.
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <string>

#include "config/enum_name.hpp"
#include "net/collectives.hpp"
#include "net/flow_model.hpp"
#include "net/nccl.hpp"
#include "net/nccl_collectives.hpp"
#include "net/run_transfers.hpp"
#include "topologies/build.hpp"
#include "topologies/routing.hpp"

namespace moesim::net {
namespace {

topo::Cluster preset(const std::string& name, const std::vector<std::string>& overrides = {}) {
  auto doc = config::Document::load_file(MOESIM_SOURCE_DIR "/topologies/presets/" + name + ".yaml");
  for (const auto& o : overrides) doc.apply_override(o);
  return topo::load_cluster(doc);
}

std::vector<int> all_gpus(const topo::Cluster& c) {
  std::vector<int> r(c.gpus().size());
  std::iota(r.begin(), r.end(), 0);
  return r;
}

NcclComm comm_of(const topo::Cluster& c) {
  return nccl_comm(c, all_gpus(c));
}

NcclEstimate estimate(CollectiveKind kind, double bytes, const NcclComm& comm, NcclAlgorithm a,
                      NcclProtocol p) {
  const auto e = nccl_choose(kind, bytes, comm, a, p);
  EXPECT_TRUE(e.has_value());
  return e.value_or(NcclEstimate{});
}

TEST(Nccl, ReadsTheCommunicatorFromTheCluster) {
  const auto a100 = comm_of(preset("nodes/dgx_a100"));
  EXPECT_EQ(a100.ranks, 8);
  EXPECT_EQ(a100.nodes, 1);
  EXPECT_EQ(a100.arch, topo::GpuArch::kAmpere);
  EXPECT_TRUE(a100.nvlink && a100.nvswitch);
  EXPECT_FALSE(a100.nvls);
  EXPECT_NEAR(a100.intra_gbps, 240, 1e-9);  // 300 GB/s x 0.8, NCCL's 12 x 20
  const auto h100 = comm_of(preset("dgx_h100_rail_ib400", {"nodes=2"}));
  EXPECT_EQ(h100.nodes, 2);
  EXPECT_TRUE(h100.nvls);
  EXPECT_EQ(h100.nics_per_node, 8);
  EXPECT_NEAR(h100.nic_gbps, 50, 1e-9);  // 400 Gb/s
  const auto pcie = comm_of(preset("nodes/pcie_a40"));
  EXPECT_FALSE(pcie.nvlink);
  EXPECT_NEAR(pcie.intra_gbps, 24, 1e-9);  // PCIe Gen4 x16 as NCCL models it
}

// NCCL's search on one node: the widest channels x speed from its ladder, then doubled.
TEST(Nccl, RingGraphsAreNcclsSearchResults) {
  const auto graph = [](const std::string& p) { return nccl_ring_graph(comm_of(preset(p))); };
  const auto h100 = graph("nodes/dgx_h100");  // 6 x 60 of 370.8, doubled
  EXPECT_EQ(h100.channels, 12);
  EXPECT_EQ(h100.bw_intra, 30);
  const auto a100 = graph("nodes/dgx_a100");  // 6 x 40 of 240, doubled
  EXPECT_EQ(a100.channels, 12);
  EXPECT_EQ(a100.bw_intra, 20);
  const auto h800 = graph("nodes/hgx_h800");  // 4 x 40 of 164.8 (160 beats 2 x 60), doubled
  EXPECT_EQ(h800.channels, 8);
  EXPECT_EQ(h800.bw_intra, 20);
  const auto pcie = graph("nodes/pcie_a40");  // 2 x 12 of 24, not doubled below 25
  EXPECT_EQ(pcie.channels, 2);
  EXPECT_EQ(pcie.bw_intra, 12);
  // Across DGX A100 nodes: a channel per 200 Gb/s NIC at 24 GB/s (NVIDIA's 192 GB/s busbw).
  const auto a100s = nccl_ring_graph(comm_of(preset("dgx_a100_rail_ib200", {"nodes=2"})));
  EXPECT_EQ(a100s.channels * a100s.bw_inter, 192);
}

// Ring LL128 on 8 A100s, by hand from tuning.cc: busBw = 12 x 20 = 240, x 0.92 = 220.8 (under
// 12 x 20, Ampere's per-channel cap); algorithm bandwidth x 8/14 = 126.17 GB/s; latency
// 14 + 14 steps x 1.9 us (NVLink) = 40.6 us.
TEST(Nccl, RingLl128AllReduceTimeIsItsFormula) {
  const auto comm = comm_of(preset("nodes/dgx_a100"));
  const double bytes = 8.0 * 1048576;
  const auto e =
      estimate(CollectiveKind::kAllReduce, bytes, comm, NcclAlgorithm::kRing, NcclProtocol::kLL128);
  EXPECT_NEAR(e.latency_us, 40.6, 1e-9);
  EXPECT_NEAR(e.bandwidth_gbps, 220.8 * 8 / 14, 1e-9);
  EXPECT_NEAR(e.time_us, 40.6 + bytes / (1000 * 220.8 * 8 / 14), 1e-9);
  // LL: min(llMaxBw 87.7, 240 x 0.5); latency 6.6 + 14 x 0.6.
  const auto ll =
      estimate(CollectiveKind::kAllReduce, bytes, comm, NcclAlgorithm::kRing, NcclProtocol::kLL);
  EXPECT_NEAR(ll.bandwidth_gbps, 87.7 * 8 / 14, 1e-9);
  EXPECT_NEAR(ll.latency_us, 6.6 + 14 * 0.6, 1e-9);
}

// NVLS on 8 H100s: 8 channels at 40 GB/s (370.8 / 8 = 46.4 on the SM90 ladder), x 0.85 x 7/8,
// x 2 (two operations pipelined): busBw 476, algorithm bandwidth 476 x 8/14 = 272 (measured:
// 480 and 273-275, github.com/NVIDIA/nccl-tests/issues/212).
TEST(Nccl, NvlsIsOfferedOnHopperNvswitchAndReachesItsBusBandwidth) {
  const auto h100 = comm_of(preset("nodes/dgx_h100"));
  const auto e =
      estimate(CollectiveKind::kAllReduce, 1e9, h100, NcclAlgorithm::kNvls, NcclProtocol::kSimple);
  EXPECT_NEAR(e.bandwidth_gbps, 8 * 40 * 0.85 * 7 / 8 * 2 * 8 / 14, 1e-9);
  EXPECT_NEAR(e.latency_us, 25, 1e-9);
  EXPECT_FALSE(nccl_choose(CollectiveKind::kAllReduce, 1e9, comm_of(preset("nodes/dgx_a100")),
                           NcclAlgorithm::kNvls));
  // The tuner: LL for a small message, NVLS for a large one on H100; a ring on A100.
  EXPECT_EQ(nccl_choose(CollectiveKind::kAllReduce, 8, h100)->protocol, NcclProtocol::kLL);
  EXPECT_EQ(nccl_choose(CollectiveKind::kAllReduce, 1e9, h100)->algorithm, NcclAlgorithm::kNvls);
  const auto a100 = nccl_choose(CollectiveKind::kAllReduce, 1e9, comm_of(preset("nodes/dgx_a100")));
  EXPECT_EQ(a100->algorithm, NcclAlgorithm::kRing);
  EXPECT_EQ(a100->protocol, NcclProtocol::kSimple);
}

TEST(Nccl, Ll128NeedsNvlinkAndTreesAndPatNeedTheirLayouts) {
  const auto pcie = comm_of(preset("nodes/pcie_a40"));
  for (const auto& e : nccl_estimates(CollectiveKind::kAllReduce, 1e6, pcie)) {
    EXPECT_NE(e.protocol, NcclProtocol::kLL128) << "LL128 runs only over NVLink";
  }
  const auto one = comm_of(preset("nodes/dgx_h100"));
  EXPECT_FALSE(nccl_choose(CollectiveKind::kAllReduce, 1e6, one, NcclAlgorithm::kNvlsTree));
  EXPECT_FALSE(nccl_choose(CollectiveKind::kAllGather, 1e6, one, NcclAlgorithm::kPat));
  EXPECT_TRUE(nccl_estimates(CollectiveKind::kAllToAll, 1e6, one).empty()) << "p2p: no model";
}

// Alone on the cluster, a played plan takes NCCL's modelled time: its bytes, scaled by the
// protocol's efficiency, at the links' capacity, after its latency.
TEST(Nccl, APlayedPlanTakesNcclsTimeAlone) {
  for (const std::string p : {"nodes/dgx_a100", "nodes/dgx_h100"}) {
    SCOPED_TRACE(p);
    auto c = preset(p);
    for (const double bytes : {1e6, 64e6, 1e9}) {
      CollectiveRequest r;
      r.kind = CollectiveKind::kAllReduce;
      r.n = 8;
      r.bytes = bytes;
      r.comm = comm_of(c);
      const auto plan = nccl_plan(r, std::nullopt);
      ASSERT_TRUE(plan);
      const auto graph = nccl_graph(r, *plan);
      const topo::Router router(c, {});
      FlowModel model(c, {});
      const auto ranks = all_gpus(c);
      const double t = run_transfers(graph, ranks, router, model).end.seconds() * 1e6;
      // Hop latencies (two NVLink hops of 1.5 us) come on top of NCCL's own.
      EXPECT_NEAR(t, plan->estimate.time_us + 3.0, 0.02 * plan->estimate.time_us + 1e-3)
          << config::enum_name(plan->estimate.algorithm);
    }
  }
}

// NVLS moves S(1 + 1/n) through each GPU's NVLink port each way; a ring 2(n-1)/n S.
TEST(Nccl, NvlsPutsSTimesOnePlusOneOverNOnEachPort) {
  auto c = preset("nodes/dgx_h100");
  CollectiveRequest r;
  r.kind = CollectiveKind::kAllReduce;
  r.n = 8;
  r.bytes = 1e9;
  r.comm = comm_of(c);
  for (const auto a : {NcclAlgorithm::kNvls, NcclAlgorithm::kRing}) {
    const auto plan = nccl_plan(r, a);
    ASSERT_TRUE(plan);
    const auto graph = nccl_graph(r, *plan);
    std::map<int, double> out, in;
    for (TransferGraph::Id i = 0; i < graph.size(); ++i) {
      if (graph.is_delay(i)) continue;
      out[graph.node(i).src] += graph.node(i).bytes;
      in[graph.node(i).dst] += graph.node(i).bytes;
    }
    const double ideal = a == NcclAlgorithm::kNvls ? 1e9 * (1 + 1.0 / 8) : 1e9 * 2 * 7 / 8;
    for (int g = 0; g < 8; ++g) {
      EXPECT_NEAR(out[g], ideal * plan->wire_factor, 1) << g;
      EXPECT_NEAR(in[g], ideal * plan->wire_factor, 1) << g;
    }
  }
}

// A p2p message costs its sender about 1 us inside a node (8 x H20 NVLink alltoall: 10.3 us at
// 128 B against 3.1 us at 0 B), three times NCCL's 1 us network post across nodes (Simple).
TEST(Nccl, SmallAllToAllsPayEachMessagesIssueCost) {
  auto c = preset("nodes/dgx_h100");
  const auto run = [&](int window) {
    CollectiveRequest r;
    r.kind = CollectiveKind::kAllToAll;
    r.n = 8;
    r.matrix = [](int, int) { return 16.0; };
    r.window = window;
    r.comm = comm_of(c);
    r.nodes.assign(8, 0);
    const auto graph = collective(CollectiveKind::kAllToAll).algorithms.front().build(r);
    const topo::Router router(c, {});
    FlowModel model(c, {});
    return run_transfers(graph, all_gpus(c), router, model).end.seconds() * 1e6;
  };
  // 7 messages issued one after another, the last then crosses two 1.5 us NVLink hops.
  EXPECT_NEAR(run(0), 7 * 1.0 + 3.0, 0.01);
  EXPECT_EQ(nccl_p2p_message_cost(true, topo::CpuVendor::kIntel), core::Time::from_seconds(3e-6));
  EXPECT_EQ(nccl_p2p_message_cost(true, topo::CpuVendor::kAmd), core::Time::from_seconds(6e-6));
}

}  // namespace
}  // namespace moesim::net
