#include "dispatcher.hpp"

namespace moesim::model {

namespace {
constexpr std::int64_t kFp8ScaleBlock = 128;  // elements sharing one fp32 scale
constexpr double kFp8ScaleBytes = 4;
}  // namespace

double exchanged_row_bytes(std::int64_t width, cost::Dtype dtype) {
  double bytes = static_cast<double>(width) * cost::bytes_per_element(dtype);
  if (dtype == cost::Dtype::kFp8) {
    bytes += kFp8ScaleBytes * static_cast<double>((width + kFp8ScaleBlock - 1) / kFp8ScaleBlock);
  }
  return bytes;
}

namespace work = cost::work;

namespace {
// Megatron-Core's argsort runs over the flattened bool routing map with int64 indices.
constexpr int kRoutingMapKeyBytes = 1;
constexpr int kIndexBytes = 8;

// The slots of GShard-style gating: a one-hot and cumsum for each of the k choices.
void locations(Kernels& k, const DispatchShape& s) {
  for (std::int64_t i = 0; i < s.k; ++i)
    k.forward.push_back(work::one_hot_cumsum(s.tokens, s.experts));
}
}  // namespace

Kernels permutation(const DispatcherImplementation& d, const DispatchShape& s) {
  Kernels k;
  const auto gather = work::permute(s.rows, s.width, s.dtype);
  switch (d.permutation) {
    case Permutation::kGather:
      k.forward.push_back(gather);
      k.backward.push_back(gather);
      break;
    case Permutation::kSort:
      k.forward.push_back(work::sort(s.tokens * s.experts, kRoutingMapKeyBytes, kIndexBytes));
      k.forward.push_back(gather);
      k.backward.push_back(gather);
      break;
    case Permutation::kOneHot:
      locations(k, s);
      k.forward.push_back(gather);
      k.backward.push_back(gather);
      break;
    case Permutation::kEinsum: {
      locations(k, s);
      const auto slots = s.experts * s.capacity;
      k.forward.push_back(work::elementwise(s.tokens * slots, 0, 1, s.dtype));  // the mask
      k.forward.push_back(work::gemm(slots, s.width, s.tokens, s.dtype));       // sec,sm->ecm
      k.backward.push_back(work::gemm(s.tokens, s.width, slots, s.dtype));
      break;
    }
    case Permutation::kScatter: {
      locations(k, s);
      const auto buffer = s.experts * s.capacity * s.width;
      k.forward.push_back(work::zero_fill(static_cast<std::int64_t>(
          static_cast<double>(buffer) * cost::bytes_per_element(s.dtype))));
      k.forward.push_back(work::permute(s.tokens * s.k, s.width, s.dtype));
      k.backward.push_back(work::permute(s.tokens * s.k, s.width, s.dtype));
      break;
    }
  }
  return k;
}

Kernels unpermutation(const DispatcherImplementation& d, const DispatchShape& s) {
  Kernels k;
  switch (d.permutation) {
    case Permutation::kGather:
    case Permutation::kSort:
    case Permutation::kOneHot:
      k.forward.push_back(work::permute(s.rows, s.width, s.dtype));
      k.backward.push_back(work::permute(s.rows, s.width, s.dtype));
      break;
    case Permutation::kEinsum: {
      const auto slots = s.experts * s.capacity;
      k.forward.push_back(work::gemm(s.tokens, s.width, slots, s.dtype));  // sec,ecm->sm
      // Gradients of the experts' outputs and of the combine weights.
      k.backward.push_back(work::gemm(slots, s.width, s.tokens, s.dtype));
      k.backward.push_back(work::gemm(s.tokens, slots, s.width, s.dtype));
      break;
    }
    case Permutation::kScatter:
      k.forward.push_back(work::permute(s.tokens * s.k, s.width, s.dtype));
      k.backward.push_back(work::permute(s.tokens * s.k, s.width, s.dtype));
      break;
  }
  return k;
}

}  // namespace moesim::model
