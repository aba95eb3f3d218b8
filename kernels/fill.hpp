#pragma once
// Deterministic test data that every precision holds exactly: multiples of 1/8 in [-1, 1]
// (FP8 e4m3, bf16, fp16 and fp32 all represent them), drawn by hashing (seed, index) so that a
// device fills its buffer and the host recomputes any element without copying it back. Sums
// of up to 2^18 products of two such values are exact in fp32, so a GEMM's result is known
// exactly before its output is rounded. C++17, for the device code too.
#include <cstdint>

#ifdef __CUDACC__
#define MOESIM_HOST_DEVICE __host__ __device__
#else
#define MOESIM_HOST_DEVICE
#endif

namespace moesim::kernels {

// Values are k / kFillDenominator for k in [-kFillDenominator, kFillDenominator].
inline constexpr int kFillDenominator = 8;

// SplitMix64's finaliser (Steele, Lea, Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014) over the seed and the index.
MOESIM_HOST_DEVICE inline std::uint64_t fill_hash(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + index + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

MOESIM_HOST_DEVICE inline float fill_value(std::uint64_t seed, std::uint64_t index) {
  const auto span = static_cast<std::uint64_t>(2 * kFillDenominator + 1);
  const int k = static_cast<int>(fill_hash(seed, index) % span) - kFillDenominator;
  return static_cast<float>(k) / static_cast<float>(kFillDenominator);
}

}  // namespace moesim::kernels
