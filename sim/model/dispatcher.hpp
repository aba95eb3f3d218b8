#pragma once
// What a MoE dispatcher launches to group the token rows by destination expert before the
// dispatch (permute) and to put them back after the combine (unpermute), by the implementation's
// permutation method (docs/implementations.md):
//   sort     argsort of the tokens x experts routing map, then a gather (Megatron-Core);
//   one_hot  one-hot choices and a cumsum for each row's slot, then a gather (GShard style);
//   einsum   the same locations, then dense GEMMs with a tokens x experts x capacity mask
//            (DeepSpeed-MoE, fairseq): 2 T E C w FLOPs each way;
//   scatter  the same locations, a zero-filled experts x capacity buffer and a scatter (Tutel).
#include <cstdint>

#include "implementation.hpp"
#include "layers.hpp"

namespace moesim::model {

struct DispatchShape {
  std::int64_t tokens = 0;  // tokens this rank routes (the whole sequence)
  std::int64_t experts = 0;
  std::int64_t k = 1;
  std::int64_t rows = 0;      // rows it sends (capacity-padded when there is a capacity factor)
  std::int64_t capacity = 0;  // rows per expert of a padded buffer
  std::int64_t width = 0;     // exchanged width
  cost::Dtype dtype = cost::Dtype::kBf16;  // of the dispatch buffers
};

// Bytes of one exchanged row of `width` elements: in fp8 with a 4-byte fp32 scale per 128
// elements (DeepEP's fp8 dispatch: its tests count (1 + 4/128) bytes an element).
double exchanged_row_bytes(std::int64_t width, cost::Dtype dtype);

Kernels permutation(const DispatcherImplementation& d, const DispatchShape& s);
Kernels unpermutation(const DispatcherImplementation& d, const DispatchShape& s);

}  // namespace moesim::model
