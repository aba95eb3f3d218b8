#include "network_commands.hpp"

#include <fmt/format.h>

#include <numeric>
#include <ostream>

#include "config/document.hpp"
#include "config/error.hpp"
#include "config/quantity.hpp"
#include "config/enum_name.hpp"
#include "net/collectives.hpp"
#include "net/nccl.hpp"
#include "net/network_model.hpp"
#include "net/run_transfers.hpp"
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
    const report::OutputDir dir(path.has_parent_path() ? path.parent_path() : ".");
    dir.write(path.filename().string(), topo::to_dot(cluster));
    out << fmt::format("wrote {} (render with: dot -Tsvg {} -o graph.svg)\n", path.string(),
                       path.string());
  }
}

void collective(const CollectiveOptions& o, std::ostream& out) {
  const auto cluster = load(o.topo);
  const topo::Router router(cluster, routing(o.topo));
  const int n = static_cast<int>(cluster.gpus().size());
  if (n < 2) {
    throw config::ConfigError(fmt::format(
        "collective: cluster '{}' has {} GPU; a collective needs at least 2", cluster.name(), n));
  }
  std::vector<int> ranks(static_cast<std::size_t>(n));
  std::iota(ranks.begin(), ranks.end(), 0);
  net::NetworkParams params;
  try {
    params.message_overhead = config::parse_time(o.overhead);
  } catch (const config::ConfigError& e) {
    throw config::ConfigError(fmt::format("--overhead {}: {}", o.overhead, e.what()));
  }
  if (params.message_overhead < core::Time::zero()) {
    bad_option("--overhead", o.overhead, "a time that is not negative");
  }

  const auto* info = net::find_collective(o.op);
  if (info == nullptr) bad_option("--op", o.op, net::collective_names());
  const auto* algorithm = o.algorithm.empty() ? &info->algorithms.front()
                                              : net::find_algorithm(*info, o.algorithm);
  if (algorithm == nullptr) {
    bad_option("--algo", o.algorithm,
               info->algorithms.size() == 1
                   ? fmt::format("{} ({}'s only one)", info->algorithms.front().name, o.op)
                   : fmt::format("{} for {}", net::algorithm_names(*info), o.op));
  }
  std::vector<config::Bytes> sizes;  // all checked before anything is printed
  for (const auto& text : o.sizes) {
    try {
      sizes.push_back(config::parse_bytes(text));
    } catch (const config::ConfigError& e) {
      throw config::ConfigError(fmt::format("--sizes {}: {}", text, e.what()));
    }
    if (sizes.back().count < 0) bad_option("--sizes", text, "a size that is not negative");
  }
  std::optional<net::NcclProtocol> protocol;
  if (o.protocol != "auto") {
    for (const auto& [name, p] : enum_names(net::NcclProtocol{})) {
      if (name == o.protocol) protocol = p;
    }
    if (!protocol) bad_option("--proto", o.protocol, "auto, LL, LL128 or Simple");
  }
  const auto comm = net::nccl_comm(cluster, ranks);
  std::vector<int> nodes;
  for (const int r : ranks) nodes.push_back(cluster.gpu_node(r));
  out << fmt::format("# {} on {} ({} GPUs), {} model, algorithm {}\n", o.op, cluster.name(), n,
                     o.model, algorithm->name);
  out << "#      size [B]    time [us]  algbw [GB/s]  busbw [GB/s]  algorithm\n";
  for (const auto& size : sizes) {
    const double s = static_cast<double>(size.count);
    net::CollectiveRequest request;
    request.kind = info->kind;
    request.n = n;
    request.bytes = s;
    request.matrix = [&](int, int) { return s / n; };
    request.gpus_per_node = cluster.gpus_per_node();
    request.window = o.window;
    request.comm = comm;
    request.protocol = protocol;
    request.nodes = nodes;
    std::string chosen;
    net::TransferGraph graph;
    try {
      chosen = net::plan_name(*algorithm, request);
      graph = algorithm->build(request);
    } catch (const std::invalid_argument& e) {
      throw config::ConfigError(fmt::format("--algo {}: {}", algorithm->name, e.what()));
    }
    const auto model = net::make_network_model(o.model, cluster, params);
    const auto run = net::run_transfers(graph, ranks, router, *model);
    const double seconds = run.end.seconds();
    const double algbw = s > 0 ? s / seconds / 1e9 : 0.0;  // nothing to move: 0, as nccl-tests
    out << fmt::format("{:>15} {:>12.2f} {:>13.2f} {:>13.2f}  {}\n", size.count, seconds * 1e6,
                       algbw, algbw * info->busbw_factor(n), chosen);
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
