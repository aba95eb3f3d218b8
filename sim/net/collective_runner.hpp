#pragma once
// Runs an op DAG in which every op is either compute (a fixed duration) or one participant of a
// collective call. A call is a gang: its members, in gang order, are the participants of a
// transfer graph, which the runner plays on a network model in engine time (transfers start
// when their prerequisites are done; the model's completions come back as engine timers). A
// participant's op finishes when the last transfer or delay it takes part in is done, so ranks
// leave a skewed all-to-all at different times.
//
// Starting many calls at one instant costs one reallocation of the network model, not one per
// call: the model is polled by a single timer at the earliest instant anything can change.
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "collectives.hpp"
#include "core/engine.hpp"
#include "core/huge_page_allocator.hpp"
#include "network_model.hpp"
#include "route_book.hpp"
#include "topologies/routing.hpp"
#include "transfer_graph.hpp"

namespace moesim::net {

struct CollectiveCall {
  std::uint32_t graph = 0;  // index into the runner's transfer graphs
  std::vector<int> gpus;    // cluster GPU of each participant, in gang-member order
  // What it is, for reports: the collective and its size as nccl-tests counts it (an
  // all-to-all's: what the whole call sends between its participants). The graph may put more
  // on the wire (a protocol's flags, an algorithm's efficiency).
  CollectiveKind kind = CollectiveKind::kAllToAll;
  double bytes = 0;
};

// What one op does: compute for `duration`, or take part in call `call`.
struct OpWork {
  static constexpr std::uint32_t kCompute = std::numeric_limits<std::uint32_t>::max();
  core::Time duration = core::Time::zero();
  std::uint32_t call = kCompute;
};

class CollectiveRunner final : public core::ActivityRunner {
 public:
  // All spans must outlive the runner. `ops` is indexed by op id.
  CollectiveRunner(std::span<const TransferGraph> graphs, std::span<const CollectiveCall> calls,
                   std::span<const OpWork> ops, const topo::Router& router, NetworkModel& model);

  void start(core::Engine& engine, std::span<const core::OpId> ops) override;
  void on_timer(core::Engine& engine, std::uint64_t tag) override;

  std::uint64_t transfers_started() const { return transfers_started_; }

 private:
  struct Instance {
    std::uint32_t call = 0;
    std::uint32_t book = RouteBook::kNoBook;    // its routes, if kept
    std::vector<core::OpId> ops;                // by participant
    core::HugePageVector<std::uint32_t> waits;  // by graph node (millions for a large ring)
    std::vector<std::uint32_t> remaining;       // by participant: its unfinished nodes
    std::uint32_t live = 0;                     // nodes not yet finished
  };

  // `issued`: a transfer whose issue offset has passed.
  void begin_node(core::Engine& engine, std::uint32_t slot, TransferGraph::Id id,
                  bool issued = false);
  void finish_node(core::Engine& engine, std::uint32_t slot, TransferGraph::Id id);
  void poll_network(core::Engine& engine);  // look at the model again, now
  void arm_network(core::Engine& engine);   // wake up at its next completion
  void process_network(core::Engine& engine);

  std::span<const TransferGraph> graphs_;
  std::span<const CollectiveCall> calls_;
  std::span<const OpWork> ops_;
  const topo::Router& router_;
  NetworkModel& model_;
  // Per graph and participant: how many nodes (transfers as sender or receiver, delays) it has.
  std::vector<std::vector<std::uint32_t>> involvement_;
  std::vector<Instance> instances_;  // by slot
  // Routes of repeated calls. bench_model's 162 distinct (graph, GPUs) pairs at 2,048 GPUs hold
  // 10.3 M links (39 MiB, and 10 MiB of offsets); the bound keeps a larger study's books
  // within 256 MiB of links.
  static constexpr std::size_t kMaxBookLinks = std::size_t{64} << 20;
  RouteBook books_;
  std::vector<std::uint32_t> free_slots_;
  // The one network timer: when it fires, the model is advanced and re-polled.
  core::Engine::TimerHandle network_timer_{};
  core::Time network_timer_at_ = core::Time::max();
  std::vector<topo::LinkId> route_;
  std::vector<std::uint64_t> done_;
  std::uint64_t transfers_started_ = 0;
};

}  // namespace moesim::net
