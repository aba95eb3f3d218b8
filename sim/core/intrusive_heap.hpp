#pragma once
// A binary min-heap of dense ids whose keys live outside it, with each id's position kept by
// the caller so that any element can be re-keyed or erased in O(log n) without stale entries.
//
// The heap holds ids; `less(a, b)` compares their keys wherever they are stored, and
// `placed(id, position)` is told every time an id lands at a position (the caller keeps the
// position, e.g. in an array by id, to pass back to update() and erase()). Keys must not
// change while an id is in the heap except through update(). Ties must be broken by `less`
// itself (e.g. by id) for the order to be deterministic.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace moesim::core {

template <class Less, class Placed>
class IntrusiveHeap {
 public:
  IntrusiveHeap(std::vector<std::uint32_t>& items, Less less, Placed placed)
      : items_(items), less_(std::move(less)), placed_(std::move(placed)) {}

  void push(std::uint32_t id) {
    items_.push_back(id);
    sift_up(items_.size() - 1);
  }
  // Removes the element at `position` (as last told to placed()).
  void erase(std::size_t position) {
    const auto last = items_.back();
    items_.pop_back();
    if (position == items_.size()) return;
    items_[position] = last;
    placed_(last, position);
    update(position);
  }
  // Restores the order after the key of the element at `position` changed either way.
  void update(std::size_t position) {
    if (position > 0 && less_(items_[position], items_[(position - 1) / 2])) {
      sift_up(position);
    } else {
      sift_down(position);
    }
  }

 private:
  void sift_up(std::size_t i) {
    const auto id = items_[i];
    while (i > 0) {
      const auto parent = (i - 1) / 2;
      if (!less_(id, items_[parent])) break;
      items_[i] = items_[parent];
      placed_(items_[i], i);
      i = parent;
    }
    items_[i] = id;
    placed_(id, i);
  }
  void sift_down(std::size_t i) {
    const auto id = items_[i];
    const auto n = items_.size();
    for (;;) {
      auto child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && less_(items_[child + 1], items_[child])) ++child;
      if (!less_(items_[child], id)) break;
      items_[i] = items_[child];
      placed_(items_[i], i);
      i = child;
    }
    items_[i] = id;
    placed_(id, i);
  }

  std::vector<std::uint32_t>& items_;
  Less less_;
  Placed placed_;
};

}  // namespace moesim::core
