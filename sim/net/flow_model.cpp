#include "flow_model.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/intrusive_heap.hpp"
#include "topologies/series.hpp"

namespace moesim::net {

namespace {
// Two levels closer than this (relative) are equal: floating-point rounding of sums. A level
// that moves by less does not propagate, which is what lets the re-levelling settle.
constexpr double kRelativeTolerance = 1e-12;
constexpr auto kPsPerSecond = static_cast<double>(core::Time::kPsPerS);
constexpr double kUnlimited = std::numeric_limits<double>::infinity();

bool same_level(double a, double b) {
  if (a == b) return true;  // also both infinite
  if (std::isinf(a) || std::isinf(b)) return false;
  return std::abs(a - b) <= kRelativeTolerance * std::max(a, b);
}
// Water-filling's share: what the transfers limited elsewhere (`below` of `n`, taking `taken`)
// leave of the capacity, split among the rest (below < n).
double share_left(double capacity, double taken, std::size_t n, std::size_t below) {
  return std::max(0.0, (capacity - taken) / static_cast<double>(n - below));
}
// `yes` if `condition`, else `no`, without a branch: a mask of the condition's bits picks one.
double select(bool condition, double yes, double no) {
  const auto mask = std::uint64_t{0} - static_cast<std::uint64_t>(condition);
  return std::bit_cast<double>((std::bit_cast<std::uint64_t>(yes) & mask) |
                               (std::bit_cast<std::uint64_t>(no) & ~mask));
}
// a < b by more than rounding.
bool clearly_below(double a, double b) {
  return a < b && !same_level(a, b);
}
}  // namespace

FlowModel::FlowModel(const topo::Cluster& cluster, const NetworkParams& params)
    : FlowModel(cluster, params, Options{}) {}

FlowModel::FlowModel(const topo::Cluster& cluster, const NetworkParams& params, Options options)
    : params_(params), options_(options), flows_(cluster.links().size()) {
  const auto links = cluster.links().size();
  if (links >= kNoLink) {
    throw std::invalid_argument(
        fmt::format("FlowModel: cluster '{}' has {} links; the flow model takes at most {}",
                    cluster.name(), links, kNoLink - 1));
  }
  for (const auto& l : cluster.links()) {
    capacity_.push_back(l.capacity());
    latency_.push_back(l.latency);
  }
  series_ = topo::series_bottlenecks(cluster);
  level_.assign(links, kUnlimited);
  headroom_.resize(links);
  for (topo::LinkId l = 0; l < links; ++l) set_spare(l, capacity_[l]);
  clocks_.resize(links);
  owned_.resize(links);
  due_.assign(links, core::Time::max());
  due_position_.assign(links, kNone);
  queued_epoch_.assign(links, 0);
  retimed_epoch_.assign(links, 0);
  retimed_.resize(links);
  free_slot_.assign(links, kNone);
}

namespace {
// A link's heap of transfers, by the clock value at which each finishes (ties by slot).
template <class Transfers>
auto owned_heap(std::vector<std::uint32_t>& heap, Transfers& transfers) {
  return core::IntrusiveHeap(
      heap,
      [&transfers](std::uint32_t a, std::uint32_t b) {
        const double fa = transfers[a].finish, fb = transfers[b].finish;
        return fa != fb ? fa < fb : a < b;
      },
      [&transfers](std::uint32_t slot, std::size_t at) {
        transfers[slot].heap_position = static_cast<std::uint32_t>(at);
      });
}
}  // namespace

void FlowModel::widen(std::size_t hops) {
  const auto stride = std::max(std::bit_ceil(2 * hops), 2 * stride_);
  const auto old_room = room(), new_room = stride / 2;
  std::vector<std::uint32_t> records(transfers_.size() * stride);
  for (std::size_t s = 0; s < transfers_.size(); ++s) {
    const auto* from = &records_[s * stride_];
    auto* to = &records[s * stride];
    for (std::size_t w = 0; w < old_room; ++w) {
      to[w] = from[w];                        // links
      to[new_room + w] = from[old_room + w];  // places
    }
  }
  records_ = std::move(records);
  stride_ = stride;
}

std::uint32_t FlowModel::take_slot(topo::LinkId first) {
  if (free_slot_[first] == kNone) {  // a new block, its slots free for routes from `first`
    const auto base = static_cast<std::uint32_t>(transfers_.size());
    transfers_.resize(base + kSlotsPerBlock);
    hot_.resize(base + kSlotsPerBlock);
    marked_.resize(base + kSlotsPerBlock, 0);
    changed_.resize(base + kSlotsPerBlock);
    records_.resize(transfers_.size() * stride_);
    for (auto s = base + kSlotsPerBlock; s-- > base;) {
      hot_[s].route_word = kNoLink;
      hot_[s].pair = free_slot_[first];
      free_slot_[first] = s;
    }
  }
  const auto slot = free_slot_[first];
  free_slot_[first] = hot_[slot].pair;
  return slot;
}

void FlowModel::free_slot(std::uint32_t slot) {
  const auto first = route(slot)[0];
  hot_[slot].route_word = kNoLink;  // no route: free
  hot_[slot].pair = free_slot_[first];
  free_slot_[first] = slot;
}

void FlowModel::mark_dirty(topo::LinkId link) {
  if (queued_epoch_[link] == epoch_) return;
  queued_epoch_[link] = epoch_;
  queue_.push_back(link);
}

void FlowModel::mark_changed(std::uint32_t slot) {
  auto& marked = marked_[slot];
  if (marked == epoch_) return;
  marked = epoch_;
  changed_[changed_count_++] = slot;
}

void FlowModel::mark_retimed(topo::LinkId link) {
  if (retimed_epoch_[link] == epoch_) return;
  retimed_epoch_[link] = epoch_;
  retimed_[retimed_count_++] = link;
}

void FlowModel::start(core::Time now, std::span<const topo::LinkId> route, double bytes,
                      std::uint64_t tag) {
  if (now < now_) throw std::logic_error("FlowModel::start: time before the model's present");
  if (route.size() > kMaxHops) {
    throw std::invalid_argument(fmt::format(
        "FlowModel: a route of {} links; the flow model takes at most {}", route.size(), kMaxHops));
  }
  const auto shared = shared_links(route);  // checks the route before anything changes
  now_ = now;  // the caller has run complete_until(now): nothing is due before it
  core::Time tail = params_.message_overhead;
  for (const auto id : route) tail += latency_[id];
  if (shared.empty() || bytes <= 0) {  // nothing crosses a link
    deliveries_.push(now + tail, tag);
    return;
  }
  route = shared;
  if (route.size() > room()) widen(route.size());
  const auto slot = take_slot(route[0]);
  Transfer& t = transfers_[slot];
  t.finish = bytes;
  t.tail = tail;
  t.tag = tag;
  // A reused slot keeps its mark: it may be in changed_.
  hot_[slot].route_word = static_cast<std::uint32_t>(route.size()) << kHopsShift | kNoLink;
  hot_[slot].pair = route.size() == 2 ? route[0] ^ route[1] : 0;
  auto* links = this->route(slot);
  auto* at = places(slot);
  for (std::size_t i = 0; i < route.size(); ++i) {
    const auto l = route[i];
    links[i] = l;
    at[i] = static_cast<std::uint32_t>(flows_[l].size());
    flows_.push_back(l, slot);
  }
  const double rate = smallest_level(slot);
  set_rate(slot, rate);
  mark_changed(slot);
  ++active_;
  if (std::isinf(rate)) {
    // No link of the route limits anybody: the transfer is in none of their sums yet. The one
    // with the least spare capacity is re-levelled, which gives the transfer a rate that joins
    // the others' sums as it moves (share_moved()).
    auto least = route[0];
    for (const auto l : route) least = headroom_[l] < headroom_[least] ? l : least;
    must_relevel(least);
    return;
  }
  // The transfer joins every link's water-filling sum with its rate. Its links with a level
  // are re-levelled; one that limits nobody is only if the rate does not fit in its spare
  // capacity (the rate then moves like any other).
  for (const auto l : route) share_moved(l, 0.0, rate);
}

std::span<const topo::LinkId> FlowModel::shared_links(std::span<const topo::LinkId> route) {
  // A link in series with one of less capacity (topo::series_bottlenecks) is left out: it is
  // saturated only when that one is, at the same share. That holds only if every route through
  // it also crosses that one, which a route between GPUs does; any other is refused.
  const auto stands_alone = [this](topo::LinkId l) { return series_[l] == l; };
  if (std::all_of(route.begin(), route.end(), stands_alone)) return route;  // under one switch
  kept_.clear();
  for (const auto l : route) {
    const auto stands_for = series_[l];
    if (stands_for == l) {
      kept_.push_back(l);
    } else if (std::find(route.begin(), route.end(), stands_for) == route.end()) {
      throw std::invalid_argument(fmt::format(
          "FlowModel: a route crosses link {} but not link {}, which is in series with it: a "
          "route must run between GPUs",
          l, stands_for));
    }
  }
  return kept_;
}

void FlowModel::remove(std::uint32_t slot) {
  const auto* links = route(slot);
  const auto* at = places(slot);
  const double rate = this->rate(slot);
  for (std::uint32_t i = 0; i < hop_count(slot); ++i) {
    const auto l = links[i];
    const auto list = flows_[l];
    const auto moved = list.back();
    list[at[i]] = moved;
    flows_.pop_back(l);
    if (moved != slot) {  // l is on its route: no need for the route's length
      const auto* other = route(moved);
      std::uint32_t j = 0;
      while (other[j] != l) ++j;
      places(moved)[j] = at[i];
    }
    // A link that limits nobody keeps doing so, with more spare; an empty one has it all (which
    // also drops the rounding its running sum gathered).
    share_moved(l, rate, 0.0);
    if (flows_[l].empty() && std::isinf(level_[l])) set_spare(l, capacity_[l]);
  }
  if (bottleneck(slot) != kNoLink) discharge(slot);
  free_slot(slot);
  --active_;
}

double FlowModel::clock_now(topo::LinkId link) const {
  const double level = level_[link];
  const Clock& clock = clocks_[link];
  if (std::isinf(level)) return clock.bytes;  // nobody is charged to an unsaturated link
  return clock.bytes + level * (now_ - clock.at).seconds();
}

void FlowModel::set_level(topo::LinkId link, double level) {
  // The clock has run at the old level until now; from now on it runs at the new one.
  Clock& clock = clocks_[link];
  clock.bytes = std::isinf(clock.first) ? 0.0 : clock_now(link);  // infinite: none charged
  clock.at = now_;
  level_[link] = level;
  mark_retimed(link);
}

double FlowModel::smallest_level(std::uint32_t slot) const {
  const auto* links = route(slot);
  double smallest = level_[links[0]];
  for (std::uint32_t j = 1; j < hop_count(slot); ++j)
    smallest = std::min(smallest, level_[links[j]]);
  return smallest;
}

void FlowModel::set_spare(topo::LinkId link, double spare) {
  headroom_[link] = spare + kRelativeTolerance * capacity_[link];
}

bool FlowModel::fits(topo::LinkId link) const {
  return headroom_[link] >= 0;
}

void FlowModel::must_relevel(topo::LinkId link) {
  headroom_[link] = -kUnlimited;  // until re-levelled: no rate moving can make it fit
  mark_dirty(link);
}

inline void FlowModel::share_moved(topo::LinkId k, double before, double after) {
  // A transfer's term in k's water-filling sum moved from `before` to `after`: k must be
  // re-levelled, unless it limits nobody and the rates crossing it still fit. That spare
  // capacity is kept while k waits in the queue too, so that it is skipped if the rates fit
  // again by then.
  if (!std::isinf(level_[k])) {
    mark_dirty(k);
  } else if (std::isinf(before) || std::isinf(after)) [[unlikely]] {
    unlimited_moved(k, after);
  } else {
    headroom_[k] += before - after;
    if (!fits(k)) mark_dirty(k);
  }
}

void FlowModel::unlimited_moved(topo::LinkId k, double after) {
  // A transfer with no rate (its route limits nobody; it has just started) is in the sum of no
  // link that limits nobody, so a rate it gets joins; losing its rate (every other link of its
  // route stopped limiting it) leaves water-filling to decide.
  if (std::isinf(after)) {
    must_relevel(k);
    return;
  }
  headroom_[k] -= after;
  if (!fits(k)) mark_dirty(k);
}

double FlowModel::water_fill(topo::LinkId link) {
  // From the equal split upwards: transfers limited elsewhere below the share take their limit
  // and the rest split what is left, which only raises the share; so each pass counts the
  // limited ones afresh and stops when no more join.
  const auto n = elsewhere_.size();
  const double capacity = capacity_[link];
  double level = capacity / static_cast<double>(n);
  for (std::size_t limited = 0;;) {
    double taken = 0;
    std::size_t below = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double limit = elsewhere_[i];
      const bool limited_here = limit < level;
      taken += select(limited_here, limit, 0.0);
      below += limited_here;
    }
    if (below == n) {  // every transfer is limited elsewhere: spare capacity
      set_spare(link, capacity - taken);
      return kUnlimited;
    }
    if (below <= limited) return level;  // none joined (rounding may not shrink the set: stop)
    limited = below;
    level = share_left(capacity, taken, n, below);
  }
}

