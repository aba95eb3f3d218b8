#include "plan.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace moesim::calibrate {

namespace {

using kernels::Precision;

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = kKiB * kKiB;
constexpr std::int64_t kGiB = kMiB * kKiB;

// The sweeps' extents, by (backend, thoroughness): the GPU's follow the ranges (GEMM
// rows 1 to 65,536, collectives 1 KB to 1 GB); the host's stop where a CPU takes seconds.
struct Extent {
  std::int64_t gemm_m_last, gemm_m_factor;
  std::int64_t copy_last, copy_factor;
  std::int64_t h2d_last;
  std::int64_t tokens_last;
  std::int64_t collective_last, collective_factor;
  int warmup, reps;
  double case_seconds;
  double max_case_flops;
  std::int64_t max_case_bytes;
};
constexpr Extent kGpuFull{65536, 2, kGiB, 2,    256 * kMiB, 65536,   kGiB,
                          2,     5, 20,   0.25, 1e15,       8 * kGiB};
constexpr Extent kGpuQuick{65536, 4, kGiB, 4,   64 * kMiB, 16384,   64 * kMiB,
                           4,     3, 10,   0.1, 1e15,      8 * kGiB};
constexpr Extent kHostFull{4096, 4, 64 * kMiB, 4,   64 * kMiB, 4096,      16 * kMiB,
                           4,    1, 5,         0.5, 2e10,      256 * kMiB};
constexpr Extent kHostQuick{1024, 4, 4 * kMiB, 4,   4 * kMiB, 1024,     kMiB,
                            4,    1, 3,        0.1, 1e9,      32 * kMiB};

std::int64_t positive(std::int64_t v, const char* what) {
  if (v <= 0) throw Error(fmt::format("calibrate: the model gives no {} to size its sweeps", what));
  return v;
}

}  // namespace

std::vector<std::int64_t> geometric(std::int64_t first, std::int64_t last, std::int64_t factor) {
  std::vector<std::int64_t> out;
  for (std::int64_t v = first; v <= last; v *= factor) out.push_back(v);
  return out;
}

Plan make_plan(const ModelShapes& shapes, const PlanOptions& o, const kernels::Backend& backend) {
  const Extent& e = o.host ? (o.quick ? kHostQuick : kHostFull) : (o.quick ? kGpuQuick : kGpuFull);
  if (shapes.gemms.empty()) throw Error("calibrate: the model gives no GEMM shapes to sweep");
  positive(shapes.hidden, "hidden size");
  positive(shapes.heads, "attention heads");
  positive(shapes.head_dim, "head dimension");
  positive(shapes.seq_len, "sequence length");

  Plan p;
  p.shapes = shapes;
  for (const auto& g : shapes.gemms) {
    if (std::find(p.gemms.begin(), p.gemms.end(), g) == p.gemms.end()) p.gemms.push_back(g);
  }
  p.gemm_m = geometric(1, e.gemm_m_last, e.gemm_m_factor);
  // bf16 and fp32 (attention's and LSH's GEMMs) always; FP8 where the device has it; fp16 in a
  // full run.
  const std::vector<Precision> wanted =
      o.quick ? std::vector{Precision::kBf16, Precision::kFp8, Precision::kFp32}
              : std::vector{Precision::kBf16, Precision::kFp16, Precision::kFp8, Precision::kFp32};
  for (const auto precision : wanted) {
    if (backend.supports(precision)) p.precisions.push_back(precision);
  }
  for (const auto b : geometric(4 * kKiB, e.copy_last, e.copy_factor)) {
    p.copy_bytes.push_back(static_cast<std::size_t>(b));
  }
  for (const auto b : geometric(4 * kKiB, e.h2d_last, 4)) {
    p.h2d_bytes.push_back(static_cast<std::size_t>(b));
  }
  p.token_counts = geometric(256, e.tokens_last, 4);
  // Attention at the model's heads and head width, sequence lengths up to the model's.
  const std::int64_t seq_last =
      o.host ? std::min<std::int64_t>(shapes.seq_len, 512) : shapes.seq_len;
  for (const auto seq : geometric(128, std::max<std::int64_t>(seq_last, 128), o.quick ? 4 : 2)) {
    p.attention.push_back({1, shapes.heads, seq, shapes.head_dim});
  }
  for (const auto b : geometric(kKiB, e.collective_last, e.collective_factor)) {
    p.collective_bytes.push_back(static_cast<std::size_t>(b));
  }
  p.warmup = e.warmup;
  p.reps = e.reps;
  p.case_seconds = e.case_seconds;
  p.launch = o.launch;
  p.max_case_flops = e.max_case_flops;
  p.max_case_bytes = static_cast<std::size_t>(e.max_case_bytes);
  return p;
}

}  // namespace moesim::calibrate
