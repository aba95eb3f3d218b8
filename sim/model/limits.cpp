#include "limits.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <string>

#include "config/error.hpp"

namespace moesim::model {

namespace {

using config::ConfigError;
using Big = long double;

// A width (hidden, FFN, vocabulary, heads...) beyond 2^24 is no transformer's, and keeps every
// product of a few widths and row counts inside int64.
constexpr Big kMaxWidth = 16'777'216;  // 2^24
// One tensor per rank: 2^40 elements (2 TB in bf16), far beyond any device, far inside int64
// and exact in double.
constexpr Big kMaxElements = 1'099'511'627'776.0L;  // 2^40
// Attention scores per rank (batch x heads x seq_q x seq_kv): 2^48, inside double's exact range
// once multiplied by a head width.
constexpr Big kMaxScores = 281'474'976'710'656.0L;  // 2^48
// The fewest ops a block makes per pass (norm, attention, norm, MLP), and a pipelined MoE
// block per chunk (dispatch, experts, combine): the estimate is a lower bound.
constexpr Big kOpsPerBlock = 4;
constexpr Big kOpsPerChunk = 3;
// Memory the op graph, its timeline and the engine take per op, measured (docs/architecture.md,
// "Size limits"): about 1.4 GiB per 10 million ops, more with --trace or --dag.
constexpr Big kBytesPerOp = 150;

Big big(std::int64_t v) {
  return static_cast<Big>(v);
}

void width(std::int64_t value, const char* key) {
  if (big(value) > kMaxWidth) {
    throw ConfigError::about(key, fmt::format("{} is beyond the largest width moesim takes, 2^24 "
                                              "(16,777,216)",
                                              value));
  }
}

std::string fmt_big(Big v) {
  return fmt::format("{:.3g}", static_cast<double>(v));
}

// DCCA exchanges r*h and keeps the experts' parameters with an inner width f/r: both must be
// widths moesim can build.
void check_dcca(const Study& s) {
  if (!s.schedule.dcca) return;
  const auto& m = s.model;
  const Big r = *s.schedule.dcca;
  const Big exchanged = r * big(m.hidden);
  const Big expert = big(m.expert_ffn()) / r;
  if (exchanged < 1) {
    throw ConfigError::about("schedule.dcca",
                             fmt::format("r = {} exchanges r*h = {} of model.hidden {}: less than "
                                         "one element; expected r of at least 1/h = {:.3g}",
                                         *s.schedule.dcca, fmt_big(exchanged), m.hidden,
                                         1.0 / static_cast<double>(m.hidden)));
  }
  if (expert > kMaxWidth) {
    throw ConfigError::about(
        "schedule.dcca",
        fmt::format("r = {} makes the experts' inner width f/r = {}: beyond the largest width "
                    "moesim takes, 2^24 (16,777,216)",
                    *s.schedule.dcca, fmt_big(expert)));
  }
}

}  // namespace

long double estimated_ops(const Study& s) {
  const auto& m = s.model;
  Big moe_blocks = 0;
  if (m.moe.experts > 0) {
    moe_blocks = m.moe.blocks.empty()
                     ? std::max<Big>(0, std::ceil((big(m.layers) - big(m.moe.first)) /
                                                  big(std::max<std::int64_t>(m.moe.every, 1))))
                     : big(static_cast<std::int64_t>(m.moe.blocks.size()));
  }
  const Big per_pass =
      big(m.layers) * kOpsPerBlock + moe_blocks * big(s.schedule.pipeline) * kOpsPerChunk;
  // The longest request's decode steps: generate, or up to (1 + range_ratio) of it.
  Big passes =
      1 + std::ceil(big(s.inference.generate) * (1 + static_cast<Big>(s.inference.range_ratio)));
  if (s.mode == Mode::kTrain) {
    const Big per_step = big(m.micro_batch) * big(s.parallel.ep) * big(s.parallel.dp);
    const Big micro_batches =
        m.global_batch > 0 ? std::max<Big>(1, big(m.global_batch) / per_step) : 1;
    passes = 2 * micro_batches;
  }
  return big(s.parallel.tp) * big(s.parallel.ep) * big(s.parallel.dp) * passes * per_pass;
}

void check_sizes(const Study& s, std::int64_t cluster_gpus) {
  const auto& m = s.model;
  const Big world = big(s.parallel.tp) * big(s.parallel.ep) * big(s.parallel.dp);
  if (world > big(cluster_gpus)) {
    throw ConfigError::about(
        "parallel",
        fmt::format("tp {} x ep {} x dp {} = {} ranks, more than the cluster's {} "
                    "GPUs",
                    s.parallel.tp, s.parallel.ep, s.parallel.dp, fmt_big(world), cluster_gpus));
  }
  width(m.hidden, "model.hidden");
  width(m.heads, "model.heads");
  width(m.kv_heads, "model.kv_heads");
  width(m.head_dim, "model.head_dim");
  width(m.ffn, "model.ffn");
  width(m.vocab, "model.vocab");
  width(m.moe.experts, "model.moe.experts");
  width(m.moe.top_k, "model.moe.top_k");
  width(m.moe.expert_ffn, "model.moe.expert_ffn");
  width(m.moe.shared_ffn, "model.moe.shared_ffn");
  width(m.moe.shared_experts, "model.moe.shared_experts");
  width(s.schedule.pipeline, "schedule.pipeline");
  check_dcca(s);

  const Big ops = estimated_ops(s);
  if (ops > big(std::numeric_limits<std::int64_t>::max())) {
    throw ConfigError(fmt::format(
        "this study would build at least {} ops ({} ranks x {} blocks x passes): beyond what one "
        "simulation can hold, whatever limits.ops says",
        fmt_big(ops), fmt_big(world), m.layers));
  }
  if (ops > big(s.limits.ops)) {
    // Not about one key: the product of several, and limits.ops is rarely written.
    throw ConfigError(fmt::format(
        "limits.ops: this study would build at least {} ops ({} ranks x {} blocks{}), about {} "
        "GiB, more than limits.ops = {}; if the machine has the memory, raise it: "
        "--set limits.ops={:.0f}",
        fmt_big(ops), fmt_big(world), m.layers,
        s.mode == Mode::kTrain ? " x micro-batches x forward and backward"
                               : " x (prefill + inference.generate decode steps)",
        fmt_big(ops * kBytesPerOp / (1024.0L * 1024 * 1024)), s.limits.ops,
        static_cast<double>(std::ceil(ops))));
  }
  const bool infer = s.mode == Mode::kInfer;
  const auto prompt = infer && s.inference.prompt > 0 ? s.inference.prompt : m.seq_len;
  const char* seq_key = infer && s.inference.prompt > 0 ? "inference.prompt" : "model.seq_len";
  const Big context = big(prompt) + (infer ? big(s.inference.generate) : 0);
  const Big tokens = big(m.micro_batch) * big(prompt);
  const Big widest = std::max({big(m.hidden) * 4, big(m.dense_ffn()), big(m.vocab),
                               big(m.expert_ffn()) * big(std::max<std::int64_t>(m.moe.top_k, 1))});
  if (tokens * widest > kMaxElements) {
    throw ConfigError::about(
        m.micro_batch > prompt ? "model.micro_batch" : seq_key,
        fmt::format("micro_batch {} x {} {} = {} tokens per rank make tensors of {} elements "
                    "(their widest row {}), beyond 2^40: lower the batch or the sequence",
                    m.micro_batch, seq_key, prompt, fmt_big(tokens), fmt_big(tokens * widest),
                    fmt_big(widest)));
  }
  if (big(m.micro_batch) * big(m.heads) * big(prompt) * context > kMaxScores) {
    throw ConfigError::about(
        infer && big(s.inference.generate) > big(prompt) ? "inference.generate" : seq_key,
        fmt::format("{} tokens attending to {} is {} attention scores per rank, beyond "
                    "2^48",
                    prompt, fmt_big(context),
                    fmt_big(big(m.micro_batch) * big(m.heads) * big(prompt) * context)));
  }
}

}  // namespace moesim::model