void FlowModel::relevel(topo::LinkId link) {
  ++stats_.link_updates;
  const auto flows = flows_[link];
  const auto n = flows.size();
  stats_.flows_visited += n;
  // Each transfer's limit elsewhere: the smallest level on the rest of its route. This link's
  // level reads as infinite meanwhile, which leaves it out of every route's minimum without a
  // test per hop (where it sits in a route varies, and a mispredicted branch per transfer cost
  // more than the rest of the loop).
  const double old = level_[link];
  const double capacity = capacity_[link];
  // Water-filling: the share s with sum over the link's transfers of min(s, limit elsewhere)
  // equal to the capacity; infinite when even their limits elsewhere leave capacity spare.
  // Given which transfers are limited elsewhere below it, the share is what they leave split
  // among the rest; it is the answer when that set is exactly the transfers limited below it.
  // The set at the old level usually is (a level moves, but rarely past a transfer's limit),
  // so the pass that reads the limits also tries it, and keeps the largest limit inside the set
  // and the smallest outside it to check the share it gives.
  level_[link] = kUnlimited;
  elsewhere_.resize(n);
  double taken = 0, largest_in = 0, smallest_out = kUnlimited;
  std::size_t below = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto slot = flows[i];
    const Hot& hot = hot_[slot];
    const auto hops = hot.route_word >> kHopsShift;
    double limit, in, out;  // in: the limit if it is in the set, else 0; out: the reverse, or inf
    bool in_set;
    if (hops == 2) {  // one other link: most routes under a switch
      limit = level_[hot.pair ^ link];
      // Which of its two links limits a transfer under a switch is a coin toss, so this is
      // written without a branch (GCC turns `in_set ? limit : 0.0` into one).
      in_set = limit < old;
      in = select(in_set, limit, 0.0);
      out = select(in_set, kUnlimited, limit);
    } else {
      // A transfer limited elsewhere below this link's level has its rate as its limit. On long
      // routes (a NIC link's hundreds of transfers, most limited elsewhere) the set is
      // predictable and a branch costs less than the select: with the select here too,
      // bench_model at 256 GPUs ran 5.1-5.3 s against 4.7-5.0 s side by side.
      const double r = hot.rate;
      limit = r < old ? r : smallest_level(slot);
      in_set = limit < old;
      in = in_set ? limit : 0.0;
      out = in_set ? kUnlimited : limit;
    }
    elsewhere_[i] = limit;
    taken += in;
    below += in_set;
    largest_in = std::max(largest_in, in);
    smallest_out = std::min(smallest_out, out);
  }
  level_[link] = old;
  // Near a tie (a limit within rounding of the share, or limits that sum to the capacity) the
  // set is decided by rounding, so it is left to the passes from the equal split, which decide
  // it the same way every time.
  double level = kUnlimited;
  if (n == 0) {
    set_spare(link, capacity);
  } else if (below == n && clearly_below(taken, capacity)) {  // all limited elsewhere: spare
    set_spare(link, capacity - taken);
  } else {
    const double share = below < n ? share_left(capacity, taken, n, below) : 0.0;
    const bool same_set =
        below < n && clearly_below(largest_in, share) && clearly_below(share, smallest_out);
    level = same_set ? share : water_fill(link);
  }
  if (same_level(level, old)) return;
  set_level(link, level);
  // The transfers whose rate this moves change the balance on the rest of their routes, and
  // may change bottleneck; so may those charged here even when their rate holds (a tie).
  // A transfer's term in another link's water-filling sum is its rate (the smallest level on
  // its route), so that link must be re-levelled only if this moved the rate, and then
  // whatever its place on the route.
  for (std::size_t i = 0; i < n; ++i) {
    const auto slot = flows[i];
    const double limit = elsewhere_[i];
    const double before = std::min(old, limit), after = std::min(level, limit);
    const bool moved = before != after;
    if (moved || bottleneck(slot) == link) mark_changed(slot);
    if (!moved) continue;
    ++stats_.propagations;
    Hot& hot = hot_[slot];
    hot.rate = after;
    const auto hops = hot.route_word >> kHopsShift;
    if (hops == 2) {  // one other link: most routes under a switch
      const auto other = hot.pair ^ link;
      share_moved(other, before, after);
      continue;
    }
    const auto* links = route(slot);
    for (std::uint32_t j = 0; j < hops; ++j) {
      const auto k = links[j];
      if (k != link) share_moved(k, before, after);
    }
  }
}

