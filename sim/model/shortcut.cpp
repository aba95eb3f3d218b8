#include "shortcut.hpp"

#include <algorithm>

namespace moesim::model {

double ShortcutPlacer::exchange_seconds(const Collective& c, const std::vector<int>& gpus) {
  const auto g = graphs_.graph(c, gpus);
  if (seconds_.size() <= g) seconds_.resize(g + 1, -1);
  if (seconds_[g] < 0) seconds_[g] = estimate_(graphs_.at(g), gpus).seconds();
  return seconds_[g];
}

std::size_t ShortcutPlacer::choose_slot(const Program& p, const std::vector<int>& window,
                                        const RoutedPath& r, int rank) {
  std::vector<double> busy;
  for (const int id : window) {
    const auto& n = p.node(id);
    busy.push_back(n.stream == Stream::kCompute ? pricer_.price(n.forward).seconds() : 0.0);
  }
  const auto gpus = layout_.ep_group(layout_.ep_group_of(rank));
  double exchange[2] = {0, 0};
  for (int dir = 0; dir < 2; ++dir) {
    for (std::size_t c = 0; c < r.dispatch.size(); ++c) {
      const auto& n = p.node(dir == 0 ? r.dispatch[c] : r.combine[c]);
      exchange[dir] += exchange_seconds(*n.collective, gpus);
    }
  }
  std::size_t best = 0;
  double best_exposed = 0;
  for (std::size_t slot = 0; slot <= window.size(); ++slot) {
    double before = 0, after = 0;
    for (std::size_t i = 0; i < window.size(); ++i) (i < slot ? before : after) += busy[i];
    const double exposed = std::max(0.0, exchange[0] - before) + std::max(0.0, exchange[1] - after);
    if (slot == 0 || exposed < best_exposed) {
      best = slot;
      best_exposed = exposed;
    }
  }
  return best;
}

void ShortcutPlacer::place(Program& p, int rank, std::vector<ShortcutPath>& paths) {
  using Offset = std::ptrdiff_t;
  auto& order = p.order;
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    auto& path = *it;
    const auto& r = path.routed;
    // The routed input: the node just before the shortcut point.
    if (path.shortcut_at > 0) p.node(r.pre.front()).deps = {order[path.shortcut_at - 1]};
    std::vector<int> window(order.begin() + static_cast<Offset>(path.shortcut_at),
                            order.begin() + static_cast<Offset>(path.sum_at));
    const std::size_t slot = choose_slot(p, window, r, rank);
    order.insert(order.begin() + static_cast<Offset>(path.sum_at), r.post.begin(), r.post.end());
    std::vector<int> middle;
    for (std::size_t c = 0; c < r.experts.size(); ++c) {
      middle.push_back(r.experts[c]);
      middle.push_back(r.combine[c]);
    }
    order.insert(order.begin() + static_cast<Offset>(path.shortcut_at + slot), middle.begin(),
                 middle.end());
    std::vector<int> head = r.pre;
    head.insert(head.end(), r.dispatch.begin(), r.dispatch.end());
    order.insert(order.begin() + static_cast<Offset>(path.shortcut_at), head.begin(), head.end());
  }
}

}  // namespace moesim::model
