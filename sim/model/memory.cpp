#include "memory.hpp"

#include "cost/work.hpp"

namespace moesim::model {

MemoryFloor memory_floor(const Study& study, const Workload& workload) {
  const double elem = cost::bytes_per_element(study.model.dtype);
  // What a rank keeps of a part that this stage shards from `stage` on.
  const auto kept = [&](std::int64_t stage) {
    return workload.parameters_held(study.mode == Mode::kTrain && study.training.zero >= stage);
  };
  MemoryFloor m;
  m.weights = kept(kZeroWeights) * elem;
  if (study.mode == Mode::kTrain) {
    m.zero = study.training.zero;
    m.gradients = kept(kZeroGradients) * cost::bytes_per_element(gradient_dtype(study));
    m.optimizer = kept(kZeroOptimizerStates) * cost::work::kAdamFp32StatesPerParameter *
                  cost::work::kFp32Bytes;
    if (study.training.zero >= kZeroWeights) {
      m.gathered = workload.largest_gather_beyond_shard * elem;
    }
  } else {
    m.kv_cache = workload.kv_cache_bytes_per_rank;
  }
  return m;
}

}  // namespace moesim::model
