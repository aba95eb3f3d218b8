#pragma once
// Cluster descriptions in YAML: either generated from parameters (a node repeated `nodes` times
// plus a network), or listed device by device and link by link. Defaults live here only.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cluster.hpp"
#include "config/check.hpp"
#include "config/quantity.hpp"

namespace moesim::topo {

struct LinkSpec {
  config::Bandwidth bandwidth;
  double efficiency = 1;
  core::Time latency = core::Time::zero();
  template <class V>
  void fields(V& v) {
    v.field("bandwidth", bandwidth, "wire rate per direction",
            config::Check::positive().required());
    v.field("efficiency", efficiency, "fraction of the wire rate the stack reaches",
            config::Check{false, 0.0, true, 1.0});
    v.field("latency", latency, "per traversal", config::Check::non_negative());
  }
};

enum class NodeFabric { kNvswitch, kPcie, kNvlinkPair, kNvlinkMesh };
constexpr auto enum_names(NodeFabric) {
  return std::array{std::pair{std::string_view("nvswitch"), NodeFabric::kNvswitch},
                    std::pair{std::string_view("pcie"), NodeFabric::kPcie},
                    std::pair{std::string_view("nvlink_pair"), NodeFabric::kNvlinkPair},
                    std::pair{std::string_view("nvlink_mesh"), NodeFabric::kNvlinkMesh}};
}
enum class NicAttach { kNone, kPerGpu, kPerNode };
constexpr auto enum_names(NicAttach) {
  return std::array{std::pair{std::string_view("none"), NicAttach::kNone},
                    std::pair{std::string_view("per_gpu"), NicAttach::kPerGpu},
                    std::pair{std::string_view("per_node"), NicAttach::kPerNode}};
}

struct MeshLink {
  std::int64_t a = 0, b = 0, links = 1;
  template <class V>
  void fields(V& v) {
    v.field("a", a, "GPU index in the node", config::Check::non_negative().required());
    v.field("b", b, "GPU index in the node", config::Check::non_negative().required());
    v.field("links", links, "NVLink links between them", config::Check::at_least(1));
  }
};

struct NodeSpec {
  std::string gpu;  // the GPU profile's name; informational here
  std::int64_t gpus = 8;
  NodeFabric fabric = NodeFabric::kNvswitch;
  std::optional<LinkSpec> nvlink;  // nvswitch: per GPU; nvlink_pair: per pair; mesh: per link
  std::vector<MeshLink> mesh;
  LinkSpec pcie;  // GPU <-> PCIe switch and NIC <-> PCIe switch
  std::int64_t pcie_switches = 2;
  LinkSpec pcie_uplink;  // PCIe switch <-> host bridge / CPU
  std::int64_t hosts = 1;
  std::optional<LinkSpec> host_link;  // between hosts (UPI, xGMI), when hosts > 1
  NicAttach nics = NicAttach::kPerGpu;
  std::int64_t nics_per_node = 1;  // with nics: per_node

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("gpu", gpu, "GPU type (profile name)");
    v.field("gpus", gpus, "GPUs per node", Check::at_least(1));
    v.field("fabric", fabric,
            "how GPUs of a node connect: nvswitch, pcie, nvlink_pair, nvlink_mesh");
    v.field("nvlink", nvlink, "NVLink: per GPU (nvswitch), per pair, or per link (mesh)");
    v.field("mesh", mesh, "nvlink_mesh: GPU pairs and link counts");
    v.field("pcie", pcie, "GPU and NIC links to their PCIe switch", Check::none().required());
    v.field("pcie_switches", pcie_switches, "PCIe switches; GPUs and NICs spread evenly",
            Check::at_least(1));
    v.field("pcie_uplink", pcie_uplink, "PCIe switch to host bridge (shared by its GPUs)",
            Check::none().required());
    v.field("hosts", hosts, "host bridges / CPU sockets; switches spread evenly",
            Check::at_least(1));
    v.field("host_link", host_link, "between hosts (UPI/xGMI), needed when hosts > 1");
    v.field("nics", nics, "none, per_gpu (NIC i beside GPU i: rail i), or per_node");
    v.field("nics_per_node", nics_per_node, "with nics: per_node", Check::at_least(1));
  }
};

