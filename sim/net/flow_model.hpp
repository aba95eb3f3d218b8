#pragma once
// The flow-level model: transfers in flight share every link of their route max-min fairly.
//
// Rates change only when a transfer starts or finishes. Then only the transfers on the links
// that changed are re-solved (progressive filling with the others' rates held fixed), and that
// set grows until every transfer on a link it touches still has a bottleneck link: a saturated
// link where no transfer is faster. By Bertsekas and Gallager's characterisation that makes the
// whole allocation max-min fair, exactly (to floating-point rounding), while the work stays
// near the change. Transfers finishing at the same instant are handled as one batch; a rate
// change cancels the transfer's finish event and schedules a new one. Each transfer also pays
// its route's latency
// and the message overhead once, after its data has crossed.
#include <cstdint>
#include <vector>

#include "core/event_queue.hpp"
#include "network_model.hpp"

namespace moesim::net {

class FlowModel final : public NetworkModel {
 public:
  FlowModel(const topo::Cluster& cluster, const NetworkParams& params);

  void start(core::Time now, std::span<const topo::LinkId> route, double bytes,
             std::uint64_t tag) override;
  std::optional<core::Time> next_completion() override;
  void complete_until(core::Time t, std::vector<std::uint64_t>& finished) override;
  std::size_t in_flight() const override { return active_ + deliveries_.size(); }

  // For tests and reports: the current rate (B/s) of each transfer in its data phase, by tag.
  std::vector<std::pair<std::uint64_t, double>> rates();
  struct Stats {
    std::uint64_t reallocations = 0;
    std::uint64_t flows_resolved = 0;  // transfers re-solved, summed over reallocations
    std::uint64_t expansions = 0;      // times a re-solved set had to grow
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Transfer {
    std::vector<topo::LinkId> route;
    std::vector<std::uint32_t> position;  // index in each route link's flow list
    double remaining = 0;                 // bytes, as of `updated`
    double rate = 0;                      // bytes per second
    core::Time updated;
    core::Time tail;  // latency + overhead, paid after the data
    std::uint64_t tag = 0;
    core::EventQueue<std::uint32_t>::Handle finish;  // its pending finish event, if any
    bool active = false;
  };

  void reallocate();
  void solve_set();
  bool verify_set();
  void add_to_set(std::uint32_t slot);
  void commit();
  void remove(std::uint32_t slot);
  void schedule_finish(std::uint32_t slot);
  void link_totals(topo::LinkId link);
  bool has_bottleneck(std::uint32_t slot);
  double current_rate(std::uint32_t slot) const {
    return set_epoch_[slot] == epoch_ ? new_rate_[slot] : transfers_[slot].rate;
  }

  const topo::Cluster& cluster_;
  NetworkParams params_;
  std::vector<double> capacity_;                   // by link
  std::vector<std::vector<std::uint32_t>> flows_;  // by link: slots on it
  std::vector<Transfer> transfers_;                // by slot
  std::vector<std::uint32_t> free_slots_;
  std::size_t active_ = 0;
  core::Time now_ = core::Time::zero();
  core::EventQueue<std::uint32_t> finishes_;    // slots, at the time their data has crossed
  core::EventQueue<std::uint64_t> deliveries_;  // tags, when their tail has passed
  std::vector<topo::LinkId> dirty_;             // links whose flow set changed
  std::vector<std::uint32_t> dirty_epoch_;

  // Scratch for reallocate(), reset by epoch numbers instead of clearing.
  std::uint32_t epoch_ = 0;
  std::vector<std::uint32_t> set_epoch_, frozen_epoch_;  // by slot
  std::vector<double> new_rate_;                         // by slot
  std::vector<std::uint32_t> set_;                       // slots being re-solved
  std::vector<std::uint32_t> link_epoch_, total_epoch_;  // by link
  std::vector<double> residual_, used_, fastest_;        // by link
  std::vector<std::uint32_t> unfrozen_, link_version_;   // by link
  std::vector<topo::LinkId> touched_;
  using Share = std::pair<double, std::uint64_t>;  // (share, version << 32 | link)
  std::vector<Share> shares_;                      // a min-heap (std::push_heap, greater)
  std::vector<std::uint32_t> violators_;
  Stats stats_;
};

}  // namespace moesim::net
