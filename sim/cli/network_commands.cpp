#include "network_commands.hpp"

#include <fmt/format.h>

#include <numeric>
#include <ostream>

#include "config/document.hpp"
#include "config/enum_name.hpp"
#include "config/error.hpp"
#include "config/quantity.hpp"
#include "net/collectives.hpp"
#include "net/nccl.hpp"
#include "net/network_model.hpp"
#include "network_cases.hpp"
#include "report/output_dir.hpp"
#include "study.hpp"
#include "topologies/analysis.hpp"
#include "topologies/build.hpp"

namespace moesim::cli {

namespace {

topo::Cluster load(const TopoOptions& o) {
  auto doc =
      config::Document::load_file(resolve_file(o.cluster, ".", kClusterPresets, "cluster").string(),
                                  data_dir() / kClusterPresets);
  for (const auto& assignment : o.overrides) doc.apply_override(assignment);
  return topo::load_cluster(doc);
}

[[noreturn]] void bad_option(std::string_view option, std::string_view value,
                             std::string_view expected) {
  throw config::ConfigError(fmt::format("{} {}: expected {}", option, value, expected));
}

topo::RoutingOptions routing(const TopoOptions& o) {
  std::string names;
  for (const auto& [name, mode] : enum_names(topo::Ecmp{})) {
    if (name == o.ecmp) return {.ecmp = mode, .pxn = o.pxn};
    names += names.empty() ? std::string(name) : fmt::format(", {}", name);
  }
  bad_option("--ecmp", o.ecmp, "one of " + names);
}

}  // namespace

void topo_show(const TopoOptions& o, std::ostream& out) {
  const auto cluster = load(o);
  const topo::Router router(cluster, routing(o));
  out << topo::format_summary(cluster, topo::summarize(router));
  if (o.dot) {
    const std::filesystem::path path(*o.dot);
    refuse_overwriting_input(path, resolve_file(o.cluster, ".", kClusterPresets, "cluster"),
                             "--dot");
    report::write_file(path, topo::to_dot(cluster));
    out << fmt::format("wrote {} (render with: dot -Tsvg {} -o graph.svg)\n", path.string(),
                       path.string());
  }
}

void collective(const CollectiveOptions& o, std::ostream& out) {
  const auto cluster = load(o.topo);
  const auto route = routing(o.topo);
  const int n = static_cast<int>(cluster.gpus().size());
  if (n < 2) {
    throw config::ConfigError(fmt::format(
        "collective: cluster '{}' has {} GPU; a collective needs at least 2", cluster.name(), n));
  }
  net::NetworkParams params;
  try {
    params.message_overhead = config::parse_time(o.overhead);
  } catch (const config::ConfigError& e) {
    throw config::ConfigError(fmt::format("--overhead {}: {}", o.overhead, e.what()));
  }
  if (params.message_overhead < core::Time::zero()) {
    bad_option("--overhead", o.overhead, "a time that is not negative");
  }
  const auto& info = collective_named(o.op);
  CollectiveCase c;
  c.op = o.op;
  c.algorithm = o.algorithm;
  c.protocol = o.protocol;
  c.window = o.window;
  std::vector<config::Bytes> sizes;  // all checked before anything is printed
  for (const auto& text : o.sizes) {
    try {
      sizes.push_back(config::parse_bytes(text));
    } catch (const config::ConfigError& e) {
      throw config::ConfigError(fmt::format("--sizes {}: {}", text, e.what()));
    }
    if (sizes.back().count < 0) bad_option("--sizes", text, "a size that is not negative");
  }
  // Each size is played before any line is printed: a refused algorithm prints nothing.
  std::vector<std::pair<double, Played>> rows;
  for (const auto& size : sizes) {
    c.size = size;
    rows.emplace_back(static_cast<double>(size.count),
                      play_collective(cluster, route, c, o.model, params));
  }
  out << fmt::format("# {} on {} ({} GPUs), {} model, algorithm {}\n", o.op, cluster.name(), n,
                     o.model, o.algorithm.empty() ? info.algorithms.front().name : o.algorithm);
  out << "#      size [B]    time [us]  algbw [GB/s]  busbw [GB/s]  algorithm\n";
  for (const auto& [s, played] : rows) {
    const double algbw = s > 0 ? s / played.seconds / 1e9 : 0.0;  // nothing to move: 0
    out << fmt::format("{:>15.0f} {:>12.2f} {:>13.2f} {:>13.2f}  {}\n", s, played.seconds * 1e6,
                       algbw, algbw * info.busbw_factor(n), played.algorithm);
  }
}

std::string algorithm_help() {
  std::string out;
  for (const auto& c : net::collectives()) {
    out += fmt::format("{}{}: ", out.empty() ? "" : "; ", c.name);
    for (std::size_t i = 0; i < c.algorithms.size(); ++i) {
      out += (i ? ", " : "") + std::string(c.algorithms[i].name);
    }
  }
  return out;
}

}  // namespace moesim::cli
