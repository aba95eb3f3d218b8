#pragma once
// The op DAG as CSV, one row per op in op-id order (the order the workload created them), for
// diffing two runs' programs with any line diff:
//   rank,stream,name,category,duration_ps,work,gang,prerequisites
// No row holds an op id, so an op added or removed in one run changes its own row and the rows
// that wait for it, not every row after it. An op is named by its name on its own rank and, from
// another rank's row, by r<rank>/<name>; a name that repeats on a rank gets #2, #3, ... from its
// second op on. `work` says what the op does (the caller's words: kernels and cost rule, or the
// collective and its bytes). `gang` is the first op of the gang (collective call) it belongs to, as
// r<rank>/<name>, empty for ops in no gang; `prerequisites` the ops it waits for, separated by
// ';'. Durations are integers in picoseconds (0 where the network decides), so the file is
// byte-identical across identical runs.
#include <cstdint>
#include <functional>
#include <string>

#include "core/op_graph.hpp"

namespace moesim::report {

struct DagRow {
  std::string category;
  std::int64_t duration_ps = 0;
  std::string work;
};

std::string dag_csv(const core::OpGraph& graph, const std::function<DagRow(core::OpId)>& row);

}  // namespace moesim::report
