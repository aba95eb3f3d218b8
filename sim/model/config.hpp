#pragma once
// What a MoE study describes: the transformer and its MoE layers, how it is split over ranks,
// how tokens are routed, and which schedule each MoE layer follows. Each struct lists its fields
// once (config/reader.hpp); defaults live here and only here.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/check.hpp"
#include "config/quantity.hpp"
#include "cost/dtype.hpp"

namespace moesim::model {

// What one token costs the exchange: a row per routed expert (today's fine-grained MoE
// layers), a row per destination rank however many of its experts it picked (DeepEP, Megatron's
// flex dispatcher), or, across nodes, a row per destination node that one GPU there forwards
// over NVLink to the ranks that need it (DeepEP's internode kernels).
enum class DispatchMode { kPerExpert, kPerRank, kPerNode };
constexpr auto enum_names(DispatchMode) {
  return std::array{std::pair{std::string_view("per_expert"), DispatchMode::kPerExpert},
                    std::pair{std::string_view("per_rank"), DispatchMode::kPerRank},
                    std::pair{std::string_view("per_node"), DispatchMode::kPerNode}};
}

struct MoeConfig {
  std::int64_t experts = 64;    // routed experts per MoE layer; 0: a dense model
  std::int64_t top_k = 2;       // experts per token
  std::int64_t expert_ffn = 0;  // intermediate size of one routed expert; 0 = hidden / 4
  std::int64_t shared_experts = 0;
  std::int64_t shared_ffn = 0;            // intermediate size of a shared expert; 0 = expert_ffn
  std::optional<double> capacity_factor;  // absent: dropless
  std::int64_t every = 1;                 // MoE every n-th block ...
  std::int64_t first = 0;                 // ... starting at this block (0-based)
  std::vector<std::int64_t> blocks;       // or exactly these blocks (overrides every/first)
  DispatchMode dispatch = DispatchMode::kPerExpert;  // the schedule's, when it says

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("experts", experts, "routed experts per MoE layer; 0 makes a dense model",
            Check::non_negative());
    v.field("top_k", top_k, "routed experts per token (the schedule may override it)",
            Check::at_least(1));
    v.field("expert_ffn", expert_ffn, "intermediate size of one routed expert; 0 = hidden/4",
            Check::non_negative());
    v.field("shared_experts", shared_experts, "dense experts every token passes through",
            Check::non_negative());
    v.field("shared_ffn", shared_ffn, "intermediate size of a shared expert; 0 = expert_ffn",
            Check::non_negative());
    v.field("capacity_factor", capacity_factor,
            "tokens per expert padded/capped at c*T*k/E; absent = dropless", Check::positive());
    v.field("every", every, "every n-th block is a MoE block", Check::at_least(1));
    v.field("first", first, "the first MoE block (0-based)", Check::non_negative());
    v.field("blocks", blocks, "explicit list of MoE blocks (overrides every/first)");
    v.field("dispatch", dispatch,
            "how the model's dispatcher exchanges tokens (a schedule's dispatch overrides it): "
            "per_expert, per_rank or per_node");
  }
};

enum class AttentionKind { kDot, kCosine };
constexpr auto enum_names(AttentionKind) {
  return std::array{std::pair{std::string_view("dot"), AttentionKind::kDot},
                    std::pair{std::string_view("cosine"), AttentionKind::kCosine}};
}

// What the model's attention computes, beyond its heads: what decides whether a fused (flash)
// kernel can run it.
struct AttentionConfig {
  AttentionKind kind = AttentionKind::kDot;  // cosine: SwinV2's normalised q, k and logit scale
  bool position_bias = false;  // a bias added to the scores (relative position bias tables)
  std::optional<cost::Dtype> scores_dtype;  // the scores' type when materialised (absent: dtype)

  template <class V>
  void fields(V& v) {
    v.field("kind", kind, "dot (scaled dot product) or cosine (SwinV2)");
    v.field("position_bias", position_bias, "a position bias added to the scores");
    v.field("scores_dtype", scores_dtype,
            "type of the scores when materialised (SwinV2's fp32 logit scale makes them fp32 "
            "under mixed precision)");
  }
  // A flash kernel runs plain scaled dot-product attention, causal or not, without a bias on
  // the scores.
  bool fusable() const { return kind == AttentionKind::kDot && !position_bias; }
};

