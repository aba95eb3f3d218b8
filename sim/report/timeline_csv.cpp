#include "timeline_csv.hpp"

#include <fmt/format.h>

namespace moesim::report {

std::string op_labels_text(const core::OpGraph& graph, core::OpId op) {
  std::string labels;
  for (const auto id : graph.op_labels(op)) {
    if (!labels.empty()) labels += ';';
    labels += graph.label(id);
  }
  return labels;
}

std::string timeline_csv(const core::OpGraph& graph, const core::Timeline& timeline) {
  std::string out = "op,rank,stream,name,labels,start_ps,end_ps\n";
  for (core::OpId op = 0; op < timeline.size(); ++op) {
    const auto span = timeline.span(op);
    const auto labels = op_labels_text(graph, span.op);
    fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{}\n", span.op, span.rank,
                   csv_field(graph.stream_name(span.stream)), csv_field(graph.op_name(span.op)),
                   csv_field(labels), span.start.count(), span.end.count());
  }
  return out;
}

}  // namespace moesim::report
