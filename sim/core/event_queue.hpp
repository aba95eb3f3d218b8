#pragma once
// A monotone priority queue of timed events, ordered by (time, insertion sequence), with
// cancellation.
//
// Simulated time never runs backwards: an event is never scheduled before the last one popped.
// That allows a radix heap with 6-bit digits. Relative to a floor `last` (<= every pending time),
// an event whose time first differs from `last` in digit L (counting from the lowest) goes to
// bucket (L, that digit of its time); an event at exactly `last` goes to the "now" bucket. Every
// event in bucket (L, d) is smaller than every event in (L, d') for d' > d and in any higher
// level, so the minimum is in the lowest non-empty bucket. pop takes from the now bucket; when
// it is empty, the lowest bucket is redistributed around its own minimum, which moves each of
// its events to a strictly lower level. push is O(1); pop is amortised O(11) moves per event at
// worst (63 bits / 6), and about log64(time spread / spacing of pending events) in practice: two
// or three, whatever the number pending. Equal times
// leave in insertion order (the now bucket is put back into sequence order when it is refilled),
// so a run is reproducible to the byte.
// Entries carry their payload; buckets keep their capacity: after warm-up no event allocates.
// Only events pushed with push_cancellable() take a slot (reused) that a Handle refers to;
// cancel() marks the slot in O(1) and the entry is dropped when met. Plain push() events never
// touch the slot pool, which keeps the common path to one cache line per move.
// Limits: times are >= 0; 2^24 - 1 (16.7 million) cancellable events pending at once; 2^40
// events pushed in total.
#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "time.hpp"

namespace moesim::core {

template <class Payload>
class EventQueue {
 public:
  struct Handle {
    std::uint32_t slot = kNoSlot;
    std::uint32_t generation = 0;
  };
  struct Event {
    Time time;
    std::uint64_t sequence;
    Payload payload;
  };

  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }
  // The next event, without removing it. Peeking never moves the queue's floor, so events may
  // still be pushed at any time from the last popped one on.
  Time top_time() const { return Time::ps(peek().time); }

  // Throws std::logic_error for a time before the last popped event, std::length_error past
  // the limits above.
  void push(Time time, const Payload& payload) { insert(time, payload, kNoSlotKey); }