struct ModelConfig {
  std::string name = "gpt3-xl-moe64";
  std::int64_t layers = 24;
  std::int64_t hidden = 2048;
  std::int64_t heads = 16;
  std::int64_t kv_heads = 0;  // 0 = heads
  std::int64_t head_dim = 0;  // 0 = hidden / heads
  std::int64_t ffn = 0;       // dense MLP intermediate size; 0 = 4 x hidden
  bool gated_mlp = false;     // SwiGLU-style MLPs: three GEMMs instead of two
  std::int64_t vocab = 50304;
  std::int64_t seq_len = 2048;
  std::int64_t micro_batch = 1;   // sequences per rank per micro-batch
  std::int64_t global_batch = 0;  // sequences per iteration; 0 = one micro-batch per rank
  cost::Dtype dtype = cost::Dtype::kBf16;
  std::optional<cost::Dtype> gemm_dtype;  // GEMM operands (FP8 with Transformer Engine)
  bool causal = true;                     // decoder (causal mask) or encoder
  bool bias = true;                       // linear layers carry biases (GPT, BERT, Swin)
  double dropout = 0;                     // training: hidden and attention dropout probability
  bool windowed = false;                  // Swin-style windowed attention
  bool qk_norm = false;                   // per-head norms of q and k (Qwen3, OLMoE)
  AttentionConfig attention;
  MoeConfig moe;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("name", name, "label in reports");
    v.field("layers", layers, "transformer blocks", Check::at_least(1));
    v.field("hidden", hidden, "hidden size h", Check::at_least(1));
    v.field("heads", heads, "attention heads", Check::at_least(1));
    v.field("kv_heads", kv_heads, "key/value heads (GQA); 0 = heads", Check::non_negative());
    v.field("head_dim", head_dim,
            "width of one attention head (Qwen3: 128 with hidden 2048 and 32 heads); 0 = "
            "hidden/heads",
            Check::non_negative());
    v.field("ffn", ffn, "dense MLP intermediate size; 0 = 4*hidden", Check::non_negative());
    v.field("gated_mlp", gated_mlp, "SwiGLU-style MLPs (three GEMMs)");
    v.field("vocab", vocab, "vocabulary size (LM head); 0 = no LM head", Check::non_negative());
    v.field("seq_len", seq_len, "sequence length (tokens)", Check::at_least(1));
    v.field("micro_batch", micro_batch, "sequences per rank per micro-batch", Check::at_least(1));
    v.field("global_batch", global_batch,
            "sequences per training iteration; 0 = one micro-batch on every data-parallel rank",
            Check::non_negative());
    v.field("dtype", dtype, "activation and weight type");
    v.field("gemm_dtype", gemm_dtype,
            "type of the GEMMs' operands, e.g. fp8 with Transformer Engine (absent: dtype)");
    v.field("causal", causal, "causal (decoder) attention; false for encoders and vision models");
    v.field("bias", bias, "linear layers have biases");
    v.field("dropout", dropout, "training: hidden and attention dropout probability",
            Check::between(0, 1));
    v.field("windowed", windowed,
            "Swin-style windows: the tokens are partitioned into windows before each attention "
            "and put back after it (layout copies)");
    v.field("qk_norm", qk_norm, "per-head norms of the queries and keys");
    v.field("attention", attention, "what the attention computes");
    v.field("moe", moe, "the MoE layers");
  }

  std::int64_t kv() const { return kv_heads > 0 ? kv_heads : heads; }
  std::int64_t hd() const { return head_dim > 0 ? head_dim : hidden / heads; }
  cost::Dtype gemm_type() const { return gemm_dtype.value_or(dtype); }
  std::int64_t dense_ffn() const { return ffn > 0 ? ffn : 4 * hidden; }
  std::int64_t expert_ffn() const { return moe.expert_ffn > 0 ? moe.expert_ffn : hidden / 4; }
  std::int64_t shared_ffn() const { return moe.shared_ffn > 0 ? moe.shared_ffn : expert_ffn(); }
  bool is_moe_block(std::int64_t block) const;
};

enum class RankOrder { kTpEpDp, kEpTpDp, kTpDpEp };
constexpr auto enum_names(RankOrder) {
  return std::array{std::pair{std::string_view("tp-ep-dp"), RankOrder::kTpEpDp},
                    std::pair{std::string_view("ep-tp-dp"), RankOrder::kEpTpDp},
                    std::pair{std::string_view("tp-dp-ep"), RankOrder::kTpDpEp}};
}

// world = tp x ep x dp. Non-expert weights are replicated over the ep x dp ranks of one tensor-
// parallel index; an expert-parallel group spreads the experts over ep ranks; dp replicas of
// that layout each hold every expert.
struct ParallelConfig {
  std::int64_t tp = 1;
  bool sp = true;  // sequence parallelism inside the tensor-parallel group
  std::int64_t ep = 8;
  std::int64_t dp = 1;
  RankOrder order = RankOrder::kTpEpDp;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("tp", tp, "tensor-parallel degree", Check::at_least(1));
    v.field("sp", sp, "sequence parallelism (all-gather/reduce-scatter instead of all-reduce)");
    v.field("ep", ep, "expert-parallel degree (ranks the experts are spread over)",
            Check::at_least(1));
    v.field("dp", dp, "replicas of the expert-parallel layout (expert data parallelism)",
            Check::at_least(1));
    v.field("order", order, "rank placement, fastest-varying first");
  }
  std::int64_t world() const { return tp * ep * dp; }
};

