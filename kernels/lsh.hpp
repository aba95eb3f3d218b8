#pragma once
// LSH-MoE's token compression: cross-polytope hashing, buckets, centroids and compensation.
// Each of L hash functions projects a token through a random rotation to d dimensions (one GEMM
// for all L: tokens x h times h x (L d), by the BLAS), and hashes it to the signed index of its
// largest coordinate: 2 d values. A token's bucket is its L hashes together; the buckets are
// numbered in order of first appearance. What the exchange sends is each bucket's centroid (the
// mean of its tokens), what stays is each token's residual from it, and the experts' output for
// the centroid plus the residual stands for the token's (compensation). The CPU references define
// the results.
#include <cstdint>
#include <span>
#include <vector>

namespace moesim::kernels {

// `projected`: tokens x (L d), hash l's coordinates in columns [l d, (l + 1) d). Returns tokens
// x L codes in [0, 2 d): 2 i for a positive largest coordinate i, 2 i + 1 for a negative one;
// ties to the lower index.
std::vector<std::int32_t> cross_polytope_codes_cpu(std::span<const float> projected,
                                                   std::int64_t tokens, std::int64_t hashes,
                                                   std::int64_t dims);

struct Buckets {
  std::vector<std::int32_t> id;  // by token
  std::int64_t count = 0;
};
// Tokens with equal codes (all L) share a bucket; numbered as they first appear.
Buckets buckets_cpu(std::span<const std::int32_t> codes, std::int64_t tokens, std::int64_t hashes);

// The mean of each bucket's rows (`width` floats each): buckets.count x width.
std::vector<float> centroids_cpu(std::span<const float> rows, std::int64_t width,
                                 const Buckets& buckets);
// rows - centroid of their bucket; tokens x width.
std::vector<float> residuals_cpu(std::span<const float> rows, std::int64_t width,
                                 const Buckets& buckets, std::span<const float> centroids);
// The bucket's output plus the token's residual (`width` floats each): tokens x width.
std::vector<float> compensate_cpu(std::span<const float> bucket_out, std::int64_t width,
                                  const Buckets& buckets, std::span<const float> residuals);

}  // namespace moesim::kernels
