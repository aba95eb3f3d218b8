#include "run_transfers.hpp"

#include <algorithm>

#include "core/event_queue.hpp"
#include "core/huge_page_allocator.hpp"

namespace moesim::net {

TransferRun run_transfers(const TransferGraph& graph, std::span<const int> ranks,
                          const topo::Router& router, NetworkModel& model, core::Time start) {
  TransferRun run;
  run.end = start;
  run.rank_finish.assign(ranks.size(), start);
  core::HugePageVector<std::uint32_t> waits(graph.size());
  for (TransferGraph::Id id = 0; id < graph.size(); ++id) waits[id] = graph.waits(id);
  core::EventQueue<TransferGraph::Id> delays;
  // Transfers waiting out their issue offset: the id with the top bit set.
  constexpr TransferGraph::Id kIssued = TransferGraph::Id{1} << 31;
  std::vector<topo::LinkId> route;

  const auto begin = [&](TransferGraph::Id id, core::Time now) {
    const bool issued = (id & kIssued) != 0;
    id &= ~kIssued;
    const auto& node = graph.node(id);
    if (graph.is_delay(id)) {
      delays.push(now + node.delay, id);
      return;
    }
    if (!issued && node.delay > core::Time::zero()) {
      delays.push(now + node.delay, id | kIssued);
      return;
    }
    route.clear();
    router.route(ranks[static_cast<std::size_t>(node.src)],
                 ranks[static_cast<std::size_t>(node.dst)], id, route);
    model.start(now, route, node.bytes, id);
    ++run.transfers;
  };
  const auto finish = [&](TransferGraph::Id id, core::Time now) {
    const auto& node = graph.node(id);
    for (const int p : {node.src, node.dst}) {
      if (p >= 0) run.rank_finish[static_cast<std::size_t>(p)] = now;
    }
    run.end = std::max(run.end, now);
    graph.release(id, waits, [&](TransferGraph::Id s) { begin(s, now); });
  };

  for (TransferGraph::Id id = 0; id < graph.size(); ++id) {
    if (waits[id] == 0) begin(id, start);
  }
  std::vector<std::uint64_t> done;
  for (;;) {
    const auto next_transfer = model.next_completion();
    const bool have_delay = !delays.empty();
    if (!next_transfer && !have_delay) break;
    if (have_delay && (!next_transfer || delays.top_time() <= *next_transfer)) {
      const auto now = delays.top_time();
      while (!delays.empty() && delays.top_time() == now) {
        const auto id = delays.pop().payload;
        if ((id & kIssued) != 0) {
          begin(id, now);
        } else {
          finish(id, now);
        }
      }
      continue;
    }
    const auto now = *next_transfer;
    done.clear();
    model.complete_until(now, done);
    for (const auto tag : done) finish(static_cast<TransferGraph::Id>(tag), now);
  }
  return run;
}

}  // namespace moesim::net
