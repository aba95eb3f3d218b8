#include "breakdown.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "text_table.hpp"

namespace moesim::report {

namespace {

struct Boundary {
  core::Time at;
  int delta;           // +1 start, -1 end
  std::uint8_t which;  // category
};

}  // namespace

Breakdown breakdown(const core::OpGraph& graph, const core::Timeline& timeline,
                    std::span<const std::uint8_t> category, std::vector<CategoryInfo> categories) {
  Breakdown b;
  b.categories = std::move(categories);
  b.makespan = timeline.end();
  const auto nc = b.categories.size();
  const auto ranks = graph.rank_count();
  b.ranks.resize(ranks);
  std::vector<std::vector<Boundary>> bounds(ranks);
  for (core::RankId r = 0; r < ranks; ++r) {
    auto& rb = b.ranks[r];
    rb.rank = r;
    rb.end = core::Time::zero();
    rb.busy.assign(nc, core::Time::zero());
    rb.exposed.assign(nc, core::Time::zero());
    rb.compute = core::Time::zero();
    rb.host = core::Time::zero();
  }
  for (core::OpId op = 0; op < graph.op_count(); ++op) {
    const auto r = graph.op_rank(op);
    const auto span = timeline.span(op);
    const auto c = category[op];
    auto& rb = b.ranks[r];
    rb.end = std::max(rb.end, span.end);
    rb.busy[c] += span.end - span.start;
    if (span.end > span.start) {
      bounds[r].push_back({span.start, +1, c});
      bounds[r].push_back({span.end, -1, c});
    }
  }
  std::vector<int> active(nc);
  for (core::RankId r = 0; r < ranks; ++r) {
    auto& rb = b.ranks[r];
    auto& bs = bounds[r];
    // Ends before starts at the same instant: back-to-back ops leave no gap.
    std::sort(bs.begin(), bs.end(), [](const Boundary& x, const Boundary& y) {
      return x.at != y.at ? x.at < y.at : x.delta < y.delta;
    });
    std::fill(active.begin(), active.end(), 0);
    int computing = 0;
    for (std::size_t i = 0; i < bs.size(); ++i) {
      const auto c = bs[i].which;
      active[c] += bs[i].delta;
      const auto& info = b.categories[c];
      if (!info.communication && !info.host) computing += bs[i].delta;
      if (i + 1 == bs.size() || computing > 0) continue;
      const auto gap = bs[i + 1].at - bs[i].at;
      if (gap <= core::Time::zero()) continue;
      for (std::size_t k = 0; k < nc; ++k) {
        if (b.categories[k].communication && active[k] > 0) {
          rb.exposed[k] += gap;
          break;
        }
      }
    }
    core::Time exposed = core::Time::zero();
    for (std::size_t k = 0; k < nc; ++k) {
      if (b.categories[k].host) {
        rb.host += rb.busy[k];
      } else if (!b.categories[k].communication) {
        rb.compute += rb.busy[k];
      }
      exposed += rb.exposed[k];
    }
    rb.idle = b.makespan - rb.compute - exposed;
    if (rb.end > b.ranks[b.critical].end) b.critical = r;
  }
  return b;
}

std::string breakdown_csv(const Breakdown& b) {
  std::string out = "rank,end_ms,compute_ms,idle_ms";
  for (const auto& c : b.categories) out += fmt::format(",{}_ms", c.name);
  for (const auto& c : b.categories) {
    if (c.communication) out += fmt::format(",{}_exposed_ms", c.name);
  }
  out += '\n';
  for (const auto& r : b.ranks) {
    out += fmt::format("{},{:.6f},{:.6f},{:.6f}", r.rank, r.end.milliseconds(),
                       r.compute.milliseconds(), r.idle.milliseconds());
    for (const auto& t : r.busy) out += fmt::format(",{:.6f}", t.milliseconds());
    for (std::size_t k = 0; k < b.categories.size(); ++k) {
      if (b.categories[k].communication) out += fmt::format(",{:.6f}", r.exposed[k].milliseconds());
    }
    out += '\n';
  }
  return out;
}

std::string breakdown_table(const Breakdown& b) {
  const auto& crit = b.critical_rank();
  const double n = static_cast<double>(std::max<std::size_t>(b.ranks.size(), 1));
  TextTable table({{"category", 14, TextTable::Align::kLeft},
                   {fmt::format("rank {} [ms]", crit.rank), 14},
                   {"exposed", 12},
                   {"mean [ms]", 14},
                   {"exposed", 12}});
  const auto ms = [](double milliseconds) { return fmt::format("{:.3f}", milliseconds); };
  for (std::size_t k = 0; k < b.categories.size(); ++k) {
    double mean = 0, mean_exposed = 0;
    for (const auto& r : b.ranks) {
      mean += r.busy[k].milliseconds() / n;
      mean_exposed += r.exposed[k].milliseconds() / n;
    }
    if (crit.busy[k] == core::Time::zero() && mean == 0) continue;
    const bool comm = b.categories[k].communication;
    table.add_row({b.categories[k].name, ms(crit.busy[k].milliseconds()),
                   comm ? ms(crit.exposed[k].milliseconds()) : "", ms(mean),
                   comm ? ms(mean_exposed) : ""});
  }
  double mean_compute = 0, mean_idle = 0;
  for (const auto& r : b.ranks) {
    mean_compute += r.compute.milliseconds() / n;
    mean_idle += r.idle.milliseconds() / n;
  }
  table.add_row({"compute total", ms(crit.compute.milliseconds()), "", ms(mean_compute), ""});
  table.add_row({"idle", ms(crit.idle.milliseconds()), "", ms(mean_idle), ""});
  return table.render();
}

}  // namespace moesim::report
