#include "profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "config/reader.hpp"

namespace moesim::cost {

namespace {

using config::Document;

void check_provenance(const Provenance& p, const Document& doc) {
  if (p.kind == ProvenanceKind::kDerived && p.sources.empty()) {
    throw doc.error_at("provenance.sources",
                       "a derived profile must list the published figures it uses");
  }
  if (p.kind == ProvenanceKind::kMeasured) {
    const std::pair<const char*, const std::string*> required[] = {{"device", &p.device},
                                                                   {"driver", &p.driver},
                                                                   {"cuda", &p.cuda},
                                                                   {"date", &p.date},
                                                                   {"command", &p.command}};
    for (const auto& [key, value] : required) {
      if (value->empty()) {
        throw doc.error_at(std::string("provenance.") + key,
                           fmt::format("a measured profile must record its {}", key));
      }
    }
  }
}

template <class Point, class SizeOf>
void check_curve(const std::vector<Point>& curve, std::string_view path, const Document& doc,
                 SizeOf size_of) {
  if (curve.empty()) throw doc.error_at(path, "needs at least one point");
  for (std::size_t i = 1; i < curve.size(); ++i) {
    if (!(size_of(curve[i]) > size_of(curve[i - 1]))) {
      throw doc.error_at(fmt::format("{}[{}].size", path, i),
                         "sizes must increase from one point to the next");
    }
  }
}

// Within each series (points that differ only in `x`), time must not decrease as x grows.
template <class Point, class SeriesKey, class X>
void check_monotone(const std::vector<Point>& points, std::string_view path, const Document& doc,
                    SeriesKey series_key, X x, std::string_view what) {
  using Key = decltype(series_key(points.front()));
  std::map<Key, std::vector<std::size_t>> series;
  for (std::size_t i = 0; i < points.size(); ++i) series[series_key(points[i])].push_back(i);
  for (auto& [key, indices] : series) {
    std::sort(indices.begin(), indices.end(),
              [&](std::size_t a, std::size_t b) { return x(points[a]) < x(points[b]); });
    for (std::size_t j = 1; j < indices.size(); ++j) {
      const auto& before = points[indices[j - 1]];
      const auto& after = points[indices[j]];
      if (x(before) == x(after)) {
        throw doc.error_at(fmt::format("{}[{}]", path, indices[j]),
                           fmt::format("duplicates entry [{}]", indices[j - 1]));
      }
      if (after.time < before.time) {
        throw doc.error_at(
            fmt::format("{}[{}].time", path, indices[j]),
            fmt::format("{} is less than {} of entry [{}], which is smaller; {} time must not "
                        "decrease as size grows",
                        config::format(after.time), config::format(before.time), indices[j - 1],
                        what));
      }
    }
  }
}

}  // namespace

Profile read_profile(const Document& doc) {
  Profile p = config::read_document<Profile>(doc);
  check_provenance(p.provenance, doc);
  const auto& peak = p.compute.peak;
  if (!peak.bf16 && !peak.fp16 && !peak.fp32 && !peak.fp8) {
    throw doc.error_at("compute.peak", "needs at least one of bf16, fp16, fp32, fp8");
  }
  check_curve(p.compute.efficiency, "compute.efficiency", doc,
              [](const auto& pt) { return pt.size.count; });
  check_curve(p.memory.efficiency, "memory.efficiency", doc,
              [](const auto& pt) { return pt.size.count; });

  if (p.compute.flash) p.compute.flash->check(doc, "compute.flash");
  const auto& t = p.tables;
  check_monotone(
      t.gemm, "tables.gemm", doc,
      [](const GemmPoint& g) { return std::tuple(g.n, g.k, static_cast<int>(g.dtype)); },
      [](const GemmPoint& g) { return g.m; }, "GEMM");
  check_monotone(
      t.memory, "tables.memory", doc, [](const MemoryPoint&) { return 0; },
      [](const MemoryPoint& m) { return m.bytes.count; }, "memory-bound kernel");
  check_monotone(
      t.attention, "tables.attention", doc,
      [](const AttentionPoint& a) {
        return std::tuple(a.batch, a.heads, a.head_dim, a.causal, a.fused,
                          static_cast<int>(a.dtype));
      },
      [](const AttentionPoint& a) { return a.seq; }, "attention");
  check_monotone(
      t.collective, "tables.collective", doc,
      [](const CollectivePoint& c) {
        return std::tuple(static_cast<int>(c.op), c.ranks, static_cast<int>(c.link));
      },
      [](const CollectivePoint& c) { return c.bytes.count; }, "collective");
  return p;
}

Profile load_profile(const std::string& path) {
  return read_profile(config::Document::load_file(path));
}

}  // namespace moesim::cost