// How large a study may be before it is refused (limits.hpp estimates it before building).
struct Limits {
  // Ops the op graph may hold. About 1.4 GiB of memory per 10 million ops (more with traces);
  // raise it where the machine has the memory.
  std::int64_t ops = 20'000'000;

  template <class V>
  void fields(V& v) {
    v.field("ops", ops,
            "most ops a study may build (estimated before building; about 1.4 GiB per 10 million); "
            "raise it deliberately",
            config::Check::at_least(1));
  }
};

enum class RoutingKind { kBalanced, kZipf, kTrace };
constexpr auto enum_names(RoutingKind) {
  return std::array{std::pair{std::string_view("balanced"), RoutingKind::kBalanced},
                    std::pair{std::string_view("zipf"), RoutingKind::kZipf},
                    std::pair{std::string_view("trace"), RoutingKind::kTrace}};
}

struct RoutingConfig {
  RoutingKind kind = RoutingKind::kBalanced;
  double zipf_exponent = 1.0;  // popularity of the i-th most popular expert ~ 1/i^s
  std::int64_t seed = 1;
  std::string trace;            // CSV: layer,source,expert,tokens
  std::int64_t node_limit = 0;  // a token's experts on at most this many nodes; 0: any

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("kind", kind, "how tokens choose experts");
    v.field("zipf_exponent", zipf_exponent, "zipf: skew s of expert popularity",
            Check::between(0, 10));
    v.field("seed", seed, "zipf: seed of the popularity permutation per layer",
            Check::non_negative());
    v.field("trace", trace, "trace: CSV file of layer,source,expert,tokens");
    v.field("node_limit", node_limit,
            "node-limited routing (DeepSeek-V3: 4): each token's experts lie on at most this "
            "many nodes of its expert-parallel group; 0: no limit",
            Check::non_negative());
  }
};

// The MoE block's structure (schedules.md sections 1, 2 and 5).
enum class Structure { kStandard, kSharedExpert, kScMoE, kDgMoE, kScMoE2 };
constexpr auto enum_names(Structure) {
  return std::array{std::pair{std::string_view("standard"), Structure::kStandard},
                    std::pair{std::string_view("shared_expert"), Structure::kSharedExpert},
                    std::pair{std::string_view("scmoe"), Structure::kScMoE},
                    std::pair{std::string_view("dgmoe"), Structure::kDgMoE},
                    std::pair{std::string_view("scmoe2"), Structure::kScMoE2}};
}

enum class ExchangeAlgorithm { kFlat, kHierarchical };
constexpr auto enum_names(ExchangeAlgorithm) {
  return std::array{std::pair{std::string_view("flat"), ExchangeAlgorithm::kFlat},
                    std::pair{std::string_view("hierarchical"), ExchangeAlgorithm::kHierarchical}};
}

struct LshConfig {
  std::int64_t hashes = 6;  // cross-polytope hash functions L
  double rate = 0.2;        // rho: fraction of token rows still sent
  bool structured = false;  // fast structured rotation instead of a dense one

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("hashes", hashes, "hash functions L", Check::at_least(1));
    v.field("rate", rate, "compression rate rho: fraction of rows sent", Check::above_up_to(0, 1));
    v.field("structured", structured, "structured fast rotation (O(L h log h) per token)");
  }
};

