#include "collective_runner.hpp"

#include <stdexcept>
#include <string>

namespace moesim::net {

namespace {

// Timer tags: 0 is the network poll; a delay node is (instance slot + 1) << 32 | node, and a
// transfer waiting out its issue offset the same with kIssueFlag.
constexpr std::uint64_t kNetworkTag = 0;
constexpr int kSlotShift = 32;
constexpr std::uint64_t kNodeMask = (std::uint64_t{1} << kSlotShift) - 1;
constexpr std::uint64_t kIssueFlag = std::uint64_t{1} << 62;

}  // namespace

CollectiveRunner::CollectiveRunner(std::span<const TransferGraph> graphs,
                                   std::span<const CollectiveCall> calls,
                                   std::span<const OpWork> ops, const topo::Router& router,
                                   NetworkModel& model)
    : graphs_(graphs),
      calls_(calls),
      ops_(ops),
      router_(router),
      model_(model),
      books_(router, kMaxBookLinks) {
  involvement_.resize(graphs.size());
  for (std::size_t g = 0; g < graphs.size(); ++g) {
    auto& count = involvement_[g];
    const auto& graph = graphs[g];
    for (TransferGraph::Id id = 0; id < graph.size(); ++id) {
      const auto& node = graph.node(id);
      for (const int p : {node.src, node.dst}) {
        if (p < 0) continue;
        if (static_cast<std::size_t>(p) >= count.size()) count.resize(p + 1, 0);
        ++count[static_cast<std::size_t>(p)];
      }
    }
  }
  for (const auto& call : calls) {
    if (call.graph >= graphs.size()) throw std::logic_error("CollectiveRunner: unknown graph");
    if (involvement_[call.graph].size() > call.gpus.size()) {
      throw std::logic_error(
          "CollectiveRunner: a call has fewer GPUs than its graph's participants");
    }
  }
}

void CollectiveRunner::start(core::Engine& engine, std::span<const core::OpId> ops) {
  const auto& first = ops_[ops.front()];
  if (first.call == OpWork::kCompute) {
    for (const auto op : ops) engine.finish_at(op, engine.now() + ops_[op].duration);
    return;
  }
  const auto& call = calls_[first.call];
  if (ops.size() != call.gpus.size()) {
    throw std::logic_error("CollectiveRunner: call " + std::to_string(first.call) + " has " +
                           std::to_string(call.gpus.size()) + " participants but its gang " +
                           std::to_string(ops.size()) + " ops");
  }
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(instances_.size());
    instances_.emplace_back();
  }
  const auto& graph = graphs_[call.graph];
  Instance& inst = instances_[slot];
  inst.call = first.call;
  inst.book = books_.book(call.graph, graph, call.gpus);
  inst.ops.assign(ops.begin(), ops.end());
  inst.waits.resize(graph.size());
  for (TransferGraph::Id id = 0; id < graph.size(); ++id) inst.waits[id] = graph.waits(id);
  const auto& involvement = involvement_[call.graph];
  inst.remaining.assign(ops.size(), 0);
  std::copy(involvement.begin(), involvement.end(), inst.remaining.begin());
  inst.live = static_cast<std::uint32_t>(graph.size());

  for (std::size_t p = 0; p < ops.size(); ++p) {
    if (inst.remaining[p] == 0) engine.finish_at(ops[p], engine.now());  // nothing to exchange
  }
  if (graph.size() == 0) {
    free_slots_.push_back(slot);
    return;
  }
  for (TransferGraph::Id id = 0; id < graph.size(); ++id) {
    if (instances_[slot].waits[id] == 0) begin_node(engine, slot, id);
  }
  poll_network(engine);
}

