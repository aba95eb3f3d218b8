#include "serving.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace moesim::model {

namespace {

// A length drawn uniformly from [L(1-r), L(1+r)] (at least `least`). mt19937_64's sequence is
// fixed by the standard and the reduction is ours, so a seed gives the same lengths everywhere.
std::int64_t draw(std::mt19937_64& random, std::int64_t length, double r, std::int64_t least) {
  const auto lo =
      std::max<std::int64_t>(least, std::llround(static_cast<double>(length) * (1 - r)));
  const auto hi = std::max<std::int64_t>(lo, std::llround(static_cast<double>(length) * (1 + r)));
  return lo + static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(hi - lo + 1));
}

// The value at fraction q of the sorted values (nearest rank).
core::Time percentile(const std::vector<core::Time>& sorted, double q) {
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

std::vector<Request> requests_of(const ModelConfig& model, const InferenceConfig& inference) {
  const auto prompt = inference.prompt > 0 ? inference.prompt : model.seq_len;
  std::vector<Request> requests(static_cast<std::size_t>(model.micro_batch),
                                Request{prompt, inference.generate});
  if (inference.range_ratio <= 0) return requests;
  std::mt19937_64 random(static_cast<std::uint64_t>(inference.seed));
  for (auto& r : requests) {
    r.prompt = draw(random, prompt, inference.range_ratio, 1);
    r.generate = draw(random, inference.generate, inference.range_ratio, 0);
  }
  return requests;
}

std::vector<Pass> inference_passes(std::span<const Request> requests) {
  std::vector<Pass> passes;
  const auto n = static_cast<std::int64_t>(requests.size());
  std::int64_t tokens = 0, steps = 0;
  double squares = 0;
  for (const auto& r : requests) {
    tokens += r.prompt;
    squares += static_cast<double>(r.prompt) * static_cast<double>(r.prompt);
    steps = std::max(steps, r.generate);
  }
  const auto rms =
      std::max<std::int64_t>(1, std::llround(std::sqrt(squares / static_cast<double>(n))));
  passes.push_back({n, rms, rms, tokens, ""});
  for (std::int64_t step = 0; step < steps; ++step) {
    std::int64_t active = 0, context = 0;
    for (const auto& r : requests) {
      if (r.generate <= step) continue;
      ++active;
      context += r.prompt + step + 1;
    }
    const auto mean = (context + active / 2) / active;  // rounded
    passes.push_back({active, 1, mean, active, fmt::format(".decode{}", step)});
  }
  return passes;
}

ServingMetrics serving_metrics(std::span<const Request> requests,
                               std::span<const core::Time> pass_end, std::int64_t ranks_serving) {
  ServingMetrics m;
  if (requests.empty() || pass_end.empty()) return m;
  m.requests = static_cast<std::int64_t>(requests.size()) * ranks_serving;
  m.ttft = pass_end.front();
  std::vector<core::Time> e2e;
  double tpot = 0, generated = 0;
  std::int64_t decoding = 0;  // requests with at least one decode step
  for (const auto& r : requests) {
    const auto end = pass_end[static_cast<std::size_t>(r.generate)];  // its last pass
    e2e.push_back(end);
    m.prompt_tokens += static_cast<double>(r.prompt);
    m.output_tokens += static_cast<double>(r.generate + 1);
    generated += static_cast<double>(r.generate);
    if (r.generate > 0) {
      tpot += (end - m.ttft).seconds() / static_cast<double>(r.generate);
      ++decoding;
    }
  }
  std::sort(e2e.begin(), e2e.end());
  double total = 0;
  for (const auto t : e2e) total += t.seconds();
  m.e2e_mean = core::Time::from_seconds(total / static_cast<double>(e2e.size()));
  constexpr double kMedian = 0.5, kP90 = 0.9;
  m.e2e_p50 = percentile(e2e, kMedian);
  m.e2e_p90 = percentile(e2e, kP90);
  m.e2e_max = e2e.back();
  if (decoding > 0) m.tpot_mean = core::Time::from_seconds(tpot / static_cast<double>(decoding));
  const auto ranks = static_cast<double>(ranks_serving);
  m.prompt_tokens *= ranks;
  m.output_tokens *= ranks;
  if (m.ttft > core::Time::zero()) m.prefill_tokens_per_s = m.prompt_tokens / m.ttft.seconds();
  const auto decode = pass_end.back() - m.ttft;
  if (decode > core::Time::zero()) m.decode_tokens_per_s = generated * ranks / decode.seconds();
  return m;
}

}  // namespace moesim::model
