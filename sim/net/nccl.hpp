#pragma once
// NCCL's own cost model, as data: the algorithms (ring, tree, NVLS, NVLS tree, CollNet, PAT) and
// protocols (LL, LL128, Simple) its tuner weighs for a collective, their latency and bandwidth
// as NCCL 2.30 computes them (src/graph/tuning.cc, ncclTopoTuneModel and
// ncclTopoGetAlgoTime), which ones it enables on a system, and the argmin it picks. moesim
// plays the chosen algorithm's traffic on its network model (collectives.hpp); this model
// chooses it and says what its protocol costs on the wire and in latency.
//
// The communicator is summarised from the cluster: GPUs and nodes, the GPU generation, how the
// GPUs of a node meet (NVLink or PCIe) and how fast, the node's NICs, NVLink SHARP and
// in-network reduction. NCCL's topology search (src/graph/search.cc) is approximated by its
// speed ladders: the channels and per-channel bandwidth of the ring graph, and of the NVLS one.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "topologies/cluster.hpp"

namespace moesim::net {

enum class CollectiveKind;

// In NCCL's index order (src/include/device.h).
enum class NcclAlgorithm { kTree, kRing, kCollNetDirect, kCollNetChain, kNvls, kNvlsTree, kPat };
constexpr auto enum_names(NcclAlgorithm) {
  return std::array{std::pair{std::string_view("tree"), NcclAlgorithm::kTree},
                    std::pair{std::string_view("ring"), NcclAlgorithm::kRing},
                    std::pair{std::string_view("collnet_direct"), NcclAlgorithm::kCollNetDirect},
                    std::pair{std::string_view("collnet_chain"), NcclAlgorithm::kCollNetChain},
                    std::pair{std::string_view("nvls"), NcclAlgorithm::kNvls},
                    std::pair{std::string_view("nvls_tree"), NcclAlgorithm::kNvlsTree},
                    std::pair{std::string_view("pat"), NcclAlgorithm::kPat}};
}
enum class NcclProtocol { kLL, kLL128, kSimple };
constexpr auto enum_names(NcclProtocol) {
  return std::array{std::pair{std::string_view("LL"), NcclProtocol::kLL},
                    std::pair{std::string_view("LL128"), NcclProtocol::kLL128},
                    std::pair{std::string_view("Simple"), NcclProtocol::kSimple}};
}

// What NCCL's tuner knows of a communicator.
struct NcclComm {
  int ranks = 2;
  int nodes = 1;
  topo::GpuArch arch = topo::GpuArch::kAmpere;
  topo::CpuVendor cpu = topo::CpuVendor::kIntel;
  bool nvlink = true;     // the GPUs of a node meet over NVLink (else PCIe)
  bool nvswitch = false;  // through NVSwitches
  bool nvls = false;      // NVLink SHARP
  bool collnet = false;   // in-network reduction (SHARP)
  double intra_gbps = 0;  // per GPU, GB/s: to the other GPUs of its node (NCCL's totalBw)
  double nic_gbps = 0;    // per NIC, GB/s, the wire rate NCCL reads (speed_Mbps / 8000)
  int nics_per_node = 0;
  double nic_capacity_gbps = 0;  // per NIC, GB/s, what transfers share (wire x efficiency)
  int ppn() const { return ranks / nodes; }
};

// From the cluster, for the group of GPUs (cluster ranks) that calls the collective.
NcclComm nccl_comm(const topo::Cluster& cluster, std::span<const int> gpus);

// A search result: channels and per-channel bandwidths (GB/s).
struct NcclGraph {
  int channels = 1;
  double bw_intra = 0, bw_inter = 0;
};
NcclGraph nccl_ring_graph(const NcclComm& comm);  // also the tree's (init.cc forces it)
NcclGraph nccl_nvls_graph(const NcclComm& comm);

// One (algorithm, protocol) as NCCL prices a call of `bytes` (nccl-tests' size).
struct NcclEstimate {
  NcclAlgorithm algorithm = NcclAlgorithm::kRing;
  NcclProtocol protocol = NcclProtocol::kSimple;
  double latency_us = 0;
  double bandwidth_gbps = 0;  // NCCL's algorithm bandwidth (bytes / time)
  double time_us = 0;         // latency + bytes / bandwidth
};

// Every (algorithm, protocol) NCCL enables for this collective on this communicator, priced.
// All-to-all and send/recv are p2p: NCCL prices none (empty).
std::vector<NcclEstimate> nccl_estimates(CollectiveKind kind, double bytes, const NcclComm& comm);

// NCCL's choice: the cheapest estimate, among those with the given algorithm and protocol when
// asked (NCCL_ALGO, NCCL_PROTO); nothing when none is enabled.
std::optional<NcclEstimate> nccl_choose(CollectiveKind kind, double bytes, const NcclComm& comm,
                                        std::optional<NcclAlgorithm> algorithm = std::nullopt,
                                        std::optional<NcclProtocol> protocol = std::nullopt);

// How much of its channels and threads NCCL launches a call on (enqueue.cc, "Ring/Tree channel
// tuning"): a message too small to give every thread of every channel its threshold of bytes
// (LL 8, LL128 8, Simple 64; LL's times the ranks on a ring) runs on fewer channels, then fewer
// threads. The fraction of the tuner's bandwidth that leaves (1 for NVLS and CollNet, which
// keep theirs).
double nccl_launch_fraction(const NcclEstimate& chosen, double bytes, const NcclComm& comm);

// A p2p message's cost to the GPU that sends it, beyond its data (serialised over the messages
// one rank sends in a call): inside a node, or over the network (NCCL's network post overhead,
// tripled for the Simple protocol that p2p over the network always uses).
core::Time nccl_p2p_message_cost(bool over_network, topo::CpuVendor cpu);

}  // namespace moesim::net
