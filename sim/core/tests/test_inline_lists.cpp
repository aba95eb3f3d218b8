#include "core/inline_lists.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace moesim::core {
namespace {

std::vector<std::uint32_t> contents(const InlineLists& lists, std::size_t list) {
  const auto values = lists[list];
  return {values.begin(), values.end()};
}

TEST(InlineLists, ShortListsStayInTheirLineAndKeepOrder) {
  InlineLists lists(3);
  for (std::uint32_t v = 0; v < InlineLists::kInline; ++v) lists.push_back(1, v * 10);
  lists.push_back(2, 7);
  EXPECT_TRUE(lists[0].empty());
  ASSERT_EQ(lists[1].size(), InlineLists::kInline);
  for (std::uint32_t v = 0; v < InlineLists::kInline; ++v) EXPECT_EQ(lists[1][v], v * 10);
  EXPECT_EQ(contents(lists, 2), std::vector<std::uint32_t>{7});
}

TEST(InlineLists, AListPastItsLineSpillsAndComesBackWithTheSameValues) {
  InlineLists lists(2);
  std::vector<std::uint32_t> expected;
  for (std::uint32_t v = 0; v < 3 * InlineLists::kInline; ++v) {
    lists.push_back(0, v);
    expected.push_back(v);
    ASSERT_EQ(contents(lists, 0), expected) << "after pushing " << v;
  }
  lists[0][5] = 999;  // rewritten in place while spilled
  expected[5] = 999;
  while (!expected.empty()) {
    lists.pop_back(0);
    expected.pop_back();
    ASSERT_EQ(contents(lists, 0), expected) << "down to " << expected.size();
  }
  EXPECT_TRUE(lists[1].empty());
}

// Random pushes, pops and rewrites on a few lists, against std::vector: lists cross the spill
// threshold both ways many times, and spilled storage is handed from list to list.
TEST(InlineLists, MatchesVectorsUnderRandomUse) {
  constexpr std::size_t kLists = 5;
  InlineLists lists(kLists);
  std::vector<std::vector<std::uint32_t>> reference(kLists);
  std::mt19937 rng(7);
  for (int step = 0; step < 20000; ++step) {
    const auto list = rng() % kLists;
    auto& ref = reference[list];
    // Lists grow past the spill threshold for a while, then shrink back, and again.
    const bool growing = (step / 2000) % 2 == 0;
    const auto op = rng() % 10;
    if (op < (growing ? 6u : 3u) || ref.empty()) {
      const auto value = static_cast<std::uint32_t>(rng());
      lists.push_back(list, value);
      ref.push_back(value);
    } else if (op < 9) {  // a pop
      lists.pop_back(list);
      ref.pop_back();
    } else {
      const auto at = rng() % ref.size();
      const auto value = static_cast<std::uint32_t>(rng());
      lists[list][at] = value;
      ref[at] = value;
    }
    for (std::size_t l = 0; l < kLists; ++l) {
      ASSERT_EQ(contents(lists, l), reference[l]) << "list " << l << " after step " << step;
    }
  }
}

}  // namespace
}  // namespace moesim::core
