#include "workload.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "emitter.hpp"
#include "forward.hpp"
#include "layout.hpp"
#include "parameters.hpp"
#include "routing.hpp"
#include "serving.hpp"
#include "training.hpp"

namespace moesim::model {

bool ModelConfig::is_moe_block(std::int64_t block) const {
  if (moe.experts == 0) return false;  // a dense model
  if (!moe.blocks.empty()) {
    return std::find(moe.blocks.begin(), moe.blocks.end(), block) != moe.blocks.end();
  }
  return block >= moe.first && (block - moe.first) % moe.every == 0;
}

namespace {

// What every rank holds, for the memory floor.
void count_holdings(const Study& s, const RankLayout& layout, const Parameters& parameters,
                    Workload& w) {
  const auto& m = s.model;
  for (std::int64_t b = 0; b < m.layers; ++b) {
    w.moe_layers += m.is_moe_block(b) ? 1 : 0;
    const auto [dense, expert] = parameters.block(b);
    w.dense_parameters_per_rank += dense;
    w.expert_parameters_per_rank += expert;
  }
  w.dense_dp_group = layout.ep() * layout.dp();
  w.expert_dp_group = layout.dp();
  // The units training.cpp gathers at ZeRO-3: the embedding and head, then each block without.
  const auto beyond_shard = [&](double dense, double expert) {
    return dense * (1 - 1.0 / w.dense_dp_group) + expert * (1 - 1.0 / w.expert_dp_group);
  };
  w.largest_gather_beyond_shard = beyond_shard(parameters.embedding(), 0);
  for (std::int64_t b = 0; b < m.layers; ++b) {
    const auto [dense, expert] = parameters.block(b);
    const auto own = dense - (b == 0 ? parameters.embedding() : 0.0);
    w.largest_gather_beyond_shard =
        std::max(w.largest_gather_beyond_shard, beyond_shard(own, expert));
  }
  if (s.mode == Mode::kInfer) {
    // Keys and values of every layer for each request's prompt and generated tokens.
    constexpr double kKeysAndValues = 2;
    std::int64_t cached = 0;  // tokens in one rank's cache at the end
    for (const auto& r : w.requests) cached += r.count * (r.prompt + r.generate);
    w.tokens = s.parallel.ep * s.parallel.dp * cached;
    w.kv_cache_bytes_per_rank = kKeysAndValues * static_cast<double>(m.layers) *
                                static_cast<double>(m.kv() / s.parallel.tp * m.hd()) *
                                static_cast<double>(cached) * cost::bytes_per_element(m.dtype);
  }
}

// Inference on one rank: the prefill over the requests' prompts, then one decode step per
// generated token for the requests still generating, each attending to its own KV cache. Each
// pass's ops are recorded (serving metrics come from when the last of them ends).
void inference(int rank, ProgramBuilder& builder, Emitter& emitter, Workload& w) {
  const auto passes = inference_passes(w.requests);
  for (std::size_t i = 0; i < passes.size(); ++i) {
    const auto& pass = passes[i];
    Workload::PassOpsRange ops{static_cast<std::int64_t>(i), core::kNoId, core::kNoId};
    emitter.program(builder.forward(rank, pass.batch, pass.seq_q, pass.seq_kv, pass.tokens), rank,
                    false, pass.suffix, [&ops](core::OpId op, const Node&) {
                      if (ops.first == core::kNoId) ops.first = op;
                      ops.last = op;
                    });
    if (ops.first != core::kNoId) w.pass_ops.push_back(ops);
  }
}

}  // namespace

Workload build_workload(const Study& study, const topo::Cluster& cluster,
                        const cost::CostModel& cost, const ExchangeEstimator& estimate,
                        const BuildOptions& options) {
  ProgramBuilder programs(study, cluster, cost, estimate);
  const auto& m = study.model;
  const auto& layout = programs.layout();
  Workload w;
  if (study.mode == Mode::kInfer) w.requests = requests_of(m, study.inference);
  const Parameters parameters(m, study.parallel, programs.shape());
  count_holdings(study, layout, parameters, w);
  Emitter emitter(w, layout, programs.graphs(), programs.traffic(), programs.pricer(),
                  study.implementation.host, options);
  Training training(study, layout, parameters, emitter);

  const bool train = study.mode == Mode::kTrain;
  const auto micro_batches =
      train && m.global_batch > 0
          ? m.global_batch / (m.micro_batch * study.parallel.ep * study.parallel.dp)
          : 1;
  // Ranks are built one expert-parallel group at a time (their routing is shared).
  for (int g = 0; g < layout.ep_group_count(); ++g) {
    for (const int rank : layout.ep_group(g)) {
      if (train) {
        training.iteration(rank, programs.training_forward(rank), micro_batches);
      } else {
        inference(rank, programs, emitter, w);
      }
    }
  }
  emitter.finish();
  w.graphs = programs.graphs().release();
  return w;
}

void check_study(const Study& study, const topo::Cluster& cluster, const cost::CostModel& cost) {
  const ExchangeEstimator unused = [](const net::TransferGraph&, const std::vector<int>&) {
    return core::Time::zero();
  };
  ProgramBuilder(study, cluster, cost, unused);  // the constructor checks
}

}  // namespace moesim::model
