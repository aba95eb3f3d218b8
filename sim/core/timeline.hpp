#pragma once
// What a run executed: one span per op, in the order the ops finished.
#include <span>
#include <vector>

#include "ids.hpp"
#include "time.hpp"

namespace moesim::core {

struct Span {
  OpId op;
  RankId rank;
  StreamId stream;
  Time start;
  Time end;
};

class Timeline {
 public:
  void reserve(std::size_t n) { spans_.reserve(n); }
  void add(const Span& span) {
    spans_.push_back(span);
    if (span.end > end_) end_ = span.end;
  }
  std::span<const Span> spans() const { return spans_; }
  std::size_t size() const { return spans_.size(); }
  // The time the last op finished (zero for an empty run).
  Time end() const { return end_; }
  // Sum of span lengths on one stream.
  Time busy(StreamId stream) const;

 private:
  std::vector<Span> spans_;
  Time end_ = Time::zero();
};

}  // namespace moesim::core
