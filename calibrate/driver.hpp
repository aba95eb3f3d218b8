#pragma once
// The harness's one driver, in the style of nccl-tests: each case is warmed up, timed over
// repetitions (CUDA events, or replays of a CUDA graph; host clocks on the host backend),
// summarised by its median and spread, and its results checked against the CPU reference in
// the same run. Cases come from the op table (ops.hpp) and the collective sweep
// (collectives.hpp); the driver keeps what they measured, in order.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "backend.hpp"
#include "measurement.hpp"
#include "plan.hpp"

namespace moesim::calibrate {

// Elements compared with the reference after timing, and how many were outside the bound.
struct CheckResult {
  std::int64_t checked = 0;
  std::int64_t wrong = 0;
  double max_error = 0;  // largest |device - reference| / bound
  // Counts one compared element with its error bound.
  void compare(double device, double reference, double bound);
};

struct Case {
  Measurement identity;       // op, dtype, shape, bytes, flops
  std::function<void()> run;  // the op, issued once
  // Its own timing (seconds per repetition), where the backend's does not apply (host-device
  // copies, collectives); empty: the backend times `run`.
  std::function<std::vector<double>(int warmup, int reps)> timer;
  std::function<CheckResult()> check;  // empty: the op has no output (an empty kernel)
};

class Driver {
 public:
  // Progress lines go to `log` (null: silent).
  Driver(kernels::Backend& backend, const Plan& plan, std::ostream* log);

  // Times and checks one case; returns what was recorded.
  const Measurement& measure(Case c);
  // Records that a case was skipped (beyond the plan's limits).
  void skip(const Measurement& identity, std::string why);

  const std::vector<Measurement>& measurements() const { return measurements_; }
  const std::vector<std::string>& skipped() const { return skipped_; }
  kernels::Backend& backend() { return backend_; }
  const Plan& plan() const { return plan_; }
  std::ostream* log() { return log_; }

 private:
  kernels::Backend& backend_;
  const Plan& plan_;
  std::ostream* log_;
  std::vector<Measurement> measurements_;
  std::vector<std::string> skipped_;
};

// The shape of a measurement in words ("gemm bf16 m=1024 n=4096 k=1024").
std::string describe(const Measurement& m);

}  // namespace moesim::calibrate
