#include "flow_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace moesim::net {

namespace {
// Two levels closer than this (relative) are equal: floating-point rounding of sums. A level
// that moves by less does not propagate, which is what lets the re-levelling settle.
constexpr double kRelativeTolerance = 1e-12;
constexpr double kPsPerSecond = 1e12;
constexpr double kUnlimited = std::numeric_limits<double>::infinity();

bool same_level(double a, double b) {
  if (a == b) return true;  // also both infinite
  if (std::isinf(a) || std::isinf(b)) return false;
  return std::abs(a - b) <= kRelativeTolerance * std::max(a, b);
}
}  // namespace

FlowModel::FlowModel(const topo::Cluster& cluster, const NetworkParams& params)
    : FlowModel(cluster, params, Options{}) {}

FlowModel::FlowModel(const topo::Cluster& cluster, const NetworkParams& params, Options options)
    : cluster_(cluster), params_(params), options_(options) {
  const auto links = cluster.links().size();
  for (const auto& l : cluster.links()) capacity_.push_back(l.capacity());
  level_.assign(links, kUnlimited);
  flows_.resize(links);
  queued_epoch_.assign(links, 0);
}

void FlowModel::mark_dirty(topo::LinkId link) {
  if (queued_epoch_[link] == epoch_) return;
  queued_epoch_[link] = epoch_;
  queue_.push_back(link);
}

void FlowModel::mark_changed(std::uint32_t slot) {
  if (changed_epoch_[slot] == epoch_) return;
  changed_epoch_[slot] = epoch_;
  changed_.push_back(slot);
}

void FlowModel::start(core::Time now, std::span<const topo::LinkId> route, double bytes,
                      std::uint64_t tag) {
  if (now < now_) throw std::logic_error("FlowModel::start: time before the model's present");
  now_ = now;  // the caller has run complete_until(now): nothing is due before it
  core::Time tail = params_.message_overhead;
  for (const auto id : route) tail += cluster_.link(id).latency;
  if (route.empty() || bytes <= 0) {  // nothing crosses a link
    deliveries_.push(now + tail, tag);
    return;
  }
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(transfers_.size());
    transfers_.emplace_back();
    changed_epoch_.push_back(0);
  }
  Transfer& t = transfers_[slot];
  t.route.assign(route.begin(), route.end());
  t.position.resize(route.size());
  t.remaining = bytes;
  t.rate = 0;
  t.updated = now;
  t.tail = tail;
  t.tag = tag;
  t.active = true;
  for (std::size_t i = 0; i < route.size(); ++i) {
    const auto l = route[i];
    t.position[i] = static_cast<std::uint32_t>(flows_[l].size());
    flows_[l].push_back(slot);
    mark_dirty(l);
  }
  mark_changed(slot);
  ++active_;
}

void FlowModel::remove(std::uint32_t slot) {
  Transfer& t = transfers_[slot];
  for (std::size_t i = 0; i < t.route.size(); ++i) {
    const auto l = t.route[i];
    auto& list = flows_[l];
    const auto at = t.position[i];
    const auto moved = list.back();
    list[at] = moved;
    list.pop_back();
    if (moved != slot) {
      Transfer& m = transfers_[moved];
      for (std::size_t j = 0; j < m.route.size(); ++j) {
        if (m.route[j] == l && m.position[j] == list.size()) {
          m.position[j] = at;
          break;
        }
      }
    }
    mark_dirty(l);
  }
  t.active = false;
  finishes_.cancel(t.finish);
  free_slots_.push_back(slot);
  --active_;
}

double FlowModel::limit_elsewhere(std::uint32_t slot, topo::LinkId link) const {
  double limit = kUnlimited;
  for (const auto k : transfers_[slot].route) {
    if (k != link) limit = std::min(limit, level_[k]);
  }
  return limit;
}

double FlowModel::rate_of(std::uint32_t slot) const {
  double rate = kUnlimited;
  for (const auto k : transfers_[slot].route) rate = std::min(rate, level_[k]);
  return rate;
}

