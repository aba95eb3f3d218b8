#pragma once
// Links in series: a device other than a GPU with exactly two neighbours (a NIC between its GPU
// and its switch port) is crossed straight through by every route that enters it, since routes
// run between GPUs and never double back. The links on either side then carry the same routes,
// and the one of least capacity is saturated whenever the other is: only it can limit a rate.
#include <vector>

#include "cluster.hpp"

namespace moesim::topo {

// For each link, by id: the link of least capacity (ties by id) among those every route through
// it crosses in series with it; the link itself when it has none, or is that link.
std::vector<LinkId> series_bottlenecks(const Cluster& cluster);

}  // namespace moesim::topo
