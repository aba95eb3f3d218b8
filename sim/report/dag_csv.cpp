#include "dag_csv.hpp"

#include <fmt/format.h>

#include <iterator>

#include "timeline_csv.hpp"

namespace moesim::report {

std::string dag_csv(const core::OpGraph& graph, const std::function<DagRow(core::OpId)>& row) {
  std::string out = "op,rank,stream,name,category,duration_ps,call,prerequisites\n";
  for (core::OpId op = 0; op < graph.op_count(); ++op) {
    const auto r = row(op);
    std::string pre;
    for (const auto p : graph.prerequisites(op)) {
      fmt::format_to(std::back_inserter(pre), "{}{}", pre.empty() ? "" : " ", p);
    }
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{}\n", op, graph.op_rank(op),
                   csv_field(graph.stream_name(graph.op_stream(op))), csv_field(graph.op_name(op)),
                   csv_field(r.category), r.duration_ps, r.call, pre);
  }
  return out;
}

}  // namespace moesim::report
