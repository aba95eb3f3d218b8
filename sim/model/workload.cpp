#include "workload.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "emitter.hpp"
#include "forward.hpp"
#include "layout.hpp"
#include "parameters.hpp"
#include "routing.hpp"
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
    // Keys and values of every layer for each sequence's prompt and generated tokens.
    constexpr double kKeysAndValues = 2;
    const auto prompt = s.inference.prompt > 0 ? s.inference.prompt : m.seq_len;
    const auto hd = m.hd();
    w.tokens = s.parallel.ep * s.parallel.dp * m.micro_batch * (prompt + s.inference.generate);
    w.kv_cache_bytes_per_rank =
        kKeysAndValues * static_cast<double>(m.layers) *
        static_cast<double>(m.kv() / s.parallel.tp * hd) *
        static_cast<double>(m.micro_batch * (prompt + s.inference.generate)) *
        cost::bytes_per_element(m.dtype);
  }
}

// Inference on one rank: the prefill over the prompt, then one decode step per generated token,
// attending to the growing KV cache.
void inference(const Study& s, int rank, ProgramBuilder& builder, Emitter& emitter) {
  const auto& m = s.model;
  const auto prompt = s.inference.prompt > 0 ? s.inference.prompt : m.seq_len;
  emitter.program(builder.forward(rank, m.micro_batch, prompt, prompt), rank, false, "");
  for (std::int64_t step = 0; step < s.inference.generate; ++step) {
    emitter.program(builder.forward(rank, m.micro_batch, 1, prompt + step + 1), rank, false,
                    fmt::format(".decode{}", step));
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
        inference(study, rank, programs, emitter);
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
