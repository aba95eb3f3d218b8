#pragma once
// Device memory a run needs at least, per GPU: what any implementation of the workload must
// hold. Training: the weights and their gradients in the model's dtype and Adam's fp32 states
// (master weight, two moments), each divided over its data-parallel group where the ZeRO stage
// (training.zero) shards it; at stage 3, also the largest block's weights gathered whole for
// its pass. Inference: the weights and the KV cache at the last decode step. Activations,
// temporary buffers (the next block prefetched at stage 3, a bucket being reduced), the
// communication library's and the framework's own memory are not counted, so a run can fail
// to fit even when this fits.
#include "workload.hpp"

namespace moesim::model {

struct MemoryFloor {
  double weights = 0;     // bytes
  double gradients = 0;   // bytes (training)
  double optimizer = 0;   // bytes (training)
  double kv_cache = 0;    // bytes (inference)
  double gathered = 0;    // bytes (ZeRO-3): the largest block gathered, beyond the rank's shard
  std::int64_t zero = 0;  // the ZeRO stage counted (training)
  double total() const { return weights + gradients + optimizer + kv_cache + gathered; }
};

MemoryFloor memory_floor(const Study& study, const Workload& workload);

}  // namespace moesim::model
