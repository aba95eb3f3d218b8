#pragma once
// A test cluster: the DGX H100 rail-optimized 400 Gb/s preset with `nodes` nodes.
#include <string>

#include "topologies/build.hpp"

namespace moesim::test {

inline topo::Cluster rail_cluster(int nodes) {
  auto doc =
      config::Document::load_file(MOESIM_SOURCE_DIR "/topologies/presets/dgx_h100_rail_ib400.yaml");
  doc.apply_override("nodes=" + std::to_string(nodes));
  return topo::load_cluster(doc);
}

}  // namespace moesim::test
