#include "reader.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <set>

#include "error.hpp"
#include "suggest.hpp"

namespace moesim::config {

namespace {
std::string quoted(const YAML::Node& node) {
  if (node.IsScalar()) return "\"" + node.Scalar() + "\"";
  if (node.IsMap()) return "a section";
  if (node.IsSequence()) return "a list";
  return "an empty value";
}

std::string join(std::span<const std::string_view> words) {
  std::string out;
  for (const auto w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}
}  // namespace

Reader::Reader(const Document& document, const YAML::Node& map, std::string path)
    : document_(document), map_(map), path_(std::move(path)) {}

void Reader::fail(const YAML::Node& node, const std::string& path,
                  const std::string& problem) const {
  throw ConfigError(fmt::format("{}: {}: {}", document_.location(path, node), path, problem));
}

void Reader::missing(std::string_view key, std::string_view help) const {
  const std::string where = document_.location(path_, map_);
  throw ConfigError(fmt::format("{}: {}: missing required key '{}' ({})", where,
                                path_.empty() ? "top level" : path_, key, help));
}

std::string Reader::scalar(const YAML::Node& node, const std::string& path,
                           std::string_view expected) const {
  if (!node.IsScalar()) fail(node, path, fmt::format("{}; expected {}", quoted(node), expected));
  return node.Scalar();
}

void Reader::bound(const YAML::Node& node, const std::string& path, double value,
                   const std::string& shown, const Check& check) const {
  const std::string violation = check.violation(value);
  if (!violation.empty()) fail(node, path, fmt::format("\"{}\" {}", shown, violation));
}

std::int64_t Reader::to_integer(const YAML::Node& node, const std::string& path) const {
  const std::string text = scalar(node, path, "an integer");
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) fail(node, path, quoted(node) + " is out of range");
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail(node, path, quoted(node) + " is not an integer");
  }
  return value;
}

double Reader::to_real(const YAML::Node& node, const std::string& path) const {
  const std::string text = scalar(node, path, "a number");
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    fail(node, path, quoted(node) + " is not a number");
  }
  return value;
}

bool Reader::to_bool(const YAML::Node& node, const std::string& path) const {
  const std::string text = scalar(node, path, "true or false");
  if (text == "true") return true;
  if (text == "false") return false;
  fail(node, path, quoted(node) + " is not true or false");
}

std::string Reader::choose(const YAML::Node& node, const std::string& path,
                           std::span<const std::string_view> names) const {
  const std::string text = scalar(node, path, "one of: " + join(names));
  for (const auto name : names) {
    if (name == text) return text;
  }
  const auto guess = closest_match(text, names);
  fail(node, path,
       fmt::format("{} is not one of: {}{}", quoted(node), join(names),
                   guess ? fmt::format(" (did you mean '{}'?)", *guess) : std::string()));
}

void Reader::check_keys(std::span<const std::string_view> known) const {
  std::set<std::string> seen;
  for (auto it = map_.begin(); it != map_.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: the iterator yields a temporary pair
    if (!key.IsScalar()) fail(key, path_, "a key must be a plain name");
    const std::string name = key.Scalar();
    const std::string path = child_path(name);
    if (!seen.insert(name).second) fail(key, path, "duplicate key");
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const auto guess = closest_match(name, known);
    fail(key, path,
         fmt::format("unknown key{}; expected one of: {}",
                     guess ? fmt::format(" (did you mean '{}'?)", *guess) : std::string(),
                     join(known)));
  }
}

}  // namespace moesim::config
