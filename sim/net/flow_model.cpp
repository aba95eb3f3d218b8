#include "flow_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace moesim::net {

namespace {
// Two rates or loads closer than this (relative) are equal: floating-point rounding of sums.
constexpr double kRelativeTolerance = 1e-9;
constexpr double kPsPerSecond = 1e12;
}  // namespace

FlowModel::FlowModel(const topo::Cluster& cluster, const NetworkParams& params)
    : cluster_(cluster), params_(params) {
  const auto links = cluster.links().size();
  for (const auto& l : cluster.links()) capacity_.push_back(l.capacity());
  flows_.resize(links);
  dirty_epoch_.assign(links, 0);
  link_epoch_.assign(links, 0);
  total_epoch_.assign(links, 0);
  residual_.assign(links, 0);
  used_.assign(links, 0);
  fastest_.assign(links, 0);
  unfrozen_.assign(links, 0);
  link_version_.assign(links, 0);
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
    set_epoch_.push_back(0);
    frozen_epoch_.push_back(0);
    new_rate_.push_back(0);
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
    if (dirty_epoch_[l] != epoch_ + 1) {
      dirty_epoch_[l] = epoch_ + 1;
      dirty_.push_back(l);
    }
  }
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
    if (dirty_epoch_[l] != epoch_ + 1) {
      dirty_epoch_[l] = epoch_ + 1;
      dirty_.push_back(l);
    }
  }
  t.active = false;
  finishes_.cancel(t.finish);
  free_slots_.push_back(slot);
  --active_;
}

void FlowModel::add_to_set(std::uint32_t slot) {
  if (set_epoch_[slot] == epoch_) return;
  set_epoch_[slot] = epoch_;
  new_rate_[slot] = transfers_[slot].rate;
  set_.push_back(slot);
}

void FlowModel::solve_set() {
  // Residual capacity of each link after the transfers outside the set, and how many of the
  // set's transfers cross it.
  touched_.clear();
  for (const auto slot : set_) {
    for (const auto l : transfers_[slot].route) {
      if (link_epoch_[l] == epoch_) continue;
      link_epoch_[l] = epoch_;
      touched_.push_back(l);
      double residual = capacity_[l];
      std::uint32_t members = 0;
      for (const auto h : flows_[l]) {
        if (set_epoch_[h] == epoch_) {
          ++members;
        } else {
          residual -= transfers_[h].rate;
        }
      }
      residual_[l] = std::max(0.0, residual);
      unfrozen_[l] = members;
    }
  }
  // Progressive filling: the link with the smallest fair share fixes its transfers' rates.
  const auto push = [&](topo::LinkId l) {
    shares_.emplace_back(residual_[l] / unfrozen_[l], (std::uint64_t{link_version_[l]} << 32) | l);
    std::push_heap(shares_.begin(), shares_.end(), std::greater<>());
  };
  shares_.clear();
  for (const auto l : touched_) {
    ++link_version_[l];
    push(l);
  }
  std::size_t left = set_.size();
  while (left > 0 && !shares_.empty()) {
    std::pop_heap(shares_.begin(), shares_.end(), std::greater<>());
    const auto [share, key] = shares_.back();
    shares_.pop_back();
    const auto l = static_cast<topo::LinkId>(key & 0xFFFFFFFFu);
    if ((key >> 32) != link_version_[l] || unfrozen_[l] == 0) continue;  // stale
    for (const auto h : flows_[l]) {
      if (set_epoch_[h] != epoch_ || frozen_epoch_[h] == epoch_) continue;
      frozen_epoch_[h] = epoch_;
      new_rate_[h] = share;
      --left;
      for (const auto k : transfers_[h].route) {
        residual_[k] = std::max(0.0, residual_[k] - share);
        --unfrozen_[k];
        ++link_version_[k];
        if (unfrozen_[k] > 0) push(k);
      }
    }
  }
}

void FlowModel::link_totals(topo::LinkId l) {
  if (total_epoch_[l] == epoch_) return;
  total_epoch_[l] = epoch_;
  double used = 0, fastest = 0;
  for (const auto h : flows_[l]) {
    const double r = current_rate(h);
    used += r;
    fastest = std::max(fastest, r);
  }
  used_[l] = used;
  fastest_[l] = fastest;
}

bool FlowModel::has_bottleneck(std::uint32_t slot) {
  const double rate = current_rate(slot);
  for (const auto l : transfers_[slot].route) {
    link_totals(l);
    if (used_[l] >= capacity_[l] * (1 - kRelativeTolerance) &&
        rate >= fastest_[l] * (1 - kRelativeTolerance)) {
      return true;
    }
  }
  return false;
}

bool FlowModel::verify_set() {
  // A transfer outside the set can only have lost its bottleneck on a link where a transfer of
  // the set changed rate: every transfer on a link where one arrived or left is in the set from
  // its first round. Transfers of the set are checked against everyone on their links.
  violators_.clear();
  for (const auto slot : set_) {
    if (!has_bottleneck(slot)) violators_.push_back(slot);
  }
  for (const auto slot : set_) {
    const Transfer& t = transfers_[slot];
    if (new_rate_[slot] == t.rate && t.updated != now_) continue;  // same rate, not new
    for (const auto l : t.route) {
      for (const auto h : flows_[l]) {
        if (set_epoch_[h] != epoch_ && !has_bottleneck(h)) violators_.push_back(h);
      }
    }
  }
  std::sort(violators_.begin(), violators_.end());
  violators_.erase(std::unique(violators_.begin(), violators_.end()), violators_.end());
  return violators_.empty();
}

void FlowModel::reallocate() {
  if (dirty_.empty()) return;
  ++stats_.reallocations;
  ++epoch_;
  set_.clear();
  for (const auto l : dirty_) {
    for (const auto h : flows_[l]) add_to_set(h);
  }
  dirty_.clear();
  for (;;) {
    if (set_.empty()) break;
    solve_set();
    if (verify_set()) break;
    ++stats_.expansions;
    // Grow the set: an outside violator joins; a violator already inside is held back by a
    // faster transfer outside on one of its links, which joins.
    const auto violators = violators_;
    const auto size = set_.size();
    for (const auto v : violators) {
      if (set_epoch_[v] != epoch_) {
        add_to_set(v);
        continue;
      }
      const double rate = current_rate(v);
      for (const auto l : transfers_[v].route) {
        for (const auto h : flows_[l]) {
          if (set_epoch_[h] != epoch_ && transfers_[h].rate > rate) add_to_set(h);
        }
      }
    }
    // The scratch of this epoch is stale now: start a new epoch keeping the set.
    const auto members = set_;
    ++epoch_;
    set_.clear();
    for (const auto slot : members) add_to_set(slot);
    if (set_.size() == size) break;  // nothing left to add: only rounding can disagree
  }
  stats_.flows_resolved += set_.size();
  commit();
}

void FlowModel::commit() {
  for (const auto slot : set_) {
    Transfer& t = transfers_[slot];
    const double rate = new_rate_[slot];
    if (rate == t.rate) continue;  // unchanged: its finish event still holds
    t.remaining = std::max(0.0, t.remaining - t.rate * (now_ - t.updated).seconds());
    t.updated = now_;
    t.rate = rate;
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
