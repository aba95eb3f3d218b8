// The intrusive heap against a sorted reference under random pushes, re-keys and erasures.
#include "core/intrusive_heap.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace moesim::core {
namespace {

TEST(IntrusiveHeap, KeepsTheSmallestKeyOnTopThroughUpdatesAndErasures) {
  constexpr std::uint32_t kIds = 200;
  std::vector<int> key(kIds, 0);
  std::vector<std::size_t> position(kIds, 0);
  std::vector<bool> inside(kIds, false);
  std::vector<std::uint32_t> items;
  const auto less = [&](std::uint32_t a, std::uint32_t b) {
    return key[a] != key[b] ? key[a] < key[b] : a < b;
  };
  const auto placed = [&](std::uint32_t id, std::size_t at) { position[id] = at; };
  IntrusiveHeap heap(items, less, placed);
  std::set<std::pair<int, std::uint32_t>> reference;
  std::mt19937 rng(5);
  for (int step = 0; step < 20000; ++step) {
    const auto id = static_cast<std::uint32_t>(rng() % kIds);
    const int op = static_cast<int>(rng() % 3);
    if (!inside[id]) {
      key[id] = static_cast<int>(rng() % 1000);
      heap.push(id);
      inside[id] = true;
      reference.emplace(key[id], id);
    } else if (op == 0) {
      reference.erase({key[id], id});
      heap.erase(position[id]);
      inside[id] = false;
    } else {
      reference.erase({key[id], id});
      key[id] = static_cast<int>(rng() % 1000);
      reference.emplace(key[id], id);
      heap.update(position[id]);
    }
    ASSERT_EQ(items.size(), reference.size());
    if (!items.empty()) {
      ASSERT_EQ(items.front(), reference.begin()->second) << "step " << step;
    }
    for (std::size_t i = 0; i < items.size(); ++i) ASSERT_EQ(position[items[i]], i);
  }
}

}  // namespace
}  // namespace moesim::core