void FlowModel::relevel(topo::LinkId link) {
  ++stats_.link_updates;
  stats_.flows_visited += flows_[link].size();
  const auto& flows = flows_[link];
  // Water-filling: the share s with sum over the link's transfers of min(s, limit elsewhere)
  // equal to the capacity; infinite when even their limits elsewhere leave capacity spare.
  // Transfers limited elsewhere below the share take their limit; the rest split what is left.
  // Each pass settles at least one more transfer, and one pass is the usual case.
  elsewhere_.clear();
  for (const auto h : flows) elsewhere_.push_back(limit_elsewhere(h, link));
  double level = kUnlimited, left = capacity_[link];
  std::size_t sharing = flows.size();
  settled_.assign(flows.size(), 0);
  for (bool moved = true; moved && sharing > 0;) {
    moved = false;
    level = std::max(0.0, left / static_cast<double>(sharing));
    for (std::size_t i = 0; i < elsewhere_.size(); ++i) {
      if (settled_[i] || elsewhere_[i] >= level) continue;
      settled_[i] = 1;
      left -= elsewhere_[i];
      --sharing;
      moved = true;
    }
  }
  if (sharing == 0) level = kUnlimited;  // every transfer is limited elsewhere: spare capacity
  const double old = level_[link];
  if (same_level(level, old)) return;
  level_[link] = level;
  // The transfers whose rate this moves change the balance on the rest of their routes.
  for (std::size_t i = 0; i < flows.size(); ++i) {
    const auto h = flows[i];
    if (std::min(old, elsewhere_[i]) == std::min(level, elsewhere_[i])) continue;
    ++stats_.propagations;
    mark_changed(h);
    for (const auto k : transfers_[h].route) {
      if (k != link) mark_dirty(k);
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
    level_[l] = kUnlimited;
    unfrozen[l] = static_cast<std::uint32_t>(flows_[l].size());
    if (unfrozen[l] > 0) heap.emplace_back(residual[l] / unfrozen[l], l);
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    const auto [share, l] = heap.back();
    heap.pop_back();
    if (unfrozen[l] == 0 || share != residual[l] / unfrozen[l]) continue;  // stale entry
    level_[l] = share;
    for (const auto h : flows_[l]) {
      if (frozen[h]) continue;
      frozen[h] = 1;
      mark_changed(h);
      for (const auto k : transfers_[h].route) {
        residual[k] = std::max(0.0, residual[k] - share);
        if (--unfrozen[k] > 0) {
          heap.emplace_back(residual[k] / unfrozen[k], k);
          std::push_heap(heap.begin(), heap.end(), std::greater<>());
        }
      }
    }
  }
}

void FlowModel::reallocate() {
  if (queue_.empty()) return;
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
    relevel(link);
  }
  if (!settled) solve_from_scratch();
  commit();
  queue_.clear();
  queue_head_ = 0;
  changed_.clear();
  ++epoch_;
}

void FlowModel::commit() {
  for (const auto slot : changed_) {
    Transfer& t = transfers_[slot];
    if (!t.active) continue;
    const double rate = rate_of(slot);
    if (same_level(rate, t.rate)) continue;  // unchanged: its finish event still holds
    t.remaining = std::max(0.0, t.remaining - t.rate * (now_ - t.updated).seconds());
    t.updated = now_;
    t.rate = rate;
    ++stats_.rate_changes;
    schedule_finish(slot);
  }
}

void FlowModel::schedule_finish(std::uint32_t slot) {
  Transfer& t = transfers_[slot];
  finishes_.cancel(t.finish);
  if (!(t.rate > 0)) return;  // starved: it finishes once a rate arrives
  const double ps = std::ceil(t.remaining / t.rate * kPsPerSecond);
  t.finish = finishes_.push_cancellable(
      t.updated + core::Time::ps(static_cast<core::Time::Rep>(ps)), slot);
}

std::optional<core::Time> FlowModel::next_completion() {
  reallocate();
  std::optional<core::Time> next;
  if (!finishes_.empty()) next = finishes_.top_time();
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
    while (!finishes_.empty() && finishes_.top_time() == now_) {
      const auto slot = finishes_.pop().payload;
      Transfer& tr = transfers_[slot];
      tr.finish = {};
      deliveries_.push(now_ + tr.tail, tr.tag);
      remove(slot);
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
  for (const auto& t : transfers_) {
    if (t.active) out.emplace_back(t.tag, t.rate);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace moesim::net
