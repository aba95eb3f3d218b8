#include "nccl.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <set>

#include "collectives.hpp"

namespace moesim::net {

namespace {

constexpr double kGB = 1e9;
constexpr int kAlgorithms = 7, kProtocols = 3;
constexpr auto idx(NcclAlgorithm a) {
  return static_cast<std::size_t>(a);
}
constexpr auto idx(NcclProtocol p) {
  return static_cast<std::size_t>(p);
}
constexpr auto idx(topo::GpuArch a) {
  return static_cast<std::size_t>(a);
}

// --- NCCL 2.30.7's tuner constants (src/graph/tuning.cc, ncclTunerConstantsDefaults) ---------
// By algorithm in NCCL's order, then LL, LL128, Simple; microseconds.
constexpr double kBaseLatency[kAlgorithms][kProtocols] = {
    {6.8, 14.0, 8.4}, {6.6, 14.0, 8.4}, {0, 0, 0},      {0, 0, 0},
    {0, 0, 0},        {0, 0, 0},        {8.0, 8.0, 8.0}};
// Per hop or step, by hardware: NVLink, PCIe, network.
enum Hw { kNvlinkHw, kPciHw, kNetHw };
constexpr double kHwLatency[3][kAlgorithms][kProtocols] = {
    {{0.6, 1.25, 4.0},
     {0.6, 1.9, 3.4},
     {0, 0, 3.7},
     {0, 0, 2.8},
     {0, 0, 25},
     {0, 0, 25},
     {0, 0, 4.0}},
    {{1.0, 1.9, 4.0}, {1.0, 2.5, 5.7}, {0, 0, 3.7}, {0, 0, 2.8}, {0, 0, 0}, {0, 0, 0}, {0, 0, 4.0}},
    {{5.0, 8.5, 14},
     {2.7, 4.0, 14.0},
     {0, 0, 31},
     {0, 0, 30},
     {0, 0, 18},
     {0, 0, 20.9},
     {0, 0, 14}}};
// GB/s caps, by [generation or CPU row][1 node, 2 nodes, more]: LL's row is the GPU generation
// on one node and the CPU vendor (Intel 0, AMD 1) across nodes.
constexpr double kLlMaxBw[4][3] = {
    {39.0, 39.0, 20.4}, {87.7, 22.5, 19.0}, {141.0, 45.0, 35.0}, {282.0, 90.0, 70.0}};
constexpr double kPerChMaxRingLL128[4][3] = {
    {20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 36.7}, {40.0, 40.0, 40.0}};
constexpr double kPerChMaxTreeLL128[4][3] = {
    {20.0, 20.0, 20.0}, {20.0, 20.0, 20.0}, {36.7, 36.7, 29.0}, {55.6, 31.67, 20.0}};
constexpr double kPerChMaxTree[4][3] = {
    {26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {38.7, 41.4, 36.0}, {70.0, 42.8, 24.0}};
constexpr double kPerChMaxNvlsTree[4][3] = {
    {26.5, 18.5, 10.0}, {24.0, 23.6, 17.8}, {0.0, 57.7, 45.5}, {0.0, 96.0, 80.0}};
constexpr double kNvlsEfficiency[4] = {0.0, 0.0, 0.85, 0.74};
// "Trees are not perfectly sticking to the model for medium sizes": by protocol, for sizes
// 64 B x 2^i.
constexpr double kTreeCorrection[kProtocols][24] = {
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7,  .7,  .7,  .6,  .5,
     .4,  .4,  .5,  .6,  .7, .8, .9, 1.0, 1.0, 1.0, 1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7,  .6,  .6,
     .6,  .6,  .6,  .6,  .8,  .9, .9, .9, .9, 1.0, 1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5,
     .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9, .9}};
// Launch sizes (src/include/device.h, comm.h): threads per channel by protocol, and the bytes
// each thread wants before another channel is worth launching.
constexpr double kMaxThreads = 512;    // NCCL_LL_MAX_NTHREADS, NCCL_SIMPLE_MAX_NTHREADS
constexpr double kLl128Threads = 640;  // NCCL_LL128_MAX_NTHREADS
constexpr double kThreadThreshold[kProtocols] = {8, 8, 64};
constexpr int kThreadStep = 128;           // threads halve while a multiple of 128
constexpr double kLlEfficiency = 0.5;      // 8-byte lines: 4 of data, 4 of flag
constexpr double kLl128Efficiency = 0.92;  // 120 of 128 bytes, rounded by NCCL
constexpr double kTreeEfficiency = 0.92;
constexpr double kTreeLlEfficiency = 1 / 3.8;
constexpr double kTreeLl128OneNode = 7.0 / 9, kTreeLl128Nodes = 120.0 / 128;
constexpr double kPatEfficiency = 0.75;
constexpr double kCollNetArity = 0.4;  // us per local rank, arity serialisation
constexpr double kCollNetHopperEfficiency = 0.85;
constexpr double kPatRankLatency = 2.8, kPatNetDivisor = 3.5;
constexpr double kRingPlateau[2] = {1.9, 1.4};  // before / from Ampere, ring Simple multi-node
constexpr double kPlateauBytesPerChannelRank = 64;
// Network post overhead, us (getNetOverhead): Intel 1, AMD 2; tripled for Simple.
constexpr double kNetOverhead[2] = {1.0, 2.0};
constexpr double kSimpleNetOverheadFactor = 3;

// --- the topology search's speed ladders (src/graph/search.cc), GB/s per channel ------------
constexpr double kSpeedIntra[] = {40, 30, 20, 18, 15, 12, 10, 9, 7, 6, 5, 4, 3};
constexpr double kSpeedInter[] = {48, 30, 28, 24, 20, 18,  15,  12,   10,  9,
                                  7,  6,  5,  4,  3,  2.4, 1.2, 0.24, 0.12};
constexpr double kSm90SpeedIntra[] = {60, 50, 40, 30, 24, 20, 15, 12, 11, 6, 3};
constexpr double kSm90SpeedInter[] = {48, 45, 42, 40, 30,  24,  22,   20,  17.5,
                                      15, 12, 6,  3,  2.4, 1.2, 0.24, 0.12};
constexpr int kMaxSearchChannels = 32;  // MAXCHANNELS / 2
constexpr double kLadderStep = 0.49;    // keep trying lower speeds while above this ratio
constexpr double kDupMinBw = 25;        // ncclTopoDupChannels
constexpr double kDupHopperBw = 50;
constexpr int kDupHopperChannels = 4;
constexpr int kMaxNvlsArity = 32;  // NCCL_MAX_NVLS_ARITY
// p2p per-message costs: inside a node, derived from an 8-GPU NVLink alltoall_perf (H20):
// 10.3 us for 128 B to 4 KB against 3.1 us for 0 B over 7 peers, about 1 us per message
// (github.com/deepseek-ai/DeepEP/issues/303).
constexpr double kIntraMessageUs = 1.0;

int log2i(double x) {
  return x < 1 ? -1 : static_cast<int>(std::floor(std::log2(x)));
}

bool hopper_or_later(topo::GpuArch a) {
  return a >= topo::GpuArch::kHopper;
}

// The widest (channels x speed) a ladder offers within `total`, NCCL's way: from the first speed
// that fits, down while a speed is more than 0.49 of the first, each as many channels as fit.
std::pair<int, double> search(std::span<const double> ladder, double total, int max_channels) {
  std::size_t i = 0;
  while (i < ladder.size() && ladder[i] > total) ++i;
  if (i == ladder.size()) return {1, total};
  const double first = ladder[i];
  std::pair<int, double> best{0, 0};
  for (; i < ladder.size() && ladder[i] / first > kLadderStep; ++i) {
    const int n = std::min(max_channels, static_cast<int>(std::floor(total / ladder[i])));
    if (n * ladder[i] > best.first * best.second) best = {n, ladder[i]};
  }
  return best;
}

std::size_t nodes_index(int nodes) {
  return nodes <= 2 ? static_cast<std::size_t>(nodes - 1) : 2;
}

}  // namespace

NcclComm nccl_comm(const topo::Cluster& cluster, std::span<const int> gpus) {
  NcclComm c;
  c.ranks = static_cast<int>(gpus.size());
  std::set<int> nodes;
  for (const int g : gpus) nodes.insert(cluster.gpu_node(g));
  c.nodes = static_cast<int>(nodes.size());
  const auto& support = cluster.collectives();
  c.arch = support.arch;
  c.cpu = support.cpu;
  c.collnet = support.sharp;
  const auto& graph = cluster.graph();
  const auto gpu = cluster.gpus()[static_cast<std::size_t>(gpus.front())];
  double nvlink = 0, pcie = 0;
  for (auto [e, end] = boost::out_edges(gpu, graph); e != end; ++e) {
    const auto& link = cluster.link(graph[*e]);
    const auto to = cluster.device(link.to).kind;
    if (link.kind == topo::LinkKind::kNvlink) {
      nvlink += link.capacity();
      c.nvswitch |= to == topo::DeviceKind::kNvSwitch;
    } else if (link.kind == topo::LinkKind::kPcie) {
      pcie = std::max(pcie, link.capacity());
    }
  }
  c.nvlink = nvlink > 0;
  c.intra_gbps = (c.nvlink ? nvlink : pcie) / kGB;
  c.nvls = support.nvls && c.nvswitch;
  const int node = cluster.gpu_node(gpus.front());
  for (const auto& link : cluster.links()) {
    const auto& from = cluster.device(link.from);
    if (from.kind == topo::DeviceKind::kNic && from.node == node &&
        link.kind == topo::LinkKind::kNetwork) {
      ++c.nics_per_node;
      c.nic_gbps = std::max(c.nic_gbps, link.bandwidth / kGB);
      c.nic_capacity_gbps = std::max(c.nic_capacity_gbps, link.capacity() / kGB);
    }
  }
  return c;
}

NcclGraph nccl_ring_graph(const NcclComm& c) {
  const bool sm90 = hopper_or_later(c.arch);
  NcclGraph g;
  if (c.nodes == 1 || c.nics_per_node == 0) {
    const auto [n, s] = sm90 ? search(kSm90SpeedIntra, c.intra_gbps, kMaxSearchChannels)
                             : search(kSpeedIntra, c.intra_gbps, kMaxSearchChannels);
    g = {std::max(1, n), s, s};
  } else {
    // One channel per NIC at a network speed the NIC and every GPU's NVLink or PCIe can carry.
    const int nics = c.nics_per_node;
    const std::span<const double> ladder =
        sm90 ? std::span<const double>(kSm90SpeedInter) : std::span<const double>(kSpeedInter);
    double speed = ladder.back();
    for (const double s : ladder) {
      if (s <= c.nic_gbps && s * nics <= c.intra_gbps) {
        speed = s;
        break;
      }
    }
    g = {nics, speed, speed};
  }
  // ncclTopoDupChannels: twice the channels at half the speed, unless slow or Hopper-narrow.
  const bool narrow = sm90 && g.bw_intra < kDupHopperBw && g.channels > kDupHopperChannels;
  if (g.bw_intra >= kDupMinBw && !narrow) {
    g.channels *= 2;
    g.bw_intra /= 2;
    g.bw_inter /= 2;
  }
  return g;
}

NcclGraph nccl_nvls_graph(const NcclComm& c) {
  // One channel per GPU of the node at the fastest speed each can carry (search.cc).
  const int n = std::min(kMaxNvlsArity, std::max(1, c.ppn()));
  const double share = c.intra_gbps / n;
  double speed = kSm90SpeedIntra[std::size(kSm90SpeedIntra) - 1];
  for (const double s : kSm90SpeedIntra) {
    if (s <= share) {
      speed = s;
      break;
    }
  }
  const auto ring = nccl_ring_graph(c);
  return {n, speed, c.nodes > 1 ? ring.bw_inter : speed};
}

std::vector<NcclEstimate> nccl_estimates(CollectiveKind kind, double bytes, const NcclComm& c) {
  std::vector<NcclEstimate> out;
  const bool all_reduce = kind == CollectiveKind::kAllReduce;
  const bool gather = kind == CollectiveKind::kAllGather || kind == CollectiveKind::kReduceScatter;
  if (!all_reduce && !gather) return out;
  if (c.ranks <= 1) return out;
  const int n = c.ranks, nodes = c.nodes;
  const double ppn = static_cast<double>(n) / nodes;
  const int nsteps = all_reduce ? 2 * (n - 1) : n - 1;
  const auto arch = idx(c.arch);
  const auto ni = nodes_index(nodes);
  const auto ll_row = nodes == 1 ? arch : static_cast<std::size_t>(c.cpu);
  const auto ring = nccl_ring_graph(c), nvls = nccl_nvls_graph(c);
  const int intra_hw = c.nvlink ? kNvlinkHw : kPciHw;
  const bool pat_enabled = nodes == n && c.arch >= topo::GpuArch::kVolta;
  const bool ll128_enabled = c.nvlink;  // typeIntra <= PATH_NVB; the NICs assumed at PXB/PXN
  for (int ai = 0; ai < kAlgorithms; ++ai) {
    const auto a = static_cast<NcclAlgorithm>(ai);
    if (gather && a != NcclAlgorithm::kPat && a != NcclAlgorithm::kRing &&
        a != NcclAlgorithm::kNvls && a != NcclAlgorithm::kCollNetDirect) {
      continue;
    }
    if (all_reduce && a == NcclAlgorithm::kPat) continue;
    const bool collnet = a == NcclAlgorithm::kCollNetDirect || a == NcclAlgorithm::kCollNetChain;
    const bool nvls_like = a == NcclAlgorithm::kNvls || a == NcclAlgorithm::kNvlsTree;
    // Enabled on this system (tuning.cc's algoEnable and the searches that fail)?
    if (a == NcclAlgorithm::kNvlsTree && nodes == 1) continue;
    if (nvls_like && !c.nvls) continue;
    if ((collnet || (a == NcclAlgorithm::kNvls && nodes > 1)) && !c.collnet) continue;
    if (a == NcclAlgorithm::kCollNetDirect && !c.nvswitch) continue;
    if (a == NcclAlgorithm::kPat && !pat_enabled) continue;
    if (gather && nodes > 1 && (a == NcclAlgorithm::kNvls || collnet)) continue;  // no CollNet AG
    const NcclGraph& graph = nvls_like ? nvls : ring;
    for (int pi = 0; pi < kProtocols; ++pi) {
      const auto p = static_cast<NcclProtocol>(pi);
      if ((nvls_like || collnet || a == NcclAlgorithm::kPat) && p != NcclProtocol::kSimple)
        continue;
      if (p == NcclProtocol::kLL128 && !ll128_enabled) continue;
      double bw = nodes <= 2 || collnet ? graph.bw_intra : graph.bw_inter;
      if (nvls_like) {
        if (graph.channels < 2) continue;
        double intra =
            graph.bw_intra * kNvlsEfficiency[arch] * (graph.channels - 1) / graph.channels;
        intra *= all_reduce ? 2.0 : (ppn - 1) / ppn;  // all-reduce pipelines two operations
        const double inter = graph.bw_inter * (nodes <= 2 && a == NcclAlgorithm::kNvlsTree ? 2 : 1);
        bw = std::min({intra, nodes > 1 ? inter : intra,
                       a == NcclAlgorithm::kNvlsTree ? kPerChMaxNvlsTree[arch][ni]
                                                     : std::numeric_limits<double>::max()});
      }
      double bus = graph.channels * bw;
      const double ch = graph.channels;
      if (a == NcclAlgorithm::kRing && p == NcclProtocol::kLL)
        bus = std::min(kLlMaxBw[ll_row][ni], bus * kLlEfficiency);
      if (a == NcclAlgorithm::kRing && p == NcclProtocol::kLL128)
        bus = std::min(bus * kLl128Efficiency, ch * kPerChMaxRingLL128[arch][ni]);
      if (a == NcclAlgorithm::kTree && all_reduce)
        bus = std::min(bus * kTreeEfficiency, ch * kPerChMaxTree[arch][ni]);
      if (a == NcclAlgorithm::kTree && p == NcclProtocol::kLL)
        bus = std::min(bus * kTreeLlEfficiency, kLlMaxBw[ll_row][ni]);
      if (a == NcclAlgorithm::kTree && p == NcclProtocol::kLL128)
        bus = std::min(bus * (nodes == 1 ? kTreeLl128OneNode : kTreeLl128Nodes),
                       ch * kPerChMaxTreeLL128[arch][ni]);
      if (a == NcclAlgorithm::kPat) bus *= kPatEfficiency;
      if (a == NcclAlgorithm::kCollNetDirect) {
        if (gather) {
          bus = ppn * std::min(graph.bw_intra, graph.bw_inter * 0.9);
        } else {
          double factor = ppn / ch;  // GPU / NIC ratio
          factor -= (factor - 1) / 2;
          bus /= factor;
          if (hopper_or_later(c.arch)) bus *= kCollNetHopperEfficiency;
        }
      }
      if (bus <= 0) continue;
      // Bus bandwidth to algorithm bandwidth.
      if (!(a != NcclAlgorithm::kRing && gather)) {
        bus *= a == NcclAlgorithm::kRing || nvls_like ? static_cast<double>(n) / nsteps : 0.5;
      }
      // Latency.
      double lat = kBaseLatency[ai][pi];
      const double intra_lat = kHwLatency[intra_hw][ai][pi];
      const double inter_lat =
          ppn == 1 ? kHwLatency[kNetHw][idx(NcclAlgorithm::kTree)][pi] : kHwLatency[kNetHw][ai][pi];
      switch (a) {
        case NcclAlgorithm::kRing: {
          double overhead = 0;
          if (nodes > 1) {
            overhead = kNetOverhead[static_cast<std::size_t>(c.cpu)];
            if (p == NcclProtocol::kSimple) overhead *= kSimpleNetOverheadFactor;
          }
          const int inter_steps = nodes == 1 ? 0 : all_reduce ? 2 * (nodes - 1) : nodes - 1;
          lat += (nsteps - inter_steps) * std::max(intra_lat, overhead) + inter_steps * inter_lat;
          break;
        }
        case NcclAlgorithm::kTree:
          if (all_reduce) lat += 2 * ((ppn - 1) * intra_lat + log2i(nodes) * inter_lat);
          break;
        case NcclAlgorithm::kCollNetDirect:
          lat += 2 * (std::min(1.0, ppn - 1) * intra_lat + (ppn - 1) * kCollNetArity) + inter_lat;
          break;
        case NcclAlgorithm::kCollNetChain:
          lat += 2 * (ppn - 1) * intra_lat + inter_lat;
          break;
        case NcclAlgorithm::kNvls:
          lat = intra_lat + (nodes > 1 ? inter_lat : 0);
          break;
        case NcclAlgorithm::kNvlsTree:
          lat += intra_lat + 2 * log2i(nodes) * inter_lat;
          break;
        case NcclAlgorithm::kPat:
          lat += log2i(nodes) * (inter_lat / kPatNetDivisor) + n * kPatRankLatency;
          break;
      }
      // ncclTopoGetAlgoTime's size-dependent refinements.
      const int log_size = log2i(bytes / 64);
      if (a == NcclAlgorithm::kTree && all_reduce && log_size >= 0 && log_size < 23) {
        bus *= kTreeCorrection[pi][log_size];
      }
      if (a == NcclAlgorithm::kRing && p == NcclProtocol::kSimple && nodes > 1 && all_reduce &&
          bytes / (2.0 * ring.channels * n) >= kPlateauBytesPerChannelRank) {
        lat *= kRingPlateau[c.arch >= topo::GpuArch::kAmpere ? 1 : 0];
      }
      out.push_back({a, p, lat, bus, lat + bytes / (1000 * bus)});
    }
  }
  return out;
}

std::optional<NcclEstimate> nccl_choose(CollectiveKind kind, double bytes, const NcclComm& comm,
                                        std::optional<NcclAlgorithm> algorithm,
                                        std::optional<NcclProtocol> protocol) {
  std::optional<NcclEstimate> best;
  for (const auto& e : nccl_estimates(kind, bytes, comm)) {
    if (algorithm && e.algorithm != *algorithm) continue;
    if (protocol && e.protocol != *protocol) continue;
    if (!best || e.time_us < best->time_us) best = e;
  }
  return best;
}

double nccl_launch_fraction(const NcclEstimate& chosen, double bytes, const NcclComm& comm) {
  const auto a = chosen.algorithm;
  if (a != NcclAlgorithm::kRing && a != NcclAlgorithm::kTree) return 1.0;
  // comm->nChannels: the search's channels doubled again when rings are connected.
  const int channels = 2 * nccl_ring_graph(comm).channels;
  double threads = chosen.protocol == NcclProtocol::kLL128 ? kLl128Threads : kMaxThreads;
  double threshold = kThreadThreshold[idx(chosen.protocol)];
  if (a == NcclAlgorithm::kRing && chosen.protocol == NcclProtocol::kLL) threshold *= comm.ranks;
  int nc = channels;
  while (bytes < nc * threads * threshold && nc >= 2) --nc;
  double nt = threads;
  while (bytes < nc * nt * threshold && static_cast<int>(nt) % kThreadStep == 0) nt /= 2;
  // A tree always runs every thread (enqueue.cc: "Tree now uses all threads always").
  if (a == NcclAlgorithm::kTree) nt = threads;
  return (static_cast<double>(nc) / channels) * (nt / threads);
}

core::Time nccl_p2p_message_cost(bool over_network, topo::CpuVendor cpu) {
  const double us = over_network
                        ? kNetOverhead[static_cast<std::size_t>(cpu)] * kSimpleNetOverheadFactor
                        : kIntraMessageUs;
  return core::Time::from_seconds(us * 1e-6);
}

}  // namespace moesim::net
