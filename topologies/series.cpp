#include "series.hpp"

#include <algorithm>
#include <numeric>

namespace moesim::topo {

namespace {
LinkId find(std::vector<LinkId>& parent, LinkId l) {
  while (parent[l] != l) {
    parent[l] = parent[parent[l]];  // halve the path
    l = parent[l];
  }
  return l;
}
}  // namespace

std::vector<LinkId> series_bottlenecks(const Cluster& cluster) {
  const auto& links = cluster.links();
  const auto& graph = cluster.graph();
  std::vector<LinkId> parent(links.size());
  std::iota(parent.begin(), parent.end(), LinkId{0});
  const auto join = [&](LinkId a, LinkId b) {
    a = find(parent, a);
    b = find(parent, b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  };
  for (DeviceId v = 0; v < cluster.device_count(); ++v) {
    if (cluster.device(v).kind == DeviceKind::kGpu) continue;  // routes start and end there
    if (boost::out_degree(v, graph) != 2 || boost::in_degree(v, graph) != 2) continue;
    LinkId out[2], in[2];
    int k = 0;
    for (const auto e : boost::make_iterator_range(boost::out_edges(v, graph))) out[k++] = graph[e];
    k = 0;
    for (const auto e : boost::make_iterator_range(boost::in_edges(v, graph))) in[k++] = graph[e];
    const auto u = links[out[0]].to, w = links[out[1]].to;
    if (u == w) continue;  // two links to one neighbour: parallel, not in series
    // Entering from one neighbour, a route leaves to the other.
    for (const auto i : in) {
      const auto from = links[i].from;
      if (from != u && from != w) continue;
      join(i, from == u ? out[1] : out[0]);
    }
  }
  // Each set's link of least capacity, ties by id.
  std::vector<LinkId> least(links.size());
  std::iota(least.begin(), least.end(), LinkId{0});
  for (LinkId l = 0; l < links.size(); ++l) {
    auto& best = least[find(parent, l)];
    const double c = links[l].capacity(), b = links[best].capacity();
    if (c < b || (c == b && l < best)) best = l;
  }
  std::vector<LinkId> bottleneck(links.size());
  for (LinkId l = 0; l < links.size(); ++l) bottleneck[l] = least[find(parent, l)];
  return bottleneck;
}

}  // namespace moesim::topo
