#include "lsh.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

namespace moesim::kernels {

std::vector<std::int32_t> cross_polytope_codes_cpu(std::span<const float> projected,
                                                   std::int64_t tokens, std::int64_t hashes,
                                                   std::int64_t dims) {
  if (static_cast<std::int64_t>(projected.size()) != tokens * hashes * dims) {
    throw std::invalid_argument("lsh: projections are not tokens x (hashes x dims)");
  }
  std::vector<std::int32_t> codes(static_cast<std::size_t>(tokens * hashes));
  for (std::int64_t t = 0; t < tokens; ++t) {
    for (std::int64_t l = 0; l < hashes; ++l) {
      const auto* y = projected.data() + (t * hashes + l) * dims;
      std::int64_t best = 0;
      for (std::int64_t i = 1; i < dims; ++i) {
        if (std::fabs(y[i]) > std::fabs(y[best])) best = i;
      }
      codes[static_cast<std::size_t>(t * hashes + l)] =
          static_cast<std::int32_t>(2 * best + (y[best] < 0 ? 1 : 0));
    }
  }
  return codes;
}

Buckets buckets_cpu(std::span<const std::int32_t> codes, std::int64_t tokens, std::int64_t hashes) {
  if (static_cast<std::int64_t>(codes.size()) != tokens * hashes) {
    throw std::invalid_argument("lsh: codes are not tokens x hashes");
  }
  Buckets b;
  b.id.resize(static_cast<std::size_t>(tokens));
  std::map<std::vector<std::int32_t>, std::int32_t> seen;
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::vector<std::int32_t> key(codes.begin() + t * hashes, codes.begin() + (t + 1) * hashes);
    const auto [it, fresh] = seen.emplace(std::move(key), static_cast<std::int32_t>(b.count));
    if (fresh) ++b.count;
    b.id[static_cast<std::size_t>(t)] = it->second;
  }
  return b;
}

std::vector<float> centroids_cpu(std::span<const float> rows, std::int64_t width,
                                 const Buckets& buckets) {
  const auto tokens = static_cast<std::int64_t>(buckets.id.size());
  if (static_cast<std::int64_t>(rows.size()) != tokens * width) {
    throw std::invalid_argument("lsh: rows are not tokens x width");
  }
  std::vector<double> sum(static_cast<std::size_t>(buckets.count * width), 0.0);
  std::vector<std::int64_t> members(static_cast<std::size_t>(buckets.count), 0);
  for (std::int64_t t = 0; t < tokens; ++t) {
    const auto b = buckets.id[static_cast<std::size_t>(t)];
    ++members[static_cast<std::size_t>(b)];
    for (std::int64_t c = 0; c < width; ++c) {
      sum[static_cast<std::size_t>(b * width + c)] += rows[static_cast<std::size_t>(t * width + c)];
    }
  }
  std::vector<float> out(sum.size());
  for (std::int64_t b = 0; b < buckets.count; ++b) {
    for (std::int64_t c = 0; c < width; ++c) {
      const auto i = static_cast<std::size_t>(b * width + c);
      out[i] =
          static_cast<float>(sum[i] / static_cast<double>(members[static_cast<std::size_t>(b)]));
    }
  }
  return out;
}

std::vector<float> residuals_cpu(std::span<const float> rows, std::int64_t width,
                                 const Buckets& buckets, std::span<const float> centroids) {
  std::vector<float> out(rows.size());
  for (std::size_t t = 0; t < buckets.id.size(); ++t) {
    const auto b = static_cast<std::size_t>(buckets.id[t]);
    for (std::int64_t c = 0; c < width; ++c) {
      const auto i = t * static_cast<std::size_t>(width) + static_cast<std::size_t>(c);
      out[i] =
          rows[i] - centroids[b * static_cast<std::size_t>(width) + static_cast<std::size_t>(c)];
    }
  }
  return out;
}

std::vector<float> compensate_cpu(std::span<const float> bucket_out, std::int64_t width,
                                  const Buckets& buckets, std::span<const float> residuals) {
  std::vector<float> out(residuals.size());
  for (std::size_t t = 0; t < buckets.id.size(); ++t) {
    const auto b = static_cast<std::size_t>(buckets.id[t]);
    for (std::int64_t c = 0; c < width; ++c) {
      const auto i = t * static_cast<std::size_t>(width) + static_cast<std::size_t>(c);
      out[i] = bucket_out[b * static_cast<std::size_t>(width) + static_cast<std::size_t>(c)] +
               residuals[i];
    }
  }
  return out;
}

}  // namespace moesim::kernels
