#include "emitter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace moesim::model {

Emitter::Emitter(Workload& workload, const RankLayout& layout, GraphCatalogue& graphs,
                 Traffic& traffic, Pricer& pricer, const HostImplementation& host,
                 const BuildOptions& options)
    : w_(workload),
      layout_(layout),
      graphs_(graphs),
      traffic_(traffic),
      pricer_(pricer),
      host_(host),
      options_(options) {
  const int world = layout_.world();
  sequence_.assign(static_cast<std::size_t>(world), {});
  // The host stream only where it costs something: other runs keep four streams per rank.
  const auto streams = host_.modelled() ? kStreamCount : kStreamCount - 1;
  for (int r = 0; r < world; ++r) {
    for (std::size_t s = 0; s < kStreamCount; ++s) {
      streams_.push_back(s < streams ? w_.graph.add_stream(static_cast<core::RankId>(r),
                                                           name(static_cast<Stream>(s)))
                                     : core::StreamId{});
    }
  }
}

core::OpId Emitter::add_op(int rank, Stream stream, Category c, const std::string& name,
                           std::size_t launches, core::Time host_extra) {
  const auto on = [&](Stream s) {
    return streams_[static_cast<std::size_t>(rank) * kStreamCount + static_cast<std::size_t>(s)];
  };
  last_issue_ = core::kNoId;
  if (host_.modelled()) {
    const std::string_view host_label = model::name(Category::kHost);
    last_issue_ = w_.graph.add_op(on(Stream::kHost), name + ".issue",
                                  std::span<const std::string_view>(&host_label, 1));
    w_.category.push_back(Category::kHost);
    net::OpWork issue;
    const auto per_launch = host_.cuda_graphs ? core::Time::zero() : host_.launch;
    for (std::size_t i = 0; i < launches; ++i) issue.duration += per_launch;
    issue.duration += host_extra;
    w_.work.push_back(issue);
  }
  const std::string_view label = model::name(c);
  const auto op = w_.graph.add_op(on(stream), name, std::span<const std::string_view>(&label, 1));
  w_.category.push_back(c);
  if (last_issue_ != core::kNoId) w_.graph.add_dependency(op, last_issue_);
  return op;
}

std::pair<int, int> Emitter::group_of(Group kind, int rank) const {
  switch (kind) {
    case Group::kEp:
      return {layout_.ep_group_of(rank), layout_.ep_index(rank)};
    case Group::kTp:
      return {layout_.tp_group_of(rank), layout_.tp_index(rank)};
    case Group::kDenseDp:
      return {layout_.dense_dp_group_of(rank),
              layout_.dp_index(rank) * layout_.ep() + layout_.ep_index(rank)};
    case Group::kExpertDp:
      return {layout_.expert_dp_group_of(rank), layout_.dp_index(rank)};
  }
  return {0, 0};
}

std::vector<int> Emitter::group_gpus(Group kind, int group) const {
  switch (kind) {
    case Group::kEp:
      return layout_.ep_group(group);
    case Group::kTp:
      return layout_.tp_group(group);
    case Group::kDenseDp:
      return layout_.dense_dp_group(group);
    case Group::kExpertDp:
      return layout_.expert_dp_group(group);
  }
  return {};
}

core::OpId Emitter::collective(int rank, Stream stream, Category c, const std::string& name,
                               const Collective& collective, core::Time host_extra) {
  const auto op = add_op(rank, stream, c, name, 1, host_extra);
  const auto [group, member] = group_of(collective.group, rank);
  const auto kind = static_cast<std::size_t>(collective.group);
  const auto seq = sequence_[static_cast<std::size_t>(rank)][kind]++;
  const auto key = std::make_tuple(static_cast<int>(kind), group, seq);
  auto it = pending_calls_.find(key);
  const bool a2a = collective.kind == net::CollectiveKind::kAllToAll;
  if (it == pending_calls_.end()) {
    net::CollectiveCall call;
    call.gpus = group_gpus(collective.group, group);
    call.graph = graphs_.graph(collective, call.gpus);
    call.kind = collective.kind;
    call.bytes = a2a ? graphs_.payload(call.graph) : collective.bytes;
    if (a2a) w_.a2a_bytes += graphs_.payload(call.graph);
    w_.calls.push_back(std::move(call));
    call_members_.emplace_back(w_.calls.back().gpus.size(), core::kNoId);
    it = pending_calls_.emplace(key, static_cast<std::uint32_t>(w_.calls.size() - 1)).first;
  }
  const auto call = it->second;
  call_members_[call][static_cast<std::size_t>(member)] = op;
  net::OpWork ow;
  ow.call = call;
  w_.work.push_back(ow);
  if (options_.op_args) {
    // The size S of the collective's buffer; an all-to-all's, which differs per rank, as what
    // the whole call sends between its ranks.
    const auto graph = w_.calls[call].graph;
    w_.graph.set_args(op, {{"collective", std::string(net::name(collective.kind))},
                           {a2a ? "call_bytes" : "bytes",
                            fmt::format("{:.0f}", a2a ? graphs_.payload(graph) : collective.bytes)},
                           {"group_size", std::to_string(w_.calls[call].gpus.size())},
                           {"algorithm_graph", std::to_string(graph)}});
  }
  return op;
}

