#include "memory.hpp"

#include "cost/work.hpp"

namespace moesim::model {

MemoryFloor memory_floor(const Study& study, const Workload& workload) {
  const double elem = cost::bytes_per_element(study.model.dtype);
  const double dense = workload.dense_parameters_per_rank;
  const double expert = workload.expert_parameters_per_rank;
  // A rank's share of its parameters when ZeRO shards what this stage shards.
  const auto kept = [&](std::int64_t stage) {
    if (study.mode != Mode::kTrain || study.training.zero < stage) return dense + expert;
    return dense / workload.dense_dp_group + expert / workload.expert_dp_group;
  };
  MemoryFloor m;
  m.weights = kept(kZeroWeights) * elem;
  if (study.mode == Mode::kTrain) {
    m.zero = study.training.zero;
    m.gradients = kept(kZeroGradients) * elem;
    m.optimizer = kept(kZeroOptimizerStates) * cost::work::kAdamFp32StatesPerParameter *
                  cost::work::kFp32Bytes;
  } else {
    m.kv_cache = workload.kv_cache_bytes_per_rank;
  }
  return m;
}

}  // namespace moesim::model
