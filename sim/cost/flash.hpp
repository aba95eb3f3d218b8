#pragma once
// What fused (FlashAttention-style) attention kernels reach on a GPU, from measured throughput:
// series of TFLOP/s against sequence length, one per FlashAttention generation, pass (forward,
// backward, or both as benchmarks time them), causal mask and head width, as the
// FlashAttention repository's and paper's benchmarks report them (causal FLOPs counted half).
// A profile keeps them as measured, with the peak of the GPU they were measured on, so a GPU of
// the same architecture can reuse them as fractions of its own peak.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "config/check.hpp"
#include "config/document.hpp"
#include "config/quantity.hpp"

namespace moesim::cost {

enum class FlashPass { kForward, kBackward, kForwardBackward };
constexpr auto enum_names(FlashPass) {
  return std::array{std::pair{std::string_view("forward"), FlashPass::kForward},
                    std::pair{std::string_view("backward"), FlashPass::kBackward},
                    std::pair{std::string_view("forward_backward"), FlashPass::kForwardBackward}};
}

struct FlashSeries {
  int version = 2;  // FlashAttention generation: 1 (2022), 2 (2023), 3 (2024, Hopper)
  FlashPass pass = FlashPass::kForwardBackward;
  bool causal = false;
  std::int64_t head_dim = 128;
  std::vector<std::int64_t> seq_len;  // increasing
  std::vector<double> tflops;         // measured TFLOP/s at each seq_len

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("version", version, "FlashAttention generation (1, 2 or 3)", Check::between(1, 3));
    v.field("pass", pass, "forward, backward, or forward_backward (timed together)");
    v.field("causal", causal, "with a causal mask (its FLOPs counted half)");
    v.field("head_dim", head_dim, "width of a head", Check::at_least(1));
    v.field("seq_len", seq_len, "sequence lengths measured, increasing", Check::none().required());
    v.field("tflops", tflops, "measured TFLOP/s at each sequence length", Check::none().required());
  }
};

struct FlashTable {
  config::FlopRate measured_peak;  // the dense 16-bit peak of the GPU the series come from
  std::vector<FlashSeries> series;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("measured_peak", measured_peak,
            "dense 16-bit peak of the GPU the series were measured on (their TFLOP/s over it is "
            "the fraction of peak this profile applies)",
            Check::positive().required());
    v.field("series", series, "measured throughput series", Check::none().required());
  }

  // Throws config::ConfigError at `path` for series whose lengths differ or whose sequence
  // lengths do not increase.
  void check(const config::Document& doc, std::string_view path) const;

  // The fraction of peak a fused attention pass reaches: `version` or the newest older
  // generation measured; nothing when none is. A pass without its own series is derived: the
  // backward from forward_backward and forward (the backward does 2.5 times the forward's
  // FLOPs), else the pass timed together stands for both; a causal series missing for a pass
  // is its non-causal one scaled as the forward's causal over non-causal. Between measured head
  // widths and sequence lengths: linear in the head width and in log(sequence), clamped at the
  // ends.
  std::optional<double> fraction(int version, FlashPass pass, bool causal, std::int64_t head_dim,
                                 std::int64_t seq) const;
};

}  // namespace moesim::cost