void FlowModel::solve_from_scratch() {
  // Progressive filling over every transfer in flight: the link with the smallest fair share
  // fixes its transfers' rates and takes that share as its level.
  ++stats_.fallbacks;
  const auto links = capacity_.size();
  std::vector<double> residual = capacity_;
  std::vector<std::uint32_t> unfrozen(links, 0);
  std::vector<char> frozen(transfers_.size(), 0);
  using Share = std::pair<double, topo::LinkId>;
  std::vector<Share> heap;
  for (topo::LinkId l = 0; l < links; ++l) {
    if (!flows_[l].empty() || !std::isinf(level_[l])) set_level(l, kUnlimited);
    unfrozen[l] = static_cast<std::uint32_t>(flows_[l].size());
    if (unfrozen[l] > 0) heap.emplace_back(residual[l] / unfrozen[l], l);
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const auto [share, l] = heap.back();
    heap.pop_back();
    if (unfrozen[l] == 0 || share != residual[l] / unfrozen[l]) continue;  // stale entry
    level_[l] = share;  // the clock was brought to now above
    for (const auto h : flows_[l]) {
      if (frozen[h]) continue;
      frozen[h] = 1;
      mark_changed(h);
      const auto* route_links = route(h);
      for (std::uint32_t j = 0; j < hop_count(h); ++j) {
        const auto k = route_links[j];
        residual[k] = std::max(0.0, residual[k] - share);
        if (--unfrozen[k] > 0) {
          heap.emplace_back(residual[k] / unfrozen[k], k);
          std::push_heap(heap.begin(), heap.end(), std::greater<>());
        }
      }
    }
  }
  for (topo::LinkId l = 0; l < links; ++l) {
    if (std::isinf(level_[l])) set_spare(l, residual[l]);
  }
  for (std::uint32_t slot = 0; slot < transfers_.size(); ++slot) {
    if (!active(slot)) continue;
    set_rate(slot, smallest_level(slot));
  }
}

