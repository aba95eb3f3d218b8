// The schedules' identities (schedules.md) as checks on built and simulated workloads.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>

#include "config/enum_name.hpp"
#include "config/error.hpp"
#include "cost/profile.hpp"
#include "model/layout.hpp"
#include "model/memory.hpp"
#include "model/routing.hpp"
#include "model/simulate.hpp"
#include "net/collectives.hpp"
#include "net/run_transfers.hpp"
#include "topologies/build.hpp"

namespace moesim::model {
namespace {

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

// A small fine-grained MoE on 8 ranks of one node.
Study small() {
  Study s;
  s.model.layers = 4;
  s.model.hidden = 256;
  s.model.heads = 4;
  s.model.vocab = 1000;
  s.model.seq_len = 256;
  s.model.moe.experts = 16;
  s.model.moe.top_k = 4;
  s.model.moe.expert_ffn = 64;
  s.parallel.ep = 8;
  return s;
}

Workload build(const Study& s) {
  return build_workload(s, bigmac(), a40(), kNoEstimate);
}

// The ConfigError building `s` throws, or "no error".
std::string error_of(const Study& s) {
  try {
    build(s);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// The memory floor, counted by hand for small(): per block 4h^2 = 262,144 attention weights, a
// gate of h x E = 4,096 and E/ep = 2 experts of 2 x h x 64 = 32,768; four blocks and a 1000 x h
// LM head: 1,583,104 parameters per rank. Training in bf16 holds 2 + 2 + 12 bytes of each.
TEST(Memory, TheFloorCountsEachRanksParametersAndTheKvCache) {
  auto s = small();
  auto m = memory_floor(s, build(s));
  EXPECT_EQ(m.weights, 1'583'104.0 * 2);
  EXPECT_EQ(m.gradients, 1'583'104.0 * 2);
  EXPECT_EQ(m.optimizer, 1'583'104.0 * 12);
  EXPECT_EQ(m.kv_cache, 0);
  EXPECT_EQ(m.total(), 1'583'104.0 * 16);
  // Twice the expert parallelism: one expert per rank, 32,768 fewer parameters per block.
  s.parallel.ep = 16;
  EXPECT_EQ(memory_floor(s, build(s)).weights, (1'583'104.0 - 4 * 32'768) * 2);
  // Inference: weights and the keys and values of 4 layers x 4 heads x 64 for 100 + 10 tokens.
  s = small();
  s.mode = Mode::kInfer;
  s.inference.prompt = 100;
  s.inference.generate = 10;
  m = memory_floor(s, build(s));
  EXPECT_EQ(m.weights, 1'583'104.0 * 2);
  EXPECT_EQ(m.gradients + m.optimizer, 0);
  EXPECT_EQ(m.kv_cache, 2.0 * 4 * 4 * 64 * 110 * 2);
}

// small() with two data-parallel replicas (16 ranks): the dense weights are shared by all 16
// ranks (their data-parallel group), each rank's experts by the 2 replicas of its position.
Study small_with_replicas(std::int64_t zero) {
  auto s = small();
  s.parallel.dp = 2;
  s.training.zero = zero;
  return s;
}

// Per rank (see above): 4 x (262,144 + 4,096) + 256,000 = 1,320,960 dense parameters and
// 4 x 65,536 = 262,144 expert ones; a shard is 1,320,960 / 16 + 262,144 / 2 = 213,632. At
// ZeRO-3 a block is gathered whole for its pass: 266,240 x 15/16 + 65,536 x 1/2 = 282,368
// parameters beyond its shard (the embedding and head, 256,000 x 15/16, are fewer).
TEST(Memory, ZeroShardsEachPartOverItsDataParallelGroup) {
  constexpr double kWhole = 1'583'104, kShard = 213'632, kGathered = 282'368;
  const auto floor = [](std::int64_t zero) {
    const auto s = small_with_replicas(zero);
    return memory_floor(s, build(s));
  };
  EXPECT_EQ(floor(0).total(), kWhole * 16);
  const auto z1 = floor(1), z2 = floor(2), z3 = floor(3);
  EXPECT_EQ(z1.weights, kWhole * 2);
  EXPECT_EQ(z1.gradients, kWhole * 2);
  EXPECT_EQ(z1.optimizer, kShard * 12);
  EXPECT_EQ(z2.weights, kWhole * 2);
  EXPECT_EQ(z2.gradients, kShard * 2);
  EXPECT_EQ(z2.optimizer, kShard * 12);
  EXPECT_EQ(z2.gathered, 0);
  EXPECT_EQ(z3.weights, kShard * 2);
  EXPECT_EQ(z3.gathered, kGathered * 2);
  EXPECT_EQ(z3.total(), kShard * 16 + kGathered * 2);
  // Inference holds whole weights whatever training.zero says.
  auto s = small_with_replicas(3);
  s.mode = Mode::kInfer;
  EXPECT_EQ(memory_floor(s, build(s)).weights, kWhole * 2);
}

TEST(Identities, DccaSendsRTimesTheBytesAndAddsTwoGemmsPerMoeLayer) {
  auto s = small();
  const auto cdac = build(s);
  s.schedule.dcca = 0.25;
  const auto dcca = build(s);
  ASSERT_GT(cdac.a2a_bytes, 0);
  EXPECT_DOUBLE_EQ(dcca.a2a_bytes, 0.25 * cdac.a2a_bytes);
  const auto proj = static_cast<std::size_t>(Category::kProjections);
  EXPECT_EQ(cdac.gemms[proj], 0);
  // Forward GEMM kernels, per rank: two per MoE layer (descend and ascend).
  EXPECT_EQ(dcca.gemms[proj], 2 * dcca.moe_layers * s.parallel.world());
  for (std::size_t c = 0; c < kCategoryCount; ++c) {
    if (c != proj) {
      EXPECT_EQ(dcca.gemms[c], cdac.gemms[c]) << name(static_cast<Category>(c));
    }
  }
}

TEST(Identities, LshSendsRhoTimesTheBytes) {
  auto s = small();
  const auto plain = build(s);
  s.schedule.lsh = LshConfig{};
  s.schedule.lsh->rate = 0.2;
  const auto lsh = build(s);
  EXPECT_NEAR(lsh.a2a_bytes, 0.2 * plain.a2a_bytes, 1e-9 * plain.a2a_bytes);
}

// schedules.md section 3: 24 layers, h = 2048, k = 8, p = 32, r = 0.25, 524,288 tokens per
// iteration, bf16: 1,488 GiB (CDAC) vs 372 GiB (DCCA) of all-to-all traffic, fwd + bwd.
TEST(Identities, PerIterationTrafficExampleOfSchedulesMd) {
  Study s;
  s.model.layers = 24;
  s.model.hidden = 2048;
  s.model.heads = 16;
  s.model.seq_len = 2048;
  s.model.micro_batch = 8;
  s.model.global_batch = 256;  // 524,288 tokens
  s.model.moe.experts = 64;
  s.model.moe.top_k = 8;
  s.model.moe.expert_ffn = 512;
  s.parallel.ep = 32;
  const auto cdac = build(s);
  EXPECT_DOUBLE_EQ(cdac.a2a_bytes / (1ull << 30), 1488.0);
  s.schedule.dcca = 0.25;
  EXPECT_DOUBLE_EQ(build(s).a2a_bytes / (1ull << 30), 372.0);
}

std::vector<std::string> op_names(const Workload& w) {
  std::vector<std::string> names;
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) names.emplace_back(w.graph.op_name(op));
  return names;
}

TEST(Identities, PipeliningDegreeOneIsNoPipelining) {
  auto s = small();
  const auto plain = build(s);
  s.schedule.pipeline = 1;
  const auto d1 = build(s);
  EXPECT_EQ(op_names(d1), op_names(plain));
  s.schedule.pipeline = 4;
  const auto d4 = build(s);
  EXPECT_DOUBLE_EQ(d4.a2a_bytes, plain.a2a_bytes);  // same bytes, in four chunks
  EXPECT_GT(d4.graph.op_count(), plain.graph.op_count());
}

Simulation simulate_small(Study s) {
  NetworkConfig net;
  return simulate(s, bigmac(), a40(), net);
}

core::Time exposed_a2a(const Simulation& sim) {
  // The most all-to-all time any rank spends with its compute stream idle, computed here from
  // the timeline alone (independently of report::breakdown, which reports the same quantity).
  core::Time worst = core::Time::zero();
  const auto& g = sim.workload->graph;
  std::vector<std::vector<std::pair<core::Time, core::Time>>> compute(g.rank_count()),
      a2a(g.rank_count());
  for (core::OpId op = 0; op < g.op_count(); ++op) {
    const auto c = sim.workload->category[op];
    const auto span = sim.timeline.span(op);
    if (c == Category::kA2aDispatch || c == Category::kA2aCombine) {
      a2a[g.op_rank(op)].push_back({span.start, span.end});
    } else if (!is_communication(c)) {
      compute[g.op_rank(op)].push_back({span.start, span.end});
    }
  }
  for (core::RankId r = 0; r < g.rank_count(); ++r) {
    core::Time exposed = core::Time::zero();
    for (const auto& [s, e] : a2a[r]) {
      // Exposed part of [s, e): not covered by any compute span (compute spans are disjoint).
      core::Time covered = core::Time::zero();
      for (const auto& [cs, ce] : compute[r]) {
        const auto lo = std::max(s, cs), hi = std::min(e, ce);
        if (hi > lo) covered += hi - lo;
      }
      exposed += (e - s) - covered;
    }
    worst = std::max(worst, exposed);
  }
  return worst;
}

// What a workload's data-parallel collectives move, each call once: its size times the
// fraction each rank sends in an ideal algorithm (nccl-tests' bus bandwidth factor), times its
// ranks.
double dp_network_bytes(const Workload& w) {
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

// Rank 0's ops whose name starts with `prefix`.
std::vector<core::OpId> rank0_ops(const Workload& w, std::string_view prefix) {
  std::vector<core::OpId> ops;
  for (core::OpId op = 0; op < w.graph.op_count(); ++op) {
    if (w.graph.op_rank(op) == 0 && w.graph.op_name(op).starts_with(prefix)) ops.push_back(op);
  }
  return ops;
}

TEST(Zero, StagesOneAndTwoReduceScatterStepAShardAndGatherItBack) {
  const auto whole = build(small_with_replicas(0));
  for (const std::int64_t zero : {1, 2}) {
    const auto sharded = build(small_with_replicas(zero));
    // A reduce-scatter and an all-gather move what an all-reduce moves: 2(n-1)/n S per rank.
    EXPECT_NEAR(dp_network_bytes(sharded), dp_network_bytes(whole), 1e-9 * dp_network_bytes(whole));
    // The same buckets, then as many gathers of the stepped weights, after the step.
    const auto buckets = rank0_ops(sharded, "grad.");
    EXPECT_EQ(buckets.size(), rank0_ops(whole, "grad.").size());
    const auto gathers = rank0_ops(sharded, "weights.");
    ASSERT_EQ(gathers.size(), buckets.size());
    const auto step = rank0_ops(sharded, "optimizer");
    ASSERT_EQ(step.size(), 1u);
    for (const auto g : gathers) {
      EXPECT_THAT(sharded.graph.prerequisites(g), ::testing::Contains(step[0]));
    }
    // Each rank steps 213,632 of its 1,583,104 parameters.
    EXPECT_LT(sharded.work[step[0]].duration.seconds() * 5,
              whole.work[rank0_ops(whole, "optimizer")[0]].duration.seconds());
  }
}

// With three micro-batches, stages 0 and 1 let the gradients accumulate and reduce them once;
// from stage 2 on each rank keeps only its shard, so every backward reduces its gradients.
TEST(Zero, FromStageTwoEveryMicroBatchReducesItsGradients) {
  const auto with_micro_batches = [](std::int64_t zero) {
    auto s = small_with_replicas(zero);
    s.model.global_batch = 3 * s.parallel.ep * s.parallel.dp;  // micro_batch 1
    return build(s);
  };
  const auto once = with_micro_batches(1);
  const auto per_pass = rank0_ops(once, "grad.");
  ASSERT_FALSE(per_pass.empty());
  for (const auto op : per_pass) {
    EXPECT_THAT(std::string(once.graph.op_name(op)), ::testing::Not(::testing::HasSubstr(".mb")));
  }
  for (const std::int64_t zero : {2, 3}) {
    const auto w = with_micro_batches(zero);
    for (int mb = 0; mb < 3; ++mb) {
      // The same buckets in each pass, each after that pass's backward of its blocks.
      std::vector<core::OpId> reductions;
      for (const auto op : rank0_ops(w, "grad.")) {
        if (w.graph.op_name(op).ends_with(fmt::format(".mb{}", mb))) reductions.push_back(op);
      }
      ASSERT_EQ(reductions.size(), per_pass.size()) << "zero " << zero << " mb " << mb;
      for (const auto r : reductions) {
        for (const auto p : w.graph.prerequisites(r)) {
          EXPECT_THAT(std::string(w.graph.op_name(p)),
                      ::testing::HasSubstr(fmt::format(".mb{}.bwd", mb)));
        }
      }
    }
    // The step waits for all of them.
    const auto step = rank0_ops(w, "optimizer");
    ASSERT_EQ(step.size(), 1u);
    EXPECT_EQ(w.graph.prerequisites(step[0]).size(), 3 * per_pass.size());
  }
  // Stage 2 moves three times stage 1's gradient bytes: the gathers after the step stay one set.
  const auto z2 = with_micro_batches(2);
  const auto gathered = dp_network_bytes(once) / 2;  // reduce-scatter and all-gather move alike
  EXPECT_NEAR(dp_network_bytes(z2), 3 * gathered + gathered, 1e-9 * dp_network_bytes(z2));
}

TEST(Zero, StageThreeGathersEachBlocksWeightsBeforeItsOpsInBothPasses) {
  auto s = small_with_replicas(3);
  const auto w = build(s);
  // Forward and backward: the embedding once and each block's dense and expert weights.
  EXPECT_EQ(rank0_ops(w, "weights.embedding.dense").size(), 2u);
  for (int b = 0; b < s.model.layers; ++b) {
    const auto block = fmt::format("weights.block{}.", b);
    EXPECT_EQ(rank0_ops(w, block + "dense").size(), 2u) << block;
    EXPECT_EQ(rank0_ops(w, block + "expert").size(), 2u) << block;
    const auto gathers = rank0_ops(w, block);
    const auto ops = rank0_ops(w, fmt::format("L{}.", b));
    ASSERT_FALSE(ops.empty());
    for (const auto op : ops) {
      for (const auto g : gathers) {
        if (w.graph.op_name(g).ends_with(".bwd") != w.graph.op_name(op).ends_with(".bwd")) continue;
        EXPECT_THAT(w.graph.prerequisites(op), ::testing::Contains(g)) << w.graph.op_name(op);
      }
    }
  }
  // No weights are gathered after the step: the next pass gathers what it needs.
  EXPECT_THAT(rank0_ops(w, "weights.dense"), ::testing::IsEmpty());
  // The gathers wait for the ops of the unit before, which wait for their own gathers: no cycle.
  const auto sim = simulate_small(s);
  EXPECT_GT(sim.timeline.end(), core::Time::zero());
}

TEST(Identities, ShortcutNeverExposesMoreAllToAllThanTheSameModelWithout) {
  auto s = small();
  s.model.moe.every = 2;
  s.model.moe.first = 1;
  s.schedule.structure = Structure::kSharedExpert;
  const auto without = exposed_a2a(simulate_small(s));
  ASSERT_GT(without, core::Time::zero());
  s.schedule.structure = Structure::kScMoE;
  for (const int pos : {1, 2, 3}) {
    s.schedule.shortcut = pos;
    const auto with = exposed_a2a(simulate_small(s));
    EXPECT_LE(with, without) << "Pos-" << pos;
  }
}

TEST(Simulation, SameInputsGiveTheSameTimeline) {
  auto s = small();
  s.routing.kind = RoutingKind::kZipf;
  const auto a = simulate_small(s), b = simulate_small(s);
  ASSERT_EQ(a.workload->graph.op_count(), b.workload->graph.op_count());
  for (core::OpId op = 0; op < a.workload->graph.op_count(); ++op) {
    ASSERT_EQ(a.timeline.span(op).end, b.timeline.span(op).end);
  }
}

// Every structure, trained and inferred, with DCCA (width 64), two chunks and TP 2 with sequence
// parallelism on 8 ranks (2 EP groups of 4): its all-to-all bytes match a hand count, and the
// run lasts at least as long as rank 0's compute stream, whose ops run one at a time.
TEST(Simulation, EveryScheduleRunsInTrainingAndInferenceWithTheBytesOfItsStructure) {
  auto s = small();
  s.model.moe.every = 2;
  s.model.moe.first = 1;  // two MoE blocks
  s.parallel.tp = 2;
  s.parallel.ep = 4;
  s.schedule.dcca = 0.25;
  s.schedule.pipeline = 2;
  struct Case {
    Structure structure;
    int k, paths;  // routed experts per token, routed paths per block
  };
  for (const auto& c : {Case{Structure::kStandard, 4, 1}, Case{Structure::kSharedExpert, 1, 1},
                        Case{Structure::kScMoE, 1, 1}, Case{Structure::kDgMoE, 1, 2},
                        Case{Structure::kScMoE2, 2, 1}}) {
    for (const auto mode : {Mode::kTrain, Mode::kInfer}) {
      s.schedule.structure = c.structure;
      s.mode = mode;
      const auto sim = simulate_small(s);
      // Each rank routes its whole sequence (256 tokens, gathered over TP) x k rows of 64 bf16
      // elements, spread evenly over the 16 experts: 3/4 of them to the other members. Per
      // MoE block and path a dispatch and a combine; forward and backward in training.
      const double per_exchange = 8 * 256.0 * c.k * 0.75 * 64 * 2;
      const double expected = per_exchange * 2 * c.paths * 2 * (mode == Mode::kTrain ? 2 : 1);
      const auto what =
          fmt::format("{} {}", config::enum_name(c.structure), config::enum_name(mode));
      EXPECT_NEAR(sim.workload->a2a_bytes, expected, 1e-9 * expected) << what;
      const auto& g = sim.workload->graph;
      core::Time compute = core::Time::zero();
      for (core::OpId op = 0; op < g.op_count(); ++op) {
        if (g.op_rank(op) == 0 && g.stream_name(g.op_stream(op)) == "compute") {
          compute += sim.workload->work[op].duration;
        }
      }
      EXPECT_GT(compute, core::Time::zero()) << what;
      EXPECT_GE(sim.timeline.end(), compute) << what;
    }
  }
}

// A residual add reads what the TP reduce-scatter before it returns: it may not start earlier.
TEST(Simulation, ResidualsWaitForTheirTensorParallelCollective) {
  auto s = small();
  s.model.moe.every = 2;
  s.model.moe.first = 1;
  s.parallel.tp = 2;
  s.parallel.ep = 4;
  const auto sim = simulate_small(s);
  const auto& g = sim.workload->graph;
  std::map<std::pair<core::RankId, std::string>, core::Time> collective_end;
  int checked = 0;
  for (core::OpId op = 0; op < g.op_count(); ++op) {
    const std::string name(g.op_name(op));
    const auto dot = name.rfind('.');
    const auto prefix = name.substr(0, dot);
    if (name.ends_with(".reduce_scatter") && name.find(".bwd") == std::string::npos) {
      collective_end[{g.op_rank(op), prefix}] = sim.timeline.span(op).end;
    }
  }
  for (core::OpId op = 0; op < g.op_count(); ++op) {
    const std::string name(g.op_name(op));
    for (const char* block : {".mlp.residual", ".moe.residual"}) {
      if (!name.ends_with(block)) continue;
      const auto layer = name.substr(0, name.size() - std::string(block).size());
      const auto key = std::make_pair(
          g.op_rank(op), layer + (std::string(block) == ".mlp.residual" ? ".mlp" : ".moe"));
      const auto it = collective_end.find(key);
      ASSERT_NE(it, collective_end.end()) << name;
      EXPECT_GE(sim.timeline.span(op).start, it->second) << name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(Layout, GroupsAndChecks) {
  ModelConfig m;
  ParallelConfig p;
  p.tp = 2, p.ep = 4, p.dp = 2;
  const RankLayout l(m, p, 16);
  EXPECT_EQ(l.ep_group(0), (std::vector<int>{0, 2, 4, 6}));
  EXPECT_EQ(l.tp_group(1), (std::vector<int>{2, 3}));
  EXPECT_EQ(l.expert_dp_group(0), (std::vector<int>{0, 8}));
  EXPECT_EQ(l.dense_dp_group(1).size(), 8u);
  EXPECT_THROW(RankLayout(m, p, 8), config::ConfigError);  // 16 ranks on 8 GPUs
  // Given the node size, the error says how many nodes the ranks need.
  const auto too_many = [&](int per_node) {
    try {
      RankLayout(m, p, 8, per_node);
    } catch (const config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(too_many(4),
            "parallel: tp 2 x ep 4 x dp 2 = 16 ranks, but the cluster has 8 GPUs (they need 4 "
            "nodes of 4)");
  EXPECT_THAT(too_many(0), ::testing::EndsWith("has 8 GPUs"));
  EXPECT_THAT(too_many(6), ::testing::EndsWith("has 8 GPUs"));  // 16 ranks fill no whole nodes
  p.ep = 3;
  EXPECT_THROW(RankLayout(m, p, 16), config::ConfigError);  // 64 experts over 3
}

// A token goes to top_k distinct experts: no more than there are (ScMoE-2's two included).
TEST(Layout, MoreExpertsPerTokenThanExpertsIsAClearError) {
  auto s = small();
  s.model.moe.top_k = 16;  // all of them: fine
  EXPECT_EQ(error_of(s), "no error");
  s.model.moe.top_k = 17;
  s.schedule.name = "wide";
  EXPECT_EQ(error_of(s),
            "model.moe.top_k: schedule 'wide' sends each token to 17 distinct experts, but "
            "model.moe.experts is 16");
  // The error names the key that set k: the schedule's own top_k when it has one.
  s.schedule.top_k = 17;
  EXPECT_THAT(error_of(s), ::testing::StartsWith("schedule.top_k: schedule 'wide' sends"));
  s.schedule.top_k.reset();
  s.model.moe.top_k = 1;
  s.model.moe.experts = 8;
  s.schedule.structure = Structure::kScMoE2;  // two experts per token, whatever the model says
  EXPECT_EQ(error_of(s), "no error");
  s.model.moe.experts = 1;
  s.parallel.ep = 1;
  EXPECT_THAT(error_of(s), ::testing::StartsWith("schedule.structure: schedule 'wide' sends each "
                                                 "token to 2 distinct experts"));
}

// Shapes that cannot be built are named before anything runs, not simulated as something else
// (a model whose first MoE block is past its last used to run as a dense model).
TEST(Layout, ImpossibleModelShapesAreClearErrors) {
  auto s = small();
  EXPECT_EQ(error_of(s), "no error");
  s.model.hidden = 250;
  EXPECT_EQ(error_of(s), "model.hidden: 250 is not a multiple of model.heads 4");
  s = small();
  s.model.kv_heads = 3;
  EXPECT_EQ(error_of(s), "model.kv_heads: 3 does not divide model.heads 4");
  s = small();
  s.model.moe.first = 4;
  EXPECT_EQ(error_of(s),
            "model.moe.first: block 4 is past the model's last block, 3: no block would be MoE");
  s.model.moe.blocks = {1, 4};  // the list overrides first
  EXPECT_EQ(error_of(s), "model.moe.blocks: block 4 is not one of the model's blocks 0..3");
  s.model.moe.blocks = {3, 1, 3};
  EXPECT_EQ(error_of(s), "model.moe.blocks: block 3 is listed twice: 3, 1, 3");
  s.model.moe.blocks = {3, 1};  // any order
  EXPECT_EQ(error_of(s), "no error");
}

// A trace that keeps every token on its own rank's experts leaves the all-to-alls nothing to
// send to other ranks; a balanced routing of the same model sends 7/8 of its rows away.
// EP = 1 keeps every expert on every rank: no all-to-all crosses a link, and the run simulates
// (it used to stop on an internal error, "all-to-all needs at least 2 participants").
TEST(Simulation, ExpertParallelismOfOneSendsNothingAndRuns) {
  auto s = small();
  s.parallel.ep = 1;
  s.parallel.dp = 8;
  s.model.global_batch = 0;
  const auto w = build(s);
  EXPECT_EQ(w.a2a_bytes, 0);
  const auto sim = simulate(s, bigmac(), a40(), {});
  EXPECT_GT(sim.timeline.end(), core::Time::zero());
}

TEST(Routing, ATraceThatStaysOnEachRanksExpertsSendsNothingAway) {
  auto s = small();  // 8 ranks, 16 experts (2 per rank), 4 MoE layers, 256 tokens per rank
  s.model.moe.top_k = 2;
  const auto balanced = build(s);
  ASSERT_GT(balanced.a2a_bytes, 0);
  const auto path = std::filesystem::path(::testing::TempDir()) / "local_trace.csv";
  {
    std::ofstream out(path);
    out << "layer,source,expert,tokens\n";
    for (int layer = 0; layer < 4; ++layer) {
      for (int r = 0; r < 8; ++r) {
        out << layer << ',' << r << ',' << 2 * r << ",256\n";
        out << layer << ',' << r << ',' << 2 * r + 1 << ",256\n";
      }
    }
  }
  s.routing.kind = RoutingKind::kTrace;
  s.routing.trace = path.string();
  const auto local = build(s);
  std::filesystem::remove(path);
  EXPECT_EQ(local.a2a_bytes, 0);
  EXPECT_EQ(local.graph.op_count(), balanced.graph.op_count());  // the same program
}

TEST(Routing, ZipfIsSkewedExactAndFeasible) {
  RoutingConfig c;
  c.kind = RoutingKind::kZipf;
  c.zipf_exponent = 1.2;
  const RoutingModel r(c, 16);
  const auto counts = r.route(0, 0, 1000, 4);
  EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), std::int64_t{0}), 4000);
  EXPECT_LE(*std::max_element(counts.begin(), counts.end()), 1000);
  EXPECT_GT(*std::max_element(counts.begin(), counts.end()),
            2 * *std::min_element(counts.begin(), counts.end()));
  const auto padded = apply_capacity(counts, 1000, 4, 1.25);
  EXPECT_EQ(padded, ExpertCounts(16, 313));  // ceil(1.25 * 4000 / 16)
}

TEST(CollectiveRunner, OneExchangeTakesWhatRunTransfersSays) {
  const auto& cluster = bigmac();
  const topo::Router router(cluster, {});
  const int n = 16;
  const auto graph =
      net::all_to_all(n, [](int a, int b) { return 1e6 * (1 + (a * 7 + b) % 3); }, {});
  std::vector<int> gpus(n);
  std::iota(gpus.begin(), gpus.end(), 0);
  net::NetworkParams params;
  auto alone = net::make_network_model("flow", cluster, params);
  const auto expected = net::run_transfers(graph, gpus, router, *alone);

  core::OpGraph g;
  std::vector<core::OpId> members;
  for (int r = 0; r < n; ++r) {
    const auto s = g.add_stream(static_cast<core::RankId>(r), "comm");
    members.push_back(g.add_op(s, "a2a"));
  }
  g.add_gang(members);
  g.finalize();
  const std::vector<net::TransferGraph> graphs{graph};
  const std::vector<net::CollectiveCall> calls{{0, gpus}};
  const std::vector<net::OpWork> work(n, net::OpWork{core::Time::zero(), 0});
  auto model = net::make_network_model("flow", cluster, params);
  net::CollectiveRunner runner(graphs, calls, work, router, *model);
  core::Engine engine(g, runner);
  const auto timeline = engine.run();
  EXPECT_EQ(timeline.end(), expected.end);
  for (int r = 0; r < n; ++r) {
    EXPECT_EQ(timeline.span(members[static_cast<std::size_t>(r)]).end,
              expected.rank_finish[static_cast<std::size_t>(r)]);
  }
}

}  // namespace
}  // namespace moesim::model
