#pragma once
// What a run executed: when each op of the graph started and finished.
// Indexed by op id, so it costs 16 bytes per op and reads in the order ops were created.
#include <cassert>
#include <vector>

#include "huge_page_allocator.hpp"
#include "ids.hpp"
#include "op_graph.hpp"
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
  // An empty record for every op of `graph`, which must outlive the timeline.
  explicit Timeline(const OpGraph& graph) : graph_(&graph), times_(graph.op_count()) {}

  const OpGraph& graph() const { return *graph_; }
  std::size_t size() const { return times_.size(); }
  Span span(OpId op) const {
    return Span{op, graph_->op_rank(op), graph_->op_stream(op), times_[op].start, times_[op].end};
  }
  // The time the last op finished (zero for an empty run).
  Time end() const { return end_; }

  void set_start(OpId op, Time t) { times_[op].start = t; }
  void set_end(OpId op, Time t) {
    times_[op].end = t;
    if (t > end_) end_ = t;
  }
  Time start_of(OpId op) const { return times_[op].start; }

 private:
  struct Interval {
    Time start;
    Time end;
  };
  const OpGraph* graph_;
  HugePageVector<Interval> times_;
  Time end_ = Time::zero();
};

}  // namespace moesim::core
