#pragma once
// A fixed number of short lists of 32-bit values, each with its length in one cache line of its
// own: a list of up to kInline values lives in that line too, so reading it is one line, not a
// header and a separate block. A longer list spills into a vector of its own, and comes back
// into its line once it is down to half of kInline (so a list near the limit does not move at
// every push and pop). Order is kept: push_back() and pop_back() work at the end, and any
// element may be rewritten in place.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cache_line_allocator.hpp"

namespace moesim::core {

class InlineLists {
 public:
  static constexpr std::uint32_t kInline = static_cast<std::uint32_t>(
      (kCacheLineBytes - 2 * sizeof(std::uint32_t)) / sizeof(std::uint32_t));

  explicit InlineLists(std::size_t lists) : lines_(lists) {}

  std::size_t lists() const { return lines_.size(); }
  std::span<std::uint32_t> operator[](std::size_t list) {
    Line& l = lines_[list];
    return {l.spill == kNotSpilled ? l.items : spilled_[l.spill].data(), l.size};
  }
  std::span<const std::uint32_t> operator[](std::size_t list) const {
    const Line& l = lines_[list];
    return {l.spill == kNotSpilled ? l.items : spilled_[l.spill].data(), l.size};
  }

  void push_back(std::size_t list, std::uint32_t value) {
    Line& l = lines_[list];
    if (l.spill == kNotSpilled) {
      if (l.size < kInline) {
        l.items[l.size++] = value;
        return;
      }
      l.spill = take_spill();
      spilled_[l.spill].assign(l.items, l.items + l.size);
    }
    spilled_[l.spill].push_back(value);
    ++l.size;
  }

  void pop_back(std::size_t list) {
    Line& l = lines_[list];
    --l.size;
    if (l.spill == kNotSpilled) return;
    auto& values = spilled_[l.spill];
    values.pop_back();
    if (l.size > kInline / 2) return;
    for (std::uint32_t i = 0; i < l.size; ++i) l.items[i] = values[i];
    values.clear();  // its capacity serves the next list that spills
    free_spills_.push_back(l.spill);
    l.spill = kNotSpilled;
  }

 private:
  static constexpr std::uint32_t kNotSpilled = 0xffffffffu;
  struct alignas(kCacheLineBytes) Line {
    std::uint32_t size = 0;
    std::uint32_t spill = kNotSpilled;  // index into spilled_ while the list is long
    std::uint32_t items[kInline];
  };
  static_assert(sizeof(Line) == kCacheLineBytes);

  std::uint32_t take_spill() {
    if (free_spills_.empty()) {
      spilled_.emplace_back();
      return static_cast<std::uint32_t>(spilled_.size() - 1);
    }
    const auto index = free_spills_.back();
    free_spills_.pop_back();
    return index;
  }

  std::vector<Line> lines_;
  std::vector<std::vector<std::uint32_t>> spilled_;
  std::vector<std::uint32_t> free_spills_;
};

}  // namespace moesim::core