core::OpId Emitter::kernels(int rank, Stream stream, Category c, const std::string& name,
                            const std::vector<cost::Work>& works) {
  const auto op = add_op(rank, stream, c, name, works.size());
  net::OpWork ow;
  ow.duration = pricer_.price(works);
  w_.work.push_back(ow);
  return op;
}

core::OpId Emitter::node(const Node& n, int rank, bool backward, const std::string& suffix,
                         core::Time host_extra) {
  if (n.collective) {
    Collective c = *n.collective;
    if (backward) {
      c.kind = backward_kind(c.kind);
      if (c.matrix) c.matrix = traffic_.transpose(*c.matrix);
    }
    return collective(rank, n.stream, n.category, n.name + suffix, c, host_extra);
  }
  const auto& works = backward ? n.backward : n.forward;
  const auto op = add_op(rank, n.stream, n.category, n.name + suffix, works.size(), host_extra);
  if (!backward) {
    for (const auto& wk : works) {
      if (wk.kind == cost::OpKind::kGemm) ++w_.gemms[static_cast<std::size_t>(n.category)];
    }
  }
  std::string detail;
  net::OpWork ow;
  ow.duration = pricer_.price(works, options_.op_args ? &detail : nullptr);
  w_.work.push_back(ow);
  if (options_.op_args) w_.graph.set_args(op, {{"work", detail}});
  return op;
}

void Emitter::program(const Program& p, int rank, bool backward, const std::string& suffix,
                      const OnEmit& on_emit, Recompute recompute) {
  std::vector<core::OpId> op_of(p.nodes.size(), core::kNoId);
  std::vector<char> recomputed;  // by block: its forward already run again in this pass
  const auto emit_one = [&](int id) {
    const auto& n = p.node(id);
    if (!emitted(n, backward)) return;
    if (backward && recompute != Recompute::kNone && n.block >= 0) {
      const auto b = static_cast<std::size_t>(n.block);
      if (recomputed.size() <= b) recomputed.resize(b + 1, 0);
      if (!recomputed[b]) {
        recomputed[b] = 1;
        recompute_block(p, n.block, recompute, rank, suffix, on_emit);
      }
    }
    // The host reads a result before issuing this node (forward only: the backward reuses it).
    const int waits = backward ? -1 : n.host_waits_for;
    const bool sync =
        waits >= 0 && host_.modelled() && op_of[static_cast<std::size_t>(waits)] != core::kNoId;
    const auto op = node(n, rank, backward, suffix, sync ? host_.sync : core::Time::zero());
    if (sync) depend(last_issue_, op_of[static_cast<std::size_t>(waits)]);
    op_of[static_cast<std::size_t>(id)] = op;
    if (on_emit) on_emit(op, n);
  };
  if (backward) {
    std::for_each(p.order.rbegin(), p.order.rend(), emit_one);
  } else {
    std::for_each(p.order.begin(), p.order.end(), emit_one);
  }
  // Backward reverses every dependency; nodes without a backward drop theirs.
  for (const int id : p.order) {
    const auto op = op_of[static_cast<std::size_t>(id)];
    for (const int dep : p.node(id).deps) {
      const auto before = op_of[static_cast<std::size_t>(dep)];
      if (op == core::kNoId || before == core::kNoId) continue;
      if (backward) {
        depend(before, op);
      } else {
        depend(op, before);
      }
    }
  }
}

void Emitter::recompute_block(const Program& p, int block, Recompute recompute, int rank,
                              const std::string& suffix, const OnEmit& on_emit) {
  std::vector<core::OpId> op_of(p.nodes.size(), core::kNoId);
  for (const int id : p.order) {
    const auto& n = p.node(id);
    if (n.block != block || (recompute == Recompute::kSelective && !n.attention_core)) continue;
    const auto op = node(n, rank, false, suffix + ".recompute", core::Time::zero());
    op_of[static_cast<std::size_t>(id)] = op;
    if (on_emit) on_emit(op, n);
  }
  // The block's own dependencies; what it reads from outside it was kept from the forward.
  for (const int id : p.order) {
    const auto op = op_of[static_cast<std::size_t>(id)];
    if (op == core::kNoId) continue;
    for (const int dep : p.node(id).deps) {
      const auto before = op_of[static_cast<std::size_t>(dep)];
      if (before != core::kNoId) depend(op, before);
    }
  }
}

void Emitter::finish() {
  for (std::size_t c = 0; c < call_members_.size(); ++c) {
    for (const auto op : call_members_[c]) {
      if (op == core::kNoId) {
        throw std::logic_error(fmt::format("workload: collective call {} is missing a member", c));
      }
    }
    w_.graph.add_gang(call_members_[c]);
  }
  w_.graph.finalize();
}

}  // namespace moesim::model
