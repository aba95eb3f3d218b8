#pragma once
// How a framework runs a model: the choices that change the time outside the exchange without
// changing the model. A prediction is for a model on an implementation on a cluster; an
// implementation is a small YAML preset with its sources (experiments/implementations/), like a
// GPU profile. docs/implementations.md describes each choice and what it costs.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/check.hpp"
#include "config/document.hpp"
#include "core/time.hpp"
#include "cost/dtype.hpp"

namespace moesim::model {

enum class AttentionKernel { kFlash, kUnfused };
constexpr auto enum_names(AttentionKernel) {
  return std::array{std::pair{std::string_view("flash"), AttentionKernel::kFlash},
                    std::pair{std::string_view("unfused"), AttentionKernel::kUnfused}};
}

// How a MoE dispatcher groups token rows by destination expert.
enum class Permutation { kGather, kSort, kOneHot, kEinsum, kScatter };
constexpr auto enum_names(Permutation) {
  return std::array{std::pair{std::string_view("gather"), Permutation::kGather},
                    std::pair{std::string_view("sort"), Permutation::kSort},
                    std::pair{std::string_view("one_hot"), Permutation::kOneHot},
                    std::pair{std::string_view("einsum"), Permutation::kEinsum},
                    std::pair{std::string_view("scatter"), Permutation::kScatter}};
}

// What a dispatcher exchanges before each all-to-all-v: nothing (fixed sizes, capacity padded),
// or every rank's tokens per expert.
// or every rank's tokens per expert (all_gather), or the largest count, for a capacity that
// drops nothing (all_reduce of one number).
enum class CountExchange { kNone, kAllGather, kAllReduce };
constexpr auto enum_names(CountExchange) {
  return std::array{std::pair{std::string_view("none"), CountExchange::kNone},
                    std::pair{std::string_view("all_gather"), CountExchange::kAllGather},
                    std::pair{std::string_view("all_reduce"), CountExchange::kAllReduce}};
}

struct AttentionImplementation {
  // flash: one fused kernel that never writes the scores (FlashAttention, cuDNN fused
  // attention). unfused: QK^T and PV as batched GEMMs around a softmax over the materialised
  // B x heads x s_q x s_kv scores. A model whose attention a flash kernel cannot run (cosine
  // attention, a bias added to the scores) runs unfused whatever this says.
  AttentionKernel kernel = AttentionKernel::kFlash;
  int flash_version = 3;           // flash: the FlashAttention generation (1, 2, 3)
  bool fused_softmax = true;       // unfused: scale, mask and softmax in one kernel
  std::int64_t layout_copies = 0;  // unfused: token-by-hidden copies splitting or merging heads
  std::optional<cost::Dtype> scores_dtype;  // unfused: the scores' type (absent: the model's)

  template <class V>
  void fields(V& v) {
    v.field("kernel", kernel, "flash (fused, scores never written) or unfused");
    v.field("flash_version", flash_version,
            "flash: the FlashAttention generation the framework runs (1, 2, 3); a GPU without it "
            "runs the newest older one it has (the profile's compute.flash)",
            config::Check::between(1, 3));
    v.field("fused_softmax", fused_softmax, "unfused: scale, mask and softmax in one kernel");
    v.field("layout_copies", layout_copies,
            "unfused: copies of a tokens x hidden tensor that split q, k, v into heads or merge "
            "the output (.contiguous() of permuted views)",
            config::Check::non_negative());
    v.field("scores_dtype", scores_dtype, "unfused: type of the materialised scores");
  }
};

// Elementwise chains a framework fuses (true) or runs as separate kernels (false).
struct Fusions {
  std::int64_t activation_ops = 1;  // pointwise ops an MLP activation is written as (1: a kernel)
  bool bias_activation = true;      // the bias add inside the MLP's activation kernel
  bool bias_dropout_add = true;     // bias, dropout and residual add in one kernel
  bool bias_gradient = true;        // bias gradients reduced inside the GEMM (no extra kernel)
  bool cross_entropy = true;        // the loss in one kernel each way, in fp32 registers

