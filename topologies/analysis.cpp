#include "analysis.hpp"

#include <fmt/format.h>
#include <boost/graph/push_relabel_max_flow.hpp>

#include <algorithm>
#include <map>

#include "config/enum_name.hpp"
#include "config/quantity.hpp"

namespace moesim::topo {

double max_flow(const Cluster& cluster, const std::vector<DeviceId>& sources,
                const std::vector<DeviceId>& sinks) {
  using Traits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
  using FlowGraph = boost::adjacency_list<
      boost::vecS, boost::vecS, boost::directedS, boost::no_property,
      boost::property<
          boost::edge_capacity_t, double,
          boost::property<boost::edge_residual_capacity_t, double,
                          boost::property<boost::edge_reverse_t, Traits::edge_descriptor>>>>;
  const auto n = cluster.device_count();
  FlowGraph g(n + 2);
  auto capacity = boost::get(boost::edge_capacity, g);
  auto reverse = boost::get(boost::edge_reverse, g);
  const auto connect = [&](std::size_t a, std::size_t b, double c) {
    const auto e = boost::add_edge(a, b, g).first;
    const auto r = boost::add_edge(b, a, g).first;
    capacity[e] = c;
    capacity[r] = 0;
    reverse[e] = r;
    reverse[r] = e;
  };
  double unbounded = 0;
  for (const auto& l : cluster.links()) {
    connect(l.from, l.to, l.capacity());
    unbounded += l.capacity();
  }
  const auto source = n, sink = n + 1;
  for (const auto s : sources) connect(source, s, unbounded);
  for (const auto t : sinks) connect(t, sink, unbounded);
  return boost::push_relabel_max_flow(g, source, sink);
}

Summary summarize(const Router& router) {
  const Cluster& c = router.cluster();
  Summary s;
  std::map<std::string, std::size_t> counts;
  for (DeviceId d = 0; d < c.device_count(); ++d) ++counts[std::string(name(c.device(d).kind))];
  s.device_counts.assign(counts.begin(), counts.end());
  s.links = c.links().size();
  const auto& gpus = c.gpus();
  s.injection_min = std::numeric_limits<double>::max();
  for (const auto gpu : gpus) {
    double out = 0;
    for (auto [e, end] = boost::out_edges(gpu, c.graph()); e != end; ++e) {
      out += c.link(c.graph()[*e]).capacity();
    }
    s.injection_min = std::min(s.injection_min, out);
    s.injection_max = std::max(s.injection_max, out);
  }
  if (c.nodes() > 1) {
    std::vector<DeviceId> remote;
    for (std::size_t r = 0; r < gpus.size(); ++r) {
      if (c.gpu_node(static_cast<int>(r)) != c.gpu_node(0)) remote.push_back(gpus[r]);
    }
    s.network_injection = max_flow(c, {gpus[0]}, remote);
  }
  const std::size_t half = gpus.size() / 2;
  if (half > 0) {
    s.bisection = max_flow(c, std::vector<DeviceId>(gpus.begin(), gpus.begin() + half),
                           std::vector<DeviceId>(gpus.begin() + half, gpus.end()));
  }
  s.routing = fmt::format("ECMP {}, PXN {}", config::enum_name(router.options().ecmp),
                          router.options().pxn ? "on" : "off");
  // Sample routes: a neighbour, the last GPU of the node, the first GPU of the next node, the
  // last GPU of the cluster.
  const int n = static_cast<int>(gpus.size());
  std::vector<int> targets{1, c.gpus_per_node() - 1, c.gpus_per_node() + 1, n - 1};
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (const int t : targets) {
    if (t <= 0 || t >= n) continue;
    const auto route = router.route(0, t);
    std::string text =
        fmt::format("rank 0 -> rank {}: {} hops, {}: {}", t, route.size(),
                    config::format(router.latency(route)), c.device(c.gpus()[0]).name);
    for (const auto id : route) {
      text += fmt::format(" -[{}]-> {}", name(c.link(id).kind), c.device(c.link(id).to).name);
    }
    s.sample_routes.push_back(std::move(text));
  }
  return s;
}

std::string format_summary(const Cluster& c, const Summary& s) {
  const auto gbps = [](double bps) { return fmt::format("{:.1f} GB/s", bps / 1e9); };
  std::string out = fmt::format("cluster {}: {} GPUs ({} nodes x {})\n", c.name(), c.gpus().size(),
                                c.nodes(), c.gpus_per_node());
  out += "  devices:";
  for (const auto& [kind, count] : s.device_counts) out += fmt::format(" {} {},", count, kind);
  out.back() = '\n';
  out += fmt::format("  links: {} (directed)\n", s.links);
  out += fmt::format("  per-GPU injection (out-link capacity): {}{}\n", gbps(s.injection_min),
                     s.injection_min == s.injection_max ? "" : " to " + gbps(s.injection_max));
  if (c.nodes() > 1) {
    out += fmt::format("  network injection, rank 0 to other nodes (max flow): {}\n",
                       gbps(s.network_injection));
  }
  out += fmt::format("  bisection, ranks 0..{} to the rest (max flow): {}\n",
                     c.gpus().size() / 2 - 1, gbps(s.bisection));
  out += fmt::format("  sample routes ({}):\n", s.routing);
  for (const auto& r : s.sample_routes) out += "    " + r + "\n";
  for (const auto& note : c.notes()) out += "  note: " + note + "\n";
  return out;
}

std::string to_dot(const Cluster& c) {
  std::string out = fmt::format("digraph \"{}\" {{\n  rankdir=LR;\n", c.name());
  for (DeviceId d = 0; d < c.device_count(); ++d) {
    const auto& dev = c.device(d);
    const char* shape = dev.kind == DeviceKind::kGpu   ? "box"
                        : dev.kind == DeviceKind::kNic ? "ellipse"
                                                       : "diamond";
    out += fmt::format("  d{} [label=\"{}\", shape={}];\n", d, dev.name, shape);
  }
  for (const auto& l : c.links()) {
    if (l.from > l.to) continue;  // one edge per full-duplex pair
    out += fmt::format("  d{} -> d{} [dir=both, label=\"{} {:.4g} GB/s\"];\n", l.from, l.to,
                       name(l.kind), l.bandwidth / 1e9);
  }
  return out + "}\n";
}

}  // namespace moesim::topo
