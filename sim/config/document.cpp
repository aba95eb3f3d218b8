#include "document.hpp"

#include <fmt/format.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "error.hpp"

namespace moesim::config {

namespace {

YAML::Node parse(std::string_view text, const std::string& name) {
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (root.IsNull() || !root.IsDefined()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) {
      throw ConfigError(
          fmt::format("{}:{}:{}: the document must be a map of keys "
                      "(such as 'name: ...'), not a {}",
                      name, root.Mark().line + 1, root.Mark().column + 1,
                      root.IsSequence() ? "list" : "single value"));
    }
    return root;
  } catch (const YAML::ParserException& e) {
    throw ConfigError(
        fmt::format("{}:{}:{}: invalid YAML: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

bool starts_with_path(std::string_view path, std::string_view prefix) {
  return path == prefix ||
         (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
          (path[prefix.size()] == '.' || path[prefix.size()] == '['));
}

}  // namespace

Document Document::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("cannot read '{}'", path));
  return Document(path, parse(text.str(), path));
}

Document Document::from_string(std::string_view yaml, std::string name) {
  YAML::Node root = parse(yaml, name);
  return Document(std::move(name), std::move(root));
}

void Document::apply_override(std::string_view assignment) {
  const auto eq = assignment.find('=');
  const auto bad = [&](std::string_view why) {
    return ConfigError(
        fmt::format("--set {}: {}; expected key.path=value, e.g. "
                    "--set synthetic.ranks=16",
                    assignment, why));
  };
  if (eq == std::string_view::npos) throw bad("no '='");
  const std::string path(assignment.substr(0, eq));
  const std::string value(assignment.substr(eq + 1));
  if (path.empty()) throw bad("no key before '='");
  if (value.empty()) throw bad("no value after '='");

  std::vector<std::string> keys;
  std::size_t begin = 0;
  for (;;) {
    const auto dot = path.find('.', begin);
    keys.push_back(path.substr(begin, dot - begin));
    if (keys.back().empty()) throw bad("empty key in the path");
    if (keys.back().find_first_of("[] ") != std::string::npos) {
      throw bad(fmt::format("'{}' is not a plain key", keys.back()));
    }
    if (dot == std::string::npos) break;
    begin = dot + 1;
  }

  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::ParserException& e) {
    throw bad(fmt::format("the value is not valid YAML ({})", e.msg));
  }

  // yaml-cpp nodes are handles: reset() re-points one without writing through it.
  YAML::Node node;
  node.reset(root_);
  std::string walked;
  for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + keys[i];
    YAML::Node child = node[keys[i]];
    if (!child.IsDefined() || child.IsNull()) {
      child = YAML::Node(YAML::NodeType::Map);
      node[keys[i]] = child;
      child.reset(node[keys[i]]);
    } else if (!child.IsMap()) {
      throw bad(fmt::format("'{}' is a value, not a section with keys", walked));
    }
    node.reset(child);
  }
  node[keys.back()] = parsed;
  overrides_.emplace_back(path, std::string(assignment));
}

std::string Document::locate(std::string_view path) const {
  YAML::Node node;
  node.reset(root_);
  std::size_t i = 0;
  while (i < path.size()) {
    YAML::Node next;
    if (path[i] == '[') {
      const auto close = path.find(']', i);
      if (close == std::string_view::npos) break;
      const auto index = std::stoul(std::string(path.substr(i + 1, close - i - 1)));
      const YAML::Node here = node;  // const: look-ups must not insert
      if (!here.IsSequence() || index >= here.size()) break;
      next.reset(here[index]);
      i = close + 1;
    } else {
      if (path[i] == '.') ++i;
      const auto end = path.find_first_of(".[", i);
      const std::string key(path.substr(i, end == std::string_view::npos ? path.size() - i : end - i));
      const YAML::Node here = node;  // const: look-ups must not insert
      if (!here.IsMap() || !here[key].IsDefined()) break;
      next.reset(here[key]);
      i = end == std::string_view::npos ? path.size() : end;
    }
    node.reset(next);
  }
  return location(path, node);
}

ConfigError Document::error_at(std::string_view path, std::string_view problem) const {
  return ConfigError(fmt::format("{}: {}: {}", locate(path), path, problem));
}

std::string Document::location(std::string_view path, const YAML::Node& node) const {
  // The latest override that covers this path wins, as it did when it was applied.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    // The override set this path, a value inside it, or a section it replaced.
    if (starts_with_path(path, it->first) || starts_with_path(it->first, path)) {
      return "--set " + it->second;
    }
  }
  if (node.IsDefined() && node.Mark().line >= 0) {
    return fmt::format("{}:{}:{}", name_, node.Mark().line + 1, node.Mark().column + 1);
  }
  return name_;
}

}  // namespace moesim::config
