#pragma once
// From measurements to a GPU profile in the cost model's format. Plain CPU code: it reads
// calibration.csv rows (measurement.hpp), so a recorded run can be fitted anywhere.
//
//   launch overhead   the empty kernel's median time
//   memory            bandwidth: the best copy rate, launch excluded; efficiency: each copy's
//                     rate over it, binned by factors of 4 in bytes (median per bin) and made
//                     non-decreasing (pool-adjacent-violators, weighted by points)
//   compute           peak per dtype: the best GEMM rate, launch excluded; efficiency from the
//                     reference dtype's GEMMs (bf16 where measured), each divided by the tiling's
//                     shape factor where the profile has tiling, binned by factors of 4 in FLOPs
//                     and made non-decreasing as the memory curve
//   tables            GEMM (m, n, k, dtype), memory (copy bytes), attention and collective
//                     points: the medians, each series made non-decreasing in size by taking at
//                     every size the least time measured at that size or any larger one (a
//                     smaller problem can always run as the larger one, padded)
//   residuals         every measured case priced by the fitted profile, with its tables (what
//                     predict uses) and without (the curves alone)
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cost/profile.hpp"
#include "cost/work.hpp"
#include "measurement.hpp"

namespace moesim::calibrate {

struct FitInputs {
  std::string name;  // the profile's name: the device's
  cost::Provenance provenance;
  std::int64_t sms = 0;  // > 0: GEMM tiling over this many SMs (GPUs)
  std::optional<double> memory_capacity_bytes;
  std::vector<std::string> notes;  // added to the provenance's notes
};

struct Residual {
  Measurement measured;
  std::optional<double> with_tables_s;  // the fitted profile's price (nothing: not priced)
  std::optional<double> curves_only_s;  // the same without the measured tables
};

struct ProfileFit {
  cost::Profile profile;
  std::vector<Residual> residuals;
  std::vector<std::string> notes;  // what the fit assumed or could not do
};

// Throws moesim::Error when the measurements lack what a profile needs (copies, GEMMs).
ProfileFit fit_profile(const std::vector<Measurement>& measurements, const FitInputs& inputs);

// Its parts. Launch overhead in seconds; `copies` and `gemms` are the ops' measurements.
cost::MemorySpec fit_memory(const std::vector<Measurement>& copies, double launch);
cost::ComputeSpec fit_compute(const std::vector<Measurement>& gemms, double launch,
                              std::int64_t sms);
// Series the cost model keys by other than the op's measurements are left out, with a note.
cost::Tables fit_tables(const std::vector<Measurement>& measurements,
                        std::vector<std::string>& notes);

// Median-per-bin of (size, value) points, bins `factor` wide in size (at the bins' geometric
// mean sizes), then the least-squares non-decreasing fit of the bins (pool-adjacent-violators,
// weighted by their points). Sizes > 0.
std::vector<std::pair<double, double>> binned_monotone(
    std::vector<std::pair<double, double>> points, double factor);

// Times made non-decreasing in size: at each size, the least time at it or any larger size.
// `points` (size, seconds) in any order; returned sorted by size.
std::vector<std::pair<double, double>> monotone_envelope(
    std::vector<std::pair<double, double>> points);

// The cost model's work items for one measured case (their estimates sum to its price);
// empty for ops the cost model has no kernel for (host-device copies, collectives).
std::vector<cost::Work> works_of(const Measurement& m);

}  // namespace moesim::calibrate