enum class NetworkKind { kNone, kSingleSwitch, kFatTree, kRailOptimized };
constexpr auto enum_names(NetworkKind) {
  return std::array{std::pair{std::string_view("none"), NetworkKind::kNone},
                    std::pair{std::string_view("single_switch"), NetworkKind::kSingleSwitch},
                    std::pair{std::string_view("fat_tree"), NetworkKind::kFatTree},
                    std::pair{std::string_view("rail_optimized"), NetworkKind::kRailOptimized}};
}

struct NetworkSpec {
  NetworkKind kind = NetworkKind::kNone;
  std::string fabric;                  // "InfiniBand NDR", "RoCE 200G", "100GbE TCP": informational
  std::optional<LinkSpec> nic;         // NIC <-> leaf, per direction
  std::optional<LinkSpec> spine_link;  // leaf <-> spine; default: as nic
  std::int64_t leaf_ports = 64;        // NIC-facing ports per leaf
  double oversubscription = 1;         // leaf down : up bandwidth

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("kind", kind, "none, single_switch, fat_tree (leaf/spine), rail_optimized");
    v.field("fabric", fabric, "what it is (InfiniBand, RoCE, Ethernet); informational");
    v.field("nic", nic, "NIC to leaf link per direction");
    v.field("spine_link", spine_link, "leaf to spine link (default: as nic)");
    v.field("leaf_ports", leaf_ports, "NIC-facing ports per leaf switch", Check::at_least(1));
    v.field("oversubscription", oversubscription, "leaf down:up bandwidth ratio",
            Check::at_least(1));
  }
};

struct DeviceEntry {
  std::string name;
  DeviceKind kind = DeviceKind::kGpu;
  std::int64_t node = -1, local = -1;
  template <class V>
  void fields(V& v) {
    v.field("name", name, "unique device name", config::Check::none().required());
    v.field("kind", kind, "gpu, nvswitch, pcie_switch, host, nic, switch");
    v.field("node", node, "server index (GPUs: required)");
    v.field("local", local, "index inside the node (GPUs: required)");
  }
};
struct LinkEntry {
  std::string from, to;
  LinkKind kind = LinkKind::kNvlink;
  LinkSpec link;
  template <class V>
  void fields(V& v) {
    v.field("from", from, "device name", config::Check::none().required());
    v.field("to", to, "device name", config::Check::none().required());
    v.field("kind", kind, "nvlink, pcie, host_bus, network");
    v.field("link", link, "bandwidth, efficiency, latency (full duplex)",
            config::Check::none().required());
  }
};

struct CollectivesSpec {
  GpuArch arch = GpuArch::kAmpere;
  bool nvls = false;
  bool sharp = false;
  CpuVendor cpu = CpuVendor::kIntel;
  template <class V>
  void fields(V& v) {
    v.field("arch", arch,
            "GPU generation, for NCCL's per-generation constants: volta, ampere, "
            "hopper, blackwell");
    v.field("nvls", nvls,
            "NVLink SHARP: the NVSwitch reduces and multicasts (third-generation NVSwitch with "
            "Hopper or later)");
    v.field("sharp", sharp, "in-network reduction on the network switches (NCCL CollNet)");
    v.field("cpu", cpu, "CPU vendor: intel or amd (NCCL's LL caps and network post cost)");
  }
};

struct ClusterSpec {
  std::string name = "cluster";
  std::int64_t nodes = 1;
  std::optional<NodeSpec> node;
  NetworkSpec network;
  std::vector<DeviceEntry> devices;
  std::vector<LinkEntry> links;
  CollectivesSpec collectives;

  template <class V>
  void fields(V& v) {
    v.field("name", name, "cluster name");
    v.field("collectives", collectives,
            "what the GPUs and fabric offer NCCL's algorithms (default: ampere, no NVLS, no "
            "SHARP, intel)");
    v.field("nodes", nodes, "servers (generated form)", config::Check::at_least(1));
    v.field("node", node, "generated form: one server, repeated");
    v.field("network", network, "generated form: how servers connect");
    v.field("devices", devices, "explicit form: every device");
    v.field("links", links, "explicit form: every full-duplex link");
  }
};

}  // namespace moesim::topo
