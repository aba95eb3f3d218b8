#include "stream_summary.hpp"

#include <fmt/format.h>

#include "text_table.hpp"

namespace moesim::report {

std::vector<StreamUsage> stream_usage(const core::OpGraph& graph, const core::Timeline& timeline) {
  std::vector<StreamUsage> usage(graph.stream_count());
  for (core::StreamId s = 0; s < graph.stream_count(); ++s) {
    usage[s].rank = graph.stream(s).rank;
    usage[s].stream = std::string(graph.stream_name(s));
  }
  for (core::OpId op = 0; op < timeline.size(); ++op) {
    const auto span = timeline.span(op);
    ++usage[span.stream].ops;
    usage[span.stream].busy += span.end - span.start;
  }
  for (auto& u : usage) u.idle = timeline.end() - u.busy;
  return usage;
}

namespace {
double share(core::Time part, core::Time whole) {
  return whole.count() == 0
             ? 0.0
             : static_cast<double>(part.count()) / static_cast<double>(whole.count());
}
}  // namespace

std::string stream_usage_csv(const std::vector<StreamUsage>& usage, core::Time makespan) {
  std::string out = "rank,stream,ops,busy_ms,idle_ms,busy_share\n";
  for (const auto& u : usage) {
    fmt::format_to(std::back_inserter(out), "{},{},{},{:.6f},{:.6f},{:.4f}\n", u.rank, u.stream,
                   u.ops, u.busy.milliseconds(), u.idle.milliseconds(), share(u.busy, makespan));
  }
  return out;
}

std::string stream_usage_table(const std::vector<StreamUsage>& usage, core::Time makespan) {
  TextTable table({{"rank", 6},
                   {"stream", 12, TextTable::Align::kLeft},
                   {"ops", 8},
                   {"busy [ms]", 12},
                   {"idle [ms]", 12},
                   {"busy", 7}});
  for (const auto& u : usage) {
    table.add_row({fmt::format("{}", u.rank), u.stream, fmt::format("{}", u.ops),
                   fmt::format("{:.3f}", u.busy.milliseconds()),
                   fmt::format("{:.3f}", u.idle.milliseconds()),
                   fmt::format("{:.1f}%", 100.0 * share(u.busy, makespan))});
  }
  return table.render();
}

}  // namespace moesim::report
