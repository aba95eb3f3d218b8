#include "driver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

namespace moesim::calibrate {

void CheckResult::compare(double device, double reference, double bound) {
  ++checked;
  const double error = std::abs(device - reference);
  const double relative = bound > 0 ? error / bound : (error > 0 ? INFINITY : 0.0);
  // NaN compares false everywhere: a NaN result is wrong.
  if (!(error <= bound)) ++wrong;
  if (!(relative <= max_error)) max_error = std::isnan(relative) ? INFINITY : relative;
}

std::string describe(const Measurement& m) {
  std::string out = m.op;
  if (m.op == "gemm" || m.op == "lsh") out += " " + m.dtype;
  const auto add = [&](const char* key, std::int64_t v) {
    if (v != 0) out += fmt::format(" {}={}", key, v);
  };
  if (m.op == "copy" || m.op == "h2d" || is_collective(m.op)) {
    out += fmt::format(" {:.4g} MB", m.bytes / 1e6);
  } else {
    if (m.batch != 1) add("batch", m.batch);
    add("m", m.m);
    add("n", m.n);
    add("k", m.k);
  }
  return out;
}

Driver::Driver(kernels::Backend& backend, const Plan& plan, std::ostream* log)
    : backend_(backend), plan_(plan), log_(log) {}

const Measurement& Driver::measure(Case c) {
  Measurement r = std::move(c.identity);
  const auto timed = [&](int warmup, int reps) {
    return c.timer ? c.timer(warmup, reps) : backend_.time(c.run, warmup, reps, plan_.launch);
  };
  // A first repetition sizes the rest: as many as fit in the case's time, at least kMinReps.
  const auto first = timed(plan_.warmup, 1);
  const double estimate = std::max(first.front(), 1e-9);
  const int reps = std::clamp(static_cast<int>(plan_.case_seconds / estimate), kMinReps,
                              std::max(plan_.reps, kMinReps));
  r.time = summarise(timed(0, reps));
  if (c.check) {
    const CheckResult check = c.check();
    r.checked = check.checked;
    r.wrong = check.wrong;
    r.max_error = check.max_error;
  }
  if (log_ != nullptr) {
    // Rates in the unit that bounds the op: FLOP/s for the GEMM-based ones, bytes otherwise.
    const bool compute = r.op == "gemm" || r.op == "attention" || r.op == "lsh";
    std::string rate;
    if (compute && r.flops > 0)
      rate = fmt::format("{:9.2f} TFLOP/s", r.flops / r.time.median / 1e12);
    else if (r.bytes > 0)
      rate = fmt::format("{:9.2f} GB/s", r.bytes / r.time.median / 1e9);
    *log_ << fmt::format("  {:<44} {:>11.2f} us  {:<18} {:>3} reps  #wrong {}\n", describe(r),
                         r.time.median * 1e6, rate, r.time.reps, r.wrong);
  }
  measurements_.push_back(std::move(r));
  return measurements_.back();
}

void Driver::skip(const Measurement& identity, std::string why) {
  skipped_.push_back(fmt::format("{}: {}", describe(identity), why));
}

}  // namespace moesim::calibrate
