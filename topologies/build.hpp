#pragma once
// From a cluster description to the graph: the generators (NVSwitch node, PCIe tree, NVLink
// pairs or mesh; single switch, leaf/spine fat tree with oversubscription, rail-optimized) and
// the explicit device/link lists.
#include <string>

#include "cluster.hpp"
#include "config/document.hpp"
#include "spec.hpp"

namespace moesim::topo {

// Reads and builds; errors name the file and key (config::ConfigError) or the graph problem
// (TopologyError: disconnected GPUs, links without bandwidth).
Cluster build_cluster(const ClusterSpec& spec, const config::Document& document);
Cluster load_cluster(const config::Document& document);
Cluster load_cluster(const std::string& path);

}  // namespace moesim::topo
