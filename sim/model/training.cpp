#include "training.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace moesim::model {

double Training::held(bool sharded) const {
  double dense = 0, expert = 0;
  for (std::int64_t b = 0; b < s_.model.layers; ++b) {
    const auto p = parameters_.block(b);
    dense += p.dense;
    expert += p.expert;
  }
  return sharded ? dense / dense_dp_group() + expert / expert_dp_group() : dense + expert;
}

Training::WeightGathers Training::gather_weights(const Program& p, int rank, bool backward,
                                                 const std::string& suffix) {
  WeightGathers g;
  const auto units = static_cast<std::size_t>(s_.model.layers) + 1;
  g.ops.resize(units);
  g.first_use.assign(units, core::kNoId);
  std::vector<char> seen(units, 0);
  const auto visit = [&](int id) {
    const auto& n = p.node(id);
    const auto unit = static_cast<std::size_t>(n.block + 1);
    if (!Emitter::emitted(n, backward) || seen[unit]) return;
    seen[unit] = 1;
    g.order.push_back(static_cast<int>(unit));
  };
  if (backward) {
    std::for_each(p.order.rbegin(), p.order.rend(), visit);
  } else {
    std::for_each(p.order.begin(), p.order.end(), visit);
  }
  const double e = elem();
  const auto gather = [&](const std::string& name, Group group, double elements) {
    return emitter_.collective(
        rank, Stream::kDp, Category::kDp, name + suffix,
        Collective{net::CollectiveKind::kAllGather, group, elements * e, nullptr});
  };
  for (const int unit : g.order) {
    double dense = parameters_.embedding(), expert = 0;
    std::string name = "weights.embedding";
    if (unit > 0) {
      const auto block = unit - 1;
      const auto params = parameters_.block(block);
      dense = params.dense - (block == 0 ? parameters_.embedding() : 0.0);
      expert = params.expert;
      name = fmt::format("weights.block{}", block);
    }
    auto& ops = g.ops[static_cast<std::size_t>(unit)];
    if (dense > 0 && dense_dp_group() > 1) {
      ops.push_back(gather(name + ".dense", Group::kDenseDp, dense));
    }
    if (expert > 0 && expert_dp_group() > 1) {
      ops.push_back(gather(name + ".expert", Group::kExpertDp, expert));
    }
  }
  return g;
}

void Training::pass(const Program& p, int rank, bool backward, const std::string& suffix,
                    std::vector<core::OpId>* last_of_block) {
  WeightGathers gathers;
  if (gathers_weights()) gathers = gather_weights(p, rank, backward, suffix);
  const auto on_emit = [&](core::OpId op, const Node& n) {
    if (last_of_block && n.block >= 0) (*last_of_block)[static_cast<std::size_t>(n.block)] = op;
    if (!gathers_weights()) return;
    // ZeRO-3: every op waits for its block's weights.
    const auto unit = static_cast<std::size_t>(n.block + 1);
    for (const auto g : gathers.ops[unit]) emitter_.depend(op, g);
    if (gathers.first_use[unit] == core::kNoId) gathers.first_use[unit] = op;
  };
  emitter_.program(p, rank, backward, suffix, on_emit,
                   backward ? s_.training.recompute : Recompute::kNone);
  // One unit gathered ahead: a unit's gathers wait until the previous unit's first op is done.
  for (std::size_t i = 1; i < gathers.order.size(); ++i) {
    const auto previous = gathers.first_use[static_cast<std::size_t>(gathers.order[i - 1])];
    for (const auto g : gathers.ops[static_cast<std::size_t>(gathers.order[i])]) {
      emitter_.depend(g, previous);
    }
  }
}

void Training::reduce_gradients(int rank, const std::vector<core::OpId>& last_bwd_of_block,
                                const std::string& suffix, Reductions& out) {
  // Parameters (elements) per block on this rank, dense and expert, in backward order. Without
  // ZeRO each bucket is all-reduced; with it, reduce-scattered for each rank to step its shard.
  const double e = gradient_elem();
  const double bucket = static_cast<double>(s_.training.bucket.count);
  const auto reduction = s_.training.zero >= kZeroOptimizerStates
                             ? net::CollectiveKind::kReduceScatter
                             : net::CollectiveKind::kAllReduce;
  out.buckets.clear();  // every pass reduces the same buckets
  double dense = 0, expert = 0;
  core::OpId last = core::kNoId;
  const auto reduce = [&](Group group, const char* kind, double& elements) {
    const auto op =
        emitter_.collective(rank, Stream::kDp, Category::kDp,
                            fmt::format("grad.{}{}{}", kind, out.buckets.size(), suffix),
                            Collective{reduction, group, elements * e, nullptr});
    emitter_.depend(op, last);
    out.ops.push_back(op);
    out.buckets.emplace_back(group, elements);
    elements = 0;
  };
  const auto flush = [&](bool force) {
    if (dense > 0 && (dense * e >= bucket || force) && dense_dp_group() > 1) {
      reduce(Group::kDenseDp, "dense", dense);
    }
    if (expert > 0 && (expert * e >= bucket || force) && expert_dp_group() > 1) {
      reduce(Group::kExpertDp, "expert", expert);
    }
  };
  for (auto b = s_.model.layers - 1; b >= 0; --b) {
    const auto [d, x] = parameters_.block(b);
    dense += d, expert += x;
    last = last_bwd_of_block[static_cast<std::size_t>(b)];
    flush(b == 0);
  }
}

void Training::step(int rank, const Reductions& reductions) {
  const bool sharded = s_.training.zero >= kZeroOptimizerStates;
  // The step updates what the rank holds of Adam's states: its shard from ZeRO-1 on.
  const auto op =
      emitter_.kernels(rank, Stream::kCompute, Category::kOther, "optimizer",
                       {cost::work::optimizer_step(std::llround(held(sharded)), s_.model.dtype)});
  for (const auto r : reductions.ops) emitter_.depend(op, r);
  if (!sharded || gathers_weights()) return;  // ZeRO-3 gathers weights as each pass needs them
  for (std::size_t i = 0; i < reductions.buckets.size(); ++i) {
    const auto& [group, elements] = reductions.buckets[i];
    const auto gather = emitter_.collective(
        rank, Stream::kDp, Category::kDp,
        fmt::format("weights.{}{}", group == Group::kDenseDp ? "dense" : "expert", i),
        Collective{net::CollectiveKind::kAllGather, group, elements * elem(), nullptr});
    emitter_.depend(gather, op);
  }
}

void Training::iteration(int rank, const Program& program, std::int64_t micro_batches) {
  std::vector<core::OpId> last_bwd(static_cast<std::size_t>(s_.model.layers), core::kNoId);
  Reductions reductions;
  for (std::int64_t mb = 0; mb < micro_batches; ++mb) {
    const std::string suffix = micro_batches > 1 ? fmt::format(".mb{}", mb) : "";
    pass(program, rank, false, suffix, nullptr);
    pass(program, rank, true, suffix + ".bwd", &last_bwd);
    if (reduces_every_micro_batch() || mb == micro_batches - 1) {
      reduce_gradients(rank, last_bwd, reduces_every_micro_batch() ? suffix : "", reductions);
    }
  }
  step(rank, reductions);
}

}  // namespace moesim::model
