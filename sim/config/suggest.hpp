#pragma once
// "Did you mean ...?" for misspelt keys and units.
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace moesim::config {

// The closest candidate by edit distance (case-insensitive matches first), if one is close
// enough to be a plausible typo.
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates);

std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace moesim::config
