#pragma once
// The op DAG as CSV, one row per op in op-id order (the order the workload created them), for
// diffing two runs' programs:
//   op,rank,stream,name,category,duration_ps,call,prerequisites
// `call` is the collective call an op belongs to (empty for compute), `prerequisites` the ops
// it waits for, space-separated. Durations are integers in picoseconds (0 where the network
// decides), so the file is byte-identical across identical runs.
#include <cstdint>
#include <functional>
#include <string>

#include "core/op_graph.hpp"

namespace moesim::report {

struct DagRow {
  std::string category;
  std::int64_t duration_ps = 0;
  std::string call;
};

std::string dag_csv(const core::OpGraph& graph, const std::function<DagRow(core::OpId)>& row);

}  // namespace moesim::report
