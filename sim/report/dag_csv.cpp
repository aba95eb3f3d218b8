#include "dag_csv.hpp"

#include <fmt/format.h>

#include <iterator>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "timeline_csv.hpp"

namespace moesim::report {

namespace {

// Each op's name on its rank, made unique there: the second op of a name is "<name>#2".
std::vector<std::string> unique_names(const core::OpGraph& graph) {
  std::vector<std::string> names(graph.op_count());
  std::map<std::pair<core::RankId, std::string_view>, int> seen;
  for (core::OpId op = 0; op < graph.op_count(); ++op) {
    const auto name = graph.op_name(op);
    const int n = ++seen[{graph.op_rank(op), name}];
    names[op] = n == 1 ? std::string(name) : fmt::format("{}#{}", name, n);
  }
  return names;
}

}  // namespace

std::string dag_csv(const core::OpGraph& graph, const std::function<DagRow(core::OpId)>& row) {
  const auto names = unique_names(graph);
  const auto from = [&](core::OpId op, core::RankId rank) {
    return graph.op_rank(op) == rank ? names[op]
                                     : fmt::format("r{}/{}", graph.op_rank(op), names[op]);
  };
  constexpr auto kNoRank = std::numeric_limits<core::RankId>::max();  // named with its rank
  std::string out = "rank,stream,name,category,duration_ps,work,gang,prerequisites\n";
  for (core::OpId op = 0; op < graph.op_count(); ++op) {
    const auto r = row(op);
    const auto rank = graph.op_rank(op);
    std::string pre;
    for (const auto p : graph.prerequisites(op)) {
      fmt::format_to(std::back_inserter(pre), "{}{}", pre.empty() ? "" : ";", from(p, rank));
    }
    const auto gang = graph.op_gang(op);
    const std::string first =
        gang == core::kNoId ? "" : from(graph.gang_members(gang).front(), kNoRank);
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{}\n", rank,
                   csv_field(graph.stream_name(graph.op_stream(op))), csv_field(names[op]),
                   csv_field(r.category), r.duration_ps, csv_field(r.work), csv_field(first),
                   csv_field(pre));
  }
  return out;
}

}  // namespace moesim::report
