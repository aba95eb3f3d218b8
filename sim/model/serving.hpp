#pragma once
// Inference as serving measures it: the requests one rank serves (a static batch: prefilled
// together, then decoded one token per step while any is unfinished), the passes that serve
// them, each at its real shape (a decode step holds only the requests still generating, each
// attending to its own context), and from the passes' end times the metrics serving people
// report: time to first token, time per output token, end-to-end latency, prefill and decode
// throughput.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config.hpp"
#include "core/time.hpp"

namespace moesim::model {

// `count` requests of the same lengths (alike requests are one entry, however many).
struct Request {
  std::int64_t prompt = 0;    // tokens
  std::int64_t generate = 0;  // decode steps after the prefill
  std::int64_t count = 1;
};

// The requests of one rank's batch (model.micro_batch of them), in order: one entry when they
// are alike, else one per request drawn. Throws ConfigError (model.micro_batch) when more would
// be drawn than kMostDrawnRequests.
inline constexpr std::int64_t kMostDrawnRequests = std::int64_t{1} << 20;
std::vector<Request> requests_of(const ModelConfig& model, const InferenceConfig& inference);

// One forward pass over a batch: `batch` sequences of `seq_q` new tokens attending to `seq_kv`,
// `tokens` tokens in all. Where lengths differ, seq_q and seq_kv are the lengths at which
// attention does the work of the real ones (prefill: the root mean square prompt, so the
// scores' FLOPs match; decode: the mean context, so the keys and values read match).
struct Pass {
  std::int64_t batch = 0, seq_q = 0, seq_kv = 0, tokens = 0;
  std::string suffix;  // op names: "" (prefill), ".decode<step>"
};
std::vector<Pass> inference_passes(std::span<const Request> requests);

struct ServingMetrics {
  std::int64_t requests = 0;  // over every rank
  double prompt_tokens = 0, output_tokens = 0;
  core::Time ttft, e2e_mean, e2e_p50, e2e_p90, e2e_max;
  core::Time tpot_mean;             // per request: (e2e - ttft) / decode steps, averaged
  double prefill_tokens_per_s = 0;  // prompt tokens over the prefill
  double decode_tokens_per_s = 0;   // decode steps' tokens over the decode phase
  bool decodes = false;  // any decode step (else TPOT and decode throughput are undefined)
};
// From the end of each pass (inference_passes' order, the latest over ranks); `ranks_serving`:
// the ranks holding their own batch (ep x dp: tensor-parallel ranks share one).
ServingMetrics serving_metrics(std::span<const Request> requests,
                               std::span<const core::Time> pass_end, std::int64_t ranks_serving);

}  // namespace moesim::model
