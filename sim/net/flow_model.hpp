#pragma once
// The flow-level model: transfers in flight share every link of their route max-min fairly.
//
// The allocation is held as one level per link: a saturated link's fair share, or infinity for
// a link that limits nobody. A transfer's rate is the smallest level on its route, and a link's
// level is its water-filling share given what the transfers on it may take elsewhere (the
// smallest level on the rest of their routes). When every link is consistent in that sense,
// every transfer has a bottleneck (a saturated link where none is faster), which by Bertsekas and
// Gallager's characterisation makes the allocation max-min fair, exactly (to floating-point
// rounding).
//
// Rates change only when a transfer starts or finishes. Then only the links it crosses are
// re-levelled, and a level that moves re-levels the other links of the transfers whose rate it
// changed, until nothing moves. The work stays near the change: in an all-to-all it touches
// the two ports of the transfer and rarely more. Should the propagation not settle within its
// budget, one progressive filling over everything in flight sets every level from scratch.
//
// Transfers finishing at the same instant are handled as one batch; a rate change cancels the
// transfer's finish event and schedules a new one. Each transfer also pays its route's latency
// and the message overhead once, after its data has crossed.
#include <cstdint>
#include <vector>

#include "core/event_queue.hpp"
#include "network_model.hpp"

namespace moesim::net {

class FlowModel final : public NetworkModel {
 public:
  struct Options {
    // Link re-levellings allowed per reallocation, per link that changed, before the model
    // falls back to progressive filling over every transfer in flight. 0: always fall back.
    std::uint32_t updates_per_changed_link = 1024;
  };
  FlowModel(const topo::Cluster& cluster, const NetworkParams& params);
  FlowModel(const topo::Cluster& cluster, const NetworkParams& params, Options options);

  void start(core::Time now, std::span<const topo::LinkId> route, double bytes,
             std::uint64_t tag) override;
  std::optional<core::Time> next_completion() override;
  void complete_until(core::Time t, std::vector<std::uint64_t>& finished) override;
  std::size_t in_flight() const override { return active_ + deliveries_.size(); }

  // For tests and reports: the current rate (B/s) of each transfer in its data phase, by tag.
  std::vector<std::pair<std::uint64_t, double>> rates();
  struct Stats {
    std::uint64_t reallocations = 0;
    std::uint64_t link_updates = 0;   // links re-levelled, summed over reallocations
    std::uint64_t propagations = 0;   // level changes that moved a transfer's rate
    std::uint64_t fallbacks = 0;      // reallocations solved from scratch
    std::uint64_t rate_changes = 0;   // transfers whose finish was rescheduled
    std::uint64_t flows_visited = 0;  // transfers looked at while re-levelling
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Transfer {
    std::vector<topo::LinkId> route;
    std::vector<std::uint32_t> position;  // index in each route link's flow list
    double remaining = 0;                 // bytes, as of `updated`
    double rate = 0;                      // bytes per second, as committed
    core::Time updated;
    core::Time tail;  // latency + overhead, paid after the data
    std::uint64_t tag = 0;
    core::EventQueue<std::uint32_t>::Handle finish;  // its pending finish event, if any
    bool active = false;
  };

  void mark_dirty(topo::LinkId link);
  void mark_changed(std::uint32_t slot);
  void reallocate();
  void relevel(topo::LinkId link);
  void solve_from_scratch();
  double limit_elsewhere(std::uint32_t slot, topo::LinkId link) const;
  double rate_of(std::uint32_t slot) const;
  void commit();
  void remove(std::uint32_t slot);
  void schedule_finish(std::uint32_t slot);

  const topo::Cluster& cluster_;
  NetworkParams params_;
  Options options_;
  std::vector<double> capacity_;                   // by link
  std::vector<double> level_;                      // by link: fair share, or infinity
  std::vector<std::vector<std::uint32_t>> flows_;  // by link: slots on it
  std::vector<Transfer> transfers_;                // by slot
  std::vector<std::uint32_t> free_slots_;
  std::size_t active_ = 0;
  core::Time now_ = core::Time::zero();
  core::EventQueue<std::uint32_t> finishes_;    // slots, at the time their data has crossed
  core::EventQueue<std::uint64_t> deliveries_;  // tags, when their tail has passed

  // Work of the next reallocation: links to re-level (FIFO) and transfers whose rate may move.
  // Membership is marked with the number of the reallocation, so nothing needs clearing.
  std::uint32_t epoch_ = 1;
  std::vector<topo::LinkId> queue_;
  std::size_t queue_head_ = 0;
  std::vector<std::uint32_t> queued_epoch_;  // by link
  std::vector<std::uint32_t> changed_;
  std::vector<std::uint32_t> changed_epoch_;  // by slot
  std::vector<double> elsewhere_;             // scratch for relevel()
  std::vector<char> settled_;
  Stats stats_;
};

}  // namespace moesim::net
