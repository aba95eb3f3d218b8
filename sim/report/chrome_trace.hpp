#pragma once
// The timeline as a Chrome/Perfetto JSON trace (ui.perfetto.dev opens it): one process per rank,
// one thread per stream, one complete event ("ph":"X") per op with its labels and args.
#include <span>
#include <string>

#include "core/op_graph.hpp"
#include "core/timeline.hpp"
#include "net/link_loads.hpp"

namespace moesim::report {

// With `links`, a process "links" after the ranks holds a counter track per link: its
// throughput as a percentage of its capacity over time.
std::string chrome_trace_json(const core::OpGraph& graph, const core::Timeline& timeline,
                              std::span<const net::LinkLoad> links = {});

}  // namespace moesim::report