// One schedule: the mechanisms are orthogonal (schedules.md, "Combinations").
struct ScheduleConfig {
  std::string name = "cdac";
  std::optional<double> dcca;    // BigMac: exchange at width r*h
  std::optional<LshConfig> lsh;  // LSH-MoE: exchange centroids
  Structure structure = Structure::kStandard;
  std::int64_t shortcut = 2;          // ScMoE/DGMoE/ScMoE-2: shortcut position 1, 2 or 3
  std::int64_t pipeline = 1;          // all-to-all chunks d (1 = no pipelining)
  std::optional<std::int64_t> top_k;  // overrides the structure's and the model's top-k (per gate)
  ExchangeAlgorithm all_to_all = ExchangeAlgorithm::kFlat;
  std::optional<DispatchMode> dispatch;       // absent: model.moe.dispatch
  std::optional<cost::Dtype> dispatch_dtype;  // absent: the model's (or the dispatcher's upcast)
  std::optional<cost::Dtype> combine_dtype;   // absent: as the dispatch

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("name", name, "label in reports");
    v.field("dcca", dcca, "BigMac DCCA: downscaling factor r of the exchanged width",
            Check::above_up_to(0, 1));
    v.field("lsh", lsh, "LSH-compressed exchange");
    v.field("structure", structure, "MoE block structure");
    v.field("shortcut", shortcut,
            "ScMoE shortcut position (1, 2 or 3); 1 wherever the preceding block is a MoE block",
            Check::between(1, 3));
    v.field("pipeline", pipeline, "pipelining degree d of the exchanges", Check::at_least(1));
    v.field("top_k", top_k,
            "routed experts per token (per gate), instead of the structure's (scmoe: 1, "
            "scmoe2: 2) or model.moe.top_k",
            Check::at_least(1));
    v.field("all_to_all", all_to_all, "flat or hierarchical (2-D) all-to-all");
    v.field("dispatch", dispatch,
            "rows a token costs the exchange: per_expert (one per routed expert), per_rank (one "
            "per destination rank), per_node (one per destination node, forwarded there over "
            "NVLink); absent: model.moe.dispatch");
    v.field("dispatch_dtype", dispatch_dtype,
            "type of the dispatched rows (fp8: 1 byte an element and a 4-byte scale per 128)");
    v.field("combine_dtype", combine_dtype, "type of the combined rows (absent: as dispatched)");
  }
};

enum class Mode { kTrain, kInfer };
constexpr auto enum_names(Mode) {
  return std::array{std::pair{std::string_view("train"), Mode::kTrain},
                    std::pair{std::string_view("infer"), Mode::kInfer}};
}

// ZeRO stages (DeepSpeed's numbering; stage 1 is also Megatron's distributed optimizer): what
// each data-parallel group shards among its members. From stage 1 on the gradients are
// reduce-scattered; from stage 3 on the weights are gathered block by block.
inline constexpr std::int64_t kZeroOptimizerStates = 1;  // Adam's states
inline constexpr std::int64_t kZeroGradients = 2;        // and the gradients kept
inline constexpr std::int64_t kZeroWeights = 3;          // and the weights

// Activation recomputation (Megatron's terms): none; selective, the attention core's forward
// again before its backward; full, every block's forward again before its backward.
enum class Recompute { kNone, kSelective, kFull };
constexpr auto enum_names(Recompute) {
  return std::array{std::pair{std::string_view("none"), Recompute::kNone},
                    std::pair{std::string_view("selective"), Recompute::kSelective},
                    std::pair{std::string_view("full"), Recompute::kFull}};
}

struct TrainingConfig {
  config::Bytes bucket{std::int64_t{1} << 30};  // DP reduction bucket
  std::int64_t zero = 0;                        // ZeRO stage; 0 = nothing sharded
  std::optional<cost::Dtype> grad_dtype;        // absent: the implementation's, else the model's
  Recompute recompute = Recompute::kNone;

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("bucket", bucket, "gradient reduction bucket size", Check::positive());
    v.field("zero", zero,
            "ZeRO stage: what each data-parallel group shards (0 nothing; 1 optimizer states; 2 "
            "and gradients; 3 and weights)",
            Check::between(0, kZeroWeights));
    v.field("grad_dtype", grad_dtype,
            "type gradients are accumulated and reduced in (absent: the implementation's "
            "choice, else the model's dtype)");
    v.field("recompute", recompute,
            "activation recomputation: none, selective (attention core) or full (every block)");
  }
};

// Serving a static batch: each rank holds model.micro_batch requests, prefilled together, then
// decoded one token per step until the last request is done (a request leaves the batch when
// its tokens are out; none joins). Lengths are `prompt` and `generate` for every request, or,
// with range_ratio r > 0, drawn uniformly from [L(1-r), L(1+r)] per request (seeded; the same
// draw on every rank).
struct InferenceConfig {
  std::int64_t prompt = 0;    // prompt tokens per request; 0 = model.seq_len
  std::int64_t generate = 0;  // decode steps after the prefill (each gives one more token)
  double range_ratio = 0;     // spread of the lengths around prompt and generate
  std::int64_t seed = 1;      // of the lengths' draw

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("prompt", prompt, "prompt length in tokens; 0 = model.seq_len", Check::non_negative());
    v.field("generate", generate,
            "decode steps after the prefill (a request returns generate + 1 tokens: the prefill "
            "gives the first)",
            Check::non_negative());
    v.field("range_ratio", range_ratio,
            "r: each request's prompt and generate lengths drawn uniformly from [L(1-r), L(1+r)]; "
            "0 = all alike",
            Check::between(0, 0.99));
    v.field("seed", seed, "seed of the lengths' draw (range_ratio > 0)");
  }
};

}  // namespace moesim::model
