// What each implementation choice adds to a program or a workload, against hand counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "cost/profile.hpp"
#include "model/forward.hpp"
#include "model/memory.hpp"
#include "model/simulate.hpp"
#include "topologies/build.hpp"

namespace moesim::model {
namespace {

using cost::OpKind;

const std::string kSource = MOESIM_SOURCE_DIR;

const topo::Cluster& bigmac() {
  static const auto c =
      topo::load_cluster(kSource + "/topologies/presets/bigmac_4x8_a40_ib100.yaml");
  return c;
}
const cost::CostModel& a40() {
  static const cost::CostModel m(cost::load_profile(kSource + "/calibrate/profiles/a40.yaml"));
  return m;
}
const ExchangeEstimator kNoEstimate = [](const net::TransferGraph&, const std::vector<int>&) {
  return core::Time::zero();
};

// 2 blocks (block 1 MoE), h = 256, 4 heads of 64, 16 experts over EP 8, top-2, 256 tokens.
Study small() {
  Study s;
  s.model.layers = 2;
  s.model.hidden = 256;
  s.model.heads = 4;
  s.model.vocab = 1000;
  s.model.seq_len = 256;
  s.model.moe.experts = 16;
  s.model.moe.top_k = 2;
  s.model.moe.expert_ffn = 64;
  s.model.moe.every = 2;
  s.model.moe.first = 1;
  s.parallel.ep = 8;
  return s;
}

Program program(const Study& s) {
  ProgramBuilder builder(s, bigmac(), a40(), kNoEstimate);
  return builder.training_forward(0);
}

const Node& named(const Program& p, const std::string& name) {
  const auto it =
      std::find_if(p.nodes.begin(), p.nodes.end(), [&](const Node& n) { return n.name == name; });
  EXPECT_NE(it, p.nodes.end()) << name;
  return *it;
}

std::vector<OpKind> kinds(const std::vector<cost::Work>& works) {
  std::vector<OpKind> out;
  for (const auto& w : works) out.push_back(w.kind);
  return out;
}

// FP8 GEMMs (Transformer Engine on Hopper): each input quantised with its transpose before the
// forward GEMM, each output gradient before the backward ones.
TEST(Implementation, Fp8LinearsQuantiseInputsAndGradientsWithTheirTransposes) {
  auto s = small();  // 256 tokens, h = 256
  s.model.gemm_dtype = cost::Dtype::kFp8;
  const auto p = program(s);
  const auto& out = named(p, "L0.attn.out");
  ASSERT_EQ(kinds(out.forward), (std::vector{OpKind::kCast, OpKind::kGemm}));
  // Reads 256 x 256 bf16 (2 bytes) and writes it in fp8 twice (1 byte each).
  EXPECT_EQ(out.forward[0].bytes, 256.0 * 256 * (2 + 1 + 1));
  EXPECT_EQ(out.forward[1].dtype, cost::Dtype::kFp8);
  EXPECT_EQ(out.backward.front().kind, OpKind::kCast);
  EXPECT_EQ(out.backward.front().bytes, 256.0 * 256 * 4);
}

// Qwen3-style heads wider than hidden / heads: the projections and the attention use them.
TEST(Implementation, AHeadDimWiderThanHiddenOverHeadsWidensTheProjections) {
  auto s = small();  // h = 256, 4 heads
  s.model.kv_heads = 2;
  s.model.head_dim = 128;  // not 256 / 4 = 64
  const auto p = program(s);
  // q, k, v: (4 + 2 x 2) heads of 128 = 1024 columns over 256 tokens from h = 256.
  const auto& qkv = named(p, "L0.attn.qkv").forward.front();
  EXPECT_EQ(qkv.flops, 2.0 * 256 * 1024 * 256);
  // The output projection reads 4 heads x 128 = 512 and writes h = 256.
  EXPECT_EQ(named(p, "L0.attn.out").forward.front().flops, 2.0 * 256 * 256 * 512);
  // Causal flash attention over heads of 128: 4 b h s s d / 2.
  EXPECT_EQ(named(p, "L0.attn.core").forward[0].flops, 4.0 * 4 * 256 * 256 * 128 / 2);
}

TEST(Implementation, FlashAttentionIsOneKernelAndCausalityComesFromTheModel) {
  auto s = small();
  const auto causal = named(program(s), "L0.attn.core");
  ASSERT_EQ(causal.forward.size(), 1u);
  EXPECT_EQ(causal.forward[0].kind, OpKind::kAttention);
  // 4 b h s_q s_kv d, halved when causal: 4 x 4 x 256 x 256 x 64 / 2.
  EXPECT_EQ(causal.forward[0].flops, 4.0 * 4 * 256 * 256 * 64 / 2);
  s.model.causal = false;  // an encoder computes every score
  EXPECT_EQ(named(program(s), "L0.attn.core").forward[0].flops, 4.0 * 4 * 256 * 256 * 64);
}

// Unfused, as eager frameworks run it: with dropout 0.1 in training and one head-merge copy,
// scale, mask, softmax and dropout each a kernel over the 4 heads x 256 x 256 scores.
TEST(Implementation, UnfusedAttentionMaterialisesTheScores) {
  auto s = small();
  s.model.dropout = 0.1;
  s.implementation.attention.kernel = AttentionKernel::kUnfused;
  s.implementation.attention.fused_softmax = false;
  s.implementation.attention.layout_copies = 1;
  const auto core = named(program(s), "L0.attn.core");
  EXPECT_THAT(kinds(core.forward),
              ::testing::ElementsAre(OpKind::kLayoutCopy, OpKind::kBatchedGemm,
                                     OpKind::kElementwise, OpKind::kElementwise, OpKind::kSoftmax,
                                     OpKind::kDropout, OpKind::kBatchedGemm));
  constexpr double kScores = 4.0 * 256 * 256;  // 1 sequence x 4 heads x 256 x 256
  const auto& qk = core.forward[1];
  EXPECT_EQ(qk.flops, 2.0 * 4 * 256 * 256 * 64);        // every score, masked or not
  EXPECT_EQ(core.forward[4].bytes, kScores * (2 + 2));  // bf16 scores in, probabilities out
  EXPECT_EQ(core.forward[5].bytes, kScores * (2 * 2 + 1));
  // Backward: dV and dP, dropout, softmax, scale, dQ and dK, the copy.
  EXPECT_THAT(kinds(core.backward),
              ::testing::ElementsAre(OpKind::kBatchedGemm, OpKind::kBatchedGemm, OpKind::kDropout,
                                     OpKind::kSoftmax, OpKind::kElementwise, OpKind::kBatchedGemm,
                                     OpKind::kBatchedGemm, OpKind::kLayoutCopy));
  // Fused softmax: scale and mask inside it; fp32 scores: cast in and out of them.
  s.implementation.attention.fused_softmax = true;
  s.implementation.attention.scores_dtype = cost::Dtype::kFp32;
  const auto fused = named(program(s), "L0.attn.core");
  EXPECT_THAT(kinds(fused.forward),
              ::testing::ElementsAre(OpKind::kLayoutCopy, OpKind::kBatchedGemm, OpKind::kCast,
                                     OpKind::kSoftmax, OpKind::kDropout, OpKind::kCast,
                                     OpKind::kBatchedGemm));
  EXPECT_EQ(fused.forward[3].bytes, kScores * (4 + 4));
}

// SwinV2's cosine attention with a position bias cannot run in a flash kernel: unfused
// whatever the implementation says, with q and k normalised and the bias added.
TEST(Implementation, CosineAttentionWithAPositionBiasRunsUnfused) {
  auto s = small();
  s.model.attention.kind = AttentionKind::kCosine;
  s.model.attention.position_bias = true;
  const auto core = named(program(s), "L0.attn.core");
  EXPECT_THAT(
      kinds(core.forward),
      ::testing::ElementsAre(OpKind::kElementwise, OpKind::kElementwise, OpKind::kBatchedGemm,
                             OpKind::kElementwise, OpKind::kElementwise, OpKind::kElementwise,
                             OpKind::kSoftmax, OpKind::kBatchedGemm));
  // The bias table's gradient sums 1 sequence's 4 x 256 x 256 scores.
  EXPECT_EQ(std::count_if(core.backward.begin(), core.backward.end(),
                          [](const cost::Work& w) { return w.kind == OpKind::kReduction; }),
            1);
}

TEST(Implementation, ResidualJoinFusedOrEachStepItsOwnKernel) {
  auto s = small();
  s.model.dropout = 0.1;
  const auto fused = named(program(s), "L0.attn.residual");
  ASSERT_EQ(fused.forward.size(), 1u);  // bias, dropout and add: 256 x 256, two in, one out
  EXPECT_EQ(fused.forward[0].bytes, 256.0 * 256 * (3 * 2 + 1));
  // Backward: the dropout's, then the add at the fork.
  EXPECT_THAT(kinds(fused.backward),
              ::testing::ElementsAre(OpKind::kDropout, OpKind::kElementwiseAdd));
  s.implementation.fusions.bias_dropout_add = false;
  s.implementation.fusions.bias_gradient = false;
  const auto split = named(program(s), "L0.attn.residual");
  EXPECT_THAT(kinds(split.forward), ::testing::ElementsAre(OpKind::kElementwise, OpKind::kDropout,
                                                           OpKind::kElementwiseAdd));
  EXPECT_THAT(kinds(split.backward), ::testing::ElementsAre(OpKind::kDropout, OpKind::kReduction,
                                                            OpKind::kElementwiseAdd));
  // A model without biases has no bias add.
  s.model.bias = false;
  EXPECT_EQ(named(program(s), "L0.attn.residual").forward.size(), 2u);
}

TEST(Implementation, MlpBiasAndActivationFusedOrNot) {
  auto s = small();
  EXPECT_EQ(named(program(s), "L0.mlp.act").forward.size(), 1u);
  s.implementation.fusions.bias_activation = false;
  const auto act = named(program(s), "L0.mlp.act");
  ASSERT_EQ(act.forward.size(), 2u);  // fc1's bias over 256 x 1024, then the GELU
  EXPECT_EQ(act.forward[0].bytes, 256.0 * 1024 * 2 * 2);
}

TEST(Implementation, LossAndAmpCasts) {
  auto s = small();
  const auto fused = named(program(s), "loss");
  EXPECT_EQ(fused.forward[0].bytes, 256.0 * 1000 * 2);
  s.implementation.fusions.cross_entropy = false;
  s.implementation.autocast = true;
  EXPECT_EQ(named(program(s), "loss").forward[0].bytes, 256.0 * 1000 * (2 + 4 + 8));
  // Each forward GEMM's fp32 weight is cast first: the LM head's 1000 x 256.
  const auto head = named(program(s), "lm_head");
  ASSERT_EQ(head.forward.size(), 2u);
  EXPECT_EQ(head.forward[0].kind, OpKind::kCast);
  EXPECT_EQ(head.forward[0].bytes, 1000.0 * 256 * (4 + 2));
}

// Megatron-Core's alltoall dispatcher: argsort of the routing map, an all-gather of the
// tokens per expert before the exchange, and the host waits for it.
TEST(Implementation, DispatcherSortsExchangesCountsAndSyncsTheHost) {
  auto s = small();
  auto& d = s.implementation.dispatcher;
  d.permutation = Permutation::kSort;
  d.counts = CountExchange::kAllGather;
  d.host_sync = true;
  d.aux_loss = true;
  const auto p = program(s);
  const auto& permute = named(p, "L1.moe.permute");
  ASSERT_EQ(permute.forward.size(), 2u);
  EXPECT_EQ(permute.forward[0].kind, OpKind::kSort);  // 16 experts x 256 tokens, 1-byte keys
  EXPECT_EQ(permute.forward[0].bytes, 16 * 256 * (1 + 2 * 9.0));
  const auto& counts = named(p, "L1.moe.counts");
  ASSERT_TRUE(counts.collective);
  EXPECT_EQ(counts.collective->kind, net::CollectiveKind::kAllGather);
  EXPECT_EQ(counts.collective->bytes, 8.0 * 16 * 8);  // 8 ranks x 16 experts x int64
  EXPECT_FALSE(counts.mirrored);
  const auto counts_id = &counts - p.nodes.data();
  EXPECT_EQ(named(p, "L1.moe.dispatch").host_waits_for, counts_id);
  // The aux loss reads the router's 256 x 16 fp32 probabilities and int64 choices.
  EXPECT_EQ(named(p, "L1.moe.gate").forward.back().bytes, 256 * 16 * 12.0);
}

// DeepSpeed-MoE and fairseq without Tutel dispatch with a dense einsum over a capacity-padded
// buffer: 2 T (E C) w FLOPs. Capacity 1.0: C = 256 x 2 / 16 = 32 rows per expert.
TEST(Implementation, EinsumDispatchIsAGemmOverTheCapacity) {
  auto s = small();
  s.model.moe.capacity_factor = 1.0;
  s.implementation.dispatcher.permutation = Permutation::kEinsum;
  const auto& permute = named(program(s), "L1.moe.permute");
  const auto gemm = std::find_if(permute.forward.begin(), permute.forward.end(),
                                 [](const cost::Work& w) { return w.kind == OpKind::kGemm; });
  ASSERT_NE(gemm, permute.forward.end());
  EXPECT_EQ(gemm->flops, 2.0 * 256 * (16 * 32) * 256);
  // Tutel's scatter: a zero-filled 16 x 32 x 256 buffer (fp32 for a bf16 model), then a scatter.
  s.implementation.dispatcher.permutation = Permutation::kScatter;
  s.implementation.dispatcher.upcast_bf16 = true;
  const auto scatter = named(program(s), "L1.moe.permute");
  const auto fill = std::find_if(scatter.forward.begin(), scatter.forward.end(),
                                 [](const cost::Work& w) { return w.kind == OpKind::kZeroFill; });
  ASSERT_NE(fill, scatter.forward.end());
  EXPECT_EQ(fill->bytes, 16.0 * 32 * 256 * 4);
}

std::size_t ops_on(const Workload& w, core::RankId rank, std::string_view stream) {
  std::size_t n = 0;
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) {
    if (w.graph.op_rank(op) == rank && w.graph.stream_name(w.graph.op_stream(op)) == stream) ++n;
  }
  return n;
}

// A host that takes 20 us per kernel issues every op: each GPU op waits for its issue op,
// which lasts 20 us per kernel; with CUDA graphs nothing is charged.
TEST(Implementation, TheHostIssuesEveryOpAtItsLaunchCost) {
  auto s = small();
  const auto plain = build_workload(s, bigmac(), a40(), kNoEstimate);
  s.implementation.host.launch = core::Time::us(20);
  const auto hosted = build_workload(s, bigmac(), a40(), kNoEstimate);
  EXPECT_EQ(ops_on(plain, 0, "host"), 0u);
  EXPECT_EQ(hosted.graph.op_count(), 2 * plain.graph.op_count());
  core::Time issued = core::Time::zero();
  std::size_t kernels = 0, collectives = 0;
  for (core::OpId op = 0; op < hosted.graph.op_count(); ++op) {
    if (hosted.graph.op_rank(op) != 0) continue;
    if (hosted.category[op] == Category::kHost) {
      issued += hosted.work[op].duration;
      const auto gpu = op + 1;  // each issue op comes just before its GPU op
      EXPECT_THAT(hosted.graph.prerequisites(gpu), ::testing::Contains(op));
    } else if (hosted.work[op].call == net::OpWork::kCompute) {
      // Each compute op is the kernels of its node: count them from the plain run's pricing.
      ++kernels;
    } else {
      ++collectives;
    }
  }
  EXPECT_GE(issued.count(), (kernels + collectives) * core::Time::us(20).count());
  // The run is at least as long as rank 0's host issuing.
  const auto sim = simulate(s, bigmac(), a40(), {});
  EXPECT_GE(sim.timeline.end(), issued);
  s.implementation.host.cuda_graphs = true;
  const auto graphed = build_workload(s, bigmac(), a40(), kNoEstimate);
  for (core::OpId op = 0; op < graphed.graph.op_count(); ++op) {
    if (graphed.category[op] == Category::kHost) {
      EXPECT_EQ(graphed.work[op].duration, core::Time::zero());
    }
  }
}

// The dispatch's issue waits for the count exchange and then pays the synchronisation.
TEST(Implementation, AHostSyncStallsIssueUntilTheGpuIsThere) {
  auto s = small();
  s.implementation.host.launch = core::Time::us(5);
  s.implementation.host.sync = core::Time::us(30);
  s.implementation.dispatcher.counts = CountExchange::kAllGather;
  s.implementation.dispatcher.host_sync = true;
  const auto w = build_workload(s, bigmac(), a40(), kNoEstimate);
  core::OpId counts = core::kNoId, issue = core::kNoId;
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) {
    if (w.graph.op_rank(op) != 0) continue;
    if (w.graph.op_name(op) == "L1.moe.counts") counts = op;
    if (w.graph.op_name(op) == "L1.moe.dispatch.issue") issue = op;
  }
  ASSERT_NE(counts, core::kNoId);
  ASSERT_NE(issue, core::kNoId);
  EXPECT_THAT(w.graph.prerequisites(issue), ::testing::Contains(counts));
  EXPECT_EQ(w.work[issue].duration, core::Time::us(5 + 30));
  // The backward exchange reuses the forward's sizes: no count exchange, no sync.
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) {
    EXPECT_NE(w.graph.op_name(op), "L1.moe.counts.bwd");
  }
}

