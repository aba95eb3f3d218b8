// Links in series (topo::series_bottlenecks) on a preset; the flow model's use of them is tested
// in test_flow_model.cpp against its oracle.
#include <gtest/gtest.h>

#include <string>

#include "topologies/build.hpp"
#include "topologies/series.hpp"

namespace moesim::topo {
namespace {

Cluster preset(const std::string& name, const std::string& nodes) {
  auto doc = config::Document::load_file(MOESIM_SOURCE_DIR "/topologies/presets/" + name);
  doc.apply_override("nodes=" + nodes);
  return load_cluster(doc);
}

TEST(Series, ANicsPcieLinkIsInSeriesWithItsSlowerNetworkPort) {
  const auto c = preset("dgx_h100_rail_ib400.yaml", "2");
  const auto series = series_bottlenecks(c);
  ASSERT_EQ(series.size(), c.links().size());
  int nics = 0;
  for (DeviceId v = 0; v < c.device_count(); ++v) {
    if (c.device(v).kind != DeviceKind::kNic) continue;
    ++nics;
    const Link* pcie_in = nullptr;
    const Link* pcie_out = nullptr;
    const Link* port_in = nullptr;
    const Link* port_out = nullptr;
    for (const auto& l : c.links()) {
      if (l.to == v) (l.kind == LinkKind::kPcie ? pcie_in : port_in) = &l;
      if (l.from == v) (l.kind == LinkKind::kPcie ? pcie_out : port_out) = &l;
    }
    ASSERT_TRUE(pcie_in && pcie_out && port_in && port_out) << c.device(v).name;
    // Out through the NIC, then in: each pair stands for the lesser of its two links.
    const auto lesser = [](const Link* a, const Link* b) {
      return a->capacity() <= b->capacity() ? a->id : b->id;
    };
    const auto out = lesser(pcie_in, port_out), in = lesser(port_in, pcie_out);
    EXPECT_EQ(series[pcie_in->id], out) << c.device(v).name;
    EXPECT_EQ(series[port_out->id], out) << c.device(v).name;
    EXPECT_EQ(series[port_in->id], in) << c.device(v).name;
    EXPECT_EQ(series[pcie_out->id], in) << c.device(v).name;
  }
  EXPECT_EQ(nics, 16);
  // Nothing else is in series: NVLink, the switches, the GPUs' other links stand alone.
  int alone = 0;
  for (const auto& l : c.links()) alone += series[l.id] == l.id;
  EXPECT_EQ(alone, static_cast<int>(c.links().size()) - 2 * nics);
}

}  // namespace
}  // namespace moesim::topo