void CollectiveRunner::begin_node(core::Engine& engine, std::uint32_t slot, TransferGraph::Id id,
                                  bool issued) {
  const Instance& inst = instances_[slot];
  const auto& call = calls_[inst.call];
  const auto& node = graphs_[call.graph].node(id);
  const std::uint64_t tag = (std::uint64_t{slot} + 1) << kSlotShift | id;
  if (node.dst < 0) {
    engine.schedule_timer(engine.now() + node.delay, tag);
    return;
  }
  if (!issued && node.delay > core::Time::zero()) {
    engine.schedule_timer(engine.now() + node.delay, tag | kIssueFlag);
    return;
  }
  if (inst.book != RouteBook::kNoBook) {
    model_.start(engine.now(), books_.route(inst.book, id), node.bytes, tag);
  } else {
    route_.clear();
    router_.route(call.gpus[static_cast<std::size_t>(node.src)],
                  call.gpus[static_cast<std::size_t>(node.dst)], transfers_started_, route_);
    model_.start(engine.now(), route_, node.bytes, tag);
  }
  ++transfers_started_;
}

void CollectiveRunner::finish_node(core::Engine& engine, std::uint32_t slot, TransferGraph::Id id) {
  const auto& graph = graphs_[calls_[instances_[slot].call].graph];
  const auto& node = graph.node(id);
  for (const int p : {node.src, node.dst}) {
    if (p >= 0 && --instances_[slot].remaining[static_cast<std::size_t>(p)] == 0) {
      engine.finish_at(instances_[slot].ops[static_cast<std::size_t>(p)], engine.now());
    }
  }
  // begin_node() adds no instance, so the waits stay where they are.
  graph.release(id, instances_[slot].waits,
                [&](TransferGraph::Id s) { begin_node(engine, slot, s); });
  if (--instances_[slot].live == 0) free_slots_.push_back(slot);
}

void CollectiveRunner::on_timer(core::Engine& engine, std::uint64_t tag) {
  if (tag == kNetworkTag) {
    network_timer_ = {};
    network_timer_at_ = core::Time::max();
    process_network(engine);
    arm_network(engine);
    return;
  }
  if ((tag & kIssueFlag) != 0) {
    const auto slot = static_cast<std::uint32_t>(((tag & ~kIssueFlag) >> kSlotShift) - 1);
    begin_node(engine, slot, static_cast<TransferGraph::Id>(tag & kNodeMask), true);
    poll_network(engine);
    return;
  }
  const auto slot = static_cast<std::uint32_t>((tag >> kSlotShift) - 1);
  finish_node(engine, slot, static_cast<TransferGraph::Id>(tag & kNodeMask));
  poll_network(engine);
}

void CollectiveRunner::process_network(core::Engine& engine) {
  // Completions can start transfers that complete at this same instant (empty routes).
  for (;;) {
    const auto next = model_.next_completion();
    if (!next || *next > engine.now()) return;
    done_.clear();
    model_.complete_until(engine.now(), done_);
    for (const auto tag : done_) {
      finish_node(engine, static_cast<std::uint32_t>((tag >> kSlotShift) - 1),
                  static_cast<TransferGraph::Id>(tag & kNodeMask));
    }
  }
}

void CollectiveRunner::arm_network(core::Engine& engine) {
  const auto next = model_.next_completion();
  if (!next) return;
  network_timer_at_ = *next;
  network_timer_ = engine.schedule_timer(*next, kNetworkTag);
}

void CollectiveRunner::poll_network(core::Engine& engine) {
  // New transfers may change every rate (and a transfer due now may still be in the model):
  // look again at this instant, once, after everything else that happens now has had its say.
  if (model_.in_flight() == 0) {
    if (network_timer_at_ != core::Time::max()) engine.cancel_timer(network_timer_);
    network_timer_at_ = core::Time::max();
    return;
  }
  if (network_timer_at_ == engine.now()) return;
  if (network_timer_at_ != core::Time::max()) engine.cancel_timer(network_timer_);
  network_timer_at_ = engine.now();
  network_timer_ = engine.schedule_timer(engine.now(), kNetworkTag);
}

}  // namespace moesim::net