  template <class V>
  void fields(V& v) {
    v.field("activation_ops", activation_ops,
            "pointwise ops the MLP's activation is written as, each a kernel when eager "
            "(HuggingFace's gelu_new: 8); 1: one fused kernel",
            config::Check::at_least(1));
    v.field("bias_activation", bias_activation, "bias add fused into the activation");
    v.field("bias_dropout_add", bias_dropout_add, "bias, dropout and residual add in one kernel");
    v.field("bias_gradient", bias_gradient, "bias gradients reduced inside the GEMMs");
    v.field("cross_entropy", cross_entropy, "fused cross-entropy over the vocabulary");
  }
};

struct HostImplementation {
  // CPU time to issue one kernel or collective (eager PyTorch: Python, the dispatcher, autograd
  // and cudaLaunchKernel). Zero: the host is never behind (the "fused_ideal" assumption).
  core::Time launch = core::Time::zero();
  bool cuda_graphs = false;  // kernels replayed from a CUDA graph: no per-kernel host cost
  core::Time sync =
      core::Time::zero();  // a host synchronisation's round trip (cudaEventSynchronize)

  template <class V>
  void fields(V& v) {
    using config::Check;
    v.field("launch", launch, "CPU time to issue one kernel or collective", Check::non_negative());
    v.field("cuda_graphs", cuda_graphs, "kernels replayed from CUDA graphs (no per-kernel cost)");
    v.field("sync", sync, "a host synchronisation's round trip, beyond waiting for the GPU",
            Check::non_negative());
  }
  // Whether the host is modelled at all: something costs host time.
  bool modelled() const {
    return (!cuda_graphs && launch > core::Time::zero()) || sync > core::Time::zero();
  }
};

struct DispatcherImplementation {
  Permutation permutation = Permutation::kGather;
  CountExchange counts = CountExchange::kNone;
  bool host_sync = false;         // the host reads the counts (or a capacity) before the exchange
  bool upcast_bf16 = false;       // a bf16 model's dispatch and combine buffers are fp32 (Tutel)
  bool aux_loss = true;           // load-balancing loss kernels in training
  std::int64_t gate_kernels = 1;  // kernels the gate runs after its GEMM (softmax, top-k, masks)

  template <class V>
  void fields(V& v) {
    v.field("permutation", permutation,
            "how rows are grouped by expert: gather (slots given), sort, one_hot (cumsum "
            "locations), einsum (dense GEMM with capacity), scatter");
    v.field("counts", counts,
            "exchanged before each all-to-all: none, all_gather (tokens per expert) or "
            "all_reduce (the largest count, for a capacity that drops nothing)");
    v.field("host_sync", host_sync, "the host waits for the counts before issuing the exchange");
    v.field("upcast_bf16", upcast_bf16,
            "a bf16 model's dispatch and combine buffers (and exchanges) are fp32");
    v.field("aux_loss", aux_loss, "load-balancing loss kernels in training");
    v.field("gate_kernels", gate_kernels,
            "kernels the gate runs after its GEMM: one fused softmax and top-k, or each tensor "
            "op of an eager gating function over the tokens x experts scores",
            config::Check::at_least(1));
  }
};

struct Implementation {
  std::string name = "fused_ideal";
  std::string description;
  std::vector<std::string> sources;
  AttentionImplementation attention;
  Fusions fusions;
  HostImplementation host;
  DispatcherImplementation dispatcher;
  std::optional<cost::Dtype> grad_dtype;  // gradient accumulation and reduction
  bool autocast = false;            // fp32 weights under torch.autocast: each cast per forward GEMM
  bool residual_fp32 = false;       // the residual stream (and layer norms on it) in fp32
  bool prefill_all_logits = false;  // inference: the LM head over every prompt token

  template <class V>
  void fields(V& v) {
    v.field("name", name, "label in reports", config::Check::none().required());
    v.field("description", description, "the framework and version this describes");
    v.field("sources", sources, "where each choice was read (code, documentation)");
    v.field("attention", attention, "attention kernels");
    v.field("fusions", fusions, "elementwise chains fused into one kernel");
    v.field("host", host, "the CPU that issues the kernels");
    v.field("dispatcher", dispatcher, "MoE token dispatch bookkeeping");
    v.field("grad_dtype", grad_dtype,
            "type gradients are accumulated and reduced in (absent: the model's)");
    v.field("autocast", autocast,
            "weights kept in fp32 and cast to the model's type before each forward GEMM "
            "(torch.autocast)");
    v.field("residual_fp32", residual_fp32,
            "the residual stream in fp32 (fp32 embeddings under autocast, or kept so on "
            "purpose): residual adds and layer norms move 4-byte elements; an unfused layer norm "
            "also writes fp32, cast for the GEMM that reads it");
    v.field("prefill_all_logits", prefill_all_logits,
            "inference: the LM head computes logits for every prompt token, not the last");
  }
};

// Reads and checks an implementation preset (a name and at least one source). Throws
// config::ConfigError naming the place.
Implementation read_implementation(const config::Document& document);

}  // namespace moesim::model
