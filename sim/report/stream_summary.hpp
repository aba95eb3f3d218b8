#pragma once
// Where the time went, per stream: busy time, idle time and op count over the run's makespan.
#include <string>
#include <vector>

#include "core/op_graph.hpp"
#include "core/timeline.hpp"

namespace moesim::report {

struct StreamUsage {
  core::RankId rank;
  std::string stream;
  std::size_t ops = 0;
  core::Time busy = core::Time::zero();
  core::Time idle = core::Time::zero();  // makespan - busy
};

std::vector<StreamUsage> stream_usage(const core::OpGraph& graph, const core::Timeline& timeline);

// rank,stream,ops,busy_ms,idle_ms,busy_share (fixed precision, deterministic).
std::string stream_usage_csv(const std::vector<StreamUsage>& usage, core::Time makespan);
// A fixed-width table for the terminal.
std::string stream_usage_table(const std::vector<StreamUsage>& usage, core::Time makespan);

}  // namespace moesim::report
