#pragma once
// The timeline as a Chrome/Perfetto JSON trace (ui.perfetto.dev opens it): one process per rank,
// one thread per stream, one complete event ("ph":"X") per op with its labels and args.
#include <string>

#include "core/op_graph.hpp"
#include "core/timeline.hpp"

namespace moesim::report {

std::string chrome_trace_json(const core::OpGraph& graph, const core::Timeline& timeline);

}  // namespace moesim::report
