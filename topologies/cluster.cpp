#include "cluster.hpp"

#include "config/enum_name.hpp"

#include <fmt/format.h>
#include <boost/graph/breadth_first_search.hpp>

#include <algorithm>
#include <cmath>

namespace moesim::topo {

namespace {
template <class E>
std::string_view name_of(E value) {
  for (const auto& [text, e] : enum_names(value)) {
    if (e == value) return text;
  }
  return "?";
}
}  // namespace

std::string_view name(DeviceKind kind) {
  return name_of(kind);
}
std::string_view name(LinkKind kind) {
  return name_of(kind);
}

DeviceId Cluster::add_device(Device device) {
  const bool gpu = device.kind == DeviceKind::kGpu;
  const int node = device.node, local = device.local;
  const auto id = static_cast<DeviceId>(boost::add_vertex(std::move(device), graph_));
  if (gpu) {
    gpus_.push_back(id);
    nodes_ = std::max(nodes_, node + 1);
    gpus_per_node_ = std::max(gpus_per_node_, local + 1);
  }
  return id;
}

void Cluster::add_duplex(DeviceId a, DeviceId b, LinkKind kind, double bandwidth, double efficiency,
                         core::Time latency) {
  for (const auto& [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    const auto id = static_cast<LinkId>(links_.size());
    links_.push_back(Link{id, kind, from, to, bandwidth, efficiency, latency});
    boost::add_edge(from, to, id, graph_);
  }
}

void Cluster::validate() const {
  if (gpus_.empty()) throw TopologyError(fmt::format("cluster '{}' has no GPUs", name_));
  // Ranks are the GPUs in the order they were added; rank order is node-major with local
  // indices from 0 (PXN relays, 2-D all-to-all and rank placement rely on it).
  int node = 0, local = 0;  // the next GPU in rank order, or node + 1 and local 0
  for (const auto gpu : gpus_) {
    const auto& d = device(gpu);
    if (d.node == node && d.local == local) {
      ++local;
    } else if (d.node == node + 1 && d.local == 0 && local > 0) {
      ++node;
      local = 1;
    } else {
      throw TopologyError(fmt::format(
          "cluster '{}': GPU {} is node {} local {} where rank order expects node {} local {}{}: "
          "list the GPUs node by node from node 0, each node's from local 0, without gaps or "
          "repeats",
          name_, d.name, d.node, d.local, node, local,
          local > 0 ? fmt::format(" or node {} local 0", node + 1) : ""));
    }
  }
  for (const auto& l : links_) {
    if (!(l.bandwidth > 0) || !std::isfinite(l.bandwidth) || !(l.efficiency > 0)) {
      throw TopologyError(fmt::format(
          "cluster '{}': link {} -> {} ({}) has no usable bandwidth ({} B/s x {})", name_,
          device(l.from).name, device(l.to).name, topo::name(l.kind), l.bandwidth, l.efficiency));
    }
  }
  // Every GPU reaches every GPU: reach all from GPU 0, and GPU 0 from all (reverse graph).
  const auto n = device_count();
  for (const bool reverse : {false, true}) {
    std::vector<char> seen(n, 0);
    std::vector<DeviceId> stack{gpus_.front()};
    seen[gpus_.front()] = 1;
    while (!stack.empty()) {
      const auto v = stack.back();
      stack.pop_back();
      const auto visit = [&](DeviceId u) {
        if (!seen[u]) {
          seen[u] = 1;
          stack.push_back(u);
        }
      };
      if (reverse) {
        for (auto [e, end] = boost::in_edges(v, graph_); e != end; ++e) {
          visit(static_cast<DeviceId>(boost::source(*e, graph_)));
        }
      } else {
        for (auto [e, end] = boost::out_edges(v, graph_); e != end; ++e) {
          visit(static_cast<DeviceId>(boost::target(*e, graph_)));
        }
      }
    }
    for (const auto gpu : gpus_) {
      if (!seen[gpu]) {
        throw TopologyError(fmt::format(
            "cluster '{}': GPU {} {} GPU {}: the graph is disconnected", name_, device(gpu).name,
            reverse ? "cannot reach" : "cannot be reached from", device(gpus_.front()).name));
      }
    }
  }
}

}  // namespace moesim::topo
