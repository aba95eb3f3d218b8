#include "network_fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "collectives.hpp"
#include "net/nccl.hpp"

namespace moesim::calibrate {

namespace {

// Link traversals of one class on a GPU-to-GPU path through it (see the header).
constexpr double kTraversalsPerPath = 2;

// Weighted least squares of t = a + x b with weights 1 / t^2: returns (a, b).
std::pair<double, double> fit_line(const std::vector<std::pair<double, double>>& xt) {
  double sw = 0, sx = 0, st = 0, sxx = 0, sxt = 0;
  for (const auto& [x, t] : xt) {
    const double w = 1 / (t * t);
    sw += w;
    sx += w * x;
    st += w * t;
    sxx += w * x * x;
    sxt += w * x * t;
  }
  const double det = sw * sxx - sx * sx;
  if (xt.size() < 2 || !(std::abs(det) > 0))
    return {0, xt.empty() ? 0 : xt.front().second / xt.front().first};
  double b = (sw * sxt - sx * st) / det;
  double a = (st - b * sx) / sw;
  if (a < 0) {  // a negative latency has no meaning: the best line through the origin
    a = 0;
    b = sxt / sxx;
  }
  return {a, b};
}

}  // namespace

NetworkFit fit_network(const std::vector<Measurement>& measurements) {
  NetworkFit fit;
  std::map<std::pair<std::string, int>, std::vector<const Measurement*>> by_class;
  for (const auto& m : measurements) {
    if (is_collective(m.op)) by_class[{m.link, m.ranks}].push_back(&m);
  }
  for (const auto& [key, members] : by_class) {
    const auto& [link, ranks] = key;
    // The op the line is fitted to: the plainest one measured (a point-to-point transfer has
    // no algorithm of its own between the link and the time).
    std::string basis;
    for (const char* op :
         {"send_recv", "all_to_all", "all_gather", "reduce_scatter", "all_reduce"}) {
      if (std::any_of(members.begin(), members.end(), [&](auto* m) { return m->op == op; })) {
        basis = op;
        break;
      }
    }
    std::vector<std::pair<double, double>> xt;
    for (const auto* m : members) {
      if (m->op == basis) xt.emplace_back(m->bytes * bus_factor(m->op, ranks), m->time.median);
    }
    if (xt.empty()) continue;
    const auto [a, inverse_bw] = fit_line(xt);
    LinkFit lf;
    lf.link = link;
    lf.ranks = ranks;
    lf.basis = basis;
    lf.points = static_cast<int>(xt.size());
    lf.latency_s = a;
    lf.bandwidth_Bps = inverse_bw > 0 ? 1 / inverse_bw : 0;
    const double message =
        net::nccl_p2p_message_cost(link == "network", topo::CpuVendor::kIntel).seconds();
    lf.per_traversal_latency_s = std::max(0.0, a - message) / kTraversalsPerPath;
    std::vector<double> errors;
    for (const auto& [x, t] : xt) errors.push_back(std::abs(a + x * inverse_bw - t) / t);
    std::sort(errors.begin(), errors.end());
    lf.median_abs_error = errors[errors.size() / 2];
    lf.max_abs_error = errors.back();
    fit.links.push_back(lf);
    for (const auto* m : members) {
      fit.residuals.push_back({*m, a + m->bytes * bus_factor(m->op, ranks) * inverse_bw});
    }
  }
  return fit;
}

std::string overlay_yaml(const NetworkFit& fit, const std::string& header) {
  std::ostringstream out;
  std::istringstream lines(header);
  for (std::string line; std::getline(lines, line);) out << "# " << line << "\n";
  // Per class, the fit over the most ranks (the widest sweep).
  std::map<std::string, const LinkFit*> best;
  for (const auto& lf : fit.links) {
    auto& b = best[lf.link];
    if (b == nullptr || lf.ranks > b->ranks) b = &lf;
  }
  const auto link = [](const LinkFit& lf) {
    return fmt::format(
        "{{bandwidth: {:.4g} GB/s, efficiency: 1, latency: {:.4g} us}}  # {} over {} ranks: "
        "a = {:.4g} us, median |residual| {:.1f}%",
        lf.bandwidth_Bps / 1e9, lf.per_traversal_latency_s * 1e6, lf.basis, lf.ranks,
        lf.latency_s * 1e6, lf.median_abs_error * 100);
  };
  if (best.count("nvlink") || best.count("pcie")) {
    out << "node:\n";
    if (best.count("nvlink")) out << "  nvlink: " << link(*best["nvlink"]) << "\n";
    if (best.count("pcie")) out << "  pcie: " << link(*best["pcie"]) << "\n";
  }
  if (best.count("network")) out << "network:\n  nic: " << link(*best["network"]) << "\n";
  return out.str();
}

}  // namespace moesim::calibrate
