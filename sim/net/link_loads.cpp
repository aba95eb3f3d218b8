#include "link_loads.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace moesim::net {

RecordingModel::RecordingModel(NetworkModel& inner, std::size_t links, Rates rates)
    : inner_(inner), rates_(std::move(rates)), level_(links, 0.0), series_(links) {}

void RecordingModel::start(core::Time now, std::span<const topo::LinkId> route, double bytes,
                           std::uint64_t tag) {
  inner_.start(now, route, bytes, tag);
  Record r;
  r.route_begin = static_cast<std::uint32_t>(links_.size());
  links_.insert(links_.end(), route.begin(), route.end());
  r.route_end = static_cast<std::uint32_t>(links_.size());
  r.bytes = bytes;
  r.start = now;
  r.end = now;
  open_[tag] = static_cast<std::uint32_t>(records_.size());
  records_.push_back(r);
  now_ = now;
  changed_ = true;
}

std::optional<core::Time> RecordingModel::next_completion() {
  const auto next = inner_.next_completion();  // the model has re-allocated: its rates hold
  if (changed_ && rates_) sample();
  return next;
}

void RecordingModel::complete_until(core::Time t, std::vector<std::uint64_t>& finished) {
  const auto before = finished.size();
  inner_.complete_until(t, finished);
  for (auto i = before; i < finished.size(); ++i) {
    const auto it = open_.find(finished[i]);
    if (it == open_.end()) continue;
    records_[it->second].end = t;
    open_.erase(it);
  }
  now_ = t;
  changed_ = true;
}

void RecordingModel::sample() {
  changed_ = false;
  std::map<topo::LinkId, double> now;  // ordered: the series are appended link by link
  for (const auto& [tag, rate] : rates_()) {
    const auto it = open_.find(tag);
    if (it == open_.end() || rate <= 0) continue;
    const auto& r = records_[it->second];
    for (auto i = r.route_begin; i < r.route_end; ++i) now[links_[i]] += rate;
  }
  for (const auto link : busy_) {
    if (!now.contains(link)) {
      series_[link].emplace_back(now_, 0.0);
      level_[link] = 0;
    }
  }
  busy_.clear();
  for (const auto& [link, rate] : now) {
    if (rate != level_[link]) series_[link].emplace_back(now_, rate);
    level_[link] = rate;
    busy_.push_back(link);
  }
}

std::vector<LinkLoad> RecordingModel::busiest_links(const topo::Cluster& cluster,
                                                    std::size_t most) const {
  std::vector<double> bytes(cluster.links().size(), 0.0);
  for (const auto& r : records_) {
    for (auto i = r.route_begin; i < r.route_end; ++i) bytes[links_[i]] += r.bytes;
  }
  std::vector<topo::LinkId> order;
  for (topo::LinkId l = 0; l < bytes.size(); ++l) {
    if (bytes[l] > 0) order.push_back(l);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&bytes](topo::LinkId a, topo::LinkId b) { return bytes[a] > bytes[b]; });
  order.resize(std::min(order.size(), most));
  std::vector<LinkLoad> loads;
  for (const auto l : order) {
    const auto& link = cluster.link(l);
    loads.push_back(
        {l,
         fmt::format("{} -> {}", cluster.device(link.from).name, cluster.device(link.to).name),
         link.capacity(),
         bytes[l],
         {}});
    if (rates_) loads.back().steps = series_[l];
  }
  if (rates_) return loads;
  // No rates: each transfer's bytes spread evenly over its lifetime.
  std::vector<int> index(cluster.links().size(), -1);
  for (std::size_t k = 0; k < loads.size(); ++k) index[loads[k].link] = static_cast<int>(k);
  std::vector<std::map<core::Time, double>> changes(loads.size());
  for (const auto& r : records_) {
    const auto duration = (r.end - r.start).seconds();
    if (duration <= 0) continue;
    const double rate = r.bytes / duration;
    for (auto i = r.route_begin; i < r.route_end; ++i) {
      const auto k = index[links_[i]];
      if (k < 0) continue;
      changes[static_cast<std::size_t>(k)][r.start] += rate;
      changes[static_cast<std::size_t>(k)][r.end] -= rate;
    }
  }
  for (std::size_t k = 0; k < loads.size(); ++k) {
    double level = 0;
    for (const auto& [t, delta] : changes[k]) {
      level += delta;
      constexpr double kRounding = 1e-12;  // of a link's capacity: what a sum leaves of zero
      if (level < loads[k].capacity * kRounding) level = 0;
      loads[k].steps.emplace_back(t, level);
    }
  }
  return loads;
}

}  // namespace moesim::net
