#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <vector>

#include "core/event_queue.hpp"

namespace moesim::core {
namespace {

TEST(EventQueue, PopsInTimeOrder) {
  EventQueue<int> q;
  q.push(Time::ns(30), 3);
  q.push(Time::ns(10), 1);
  q.push(Time::ns(20), 2);
  EXPECT_EQ(q.top_time(), Time::ns(10));
  EXPECT_EQ(q.pop().payload, 1);
  EXPECT_EQ(q.pop().payload, 2);
  EXPECT_EQ(q.pop().payload, 3);
  EXPECT_TRUE(q.empty());
}

TEST(EventQueue, TiesResolveByInsertionOrder) {
  EventQueue<int> q;
  for (int i = 0; i < 100; ++i) q.push(Time::ns(5), i);
  for (int i = 0; i < 100; ++i) {
    const auto e = q.pop();
    EXPECT_EQ(e.payload, i);
    EXPECT_EQ(e.sequence, static_cast<std::uint64_t>(i));
  }
}

TEST(EventQueue, CancelRemovesOnlyThatEvent) {
  EventQueue<int> q;
  const auto a = q.push_cancellable(Time::ns(1), 1);
  const auto b = q.push_cancellable(Time::ns(2), 2);
  q.push(Time::ns(3), 3);
  EXPECT_TRUE(q.pending(b));
  EXPECT_TRUE(q.cancel(b));
  EXPECT_FALSE(q.pending(b));
  EXPECT_FALSE(q.cancel(b)) << "a second cancel is a no-op";
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.pop().payload, 1);
  EXPECT_FALSE(q.cancel(a)) << "an event that fired cannot be cancelled";
  EXPECT_EQ(q.pop().payload, 3);
}

TEST(EventQueue, PlainAndCancellableEventsInterleaveInOrder) {
  EventQueue<int> q;
  q.push(Time::ns(2), 20);
  const auto h = q.push_cancellable(Time::ns(2), 21);
  q.push(Time::ns(1), 10);
  q.push_cancellable(Time::ns(2), 22);
  q.push(Time::ns(2), 23);
  EXPECT_TRUE(q.cancel(h));
  std::vector<int> order;
  while (!q.empty()) order.push_back(q.pop().payload);
  EXPECT_EQ(order, (std::vector<int>{10, 20, 22, 23}));
}

TEST(EventQueue, RejectsTimeBeforeTheLastPopped) {
  EventQueue<int> q;
  q.push(Time::ns(5), 1);
  q.pop();
  EXPECT_THROW(q.push(Time::ns(4), 2), std::logic_error);
  q.push(Time::ns(5), 3);  // equal is fine
  EXPECT_EQ(q.pop().payload, 3);
}

TEST(EventQueue, StaleHandleDoesNotCancelAReusedSlot) {
  EventQueue<int> q;
  const auto old = q.push_cancellable(Time::ns(1), 1);
  q.pop();
  const auto reused = q.push_cancellable(Time::ns(2), 2);  // takes the freed slot
  EXPECT_EQ(reused.slot, old.slot);
  EXPECT_FALSE(q.cancel(old));
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(q.cancel(reused));
}

TEST(EventQueue, MatchesASortedReferenceUnderRandomPushPopCancel) {
  std::mt19937_64 rng(42);
  EventQueue<std::uint64_t> q;
  using Key = std::tuple<Time::Rep, std::uint64_t>;  // (time, sequence) of live events
  std::vector<std::pair<Key, EventQueue<std::uint64_t>::Handle>> live;
  std::uint64_t seq = 0;
  Time::Rep now = 0;
  for (int step = 0; step < 20000; ++step) {
    const auto action = rng() % 4;
    if (action <= 1 || live.empty()) {
      const Time::Rep t = now + static_cast<Time::Rep>(rng() % 50);  // many ties
      live.push_back({{t, seq}, q.push_cancellable(Time::ps(t), seq)});
      ++seq;
    } else if (action == 2) {
      const auto it = std::min_element(
          live.begin(), live.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      const auto e = q.pop();
      ASSERT_EQ(e.time.count(), std::get<0>(it->first));
      ASSERT_EQ(e.payload, std::get<1>(it->first));
      now = e.time.count();
      live.erase(it);
    } else {
      const auto victim = rng() % live.size();
      ASSERT_TRUE(q.cancel(live[victim].second));
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(victim));
    }
    ASSERT_EQ(q.size(), live.size());
  }
}

}  // namespace
}  // namespace moesim::core
