#include "timeline.hpp"

namespace moesim::core {

Time Timeline::busy(StreamId stream) const {
  Time total = Time::zero();
  for (const auto& span : spans_) {
    if (span.stream == stream) total += span.end - span.start;
  }
  return total;
}

}  // namespace moesim::core
