#include "timeline.hpp"

namespace moesim::core {

Time Timeline::busy(StreamId stream) const {
  Time total = Time::zero();
  for (OpId op = 0; op < times_.size(); ++op) {
    if (graph_->op_stream(op) == stream) total += times_[op].end - times_[op].start;
  }
  return total;
}

}  // namespace moesim::core
