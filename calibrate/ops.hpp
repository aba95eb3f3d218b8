#pragma once
// The op table: one small entry per kind of kernel the harness measures. Each entry sweeps the
// plan's sizes for its op, sets up inputs on the backend, and hands each case (the op, and the
// check of its outputs against the CPU reference) to the driver.
#include <functional>
#include <string_view>
#include <vector>

#include "driver.hpp"

namespace moesim::calibrate {

struct OpEntry {
  std::string_view name;  // as calibration.csv's `op`
  std::string_view what;  // for the report
  std::function<void(Driver&)> sweep;
};

// Every op the harness measures on one device, in the order they run.
const std::vector<OpEntry>& op_table();

// Bytes a GEMM of this precision reads and writes on `backend` (A, B, and C: bf16 for FP8).
double gemm_bytes(const kernels::Backend& backend, kernels::Precision p, std::int64_t m,
                  std::int64_t n, std::int64_t k);
std::string_view precision_name(kernels::Precision p);

}  // namespace moesim::calibrate