void FlowModel::reallocate() {
  if (queue_.empty() && retimed_count_ == 0) return;
  ++stats_.reallocations;
  const std::uint64_t budget = std::uint64_t{options_.updates_per_changed_link} * queue_.size();
  std::uint64_t spent = 0;
  bool settled = true;
  for (; queue_head_ < queue_.size(); ++queue_head_) {
    if (++spent > budget) {
      settled = false;
      break;
    }
    const auto link = queue_[queue_head_];
    queued_epoch_[link] = 0;  // a later change may queue it again
    // A link that limits nobody was queued because the rates crossing it stopped fitting, and
    // may fit again after the levels that moved since.
    if (std::isinf(level_[link]) && fits(link)) continue;
    relevel(link);
  }
  if (!settled) solve_from_scratch();
  commit();
  queue_.clear();
  queue_head_ = 0;
  changed_count_ = 0;
  ++epoch_;
}

void FlowModel::charge(std::uint32_t slot, topo::LinkId link, double bytes_left) {
  if (owned_[link].empty()) {  // a fresh clock keeps its values small
    clocks_[link].bytes = 0;
    clocks_[link].at = now_;
  }
  Transfer& t = transfers_[slot];
  t.finish = clock_now(link) + bytes_left;
  set_bottleneck(slot, link);
  owned_heap(owned_[link], transfers_).push(slot);
  first_changed(link);
}

