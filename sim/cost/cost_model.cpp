#include "cost_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/quantity.hpp"
#include "core/error.hpp"
#include "interpolate.hpp"

namespace moesim::cost {

namespace {

template <class Map, class Key>
void add(Map& map, const Key& key, double size, core::Time time) {
  map[key].emplace_back(size, time.seconds());
}

void sort_series(std::vector<std::pair<double, double>>& s) {
  std::sort(s.begin(), s.end());
}

std::string seconds_text(double s) {
  return fmt::format("{:.4g} us", s * 1e6);
}

}  // namespace

std::string_view name(Rule rule) {
  switch (rule) {
    case Rule::kTable:
      return "table";
    case Rule::kTableInterpolated:
      return "table-interpolated";
    case Rule::kComputeBound:
      return "roofline-compute";
    case Rule::kMemoryBound:
      return "roofline-memory";
    case Rule::kLaunchBound:
      return "roofline-launch";
  }
  return "?";
}

CostModel::CostModel(Profile profile) : profile_(std::move(profile)) {
  for (const auto& p : profile_.compute.efficiency) {
    compute_curve_.emplace_back(p.size.count, p.fraction);
  }
  for (const auto& p : profile_.memory.efficiency) {
    memory_curve_.emplace_back(static_cast<double>(p.size.count), p.fraction);
  }
  const auto& t = profile_.tables;
  for (const auto& g : t.gemm) {
    add(gemm_, std::tuple(g.n, g.k, static_cast<int>(g.dtype)), static_cast<double>(g.m), g.time);
  }
  for (const auto& m : t.memory)
    memory_.emplace_back(static_cast<double>(m.bytes.count), m.time.seconds());
  for (const auto& a : t.attention) {
    if (!a.fused) continue;  // materialised scores: recorded, never a fused kernel's price
    add(attention_, std::tuple(a.batch, a.heads, a.head_dim, a.causal, static_cast<int>(a.dtype)),
        static_cast<double>(a.seq), a.time);
  }
  for (const auto& c : t.collective) {
    add(collective_, std::tuple(static_cast<int>(c.op), c.ranks, static_cast<int>(c.link)),
        static_cast<double>(c.bytes.count), c.time);
  }
  for (auto& [key, s] : gemm_) sort_series(s);
  sort_series(memory_);
  for (auto& [key, s] : attention_) sort_series(s);
  for (auto& [key, s] : collective_) sort_series(s);
}

double CostModel::compute_efficiency(double flops) const {
  return interpolate_log_x(compute_curve_, flops);
}

double CostModel::memory_efficiency(double bytes) const {
  return interpolate_log_x(memory_curve_, bytes);
}

double CostModel::peak(const Work& work) const {
  const auto& p = profile_.compute.peak;
  const std::optional<config::FlopRate>* wanted = nullptr;
  switch (work.dtype) {
    case Dtype::kBf16:
      wanted = &p.bf16;
      break;
    case Dtype::kFp16:
      wanted = &p.fp16;
      break;
    case Dtype::kFp32:
      wanted = &p.fp32;
      break;
    case Dtype::kFp8:
      wanted = &p.fp8;
      break;
  }
  if (wanted->has_value()) return (*wanted)->flops_per_second;
  if (memory_bound_kind(work.kind)) {
    // Their few FLOPs never decide the roofline: price them at the fastest peak there is.
    double best = 0;
    for (const auto* rate : {&p.bf16, &p.fp16, &p.fp32, &p.fp8}) {
      if (rate->has_value()) best = std::max(best, (*rate)->flops_per_second);
    }
    return best;
  }
  throw moesim::Error(fmt::format("profile '{}' has no {} peak, which a {} op needs", profile_.name,
                                  cost::name(work.dtype), cost::name(work.kind)));
}

std::optional<std::pair<double, Rule>> CostModel::from_table(const Series* series, double x) const {
  if (series == nullptr) return std::nullopt;
  const auto seconds = interpolate_log_log(*series, x);
  if (!seconds) return std::nullopt;
  const bool exact =
      std::any_of(series->begin(), series->end(), [&](const auto& p) { return p.first == x; });
  return std::pair(*seconds, exact ? Rule::kTable : Rule::kTableInterpolated);
}

std::optional<Estimate> CostModel::gemm_from_table(const Work& work) const {
  const auto it = gemm_.find(std::tuple(work.gemm.n, work.gemm.k, static_cast<int>(work.dtype)));
  if (it == gemm_.end()) return std::nullopt;
  const Series& series = it->second;
  if (work.kind == OpKind::kGemm) {
    const auto hit = from_table(&series, static_cast<double>(work.gemm.m));
    if (!hit) return std::nullopt;
    return Estimate{core::Time::from_seconds(hit->first), hit->second, work.flops, work.bytes,
                    fmt::format("{} m={} n={} k={} {} from the GEMM table", name(hit->second),
                                work.gemm.m, work.gemm.n, work.gemm.k, cost::name(work.dtype))};
  }
  // Grouped: the experts' GEMMs one after another, each from the table.
  double seconds = 0;
  Rule rule = Rule::kTable;
  for (const auto m : work.groups) {
    if (m == 0) continue;
    const auto hit = from_table(&series, static_cast<double>(m));
    if (!hit) return std::nullopt;
    seconds += hit->first;
    if (hit->second == Rule::kTableInterpolated) rule = Rule::kTableInterpolated;
  }
  return Estimate{core::Time::from_seconds(seconds), rule, work.flops, work.bytes,
                  fmt::format("{} sum of {} expert GEMMs n={} k={} from the GEMM table", name(rule),
                              work.groups.size(), work.gemm.n, work.gemm.k)};
}

double CostModel::shape_factor(const Work& work) const {
  const auto& tiling = profile_.compute.tiling;
  const bool gemm = work.kind == OpKind::kGemm || work.kind == OpKind::kBatchedGemm ||
                    work.kind == OpKind::kGroupedGemm;
  if (!tiling || !gemm || work.flops <= 0) return 1;
  const double tm = static_cast<double>(tiling->tile_m), tn = static_cast<double>(tiling->tile_n);
  const double sms = static_cast<double>(tiling->sms);
  const double depth = static_cast<double>(tiling->split_k_depth);
  // Useful fraction of whole waves: `area` of C computed in `tiles` tiles over a K of `k`,
  // split into as many slices as fill the SMs (each at least `depth` deep).
  const auto useful = [&](double area, double tiles, double k) {
    const double splits = std::max(1.0, std::min(std::floor(sms / tiles), std::floor(k / depth)));
    return splits * area / (std::ceil(tiles * splits / sms) * sms * tm * tn);
  };
  const double k = static_cast<double>(work.gemm.k);
  // The pipeline's fill: (stages - 1) K-steps of 64 before the first is computed.
  constexpr double kStepK = 64;
  const double fill =
      tiling->pipeline_stages > 0 ? static_cast<double>(tiling->pipeline_stages - 1) : 0.0;
  const auto pipelined = [&](double depth_k) {
    const double steps = std::ceil(depth_k / kStepK);
    return steps / (steps + fill);
  };
  const double n = static_cast<double>(work.gemm.n);
  double area = 0, tiles = 0;
  if (work.kind == OpKind::kGroupedGemm) {
    for (const auto m : work.groups) {
      area += static_cast<double>(m) * n;
      tiles += std::ceil(static_cast<double>(m) / tm) * std::ceil(n / tn);
    }
  } else {
    const double m = static_cast<double>(work.gemm.m), batch = static_cast<double>(work.gemm.batch);
    area = batch * m * n;
    tiles = batch * std::ceil(m / tm) * std::ceil(n / tn);
  }
  if (tiles <= 0) return 1;
  const double side = std::cbrt(work.flops / 2);  // the square GEMM of the same FLOPs
  const double square =
      useful(side * side, std::ceil(side / tm) * std::ceil(side / tn), side) * pipelined(side);
  const double splits = std::max(1.0, std::min(std::floor(sms / tiles), std::floor(k / depth)));
  return std::min(1.0, useful(area, tiles, k) * pipelined(k / splits) / square);
}

double CostModel::kernel_efficiency(const Work& work) const {
  double eff = compute_efficiency(work.flops) * shape_factor(work);
  const bool attention = work.kind == OpKind::kAttention || work.kind == OpKind::kAttentionBackward;
  if (attention && profile_.compute.flash) {
    const auto& a = work.attention;
    const auto pass = work.kind == OpKind::kAttention ? FlashPass::kForward : FlashPass::kBackward;
    if (const auto flash = profile_.compute.flash->fraction(a.flash_version, pass, a.causal,
                                                            a.head_dim, a.seq_kv)) {
      eff = *flash;
    }
  } else if (work.dtype == Dtype::kFp8 && profile_.compute.dtype_efficiency.fp8) {
    eff *= *profile_.compute.dtype_efficiency.fp8;
  }
  return eff;
}

Estimate CostModel::roofline(const Work& work) const {
  const double launch = profile_.launch_overhead.seconds();
  double compute = 0, eff_c = 0, memory = 0, eff_m = 0;
  if (work.flops > 0) {
    eff_c = kernel_efficiency(work);
    compute = work.flops / (peak(work) * eff_c);
  }
  if (work.bytes > 0) {
    eff_m = memory_efficiency(work.bytes);
    memory = work.bytes / (profile_.memory.bandwidth.bytes_per_second * eff_m);
  }
  const double body = std::max(compute, memory);
  Rule rule = compute >= memory ? Rule::kComputeBound : Rule::kMemoryBound;
  if (launch >= body) rule = Rule::kLaunchBound;
  std::string detail = fmt::format(
      "{}: {:.4g} GFLOP at {:.3g} of peak -> {}; {:.4g} MB at {:.3g} of {} -> {}; + launch {}",
      name(rule), work.flops / 1e9, eff_c, seconds_text(compute), work.bytes / 1e6, eff_m,
      config::format(profile_.memory.bandwidth), seconds_text(memory),
      config::format(profile_.launch_overhead));
  return Estimate{core::Time::from_seconds(body + launch), rule, work.flops, work.bytes,
                  std::move(detail)};
}

Estimate CostModel::estimate(const Work& work) const {
  switch (work.kind) {
    case OpKind::kGemm:
    case OpKind::kGroupedGemm:
      if (auto e = gemm_from_table(work)) return *e;
      break;
    case OpKind::kAttention: {
      const auto& s = work.attention;
      const auto it = attention_.find(
          std::tuple(s.batch, s.heads, s.head_dim, s.causal, static_cast<int>(work.dtype)));
      if (s.seq_q == s.seq_kv && s.kv_heads == s.heads && it != attention_.end()) {
        if (const auto hit = from_table(&it->second, static_cast<double>(s.seq_q))) {
          return Estimate{
              core::Time::from_seconds(hit->first), hit->second, work.flops, work.bytes,
              fmt::format("{} seq={} from the attention table", name(hit->second), s.seq_q)};
        }
      }
      break;
    }
    default:
      if (memory_bound_kind(work.kind) && !memory_.empty()) {
        if (const auto hit = from_table(&memory_, work.bytes)) {
          return Estimate{core::Time::from_seconds(hit->first), hit->second, work.flops, work.bytes,
                          fmt::format("{} {:.4g} MB from the memory-bound table", name(hit->second),
                                      work.bytes / 1e6)};
        }
      }
  }
  return roofline(work);
}

std::optional<core::Time> CostModel::collective_time(Collective op, double bytes,
                                                     std::int64_t ranks, LinkClass link) const {
  const auto it = collective_.find(std::tuple(static_cast<int>(op), ranks, static_cast<int>(link)));
  if (it == collective_.end()) return std::nullopt;
  const auto hit = from_table(&it->second, bytes);
  if (!hit) return std::nullopt;
  return core::Time::from_seconds(hit->first);
}

}  // namespace moesim::cost
