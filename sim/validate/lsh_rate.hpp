#pragma once
// The compression LSH-MoE reaches on given rows: cross-polytope codes through the device backend
// (a projection GEMM, then the signed argmax per hash), bucketed on the host; the rate is
// buckets / rows, the fraction of rows an exchange of centroids still sends. Random rows
// cluster far worse than a model's activations, so a rate measured on them is an upper bound.
#include <cstdint>
#include <span>

#include "backend.hpp"

namespace moesim::validate {

struct LshRate {
  std::int64_t rows = 0;
  std::int64_t buckets = 0;
  double rate() const {
    return rows > 0 ? static_cast<double>(buckets) / static_cast<double>(rows) : 0.0;
  }
};

// `rows` x `width` from `tokens` when given (its size a multiple of width), else filled on the
// device; `hashes` functions of `width` dimensions each, from a seeded random projection.
LshRate measure_lsh_rate(kernels::Backend& backend, std::span<const float> tokens,
                         std::int64_t rows, std::int64_t width, std::int64_t hashes,
                         std::uint64_t seed);

}  // namespace moesim::validate