void FlowModel::discharge(std::uint32_t slot) {
  Transfer& t = transfers_[slot];
  const auto link = bottleneck(slot);
  owned_heap(owned_[link], transfers_).erase(t.heap_position);
  set_bottleneck(slot, kNoLink);
  first_changed(link);
}

void FlowModel::first_changed(topo::LinkId link) {
  const auto& owned = owned_[link];
  clocks_[link].first = owned.empty() ? kUnlimited : transfers_[owned.front()].finish;
  mark_retimed(link);
}

void FlowModel::commit() {
  // Each transfer whose rate may have moved goes to the link that now limits it, unless the
  // link it is charged to still limits it as much (a tie keeps it where it is).
  for (std::size_t i = 0; i < changed_count_; ++i) {
    const auto slot = changed_[i];
    if (!active(slot)) continue;
    const auto charged = bottleneck(slot);
    if (charged != kNoLink && same_level(level_[charged], rate(slot))) continue;
    const auto* links = route(slot);
    auto best = links[0];
    for (std::uint32_t j = 1; j < hop_count(slot); ++j) {
      if (level_[links[j]] < level_[best]) best = links[j];
    }
    const Transfer& t = transfers_[slot];
    if (charged == kNoLink) {  // just started
      charge(slot, best, t.finish);
      continue;
    }
    const double left = std::max(0.0, t.finish - clock_now(charged));
    discharge(slot);
    charge(slot, best, left);
    ++stats_.moves;
  }
  for (std::size_t i = 0; i < retimed_count_; ++i) retime(retimed_[i]);
  retimed_count_ = 0;
}

