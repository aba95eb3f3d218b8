#include "flash.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "interpolate.hpp"

namespace moesim::cost {

namespace {

constexpr double kTera = 1e12;
// A fused attention backward recomputes the scores and does five matmuls of the forward's two:
// 2.5 times the forward's FLOPs (the convention of FlashAttention's benchmarks).
constexpr double kBackwardOverForward = 2.5;

// TFLOP/s of one series at `seq`: linear in log(seq), clamped to the ends.
double at_seq(const FlashSeries& s, std::int64_t seq) {
  std::vector<std::pair<double, double>> points;
  for (std::size_t i = 0; i < s.seq_len.size(); ++i) {
    points.emplace_back(static_cast<double>(s.seq_len[i]), s.tflops[i]);
  }
  return interpolate_log_x(points, static_cast<double>(std::max<std::int64_t>(seq, 1)));
}

}  // namespace

void FlashTable::check(const config::Document& doc, std::string_view path) const {
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& s = series[i];
    const auto at = fmt::format("{}.series[{}]", path, i);
    if (s.seq_len.empty() || s.seq_len.size() != s.tflops.size()) {
      throw doc.error_at(at + ".tflops",
                         fmt::format("{} values for {} sequence lengths; expected one per length",
                                     s.tflops.size(), s.seq_len.size()));
    }
    for (std::size_t j = 0; j < s.seq_len.size(); ++j) {
      if (s.tflops[j] <= 0) {
        throw doc.error_at(fmt::format("{}.tflops[{}]", at, j), "must be above 0");
      }
      if (s.seq_len[j] <= 0 || (j > 0 && s.seq_len[j] <= s.seq_len[j - 1])) {
        throw doc.error_at(fmt::format("{}.seq_len[{}]", at, j),
                           "sequence lengths must be positive and increase");
      }
    }
  }
}

std::optional<double> FlashTable::fraction(int version, FlashPass pass, bool causal,
                                           std::int64_t head_dim, std::int64_t seq) const {
  // The generation: the one asked for, else the newest older one measured.
  int gen = 0;
  for (const auto& s : series) {
    if (s.version <= version) gen = std::max(gen, s.version);
  }
  if (gen == 0) return std::nullopt;
  // TFLOP/s of (pass, mask) over the measured head widths, or nothing when none is measured.
  const auto measured = [&](FlashPass p, bool mask) -> std::optional<double> {
    std::vector<std::pair<double, double>> by_width;  // (head_dim, TFLOP/s at seq)
    for (const auto& s : series) {
      if (s.version == gen && s.pass == p && s.causal == mask) {
        by_width.emplace_back(static_cast<double>(s.head_dim), at_seq(s, seq));
      }
    }
    if (by_width.empty()) return std::nullopt;
    std::sort(by_width.begin(), by_width.end());
    const double d = static_cast<double>(head_dim);
    if (d <= by_width.front().first) return by_width.front().second;
    if (d >= by_width.back().first) return by_width.back().second;
    const auto hi =
        std::upper_bound(by_width.begin(), by_width.end(), std::pair(d, 0.0),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto lo = hi - 1;
    const double t = (d - lo->first) / (hi->first - lo->first);
    return lo->second + t * (hi->second - lo->second);
  };
  // A pass under one mask, derived from the other passes where it was not measured itself.
  const auto with_mask = [&](FlashPass p, bool mask) -> std::optional<double> {
    if (const auto own = measured(p, mask)) return own;
    const auto both = measured(FlashPass::kForwardBackward, mask);
    const auto forward = measured(FlashPass::kForward, mask);
    if (p == FlashPass::kBackward && both && forward) {
      const double rest = (1 + kBackwardOverForward) / *both - 1 / *forward;
      if (rest > 0) return kBackwardOverForward / rest;
    }
    if (p != FlashPass::kForwardBackward && both) return both;
    if (p == FlashPass::kForwardBackward && forward) {
      if (const auto backward = measured(FlashPass::kBackward, mask)) {
        return (1 + kBackwardOverForward) / (1 / *forward + kBackwardOverForward / *backward);
      }
    }
    return std::nullopt;
  };
  std::optional<double> rate = with_mask(pass, causal);
  if (!rate) {
    // The other mask's series, scaled as the forward's causal over non-causal where both exist.
    if (const auto other = with_mask(pass, !causal)) {
      const auto fc = measured(FlashPass::kForward, true),
                 fn = measured(FlashPass::kForward, false);
      const double scale = fc && fn ? (causal ? *fc / *fn : *fn / *fc) : 1.0;
      rate = *other * scale;
    }
  }
  if (!rate) return std::nullopt;
  return std::min(1.0, *rate * kTera / measured_peak.flops_per_second);
}

}  // namespace moesim::cost
