#include "build.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "config/reader.hpp"

namespace moesim::topo {

namespace {

using config::Document;

void add(Cluster& c, DeviceId a, DeviceId b, LinkKind kind, const LinkSpec& s,
         double multiplier = 1) {
  c.add_duplex(a, b, kind, s.bandwidth.bytes_per_second * multiplier, s.efficiency, s.latency);
}

struct NodeDevices {
  std::vector<DeviceId> gpus, nics, pcie_switches;
};

NodeDevices build_node(Cluster& c, const NodeSpec& s, int node, const Document& doc) {
  NodeDevices d;
  const std::string prefix = fmt::format("n{}.", node);
  const auto gpus = static_cast<int>(s.gpus);
  for (int i = 0; i < gpus; ++i) {
    d.gpus.push_back(c.add_device({DeviceKind::kGpu, fmt::format("{}gpu{}", prefix, i), node, i}));
  }
  // PCIe tree: GPUs spread over switches, switches over hosts, hosts joined pairwise.
  std::vector<DeviceId> hosts;
  for (int h = 0; h < s.hosts; ++h) {
    hosts.push_back(c.add_device({DeviceKind::kHost, fmt::format("{}host{}", prefix, h), node, h}));
  }
  if (s.hosts > 1 && !s.host_link) {
    throw doc.error_at("node.host_link", "needed when a node has more than one host");
  }
  for (std::size_t a = 0; a < hosts.size(); ++a) {
    for (std::size_t b = a + 1; b < hosts.size(); ++b) {
      add(c, hosts[a], hosts[b], LinkKind::kHostBus, *s.host_link);
    }
  }
  const auto switches = static_cast<int>(s.pcie_switches);
  for (int p = 0; p < switches; ++p) {
    d.pcie_switches.push_back(
        c.add_device({DeviceKind::kPcieSwitch, fmt::format("{}pcie{}", prefix, p), node, p}));
    add(c, d.pcie_switches.back(), hosts[static_cast<std::size_t>(p * s.hosts / switches)],
        LinkKind::kPcie, s.pcie_uplink);
  }
  const auto switch_of = [&](int i, int count) {
    return d
        .pcie_switches[static_cast<std::size_t>(static_cast<std::int64_t>(i) * switches / count)];
  };
  for (int i = 0; i < gpus; ++i) add(c, d.gpus[i], switch_of(i, gpus), LinkKind::kPcie, s.pcie);

  // NVLink
  const auto need_nvlink = [&] {
    if (!s.nvlink) {
      throw doc.error_at("node.nvlink",
                         fmt::format("needed with fabric: {}",
                                     s.fabric == NodeFabric::kNvswitch     ? "nvswitch"
                                     : s.fabric == NodeFabric::kNvlinkPair ? "nvlink_pair"
                                                                           : "nvlink_mesh"));
    }
    return *s.nvlink;
  };
  switch (s.fabric) {
    case NodeFabric::kPcie:
      break;
    case NodeFabric::kNvswitch: {
      const auto nvlink = need_nvlink();
      const auto nvswitch = c.add_device({DeviceKind::kNvSwitch, prefix + "nvswitch", node, 0});
      for (const auto g : d.gpus) add(c, g, nvswitch, LinkKind::kNvlink, nvlink);
      break;
    }
    case NodeFabric::kNvlinkPair: {
      const auto nvlink = need_nvlink();
      if (gpus % 2 != 0) throw doc.error_at("node.gpus", "nvlink_pair needs an even GPU count");
      for (int i = 0; i + 1 < gpus; i += 2)
        add(c, d.gpus[i], d.gpus[i + 1], LinkKind::kNvlink, nvlink);
      break;
    }
    case NodeFabric::kNvlinkMesh: {
      const auto nvlink = need_nvlink();
      if (s.mesh.empty()) throw doc.error_at("node.mesh", "nvlink_mesh needs its GPU pairs");
      for (std::size_t m = 0; m < s.mesh.size(); ++m) {
        const auto& pair = s.mesh[m];
        if (pair.a >= gpus || pair.b >= gpus || pair.a == pair.b) {
          throw doc.error_at(fmt::format("node.mesh[{}]", m),
                             fmt::format("pair ({}, {}) is not two different GPUs of 0..{}", pair.a,
                                         pair.b, gpus - 1));
        }
        add(c, d.gpus[static_cast<std::size_t>(pair.a)], d.gpus[static_cast<std::size_t>(pair.b)],
            LinkKind::kNvlink, nvlink, static_cast<double>(pair.links));
      }
      break;
    }
  }
  // NIC i beside GPU i (rail i; GPUDirect RDMA pairs them), or NICs spread over the switches.
  const int nics = s.nics == NicAttach::kPerGpu    ? gpus
                   : s.nics == NicAttach::kPerNode ? static_cast<int>(s.nics_per_node)
                                                   : 0;
  for (int i = 0; i < nics; ++i) {
    d.nics.push_back(c.add_device({DeviceKind::kNic, fmt::format("{}nic{}", prefix, i), node, i}));
    if (s.nics == NicAttach::kPerGpu) {
      add(c, d.nics.back(), d.gpus[static_cast<std::size_t>(i)], LinkKind::kPcie, s.pcie);
    } else {
      add(c, d.nics.back(), switch_of(i, nics), LinkKind::kPcie, s.pcie);
    }
  }
  return d;
}

// Leaf switches with `leaf_ports` NICs each; if more than one leaf, spines joining every leaf.
void build_leaf_spine(Cluster& c, const NetworkSpec& n,
                      const std::vector<std::vector<DeviceId>>& groups,
                      const std::string& leaf_prefix) {
  const LinkSpec& nic = *n.nic;
  const LinkSpec& up = n.spine_link ? *n.spine_link : nic;
  std::vector<DeviceId> leaves;
  std::size_t ports_used = 0;  // NICs on the fullest leaf: uplinks are sized for these
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& group = groups[g];
    for (std::size_t start = 0; start < group.size();
         start += static_cast<std::size_t>(n.leaf_ports)) {
      const auto leaf = start / static_cast<std::size_t>(n.leaf_ports);
      leaves.push_back(
          c.add_device({DeviceKind::kSwitch,
                        leaf_prefix.empty() ? fmt::format("leaf{}", leaf)
                                            : fmt::format("{}{}.leaf{}", leaf_prefix, g, leaf),
                        -1, static_cast<int>(g)}));
      const auto end = std::min(group.size(), start + static_cast<std::size_t>(n.leaf_ports));
      for (auto i = start; i < end; ++i) add(c, group[i], leaves.back(), LinkKind::kNetwork, nic);
      ports_used = std::max(ports_used, end - start);
    }
  }
  if (leaves.size() < 2) {
    if (n.oversubscription != 1) {
      c.add_note(fmt::format(
          "network.oversubscription {} has no effect: all {} NICs fit on one leaf (leaf_ports "
          "{}), so there are no spines",
          n.oversubscription, ports_used, n.leaf_ports));
    }
    return;
  }
  // Uplink bandwidth per leaf = down bandwidth / oversubscription, spread over the spines, one
  // link from each leaf to each spine.
  const double down = static_cast<double>(ports_used) * nic.bandwidth.bytes_per_second;
  const double up_total = down / n.oversubscription;
  const auto spines =
      static_cast<int>(std::max(1.0, std::ceil(up_total / up.bandwidth.bytes_per_second)));
  const double per_link = up_total / spines / up.bandwidth.bytes_per_second;  // multiplier <= 1
  for (int s = 0; s < spines; ++s) {
    const auto spine = c.add_device({DeviceKind::kSwitch, fmt::format("spine{}", s), -1, s});
    for (const auto leaf : leaves) add(c, leaf, spine, LinkKind::kNetwork, up, per_link);
  }
}

// A single switch has no leaves or spines: notes the keys for them that were set anyway.
void note_leaf_spine_keys_unused(Cluster& c, const NetworkSpec& net) {
  const NetworkSpec defaults;
  std::vector<std::string> unused;
  if (net.spine_link) unused.emplace_back("spine_link");
  if (net.leaf_ports != defaults.leaf_ports) {
    unused.push_back(fmt::format("leaf_ports {}", net.leaf_ports));
  }
  if (net.oversubscription != defaults.oversubscription) {
    unused.push_back(fmt::format("oversubscription {}", net.oversubscription));
  }
  if (unused.empty()) return;
  c.add_note(fmt::format(
      "network: {} {} no effect on a single_switch network (fat_tree and rail_optimized have "
      "leaves and spines)",
      fmt::join(unused, ", "), unused.size() == 1 ? "has" : "have"));
}

Cluster build_generated(const ClusterSpec& spec, const Document& doc) {
  Cluster c(spec.name);
  std::vector<NodeDevices> nodes;
  for (int n = 0; n < spec.nodes; ++n) nodes.push_back(build_node(c, *spec.node, n, doc));
  const auto& net = spec.network;
  if (net.kind == NetworkKind::kNone) {
    if (spec.nodes > 1) throw doc.error_at("network.kind", "several nodes need a network");
    c.validate();
    return c;
  }
  if (!net.nic) throw doc.error_at("network.nic", "needed with a network");
  if (spec.node->nics == NicAttach::kNone) throw doc.error_at("node.nics", "a network needs NICs");
  switch (net.kind) {
    case NetworkKind::kNone:
      break;
    case NetworkKind::kSingleSwitch: {
      note_leaf_spine_keys_unused(c, net);
      const auto sw = c.add_device({DeviceKind::kSwitch, "switch", -1, 0});
      for (const auto& node : nodes) {
        for (const auto nic : node.nics) add(c, nic, sw, LinkKind::kNetwork, *net.nic);
      }
      break;
    }
    case NetworkKind::kFatTree: {
      std::vector<std::vector<DeviceId>> all(1);
      for (const auto& node : nodes)
        all[0].insert(all[0].end(), node.nics.begin(), node.nics.end());
      build_leaf_spine(c, net, all, "");
      break;
    }
    case NetworkKind::kRailOptimized: {
      if (spec.node->nics != NicAttach::kPerGpu) {
        throw doc.error_at("node.nics", "rail_optimized needs nics: per_gpu (NIC i is rail i)");
      }
      std::vector<std::vector<DeviceId>> rails(nodes.front().nics.size());
      for (const auto& node : nodes) {
        for (std::size_t r = 0; r < node.nics.size(); ++r) rails[r].push_back(node.nics[r]);
      }
      build_leaf_spine(c, net, rails, "rail");
      break;
    }
  }
  c.validate();
  return c;
}

Cluster build_explicit(const ClusterSpec& spec, const Document& doc) {
  Cluster c(spec.name);
  std::map<std::string, DeviceId> by_name;
  for (std::size_t i = 0; i < spec.devices.size(); ++i) {
    const auto& d = spec.devices[i];
    if (by_name.count(d.name)) {
      throw doc.error_at(fmt::format("devices[{}].name", i),
                         fmt::format("'{}' is used twice", d.name));
    }
    if (d.kind == DeviceKind::kGpu && (d.node < 0 || d.local < 0)) {
      throw doc.error_at(fmt::format("devices[{}]", i), "a GPU needs node and local");
    }
    by_name[d.name] =
        c.add_device({d.kind, d.name, static_cast<int>(d.node), static_cast<int>(d.local)});
  }
  for (std::size_t i = 0; i < spec.links.size(); ++i) {
    const auto& l = spec.links[i];
    const auto find = [&](const std::string& key, const std::string& name) {
      const auto it = by_name.find(name);
      if (it == by_name.end()) {
        throw doc.error_at(fmt::format("links[{}].{}", i, key),
                           fmt::format("no device named '{}'", name));
      }
      return it->second;
    };
    if (l.from == l.to) {
      throw doc.error_at(fmt::format("links[{}].to", i),
                         fmt::format("'{}' again: a link joins two different devices", l.to));
    }
    add(c, find("from", l.from), find("to", l.to), l.kind, l.link);
  }
  c.validate();
  return c;
}

}  // namespace

