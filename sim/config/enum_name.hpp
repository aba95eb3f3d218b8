#pragma once
// The text of an enum value, from the (name, value) table its ADL function enum_names() gives:
// the same table that configuration files are read with.
#include <string_view>

namespace moesim::config {

template <class E>
constexpr std::string_view enum_name(E value) {
  for (const auto& [text, e] : enum_names(value)) {
    if (e == value) return text;
  }
  return "?";
}

}  // namespace moesim::config