std::vector<std::string> rank0_names(const Workload& w, std::string_view contains) {
  std::vector<std::string> out;
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) {
    const std::string name(w.graph.op_name(op));
    if (w.graph.op_rank(op) == 0 && name.find(contains) != std::string::npos) out.push_back(name);
  }
  return out;
}

// Full recomputation runs each block's forward again right before its backward; selective
// only the attention core.
TEST(Implementation, RecomputationRunsTheForwardAgainBeforeEachBlocksBackward) {
  auto s = small();
  const auto none = build_workload(s, bigmac(), a40(), kNoEstimate);
  EXPECT_TRUE(rank0_names(none, ".recompute").empty());
  s.training.recompute = Recompute::kFull;
  const auto full = build_workload(s, bigmac(), a40(), kNoEstimate);
  // Every forward op of blocks 0 and 1 again: those named L0. and L1. without ".bwd".
  std::size_t block_ops = 0;
  for (const auto& n : rank0_names(none, "L")) block_ops += n.find(".bwd") == std::string::npos;
  EXPECT_EQ(rank0_names(full, ".recompute").size(), block_ops);
  // In the order they run: block 1's recomputation before its first backward op.
  const auto at = [&](const std::string& name) {
    const auto names = rank0_names(full, "");
    return std::find(names.begin(), names.end(), name) - names.begin();
  };
  EXPECT_LT(at("L1.attn.ln.bwd.recompute"), at("L1.moe.residual.bwd"));
  EXPECT_GT(at("L1.attn.ln.bwd.recompute"), at("loss.bwd"));
  s.training.recompute = Recompute::kSelective;
  const auto selective = build_workload(s, bigmac(), a40(), kNoEstimate);
  EXPECT_THAT(rank0_names(selective, ".recompute"),
              ::testing::ElementsAre("L1.attn.core.bwd.recompute", "L0.attn.core.bwd.recompute"));
}