  // As push(), returning a handle for cancel().
  Handle push_cancellable(Time time, const Payload& payload) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      if (slots_.size() >= kNoSlotKey)
        throw std::length_error("EventQueue: too many pending events");
      slot = static_cast<std::uint32_t>(slots_.size());
      slots_.push_back(Slot{});
    }
    insert(time, payload, slot);
    slots_[slot].pending = true;
    return Handle{slot, slots_[slot].generation};
  }

  Event pop() {
    settle();
    const Entry& e = now_[head_++];
    const auto slot = static_cast<std::uint32_t>(e.key & kSlotMask);
    if (slot != kNoSlotKey) retire(slot);
    --live_;
    return Event{Time::ps(e.time), e.key >> kSlotBits, e.payload};
  }

  // Removes a pending event. Returns false when the handle's event already fired or was
  // cancelled.
  bool cancel(Handle handle) {
    if (!pending(handle)) return false;
    Slot& s = slots_[handle.slot];
    s.pending = false;
    ++s.generation;  // the handle is stale now; the slot is freed when its entry is met
    --live_;
    ++cancelled_;
    return true;
  }
  bool pending(Handle handle) const {
    return handle.slot < slots_.size() && slots_[handle.slot].generation == handle.generation &&
           slots_[handle.slot].pending;
  }

 private:
  static constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();
  static constexpr unsigned kSlotBits = 24;
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  static constexpr std::uint32_t kNoSlotKey = static_cast<std::uint32_t>(kSlotMask);  // plain push
  static constexpr std::uint64_t kMaxSequence = (std::uint64_t{1} << (64 - kSlotBits)) - 1;
  // 6-bit digits: a level's 64 buckets have one occupancy word. (Measured with callgrind on the
  // engine benchmark's workload: 4, 5, 6 and 8 bits are within 4% of each other.)
  static constexpr unsigned kDigitBits = 6;
  static constexpr std::size_t kDigits = std::size_t{1} << kDigitBits;  // buckets per level
  // Times are < 2^63, so the highest differing bit is at most bit 62.
  static constexpr std::size_t kLevels = 62 / kDigitBits + 1;

  struct Entry {
    Time::Rep time;
    std::uint64_t key;  // sequence << kSlotBits | slot: orders equal times by insertion
    Payload payload;
  };
  struct Slot {
    std::uint32_t generation = 0;
    bool pending = false;
  };

  void insert(Time time, const Payload& payload, std::uint32_t slot) {
    if (time.count() < last_)
      throw std::logic_error("EventQueue: time before the last popped event");
    if (next_sequence_ > kMaxSequence) throw std::length_error("EventQueue: sequence exhausted");
    place(Entry{time.count(), (next_sequence_++ << kSlotBits) | slot, payload});
    ++live_;
  }

  void place(const Entry& e) {
    const auto differ = static_cast<std::uint64_t>(e.time) ^ static_cast<std::uint64_t>(last_);
    if (differ == 0) {
      now_.push_back(e);
      return;
    }
    const auto level = static_cast<std::size_t>((std::bit_width(differ) - 1) / kDigitBits);
    const auto digit = static_cast<std::size_t>(
        (static_cast<std::uint64_t>(e.time) >> (level * kDigitBits)) & (kDigits - 1));
    buckets_[level * kDigits + digit].push_back(e);
    occupied_levels_ |= std::uint32_t{1} << level;
    occupied_digits_[level] |= std::uint64_t{1} << digit;
  }
  bool live(const Entry& e) const {
    const auto slot = e.key & kSlotMask;
    return slot == kNoSlotKey || slots_[slot].pending;
  }
  static bool by_sequence(const Entry& a, const Entry& b) { return a.key < b.key; }

  // Frees the slot of an entry that left the queue (popped, or met after cancellation).
  void retire(std::uint32_t slot) {
    Slot& s = slots_[slot];
    if (s.pending) {
      s.pending = false;
      ++s.generation;
    }
    free_.push_back(slot);
  }
  // The earliest live entry: in the now bucket, else the smallest in the lowest used bucket.
  const Entry& peek() const {
    assert(!empty());
    for (std::size_t i = head_; i < now_.size(); ++i) {
      if (live(now_[i])) return now_[i];
    }
    for (std::size_t level = 0; level < kLevels; ++level) {
      for (std::uint64_t digits = occupied_digits_[level]; digits != 0; digits &= digits - 1) {
        const auto& bucket =
            buckets_[level * kDigits + static_cast<std::size_t>(std::countr_zero(digits))];
        const Entry* best = nullptr;
        for (const Entry& e : bucket) {
          if (live(e) && (best == nullptr || e.time < best->time ||
                          (e.time == best->time && e.key < best->key))) {
            best = &e;
          }
        }
        if (best != nullptr) return *best;
      }
    }
    throw std::logic_error("EventQueue: no live event although not empty");
  }
  // Makes now_[head_] the next live event. Precondition: !empty().
  void settle() {
    assert(!empty());
    for (;;) {
      // Without cancellations outstanding every entry is live: skip the slot look-ups.
      while (cancelled_ != 0 && head_ < now_.size() && !live(now_[head_])) {
        retire(static_cast<std::uint32_t>(now_[head_++].key & kSlotMask));
        --cancelled_;
      }
      if (head_ < now_.size()) return;
      now_.clear();
      head_ = 0;
      const auto level = static_cast<std::size_t>(std::countr_zero(occupied_levels_));
      auto& digits = occupied_digits_[level];
      const auto digit = static_cast<std::size_t>(std::countr_zero(digits));
      digits &= digits - 1;  // clear the lowest set bit
      if (digits == 0) occupied_levels_ &= ~(std::uint32_t{1} << level);
      auto& from = buckets_[level * kDigits + digit];
      if (from.size() == 1) {  // the common case once buckets thin out: no scan, no sort
        last_ = from.front().time;
        now_.push_back(from.front());
        from.clear();
        continue;
      }
      // Cancelled entries move along too: they are retired when they reach the now bucket.
      // Their times are >= last_ like every other entry's, so the minimum is a valid floor.
      Time::Rep minimum = from.front().time;
      for (const Entry& e : from) minimum = std::min(minimum, e.time);
      last_ = minimum;
      for (const Entry& e : from) place(e);  // lands lower: only lower digits differ now
      from.clear();
      // Entries met the now bucket in bucket order, not necessarily in insertion order.
      if (now_.size() > 1 && !std::is_sorted(now_.begin(), now_.end(), by_sequence)) {
        std::sort(now_.begin(), now_.end(), by_sequence);
      }
    }
  }

  std::vector<Entry> now_;  // events at time last_, in sequence order from head_ on
  std::size_t head_ = 0;    // entries of now_ already taken
  std::array<std::vector<Entry>, kLevels * kDigits> buckets_;
  std::uint32_t occupied_levels_ = 0;                     // bit L: some bucket of level L is used
  std::array<std::uint64_t, kLevels> occupied_digits_{};  // bit d of word L: bucket (L, d) used
  Time::Rep last_ = 0;  // the floor: time of the last redistribution minimum
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t live_ = 0;
  std::size_t cancelled_ = 0;  // cancelled entries not yet met
  std::uint64_t next_sequence_ = 0;
};

}  // namespace moesim::core
