#include "lsh_rate.hpp"

#include <stdexcept>

#include "lsh.hpp"

namespace moesim::validate {

LshRate measure_lsh_rate(kernels::Backend& backend, std::span<const float> tokens,
                         std::int64_t rows, std::int64_t width, std::int64_t hashes,
                         std::uint64_t seed) {
  using kernels::Precision;
  if (width <= 0 || hashes <= 0) throw std::invalid_argument("measure_lsh_rate: empty shape");
  if (!tokens.empty()) {
    if (tokens.size() % static_cast<std::size_t>(width) != 0) {
      throw std::invalid_argument("measure_lsh_rate: tokens are not rows of the width");
    }
    rows = static_cast<std::int64_t>(tokens.size()) / width;
  }
  if (rows <= 0) return {};
  const auto n = static_cast<std::size_t>(rows), w = static_cast<std::size_t>(width),
             l = static_cast<std::size_t>(hashes);
  auto x = backend.alloc(n * w * sizeof(float));
  auto rotation = backend.alloc(w * l * w * sizeof(float));
  auto projected = backend.alloc(n * l * w * sizeof(float));
  auto codes = backend.alloc(n * l * sizeof(std::int32_t));
  if (tokens.empty()) {
    backend.fill(*x, n * w, Precision::kFp32, seed);
  } else {
    backend.upload(*x, tokens, Precision::kFp32);
  }
  backend.fill(*rotation, w * l * w, Precision::kFp32, seed + 1);
  backend.gemm(Precision::kFp32, rows, hashes * width, width, *x, *rotation, *projected);
  backend.lsh_codes(*projected, rows, hashes, width, *codes);
  const auto host_codes = backend.download_ints(*codes, n * l);
  const auto buckets = kernels::buckets_cpu(host_codes, rows, hashes);
  return {rows, buckets.count};
}

}  // namespace moesim::validate
