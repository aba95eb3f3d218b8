#include "serving.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "config/error.hpp"

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

}  // namespace

std::vector<Request> requests_of(const ModelConfig& model, const InferenceConfig& inference) {
  const auto prompt = inference.prompt > 0 ? inference.prompt : model.seq_len;
  if (inference.range_ratio <= 0) return {Request{prompt, inference.generate, model.micro_batch}};
  if (model.micro_batch > kMostDrawnRequests) {
    throw config::ConfigError::about(
        "model.micro_batch",
        fmt::format("{} requests per rank, each of its own drawn lengths "
                    "(inference.range_ratio {}): more than the {} moesim draws; lower it, or set "
                    "inference.range_ratio to 0 for alike requests",
                    model.micro_batch, inference.range_ratio, kMostDrawnRequests));
  }
  std::vector<Request> requests(static_cast<std::size_t>(model.micro_batch));
  std::mt19937_64 random(static_cast<std::uint64_t>(inference.seed));
  for (auto& r : requests) {
    r.prompt = draw(random, prompt, inference.range_ratio, 1);
    r.generate = draw(random, inference.generate, inference.range_ratio, 0);
  }
  return requests;
}

std::vector<Pass> inference_passes(std::span<const Request> requests) {
  std::vector<Pass> passes;
  std::int64_t n = 0, tokens = 0, steps = 0;
  double squares = 0;
  for (const auto& r : requests) {
    n += r.count;
    tokens += r.count * r.prompt;
    squares += static_cast<double>(r.count) * static_cast<double>(r.prompt) *
               static_cast<double>(r.prompt);
    steps = std::max(steps, r.generate);
  }
  const auto rms =
      std::max<std::int64_t>(1, std::llround(std::sqrt(squares / static_cast<double>(n))));
  passes.push_back({n, rms, rms, tokens, ""});
  for (std::int64_t step = 0; step < steps; ++step) {
    std::int64_t active = 0, context = 0;
    for (const auto& r : requests) {
      if (r.generate <= step) continue;
      active += r.count;
      context += r.count * (r.prompt + step + 1);
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
  m.ttft = pass_end.front();
  // Each entry's end (its last pass) with its count, sorted for the percentiles.
  std::vector<std::pair<core::Time, std::int64_t>> ends;
  double e2e = 0, tpot = 0, generated = 0;
  std::int64_t n = 0, decoding = 0;  // requests; those with at least one decode step
  for (const auto& r : requests) {
    const auto end = pass_end[static_cast<std::size_t>(r.generate)];
    const auto count = static_cast<double>(r.count);
    ends.emplace_back(end, r.count);
    n += r.count;
    e2e += count * end.seconds();
    m.prompt_tokens += count * static_cast<double>(r.prompt);
    m.output_tokens += count * static_cast<double>(r.generate + 1);
    generated += count * static_cast<double>(r.generate);
    if (r.generate > 0) {
      tpot += count * (end - m.ttft).seconds() / static_cast<double>(r.generate);
      decoding += r.count;
    }
  }
  std::sort(ends.begin(), ends.end());
  // The value at fraction q of the requests (nearest rank).
  const auto percentile = [&ends, n](double q) {
    const auto rank =
        std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(q * static_cast<double>(n))));
    std::int64_t seen = 0;
    for (const auto& [end, count] : ends) {
      seen += count;
      if (seen >= rank) return end;
    }
    return ends.back().first;
  };
  constexpr double kMedian = 0.5, kP90 = 0.9;
  m.requests = n * ranks_serving;
  m.e2e_mean = core::Time::from_seconds(e2e / static_cast<double>(n));
  m.e2e_p50 = percentile(kMedian);
  m.e2e_p90 = percentile(kP90);
  m.e2e_max = ends.back().first;
  if (decoding > 0) m.tpot_mean = core::Time::from_seconds(tpot / static_cast<double>(decoding));
  const auto ranks = static_cast<double>(ranks_serving);
  m.prompt_tokens *= ranks;
  m.output_tokens *= ranks;
  if (m.ttft > core::Time::zero()) m.prefill_tokens_per_s = m.prompt_tokens / m.ttft.seconds();
  const auto decode = pass_end.back() - m.ttft;
  if (decode > core::Time::zero()) m.decode_tokens_per_s = generated * ranks / decode.seconds();
  m.decodes = generated > 0;
  return m;
}

}  // namespace moesim::model
