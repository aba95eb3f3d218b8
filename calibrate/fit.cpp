#include "fit.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "config/enum_name.hpp"
#include "core/error.hpp"
#include "cost/cost_model.hpp"
#include "cost/work.hpp"

namespace moesim::calibrate {

namespace {

using cost::Dtype;

// Efficiency and size bins are a factor of 4 wide: about the spacing of the shipped curves.
constexpr double kBinFactor = 4;
// CUTLASS's and cuBLAS's common 16-bit tile on Ampere and Hopper, assumed for the shape factor;
// four 64-deep K steps per slice of a split K.
constexpr std::int64_t kTile = 128;
constexpr std::int64_t kSplitKDepth = 256;
// Times are stored in picoseconds; a measured time is never below one.
constexpr double kLeastSeconds = 1e-12;

Dtype dtype_of(const std::string& name) {
  if (const auto d = config::enum_from_name<Dtype>(name)) return *d;
  throw Error(fmt::format("calibration: unknown dtype '{}'", name));
}

// The time a kernel's work took beyond its launch.
double busy(double seconds, double launch) {
  return std::max(seconds - launch, kLeastSeconds);
}

// Fitted values are kept to four significant digits: the measurements' own spread is larger.
double rounded(double v) {
  if (!(v > 0)) return v;
  const double scale = std::pow(10.0, 3 - std::floor(std::log10(v)));
  return std::round(v * scale) / scale;
}

core::Time time_of(double seconds) {
  return core::Time::from_seconds(std::max(seconds, kLeastSeconds));
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <class Point, class SizeOf>
std::vector<Point> to_curve(const std::vector<std::pair<double, double>>& bins, SizeOf make) {
  std::vector<Point> out;
  for (const auto& [size, fraction] : bins) {
    Point p;
    p.size = make(rounded(size));
    p.fraction = rounded(std::clamp(fraction, 1e-6, 1.0));
    out.push_back(p);
  }
  return out;
}

}  // namespace

std::vector<std::pair<double, double>> binned_monotone(
    std::vector<std::pair<double, double>> points, double factor) {
  std::map<long, std::vector<std::pair<double, double>>> bins;
  for (const auto& p : points) {
    if (!(p.first > 0)) throw Error("binned_monotone: sizes must be positive");
    bins[std::lround(std::floor(std::log(p.first) / std::log(factor)))].push_back(p);
  }
  struct Block {
    double log_size_sum = 0, value = 0, weight = 0;
    int bins = 0;
  };
  std::vector<Block> blocks;  // pooled runs of bins, sizes in order
  std::vector<std::pair<double, double>> centres;
  for (const auto& [bin, members] : bins) {
    double log_sum = 0;
    std::vector<double> values;
    for (const auto& [size, value] : members) {
      log_sum += std::log(size);
      values.push_back(value);
    }
    const auto n = static_cast<double>(members.size());
    centres.emplace_back(std::exp(log_sum / n), median_of(values));
    blocks.push_back({0, median_of(values), n, 1});
    // Pool adjacent violators: merge backwards while a block is below the one before it.
    while (blocks.size() > 1 && blocks[blocks.size() - 2].value > blocks.back().value) {
      const Block b = blocks.back();
      blocks.pop_back();
      Block& a = blocks.back();
      a.value = (a.value * a.weight + b.value * b.weight) / (a.weight + b.weight);
      a.weight += b.weight;
      a.bins += b.bins;
    }
  }
  std::vector<std::pair<double, double>> out;
  std::size_t i = 0;
  for (const auto& b : blocks) {
    for (int j = 0; j < b.bins; ++j, ++i) out.emplace_back(centres[i].first, b.value);
  }
  return out;
}

std::vector<std::pair<double, double>> monotone_envelope(
    std::vector<std::pair<double, double>> points) {
  std::sort(points.begin(), points.end());
  double least = INFINITY;
  for (auto it = points.rbegin(); it != points.rend(); ++it) {
    least = std::min(least, it->second);
    it->second = least;
  }
  return points;
}

std::vector<cost::Work> works_of(const Measurement& m) {
  namespace w = cost::work;
  const Dtype fp32 = Dtype::kFp32;
  if (m.op == "gemm") return {w::gemm(m.m, m.n, m.k, dtype_of(m.dtype))};
  if (m.op == "copy") return {w::memcpy(static_cast<std::int64_t>(m.bytes / 2))};
  if (m.op == "launch") return {cost::Work{cost::OpKind::kElementwise, fp32, 0, 0, {}, {}, {}, {}}};
  if (m.op == "layer_norm") return {w::layer_norm(m.m, m.n, fp32)};
  if (m.op == "gelu") return {w::activation(m.m, false, fp32)};
  if (m.op == "softmax") return {w::softmax(m.m, m.n, fp32, fp32)};
  if (m.op == "attention") {  // scores materialised: QK^T, softmax, PV
    const std::int64_t groups = m.batch * m.m, seq = m.n, dim = m.k;
    return {w::batched_gemm(groups, seq, seq, dim, fp32), w::softmax(groups * seq, seq, fp32, fp32),
            w::batched_gemm(groups, seq, dim, seq, fp32)};
  }
  if (m.op == "gate") return {w::gating(m.m, m.n, m.k, fp32)};
  if (m.op == "permute") return {w::permute(m.m, m.n / 2, Dtype::kBf16)};  // bf16 rows of n bytes
  if (m.op == "combine") return {w::elementwise(m.m * m.n, static_cast<int>(m.k), 1, fp32)};
  if (m.op == "lsh") return {w::lsh_hash(m.m, m.n, m.k, false, fp32)};
  return {};
}

namespace {

std::vector<Measurement> only(const std::vector<Measurement>& measurements, std::string_view op) {
  std::vector<Measurement> out;
  for (const auto& m : measurements) {
    if (m.op == op) out.push_back(m);
  }
  return out;
}

void set_peak(cost::PeakThroughput& peak, Dtype dtype, config::FlopRate rate) {
  switch (dtype) {
    case Dtype::kBf16:
      peak.bf16 = rate;
      break;
    case Dtype::kFp16:
      peak.fp16 = rate;
      break;
    case Dtype::kFp32:
      peak.fp32 = rate;
      break;
    case Dtype::kFp8:
      peak.fp8 = rate;
      break;
  }
}

}  // namespace

cost::MemorySpec fit_memory(const std::vector<Measurement>& copies, double launch) {
  if (copies.empty()) throw Error("calibration: no copy measurements to fit memory bandwidth to");
  double bandwidth = 0;
  for (const auto& m : copies)
    bandwidth = std::max(bandwidth, m.bytes / busy(m.time.median, launch));
  std::vector<std::pair<double, double>> points;
  for (const auto& m : copies) {
    points.emplace_back(m.bytes, m.bytes / busy(m.time.median, launch) / bandwidth);
  }
  cost::MemorySpec memory;
  memory.bandwidth = config::Bandwidth{rounded(bandwidth)};
  memory.efficiency = to_curve<cost::MemoryEfficiencyPoint>(
      binned_monotone(points, kBinFactor), [](double s) { return config::Bytes{std::llround(s)}; });
  return memory;
}

cost::ComputeSpec fit_compute(const std::vector<Measurement>& gemms, double launch,
                              std::int64_t sms) {
  if (gemms.empty()) throw Error("calibration: no GEMM measurements to fit compute to");
  std::map<Dtype, double> peak;
  for (const auto& m : gemms) {
    auto& best = peak[dtype_of(m.dtype)];
    best = std::max(best, m.flops / busy(m.time.median, launch));
  }
  cost::ComputeSpec compute;
  for (const auto& [dtype, rate] : peak)
    set_peak(compute.peak, dtype, config::FlopRate{rounded(rate)});
  if (sms > 0) compute.tiling = cost::GemmTiling{sms, kTile, kTile, kSplitKDepth, 0};
  // The curve is of square-equivalent GEMMs: each point's efficiency over its shape factor,
  // which needs a cost model (any curve will do for it).
  const Dtype reference = peak.count(Dtype::kBf16) ? Dtype::kBf16 : peak.begin()->first;
  cost::Profile shapes_only;
  shapes_only.compute = compute;
  shapes_only.compute.efficiency = {{config::Flops{1}, 1.0}};
  shapes_only.memory.bandwidth = config::Bandwidth{1};
  shapes_only.memory.efficiency = {{config::Bytes{1}, 1.0}};
  const cost::CostModel shapes(shapes_only);
  std::vector<std::pair<double, double>> points;
  for (const auto& m : gemms) {
    if (dtype_of(m.dtype) != reference) continue;
    const double achieved = m.flops / busy(m.time.median, launch) / peak[reference];
    points.emplace_back(m.flops,
                        achieved / shapes.shape_factor(cost::work::gemm(m.m, m.n, m.k, reference)));
  }
  compute.efficiency = to_curve<cost::ComputeEfficiencyPoint>(
      binned_monotone(points, kBinFactor), [](double s) { return config::Flops{s}; });
  return compute;
}

cost::Tables fit_tables(const std::vector<Measurement>& measurements,
                        std::vector<std::string>& notes) {
  cost::Tables t;
  std::map<std::tuple<std::int64_t, std::int64_t, Dtype>, std::vector<std::pair<double, double>>>
      gemm;
  std::vector<std::pair<double, double>> memory;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>,
           std::vector<std::pair<double, double>>>
      attention;
  std::map<std::tuple<std::string, int, std::string>, std::vector<std::pair<double, double>>>
      collective;
  for (const auto& m : measurements) {
    if (m.op == "gemm") {
      gemm[{m.n, m.k, dtype_of(m.dtype)}].emplace_back(static_cast<double>(m.m), m.time.median);
    } else if (m.op == "copy") {
      memory.emplace_back(m.bytes, m.time.median);
    } else if (m.op == "attention") {
      attention[{m.batch, m.m, m.k}].emplace_back(static_cast<double>(m.n), m.time.median);
    } else if (is_collective(m.op)) {
      collective[{m.op, m.ranks, m.link}].emplace_back(m.bytes, m.time.median);
    }
  }
  for (const auto& [key, points] : gemm) {
    for (const auto& [rows, seconds] : monotone_envelope(points)) {
      t.gemm.push_back({static_cast<std::int64_t>(rows), std::get<0>(key), std::get<1>(key),
                        std::get<2>(key), time_of(seconds)});
    }
  }
  for (const auto& [bytes, seconds] : monotone_envelope(memory)) {
    t.memory.push_back({config::Bytes{std::llround(bytes)}, time_of(seconds)});
  }
  for (const auto& [key, points] : attention) {
    for (const auto& [seq, seconds] : monotone_envelope(points)) {
      cost::AttentionPoint a;
      a.batch = std::get<0>(key);
      a.heads = std::get<1>(key);
      a.head_dim = std::get<2>(key);
      a.seq = static_cast<std::int64_t>(seq);
      a.causal = true;
      a.fused = false;
      a.dtype = Dtype::kFp32;
      a.time = time_of(seconds);
      t.attention.push_back(a);
    }
  }
  for (const auto& [key, points] : collective) {
    const auto op = config::enum_from_name<cost::Collective>(std::get<0>(key));
    const auto link = config::enum_from_name<cost::LinkClass>(std::get<2>(key));
    if (!op || !link) {
      notes.push_back(fmt::format("collective {} over link '{}' left out of the table",
                                  std::get<0>(key), std::get<2>(key)));
      continue;
    }
    for (const auto& [bytes, seconds] : monotone_envelope(points)) {
      t.collective.push_back(
          {*op, config::Bytes{std::llround(bytes)}, std::get<1>(key), *link, time_of(seconds)});
    }
  }
  return t;
}

ProfileFit fit_profile(const std::vector<Measurement>& measurements, const FitInputs& in) {
  ProfileFit fit;
  cost::Profile& p = fit.profile;
  p.name = in.name;
  p.provenance = in.provenance;
  p.provenance.kind = cost::ProvenanceKind::kMeasured;
  for (const auto& note : in.notes) {
    p.provenance.notes += (p.provenance.notes.empty() ? "" : " ") + note;
  }

  double launch = 0;
  const auto launches = only(measurements, "launch");
  if (launches.empty()) {
    fit.notes.push_back("no empty-kernel measurement: launch overhead 0");
  } else {
    std::vector<double> t;
    for (const auto& m : launches) t.push_back(m.time.median);
    launch = median_of(t);
  }
  p.launch_overhead = core::Time::from_seconds(launch);
  p.memory = fit_memory(only(measurements, "copy"), launch);
  if (in.memory_capacity_bytes) {
    p.memory.capacity = config::Bytes{static_cast<std::int64_t>(*in.memory_capacity_bytes)};
  }
  p.compute = fit_compute(only(measurements, "gemm"), launch, in.sms);
  p.tables = fit_tables(measurements, fit.notes);

  // Residuals: each case priced with the tables and by the curves alone.
  const cost::CostModel with_tables(p);
  cost::Profile curves = p;
  curves.tables = {};
  const cost::CostModel curves_only(curves);
  const auto price = [](const cost::CostModel& model,
                        const std::vector<cost::Work>& works) -> std::optional<double> {
    if (works.empty()) return std::nullopt;
    double total = 0;
    try {
      for (const auto& w : works) total += model.estimate(w).time.seconds();
    } catch (const Error&) {
      return std::nullopt;  // a dtype the profile has no peak for
    }
    return total;
  };
  for (const auto& m : measurements) {
    if (is_collective(m.op)) continue;
    const auto works = works_of(m);
    fit.residuals.push_back({m, price(with_tables, works), price(curves_only, works)});
  }
  return fit;
}

}  // namespace moesim::calibrate