// What a workload's data-parallel collectives move, each call once: its size times the
// fraction each rank sends in an ideal algorithm (nccl-tests' bus bandwidth factor), times its
// ranks.
double dp_bytes(const Workload& w) {
  std::set<std::uint32_t> calls;
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) {
    if (w.category[op] == Category::kDp) calls.insert(w.work[op].call);
  }
  double sum = 0;
  for (const auto c : calls) {
    const auto& call = w.calls[c];
    const auto n = static_cast<int>(call.gpus.size());
    sum += call.bytes * net::busbw_factor(call.kind, n) * n;
  }
  return sum;
}

// Megatron reduces a bf16 model's gradients in fp32: twice the bytes, and twice the memory.
TEST(Implementation, GradientsInFp32DoubleTheReductionAndTheirMemory) {
  auto s = small();
  s.parallel.dp = 2;
  const auto bf16 = build_workload(s, bigmac(), a40(), kNoEstimate);
  const auto bf16_memory = memory_floor(s, bf16);
  s.implementation.grad_dtype = cost::Dtype::kFp32;
  const auto fp32 = build_workload(s, bigmac(), a40(), kNoEstimate);
  ASSERT_GT(dp_bytes(bf16), 0);
  EXPECT_DOUBLE_EQ(dp_bytes(fp32), 2 * dp_bytes(bf16));
  EXPECT_DOUBLE_EQ(memory_floor(s, fp32).gradients, 2 * bf16_memory.gradients);
  // training.grad_dtype overrides the implementation's.
  s.training.grad_dtype = cost::Dtype::kBf16;
  EXPECT_DOUBLE_EQ(dp_bytes(build_workload(s, bigmac(), a40(), kNoEstimate)), dp_bytes(bf16));
}

