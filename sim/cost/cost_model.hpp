#pragma once
// Turns one kernel's work into a duration, using a GPU profile.
//
// Rules, in order:
//   1. a measured table that covers the op: its time at a table point, or interpolated in
//      log-log space between the two neighbouring points of the op's series (GEMM: same n, k,
//      dtype, over m; fused attention: same batch, heads, head_dim, causal, dtype, over seq,
//      from the table's fused points;
//      memory-bound kinds: over bytes moved; a grouped GEMM sums its experts' GEMMs);
//   2. otherwise the roofline:
//        max(FLOPs / (peak[dtype] x eff_c(FLOPs)), bytes / (bandwidth x eff_m(bytes)))
//          + launch overhead,
//      with the efficiency curves of the profile interpolated in log(size). Small-M GEMMs read
//      mostly weights and come out memory-bound, as on real GPUs. Where the profile gives its
//      GEMM tiling, a GEMM's compute efficiency is scaled by shape_factor(): how well its tiles
//      fill whole waves of SMs against a square GEMM of the same FLOPs (the curve's shape),
//      and by a short K's pipeline fill. Fused attention runs at most at the fraction its
//      FlashAttention generation reaches on the GPU; fp8 GEMMs at the profile's fp8 ratio.
// Every estimate says which rule gave it (Estimate::rule, Estimate::detail) for verbose output
// and trace args.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "profile.hpp"
#include "work.hpp"

namespace moesim::cost {

enum class Rule {
  kTable,              // a measured point
  kTableInterpolated,  // between two measured points
  kComputeBound,       // roofline, FLOPs term largest
  kMemoryBound,        // roofline, bytes term largest
  kLaunchBound,        // roofline, launch overhead exceeds both terms
};
std::string_view name(Rule rule);

struct Estimate {
  core::Time time;
  Rule rule;
  double flops = 0;
  double bytes = 0;
  std::string detail;  // how the time was obtained, in words and numbers
};

class CostModel {
 public:
  explicit CostModel(Profile profile);

  // Throws moesim::Error when the op needs a dtype the profile has no peak for.
  Estimate estimate(const Work& work) const;

  // A measured collective time, if the profile's table covers it (interpolated over bytes).
  std::optional<core::Time> collective_time(Collective op, double bytes, std::int64_t ranks,
                                            LinkClass link) const;

  const Profile& profile() const { return profile_; }
  double compute_efficiency(double flops) const;
  double memory_efficiency(double bytes) const;
  // Tile and wave quantisation of a GEMM-like kernel (1 without tiling, or for other kinds):
  // u(shape) / u(square of the same FLOPs), at most 1, where u is the useful fraction of the
  // work that whole waves of `sms` tiles do: s (batch m n) / (waves sms tile_m tile_n), K split
  // into s slices when the tiles alone would leave SMs idle.
  double shape_factor(const Work& work) const;
  // The fraction of peak a kernel's FLOPs run at: the curve, times the GEMM shape factor; for
  // fused attention at most what its FlashAttention generation reaches on this GPU; for fp8
  // GEMMs scaled by the profile's fp8 efficiency.
  double kernel_efficiency(const Work& work) const;

 private:
  using Series = std::vector<std::pair<double, double>>;  // (size, seconds), sorted by size
  std::optional<std::pair<double, Rule>> from_table(const Series* series, double x) const;
  std::optional<Estimate> gemm_from_table(const Work& work) const;
  Estimate roofline(const Work& work) const;
  double peak(const Work& work) const;

  Profile profile_;
  std::vector<std::pair<double, double>> compute_curve_, memory_curve_;
  std::map<std::tuple<std::int64_t, std::int64_t, int>, Series> gemm_;
  Series memory_;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, bool, int>, Series> attention_;
  std::map<std::tuple<int, std::int64_t, int>, Series> collective_;
};

}  // namespace moesim::cost
