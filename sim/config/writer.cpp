#include "writer.hpp"

#include <fmt/format.h>

namespace moesim::config {

// Shortest text that reads back to the same double.
std::string Writer::format_real(double value) {
  return fmt::format("{}", value);
}

}  // namespace moesim::config
