#pragma once
// A cluster as a graph: devices (GPUs, NVSwitches, PCIe switches, host bridges/CPUs, NICs,
// network switches) joined by directed links. A full-duplex cable is two links, one each way.
// Links carry their wire bandwidth per direction, the fraction of it that the communication
// stack reaches (NCCL protocol overheads, TCP), and a latency per hop.
#include <boost/graph/adjacency_list.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/error.hpp"
#include "core/error.hpp"
#include "core/time.hpp"

namespace moesim::topo {

// A cluster that cannot be built or routed as described: a configuration error (exit 2).
class TopologyError : public config::ConfigError {
 public:
  using config::ConfigError::ConfigError;
};

enum class DeviceKind { kGpu, kNvSwitch, kPcieSwitch, kHost, kNic, kSwitch };
enum class LinkKind { kNvlink, kPcie, kHostBus, kNetwork };
// The names used in YAML, in messages and in reports.
constexpr auto enum_names(DeviceKind) {
  return std::array{std::pair{std::string_view("gpu"), DeviceKind::kGpu},
                    std::pair{std::string_view("nvswitch"), DeviceKind::kNvSwitch},
                    std::pair{std::string_view("pcie_switch"), DeviceKind::kPcieSwitch},
                    std::pair{std::string_view("host"), DeviceKind::kHost},
                    std::pair{std::string_view("nic"), DeviceKind::kNic},
                    std::pair{std::string_view("switch"), DeviceKind::kSwitch}};
}
constexpr auto enum_names(LinkKind) {
  return std::array{std::pair{std::string_view("nvlink"), LinkKind::kNvlink},
                    std::pair{std::string_view("pcie"), LinkKind::kPcie},
                    std::pair{std::string_view("host_bus"), LinkKind::kHostBus},
                    std::pair{std::string_view("network"), LinkKind::kNetwork}};
}
std::string_view name(DeviceKind kind);
std::string_view name(LinkKind kind);

// What the GPUs and fabric offer NCCL, which its tuner reads (src/graph/tuning.cc): the GPU
// generation (its constants are per generation), NVLink SHARP (NVSwitch multicast: third-
// generation NVSwitch with Hopper or later), in-network reduction on the network (SHARP,
// NCCL's CollNet), and the CPU vendor (which row of its LL bandwidth caps, and the cost of a
// network post).
enum class GpuArch { kVolta, kAmpere, kHopper, kBlackwell };
constexpr auto enum_names(GpuArch) {
  return std::array{std::pair{std::string_view("volta"), GpuArch::kVolta},
                    std::pair{std::string_view("ampere"), GpuArch::kAmpere},
                    std::pair{std::string_view("hopper"), GpuArch::kHopper},
                    std::pair{std::string_view("blackwell"), GpuArch::kBlackwell}};
}
enum class CpuVendor { kIntel, kAmd };
constexpr auto enum_names(CpuVendor) {
  return std::array{std::pair{std::string_view("intel"), CpuVendor::kIntel},
                    std::pair{std::string_view("amd"), CpuVendor::kAmd}};
}
struct CollectiveSupport {
  GpuArch arch = GpuArch::kAmpere;
  bool nvls = false;   // NVLink SHARP inside a node
  bool sharp = false;  // in-network reduction on the network (CollNet)
  CpuVendor cpu = CpuVendor::kIntel;
};

using LinkId = std::uint32_t;
using DeviceId = std::uint32_t;

struct Device {
  DeviceKind kind = DeviceKind::kGpu;
  std::string name;
  int node = -1;   // server it sits in; -1 for network switches
  int local = -1;  // GPU or NIC index inside its node (the rail)
};

struct Link {
  LinkId id = 0;
  LinkKind kind = LinkKind::kNvlink;
  DeviceId from = 0, to = 0;
  double bandwidth = 0;   // wire rate, bytes per second, this direction
  double efficiency = 1;  // fraction of the wire rate the stack reaches
  core::Time latency;     // per traversal
  double capacity() const { return bandwidth * efficiency; }  // what transfers share
};

using Graph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, Device, LinkId>;

class Cluster {
 public:
  explicit Cluster(std::string name) : name_(std::move(name)) {}

  DeviceId add_device(Device device);
  // Adds two links, a -> b and b -> a, with the same properties.
  void add_duplex(DeviceId a, DeviceId b, LinkKind kind, double bandwidth, double efficiency,
                  core::Time latency);

  const std::string& name() const { return name_; }
  const Graph& graph() const { return graph_; }
  const Device& device(DeviceId id) const { return graph_[id]; }
  std::size_t device_count() const { return boost::num_vertices(graph_); }
  const std::vector<Link>& links() const { return links_; }
  const Link& link(LinkId id) const { return links_[id]; }
  // GPUs in rank order: node-major, then local index.
  const std::vector<DeviceId>& gpus() const { return gpus_; }
  int nodes() const { return nodes_; }
  int gpus_per_node() const { return gpus_per_node_; }
  int gpu_node(int rank) const { return device(gpus_[rank]).node; }
  int gpu_local(int rank) const { return device(gpus_[rank]).local; }

  // Checks that the graph is usable: GPUs added in rank order (node by node from node 0, each
  // node's from local 0, no gaps or repeats), every link with a positive bandwidth, and every
  // GPU able to reach every other. Throws TopologyError naming what is wrong. Called by the
  // builders.
  void validate() const;

  // What a reader of the cluster file should know that the graph does not show, such as a
  // setting that has no effect; `topo show` and the commands that simulate print these.
  void add_note(std::string note) { notes_.push_back(std::move(note)); }
  const std::vector<std::string>& notes() const { return notes_; }

  const CollectiveSupport& collectives() const { return collectives_; }
  void set_collectives(const CollectiveSupport& c) { collectives_ = c; }

 private:
  std::string name_;
  std::vector<std::string> notes_;
  CollectiveSupport collectives_;
  Graph graph_;
  std::vector<Link> links_;
  std::vector<DeviceId> gpus_;
  int nodes_ = 0;
  int gpus_per_node_ = 0;
};

}  // namespace moesim::topo
