#include "routing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <string_view>

#include "config/error.hpp"

namespace moesim::model {

namespace {

// Splits `total` over weights by largest remainders, no share above `cap`: exact integers that
// sum to total (when total <= cap * count), deterministic (ties go to the lower index).
ExpertCounts apportion(const std::vector<double>& weights, std::int64_t total, std::int64_t cap) {
  const auto n = weights.size();
  ExpertCounts out(n, 0);
  std::vector<bool> full(n, false);
  std::int64_t left = total;
  // Water-filling: shares that would exceed the cap are pinned there and the rest re-split.
  for (bool changed = true; changed && left > 0;) {
    changed = false;
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!full[i]) sum += weights[i];
    }
    if (sum <= 0) break;
    for (std::size_t i = 0; i < n; ++i) {
      if (!full[i] && weights[i] / sum * static_cast<double>(left) > static_cast<double>(cap)) {
        full[i] = true;
        out[i] = cap;
        left -= cap;
        changed = true;
      }
    }
    if (changed) continue;
    std::vector<std::pair<double, std::size_t>> remainders;
    std::int64_t given = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (full[i]) continue;
      const double share = weights[i] / sum * static_cast<double>(left);
      out[i] = static_cast<std::int64_t>(std::floor(share));
      given += out[i];
      remainders.emplace_back(share - std::floor(share), i);
    }
    std::stable_sort(remainders.begin(), remainders.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t j = 0; given < left && j < remainders.size(); ++j, ++given) {
      ++out[remainders[j].second];
    }
    left = 0;
  }
  return out;
}

// A permutation defined bit for bit by the seed (std::shuffle's draws are not portable).
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::mt19937_64 rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[rng() % i]);
  return p;
}

}  // namespace

RoutingModel::RoutingModel(const RoutingConfig& config, std::int64_t experts)
    : config_(config), experts_(experts) {
  if (config.kind != RoutingKind::kTrace) return;
  if (config.trace.empty()) {
    throw config::ConfigError("routing.trace: kind is trace but no trace file is given");
  }
  std::ifstream in(config.trace);
  if (!in) throw config::ConfigError(fmt::format("routing.trace: cannot open '{}'", config.trace));
  constexpr std::string_view kHeader = "layer,source,expert,tokens";
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // A header, if any, must be this one: columns in another order would be read as these.
    if (std::isalpha(static_cast<unsigned char>(line[0]))) {
      if (line == kHeader) continue;
      throw config::ConfigError(fmt::format("{}:{}: header '{}': expected '{}' (in that order)",
                                            config.trace, number, line, kHeader));
    }
    const std::string raw = line;
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream fields(line);
    long long layer, source, expert, tokens;
    std::string extra;
    constexpr long long kMaxIndex = std::numeric_limits<int>::max();
    constexpr long long kMaxTokens = 1LL << 40;  // as limits.hpp bounds a rank's tensors
    if (!(fields >> layer >> source >> expert >> tokens) || (fields >> extra) || layer < 0 ||
        source < 0 || expert < 0 || expert >= experts || tokens < 0 || layer > kMaxIndex ||
        source > kMaxIndex || tokens > kMaxTokens) {
      throw config::ConfigError(fmt::format(
          "{}:{}: '{}': expected layer,source,expert,tokens (four integers) with 0 <= layer, "
          "source < 2^31, 0 <= expert < {} and 0 <= tokens <= 2^40",
          config.trace, number, raw, experts));
    }
    auto& counts = trace_[{static_cast<int>(layer), static_cast<int>(source)}];
    counts.resize(static_cast<std::size_t>(experts), 0);
    auto& count = counts[static_cast<std::size_t>(expert)];
    if (count + tokens > kMaxTokens) {
      throw config::ConfigError(fmt::format(
          "{}:{}: layer {}, source {}, expert {}: the rows so far route {} tokens, beyond 2^40",
          config.trace, number, layer, source, expert, count + tokens));
    }
    count += tokens;
  }
}

ExpertCounts RoutingModel::route(int moe_layer, int source, std::int64_t tokens,
                                 std::int64_t k) const {
  const auto n = static_cast<std::size_t>(experts_);
  switch (config_.kind) {
    case RoutingKind::kTrace: {
      const auto it = trace_.find({moe_layer, source});
      if (it == trace_.end() ||
          std::all_of(it->second.begin(), it->second.end(), [](auto c) { return c == 0; })) {
        throw config::ConfigError(
            fmt::format("routing.trace: '{}' routes no tokens for MoE layer {} and source rank {}",
                        config_.trace, moe_layer, source));
      }
      // The trace's split over experts, for this rank's tokens x k (its own counts when they
      // already sum to that: a decode step, or a trace taken at another batch, is scaled).
      auto rows =
          apportion(std::vector<double>(it->second.begin(), it->second.end()), tokens * k, tokens);
      if (std::accumulate(rows.begin(), rows.end(), std::int64_t{0}) != tokens * k) {
        throw config::ConfigError(fmt::format(
            "routing.trace: '{}', MoE layer {}, source rank {}: its tokens go to too few experts "
            "for {} tokens x top-{} with each expert taking a token at most once",
            config_.trace, moe_layer, source, tokens, k));
      }
      return rows;
    }
    case RoutingKind::kZipf: {
      const auto order = permutation(n, static_cast<std::uint64_t>(config_.seed) * 1000003u +
                                            static_cast<std::uint64_t>(moe_layer));
      std::vector<double> weights(n);
      for (std::size_t i = 0; i < n; ++i) {
        weights[order[i]] = 1.0 / std::pow(static_cast<double>(i + 1), config_.zipf_exponent);
      }
      return apportion(weights, tokens * k, tokens);
    }
    case RoutingKind::kBalanced:
      break;
  }
  // Balanced: T*k rows spread evenly; the remainder goes to experts after a rotating offset,
  // so no expert is favoured across sources.
  ExpertCounts counts(n, tokens * k / experts_);
  const auto rest = static_cast<std::size_t>(tokens * k % experts_);
  for (std::size_t j = 0; j < rest; ++j) ++counts[(static_cast<std::size_t>(source) + j) % n];
  return counts;
}

ExpertCounts apply_capacity(const ExpertCounts& routed, std::int64_t tokens, std::int64_t k,
                            const std::optional<double>& capacity_factor) {
  if (!capacity_factor) return routed;
  const auto experts = static_cast<double>(routed.size());
  const auto cap = static_cast<std::int64_t>(
      std::ceil(*capacity_factor * static_cast<double>(tokens * k) / experts));
  return ExpertCounts(routed.size(), cap);
}

}  // namespace moesim::model
