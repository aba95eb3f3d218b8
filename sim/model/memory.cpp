#include "memory.hpp"

#include "cost/work.hpp"

namespace moesim::model {

MemoryFloor memory_floor(const Study& study, const Workload& workload) {
  const double elem = cost::bytes_per_element(study.model.dtype);
  const double parameters = workload.parameters_per_rank;
  MemoryFloor m;
  m.weights = parameters * elem;
  if (study.mode == Mode::kTrain) {
    m.gradients = parameters * elem;
    m.optimizer = parameters * cost::work::kAdamFp32StatesPerParameter * cost::work::kFp32Bytes;
  } else {
    m.kv_cache = workload.kv_cache_bytes_per_rank;
  }
  return m;
}

}  // namespace moesim::model