void FlowModel::retime(topo::LinkId link) {
  ++stats_.retimings;
  const Clock& clock = clocks_[link];
  auto due = core::Time::max();
  if (!std::isinf(clock.first)) {  // a transfer is charged here
    const double level = level_[link];
    if (std::isinf(level)) {
      throw std::logic_error("FlowModel: a transfer is charged to a link that limits nobody");
    }
    if (level > 0) {  // a starved link waits for a rate
      const double ps = (clock.first - clock.bytes) / level * kPsPerSecond;
      const double until_max = static_cast<double>((core::Time::max() - clock.at).count());
      if (ps < until_max) {
        due = std::max(now_, clock.at + core::Time::ps(core::Time::arrival_ps(ps)));
      }
    }
  }
  auto heap = core::IntrusiveHeap(
      due_heap_,
      [this](std::uint32_t a, std::uint32_t b) {
        return due_[a] != due_[b] ? due_[a] < due_[b] : a < b;
      },
      [this](std::uint32_t l, std::size_t at) {
        due_position_[l] = static_cast<std::uint32_t>(at);
      });
  const bool queued = due_position_[link] != kNone;
  if (due == core::Time::max()) {
    if (queued) {
      heap.erase(due_position_[link]);
      due_position_[link] = kNone;
    }
    due_[link] = due;
    return;
  }
  due_[link] = due;
  if (queued) {
    heap.update(due_position_[link]);
  } else {
    heap.push(link);
  }
}

std::optional<core::Time> FlowModel::next_completion() {
  reallocate();
  std::optional<core::Time> next;
  if (!due_heap_.empty()) next = due_[due_heap_.front()];
  if (!deliveries_.empty() && (!next || deliveries_.top_time() < *next)) {
    next = deliveries_.top_time();
  }
  return next;
}

void FlowModel::complete_until(core::Time t, std::vector<std::uint64_t>& finished) {
  for (;;) {
    const auto next = next_completion();
    if (!next || *next > t) break;
    now_ = *next;
    // Everything due now, as one batch: data that has crossed leaves its links, then one
    // reallocation for all of them (in next_completion()).
    while (!due_heap_.empty() && due_[due_heap_.front()] == now_) {
      const auto link = due_heap_.front();
      const auto slot = owned_[link].front();
      const Transfer& tr = transfers_[slot];
      deliveries_.push(now_ + tr.tail, tr.tag);
      remove(slot);
      retime(link);  // the link's next transfer may be due now too
    }
    while (!deliveries_.empty() && deliveries_.top_time() == now_) {
      finished.push_back(deliveries_.pop().payload);
    }
  }
  if (t > now_) now_ = t;
}

std::vector<std::pair<std::uint64_t, double>> FlowModel::rates() {
  reallocate();
  std::vector<std::pair<std::uint64_t, double>> out;
  for (std::uint32_t slot = 0; slot < transfers_.size(); ++slot) {
    if (active(slot)) out.emplace_back(transfers_[slot].tag, level_[bottleneck(slot)]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace moesim::net
