#pragma once
// The text of an enum value, from the (name, value) table its ADL function enum_names() gives:
// the same table that configuration files are read with.
#include <optional>
#include <string_view>

namespace moesim::config {

template <class E>
constexpr std::string_view enum_name(E value) {
  for (const auto& [text, e] : enum_names(value)) {
    if (e == value) return text;
  }
  return "?";
}

// The value named `text`, if the table has it.
template <class E>
constexpr std::optional<E> enum_from_name(std::string_view text) {
  for (const auto& [name, e] : enum_names(E{})) {
    if (name == text) return e;
  }
  return std::nullopt;
}

}  // namespace moesim::config
