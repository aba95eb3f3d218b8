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
// Links in series (topo::series_bottlenecks: a NIC's PCIe link and its network port carry the
// same routes) are shared as one, the one of least capacity: the others saturate only with it,
// at the same share. Each transfer records, and each re-levelling reads, that one alone.
//
// Rates change only when a transfer starts or finishes. Then only the links it crosses are
// re-levelled, and a level that moves re-levels the other links of the transfers whose rate it
// changed, until nothing moves. A link is re-levelled only if such a transfer's term in its
// water-filling sum moves at its present level. A link that limits nobody keeps the capacity
// its transfers leave spare, and is re-levelled only once they no longer fit, whether a rate
// moved, a transfer joined or one left (which only frees capacity); one queued for that is
// skipped if they fit again by its turn. The work stays near the change (about ten links per
// start or finish in a 1024-GPU all-to-all). Should the propagation not settle within its
// budget, one progressive filling over everything in flight sets every level from scratch.
//
// Finishing times are kept per link, not per transfer. Every transfer is charged to one
// bottleneck: a link on its route whose level is its rate. Each link runs a clock of the bytes
// one of its bottlenecked transfers has sent, advancing at the link's level, and a transfer
// charged there finishes when that clock reaches the value it was given on arrival (the clock
// then plus its bytes left). A level change is then one re-timing of the link, however many
// transfers it carries; only a transfer whose bottleneck moves to another link is touched,
// its bytes left carried over. The links wait in one heap by the time their first transfer
// finishes. Transfers finishing at the same instant are handled as one batch, and each also
// pays its route's latency and the message overhead once, after its data has crossed.
#include <cstdint>
#include <limits>
#include <vector>

