#pragma once
// The timeline as CSV, one row per op in op-id order (the order the workload created them):
//   op,rank,stream,name,labels,start_ps,end_ps
// Times are integers in picoseconds, so the file is byte-identical across identical runs.
#include <string>

#include "csv.hpp"

#include "core/op_graph.hpp"
#include "core/timeline.hpp"

namespace moesim::report {

std::string timeline_csv(const core::OpGraph& graph, const core::Timeline& timeline);

// An op's labels, ';'-separated.
std::string op_labels_text(const core::OpGraph& graph, core::OpId op);

}  // namespace moesim::report
