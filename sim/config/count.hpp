#pragma once
// Counts written as text (-j, --window, pipe<N>, top<N>): whole numbers of at least 1.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace moesim::config {

// `text` as a whole number of at least 1, or nothing if it is not one (or does not fit).
inline std::optional<std::int64_t> count_from(std::string_view text) {
  std::int64_t n = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, n);
  if (error != std::errc() || stop != end || n < 1) return std::nullopt;
  return n;
}

}  // namespace moesim::config