TEST(Implementation, InferenceWritesTheKvCacheAndSamplesTheLastToken) {
  auto s = small();
  s.mode = Mode::kInfer;
  const auto p = program(s);
  const auto& qkv = named(p, "L0.attn.qkv");
  ASSERT_EQ(qkv.forward.back().kind, OpKind::kKvCacheWrite);
  EXPECT_EQ(qkv.forward.back().bytes, 2 * 2 * 256.0 * 256 * 2);  // 256 tokens x 4 heads x 64
  // One sequence of 256 tokens: the LM head over its last token only, then sampling.
  EXPECT_EQ(named(p, "lm_head").forward[0].gemm.m, 1);
  EXPECT_EQ(named(p, "sampling").forward[0].kind, OpKind::kSampling);
  s.implementation.prefill_all_logits = true;
  EXPECT_EQ(named(program(s), "lm_head").forward[0].gemm.m, 256);
}

}  // namespace
}  // namespace moesim::model

namespace moesim::model {
namespace {

// HuggingFace's gelu_new is eight pointwise ops: eight kernels forward, two each backward.
TEST(Implementation, AnEagerActivationIsOneKernelPerOp) {
  auto s = small();
  s.implementation.fusions.activation_ops = 8;
  const auto act = named(program(s), "L0.mlp.act");
  ASSERT_EQ(act.forward.size(), 8u);
  EXPECT_EQ(act.backward.size(), 16u);
  EXPECT_EQ(act.forward[0].bytes, 256.0 * 1024 * 2 * 2);  // 256 tokens x 4h, one in, one out
}

// An fp32 residual stream: the residual add reads fp32 and the branch, writes fp32; an eager
// layer norm writes fp32 and the GEMM's input is cast.
TEST(Implementation, AnFp32ResidualStreamMovesFourByteElements) {
  auto s = small();
  s.implementation.residual_fp32 = true;
  s.implementation.fusions.bias_dropout_add = false;
  const auto p = program(s);
  const auto& join = named(p, "L0.attn.residual");
  EXPECT_EQ(join.forward.back().bytes, 256.0 * 256 * (4 + 4 + 2));
  const auto& ln = named(p, "L0.mlp.ln");
  ASSERT_EQ(ln.forward.size(), 2u);
  EXPECT_EQ(ln.forward[0].bytes, 2 * 256.0 * 256 * 4 + 2 * 256 * 4);
  EXPECT_EQ(ln.forward[1].kind, cost::OpKind::kCast);
  // Fused with the add, the norm writes the model's type itself.
  s.implementation.fusions.bias_dropout_add = true;
  const auto fused = named(program(s), "L0.mlp.ln");
  ASSERT_EQ(fused.forward.size(), 1u);
  EXPECT_EQ(fused.forward[0].bytes, 256.0 * 256 * (4 + 2) + 2 * 256 * 4);
}

TEST(Implementation, AnEagerGateRunsEachOfItsOps) {
  auto s = small();
  s.implementation.dispatcher.gate_kernels = 39;
  s.implementation.dispatcher.aux_loss = false;
  // The router GEMM, the gating kernel, and 38 more over 256 tokens x 16 experts in fp32.
  const auto gate = named(program(s), "L1.moe.gate");
  ASSERT_EQ(gate.forward.size(), 40u);
  EXPECT_EQ(gate.forward.back().bytes, 256.0 * 16 * 4 * 2);
}

}  // namespace
}  // namespace moesim::model
