#pragma once
// Sizes checked before anything is built, so that no count a user writes can overflow the
// builder's arithmetic or make a run that cannot finish: every product of user counts is formed
// in long double and compared with what the builder and the engine represent, and the op graph
// the study would build is estimated (a lower bound) against `limits.ops`. Each refusal names
// the keys that set the size, the estimate and the limit.
#include <cstdint>

#include "config/check.hpp"
#include "workload.hpp"

namespace moesim::model {

// Throws config::ConfigError naming the key(s). `cluster_gpus`: the GPUs the cluster has.
void check_sizes(const Study& study, std::int64_t cluster_gpus);

// A lower bound on the ops a study builds: ranks x passes x blocks x (ops a block makes at
// least), with micro-batches, decode steps and pipelining chunks. In long double (it may be
// astronomically large).
long double estimated_ops(const Study& study);

}  // namespace moesim::model
