#pragma once
// What the harness measures: the sizes of each op's sweep, from the model's shapes and how
// thorough the run is (--quick) on which backend. Plain data, made before anything runs, so a
// run's extent is known (and printed) up front.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend.hpp"

namespace moesim::calibrate {

// One GEMM shape the workload builder produces for the model: C[m,n] = A[m,k] B[k,n], swept
// over m; `origin` says which layer's GEMM it is.
struct GemmSpec {
  std::int64_t n = 0, k = 0;
  std::string origin;
  friend bool operator==(const GemmSpec&, const GemmSpec&) = default;
};

// What the sweeps are sized by: the model's GEMMs and layer dimensions (from the model file;
// moesim calibrate --model).
struct ModelShapes {
  std::string model;
  std::vector<GemmSpec> gemms;
  std::int64_t hidden = 0, ffn_hidden = 0;
  std::int64_t heads = 0, head_dim = 0, seq_len = 0;
  std::int64_t tokens = 0;  // per rank per micro-batch
  std::int64_t experts = 0, top_k = 0, groups = 1, group_limit = 0;
  std::int64_t lsh_hashes = 0;  // 0: the schedules use no LSH
};

struct PlanOptions {
  bool quick = false;
  bool host = false;  // the host backend: sizes cut to what a CPU runs in seconds
  kernels::Launch launch = kernels::Launch::kStream;
};

struct AttentionSpec {
  std::int64_t batch = 1, heads = 0, seq = 0, head_dim = 0;
};

struct Plan {
  std::vector<GemmSpec> gemms;
  std::vector<std::int64_t> gemm_m;  // rows swept for every GEMM shape
  std::vector<kernels::Precision> precisions;
  std::vector<std::size_t> copy_bytes;  // buffer sizes (a copy moves twice as many bytes)
  std::vector<std::size_t> h2d_bytes;
  std::vector<std::int64_t> token_counts;  // rows of the per-token ops
  std::vector<AttentionSpec> attention;
  std::vector<std::size_t> collective_bytes;  // per rank, as nccl-tests prints them
  ModelShapes shapes;
  // Timing: warm-up runs, then up to `reps` timed ones, fewer where a case would take longer
  // than `case_seconds` (at least kMinReps).
  int warmup = 3, reps = 20;
  double case_seconds = 0.25;
  kernels::Launch launch = kernels::Launch::kStream;
  // Cases beyond these are skipped (and listed): what the backend runs in reasonable time.
  double max_case_flops = 0;
  std::size_t max_case_bytes = 0;
};

inline constexpr int kMinReps = 3;

// The plan for a model on a backend. Throws moesim::Error where the shapes cannot be swept
// (no GEMM, a dimension of 0).
Plan make_plan(const ModelShapes& shapes, const PlanOptions& options,
               const kernels::Backend& backend);

// Powers of `factor` from `first` to `last` inclusive (both powers of it times first).
std::vector<std::int64_t> geometric(std::int64_t first, std::int64_t last, std::int64_t factor);

}  // namespace moesim::calibrate