Cluster build_cluster(const ClusterSpec& spec, const Document& doc) {
  const bool generated = spec.node.has_value();
  const bool listed = !spec.devices.empty() || !spec.links.empty();
  if (generated == listed) {
    throw doc.error_at("", generated ? "give either node/network (generated) or devices/links "
                                       "(explicit), not both"
                                     : "needs node (generated form) or devices and links "
                                       "(explicit form)");
  }
  auto cluster = generated ? build_generated(spec, doc) : build_explicit(spec, doc);
  const auto& c = spec.collectives;
  if (c.nvls && c.arch < GpuArch::kHopper) {
    throw doc.error_at("collectives.nvls", "NVLink SHARP needs hopper or later GPUs");
  }
  if (c.nvls && generated && spec.node->fabric != NodeFabric::kNvswitch) {
    throw doc.error_at("collectives.nvls",
                       "NVLink SHARP needs an NVSwitch node (fabric: nvswitch)");
  }
  cluster.set_collectives({c.arch, c.nvls, c.sharp, c.cpu});
  return cluster;
}

Cluster load_cluster(const Document& document) {
  return build_cluster(config::read_document<ClusterSpec>(document), document);
}

Cluster load_cluster(const std::string& path) {
  return load_cluster(config::Document::load_file(path));
}

}  // namespace moesim::topo
