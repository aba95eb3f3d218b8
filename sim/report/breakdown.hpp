#pragma once
// Where the time went, per rank, by op category: compute busy time per compute category;
// communication busy time per communication category, split into hidden (the rank's compute
// was running) and exposed (its compute stream had nothing to run); idle (neither).
// Exposed time is charged to one category at a time, in the order the categories are listed
// (the first listed wins when two exchanges leave compute waiting at once).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/op_graph.hpp"
#include "core/timeline.hpp"

namespace moesim::report {

struct CategoryInfo {
  std::string name;
  bool communication = false;
  bool host = false;  // the CPU issuing work: neither GPU compute nor communication
};

struct RankBreakdown {
  core::RankId rank = 0;
  core::Time end;                   // when its last op finished
  std::vector<core::Time> busy;     // by category
  std::vector<core::Time> exposed;  // by category (communication only; zero for compute)
  core::Time compute;               // sum of compute busy
  core::Time idle;                  // makespan - compute - exposed communication
  core::Time host;                  // sum of host busy (issuing kernels)
};

struct Breakdown {
  std::vector<CategoryInfo> categories;
  std::vector<RankBreakdown> ranks;
  core::Time makespan;
  core::RankId critical = 0;  // the rank that finished last (lowest id on ties)
  const RankBreakdown& critical_rank() const { return ranks[critical]; }
};

// `category[op]` indexes `categories`.
Breakdown breakdown(const core::OpGraph& graph, const core::Timeline& timeline,
                    std::span<const std::uint8_t> category, std::vector<CategoryInfo> categories);

// rank,end_ms,compute_ms,idle_ms, then <category>_ms for each and <category>_exposed_ms for
// the communication ones. Fixed precision: byte-identical for identical runs.
std::string breakdown_csv(const Breakdown& b);
// The critical rank's breakdown and the mean over ranks, as a table for the terminal.
std::string breakdown_table(const Breakdown& b);

}  // namespace moesim::report
