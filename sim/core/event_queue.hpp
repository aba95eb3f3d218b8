#pragma once
// A priority queue of timed events ordered by (time, insertion sequence), with cancellation.
//
// Ties in time resolve by insertion order, so a run is reproducible to the byte. The queue is an
// indexed binary heap over a pool of slots: push, pop and cancel are O(log n); slots and heap
// entries are reused, so after warm-up no event allocates. Handles carry a generation count,
// so cancelling an event that already fired (or was cancelled) is detected and harmless.
#include <cassert>
#include <cstdint>
#include <limits>
#include <vector>

#include "time.hpp"

namespace moesim::core {

template <class Payload>
class EventQueue {
 public:
  struct Handle {
    std::uint32_t slot = kNone;
    std::uint32_t generation = 0;
  };
  struct Event {
    Time time;
    std::uint64_t sequence;
    Payload payload;
  };

  void reserve(std::size_t n) {
    heap_.reserve(n);
    slots_.reserve(n);
    free_.reserve(n);
  }
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  // Events pushed so far (also the sequence number the next push receives).
  std::uint64_t pushed() const { return next_sequence_; }
  Time top_time() const {
    assert(!empty());
    return Time::ps(heap_.front().time);
  }

  Handle push(Time time, const Payload& payload) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(Slot{});
    }
    slots_[slot].payload = payload;
    heap_.push_back(Entry{time.count(), next_sequence_++, slot});
    sift_up(heap_.size() - 1);
    return Handle{slot, slots_[slot].generation};
  }

  Event pop() {
    assert(!empty());
    const Entry top = heap_.front();
    Event event{Time::ps(top.time), top.sequence, slots_[top.slot].payload};
    remove_at(0);
    return event;
  }

  // Removes a pending event. Returns false when the handle's event already fired or was
  // cancelled.
  bool cancel(Handle handle) {
    if (!pending(handle)) return false;
    remove_at(slots_[handle.slot].heap_index);
    return true;
  }
  bool pending(Handle handle) const {
    return handle.slot < slots_.size() && slots_[handle.slot].generation == handle.generation &&
           slots_[handle.slot].heap_index != kNone;
  }

 private:
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  struct Entry {
    Time::Rep time;
    std::uint64_t sequence;
    std::uint32_t slot;
  };
  struct Slot {
    Payload payload{};
    std::uint32_t heap_index = kNone;
    std::uint32_t generation = 0;
  };

  static bool before(const Entry& a, const Entry& b) {
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
  }
  void place(std::size_t index, const Entry& entry) {
    heap_[index] = entry;
    slots_[entry.slot].heap_index = static_cast<std::uint32_t>(index);
  }
  void sift_up(std::size_t index) {
    const Entry entry = heap_[index];
    while (index > 0) {
      const std::size_t parent = (index - 1) / 2;
      if (!before(entry, heap_[parent])) break;
      place(index, heap_[parent]);
      index = parent;
    }
    place(index, entry);
  }
  void sift_down(std::size_t index) {
    const Entry entry = heap_[index];
    const std::size_t n = heap_.size();
    for (;;) {
      std::size_t child = 2 * index + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], entry)) break;
      place(index, heap_[child]);
      index = child;
    }
    place(index, entry);
  }
  void remove_at(std::size_t index) {
    const std::uint32_t slot = heap_[index].slot;
    slots_[slot].heap_index = kNone;
    ++slots_[slot].generation;
    free_.push_back(slot);
    const Entry last = heap_.back();
    heap_.pop_back();
    if (index == heap_.size()) return;
    place(index, last);
    if (index > 0 && before(last, heap_[(index - 1) / 2])) {
      sift_up(index);
    } else {
      sift_down(index);
    }
  }

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace moesim::core