#include "core/cache_line_allocator.hpp"
#include "core/event_queue.hpp"
#include "core/inline_lists.hpp"
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

  // Throws std::invalid_argument, changing nothing, for a route of more than 255 links or
  // one that crosses a link in series without the link standing for it (a route that does not
  // run between GPUs).
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
    std::uint64_t moves = 0;          // transfers charged to a new bottleneck
    std::uint64_t retimings = 0;      // links whose first finish was re-timed
    std::uint64_t flows_visited = 0;  // transfers looked at while re-levelling
  };
  const Stats& stats() const { return stats_; }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Transfer {
    // Charged to a link: the value of that link's clock at which its data has crossed.
    // Not yet charged (just started): the bytes to send.
    double finish = 0;
    core::Time tail;  // latency + overhead, paid after the data
    std::uint64_t tag = 0;
    std::uint32_t heap_position = 0;  // in its bottleneck's heap
  };
  // Per slot, what re-levelling reads for every transfer on a link, 16 bytes (four slots to a
  // cache line, so that a large run's transfers in flight stay in the L2 cache): one word with
  // the route's length (top byte; 0 for a free slot) and the link the transfer is charged to
  // (or kNoLink), a two-link route's links xor'ed (the other link from either one), and the
  // rate (the smallest level on the route, kept as levels move).
  struct Hot {
    std::uint32_t route_word = 0;
    topo::LinkId pair = 0;
    double rate = 0;
  };
  static_assert(sizeof(Hot) == 16);
  // Slots come in blocks of one cache line of Hot (hot_ starts on a line). A block belongs to
  // the first link of the routes its slots were taken for: a source's transfers in flight share
  // that link, and re-levelling it reads them all, which then is a line per four transfers, not
  // one each. (The slots then number at most the sum over first links of their peak transfers
  // in flight, rounded up to a block, rather than the peak over all.)
  static constexpr std::uint32_t kSlotsPerBlock = core::kCacheLineBytes / sizeof(Hot);
  // Per slot, one record of `stride_` words (a power of two): the route's links, then the
  // transfer's position in each of those links' flow lists (which a removal rewrites for the
  // transfer moved into the freed place). Re-levelling reads it only for routes of more than
  // two links whose rate is this link's level.
  static constexpr unsigned kHopsShift = 24;
  static constexpr std::uint32_t kNoLink = (1u << kHopsShift) - 1;  // also the link-id mask
  static constexpr std::size_t kMaxHops = 0xff;
  std::size_t room() const { return stride_ / 2; }  // links a record holds
  std::uint32_t* record(std::uint32_t slot) { return &records_[std::size_t{slot} * stride_]; }
  const std::uint32_t* record(std::uint32_t slot) const {
    return &records_[std::size_t{slot} * stride_];
  }
  std::uint32_t hop_count(std::uint32_t slot) const { return hot_[slot].route_word >> kHopsShift; }
  bool active(std::uint32_t slot) const { return hop_count(slot) != 0; }
  topo::LinkId bottleneck(std::uint32_t slot) const { return hot_[slot].route_word & kNoLink; }
  void set_bottleneck(std::uint32_t slot, topo::LinkId link) {
    auto& word = hot_[slot].route_word;
    word = (word & ~kNoLink) | link;
  }
  double rate(std::uint32_t slot) const { return hot_[slot].rate; }
  void set_rate(std::uint32_t slot, double r) { hot_[slot].rate = r; }
  topo::LinkId* route(std::uint32_t slot) { return record(slot); }
  const topo::LinkId* route(std::uint32_t slot) const { return record(slot); }
  std::uint32_t* places(std::uint32_t slot) { return record(slot) + room(); }
  void widen(std::size_t hops);
  // The links of `route` that can limit a rate: all but those in series with one of less
  // capacity (`route` itself when none is, else in kept_).
  std::span<const topo::LinkId> shared_links(std::span<const topo::LinkId> route);
  std::uint32_t take_slot(topo::LinkId first);
  void free_slot(std::uint32_t slot);

  void mark_dirty(topo::LinkId link);
  void mark_changed(std::uint32_t slot);
  void mark_retimed(topo::LinkId link);
  void reallocate();
  void relevel(topo::LinkId link);
  double smallest_level(std::uint32_t slot) const;  // over the route: the rate, when current
  double water_fill(topo::LinkId link);
  void set_spare(topo::LinkId link, double spare);
  bool fits(topo::LinkId link) const;  // (at an infinite level) the rates crossing it
  void must_relevel(topo::LinkId link);
  void share_moved(topo::LinkId link, double before, double after);
  void unlimited_moved(topo::LinkId link, double after);  // share_moved() from or to no rate
  void set_level(topo::LinkId link, double level);
  void solve_from_scratch();
  void commit();
  void charge(std::uint32_t slot, topo::LinkId link, double bytes_left);
  void discharge(std::uint32_t slot);
  void first_changed(topo::LinkId link);
  void remove(std::uint32_t slot);
  double clock_now(topo::LinkId link) const;
  void retime(topo::LinkId link);

  NetworkParams params_;
  Options options_;
  std::vector<double> capacity_;  // by link, B/s
  // By link, for every start's tail: dense, where the cluster's link records are 40 bytes apart
  // (a cache miss per hop on a large cluster).
  std::vector<core::Time> latency_;
  // By link: itself, or the link in series with it that limits whenever it would (saturated at
  // the same share, with less capacity), which stands for it in every route.
  std::vector<topo::LinkId> series_;
  std::vector<topo::LinkId> kept_;  // scratch for shared_links()
  std::vector<double> level_;       // by link: fair share (B/s), or infinity
  // By link at an infinite level: the capacity the rates leave (B/s), plus the rounding
  // tolerance, so that they fit while it is not negative (and no capacity need be read).
  std::vector<double> headroom_;
  // By link, what re-timing and a level change read, in one place.
  struct alignas(32) Clock {
    double bytes = 0;  // sent per charged transfer, as of `at`
    core::Time at = core::Time::zero();
    // The clock value at which the first charged transfer finishes; infinite if none is.
    double first = std::numeric_limits<double>::infinity();
  };
  std::vector<Clock> clocks_;                            // by link
  core::InlineLists flows_;                              // by link: slots crossing it
  std::vector<std::vector<std::uint32_t>> owned_;        // by link: heap of slots charged to it
  std::vector<Transfer> transfers_;                      // by slot
  std::vector<Hot, core::CacheLineAllocator<Hot>> hot_;  // by slot
  std::vector<std::uint32_t> marked_;   // by slot: the reallocation that last marked it changed
  std::size_t stride_ = 4;              // words per record: routes of up to 2 links
  std::vector<std::uint32_t> records_;  // by slot, see record()
  // By link: a free slot of a block that link's routes took (kNone if none); a free slot's `pair`
  // holds the next.
  std::vector<std::uint32_t> free_slot_;
  std::size_t active_ = 0;
  core::Time now_ = core::Time::zero();
  // Links with a transfer charged to them, by the time the first finishes.
  std::vector<core::Time> due_;              // by link
  std::vector<std::uint32_t> due_position_;  // by link: in due_heap_, or kNone
  std::vector<std::uint32_t> due_heap_;
  core::EventQueue<std::uint64_t> deliveries_;  // tags, when their tail has passed

  // Work of the next reallocation: links to re-level (FIFO), transfers whose rate may move and
  // links to re-time. Membership is marked with the number of the reallocation, so nothing
  // needs clearing.
  std::uint32_t epoch_ = 1;
  std::vector<topo::LinkId> queue_;
  std::size_t queue_head_ = 0;
  std::vector<std::uint32_t> queued_epoch_;  // by link
  // Each slot or link is marked at most once per reallocation, so these two are sized to all of
  // them and filled by a count: a push then has no growth path, whose register saving cost
  // every caller more than the push.
  std::vector<std::uint32_t> changed_;  // by slot count
  std::size_t changed_count_ = 0;
  std::vector<topo::LinkId> retimed_;  // by link count
  std::size_t retimed_count_ = 0;
  std::vector<std::uint32_t> retimed_epoch_;  // by link
  std::vector<double> elsewhere_;             // scratch for relevel()
  Stats stats_;
};

}  // namespace moesim::net
