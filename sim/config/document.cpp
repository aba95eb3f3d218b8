#include "document.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "error.hpp"

namespace moesim::config {

namespace {

// Where the text is not YAML for reasons the parser names badly: a NUL byte (the parser stops
// there), a tab in the indentation ("illegal map value"), nesting deeper than it takes ("bad
// file"). Empty when none is found.
std::string text_problem(std::string_view text, const std::string& name) {
  constexpr int kMaxNesting = 256;  // far beyond any configuration; yaml-cpp gives up deeper
  int line = 1, column = 1, depth = 0, deepest = 0, deepest_line = 1;
  bool indent = true;
  for (const char c : text) {
    if (c == '\0') {
      return fmt::format("{}:{}:{}: a NUL byte: not a text file", name, line, column);
    }
    if (indent && c == '\t') {
      return fmt::format("{}:{}:{}: a tab in the indentation: YAML indents with spaces", name, line,
                         column);
    }
    if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth, deepest_line = line;
    } else if (c == ']' || c == '}') {
      --depth;
    }
    indent = indent && c == ' ';
    ++column;
    if (c == '\n') ++line, column = 1, indent = true;
  }
  if (deepest > kMaxNesting) {
    return fmt::format("{}:{}: lists or maps nested {} deep: more than the {} moesim reads", name,
                       deepest_line, deepest, kMaxNesting);
  }
  return {};
}

YAML::Node parse(std::string_view text, const std::string& name) {
  if (const auto problem = text_problem(text, name); !problem.empty()) throw ConfigError(problem);
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

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("cannot read '{}'", path));
  return text.str();
}

// Copies `from` into `into` where `into` has no value; recurses into maps present in both.
// Records the key paths taken from `file`.
void merge_under(YAML::Node into, const YAML::Node& from, const std::string& path,
                 const std::string& file, std::vector<std::pair<std::string, std::string>>& taken) {
  for (auto it = from.begin(); it != from.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string child = path.empty() ? key : path + "." + key;
    const YAML::Node here = into;
    if (!here[key].IsDefined()) {
      into[key] = it->second;  // shares the node, keeping its line and column
      taken.emplace_back(child, file);
    } else if (here[key].IsMap() && it->second.IsMap()) {
      merge_under(into[key], it->second, child, file, taken);
    }
  }
}

// Copies `from` into `into`, replacing what is there except maps present in both, which it
// recurses into. Records the key paths taken from `file`.
void merge_over(YAML::Node into, const YAML::Node& from, const std::string& path,
                const std::string& file, std::vector<std::pair<std::string, std::string>>& taken) {
  for (auto it = from.begin(); it != from.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string child = path.empty() ? key : path + "." + key;
    const YAML::Node here = into;
    if (here[key].IsDefined() && here[key].IsMap() && it->second.IsMap()) {
      merge_over(into[key], it->second, child, file, taken);
    } else {
      into[key] = it->second;
      taken.emplace_back(child, file);
    }
  }
}

}  // namespace

void Document::apply_file(const std::string& path) {
  const Document other = load_file(path);
  std::vector<std::pair<std::string, std::string>> taken;
  merge_over(root_, other.root_, "", path, taken);
  for (const auto& [key, file] : taken) {
    std::string origin = file;
    for (const auto& [k, f2] : other.inherited_) {
      if (starts_with_path(key, k)) origin = f2;
    }
    inherited_.emplace_back(key, origin);
  }
}

void Document::import_section(std::string_view section, std::string_view key,
                              const YAML::Node& values, const std::string& from) {
  const std::string name(section);
  YAML::Node here = root_[name];
  here.remove(std::string(key));
  std::vector<std::pair<std::string, std::string>> taken;
  merge_under(here, values, name, from, taken);
  inherited_.insert(inherited_.end(), taken.begin(), taken.end());
}

std::filesystem::path preset_path(const std::filesystem::path& folder, const std::string& name) {
  return folder / (name.ends_with(".yaml") ? name : name + ".yaml");
}

std::filesystem::path first_file(const std::vector<std::filesystem::path>& candidates,
                                 std::string_view missing) {
  std::string list;
  std::vector<std::filesystem::path> listed;
  for (const auto& p : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;
    const auto shown = p.lexically_normal();
    if (std::find(listed.begin(), listed.end(), shown) != listed.end()) continue;
    listed.push_back(shown);
    list += "\n  " + shown.string();
  }
  throw ConfigError(fmt::format("{}; tried:{}", missing, list));
}

Document Document::load_file(const std::string& path, const std::filesystem::path& presets) {
  std::vector<std::string> chain;
  return load_chain(path, presets, chain);
}

Document Document::load_chain(const std::string& path, const std::filesystem::path& presets,
                              std::vector<std::string>& chain) {
  Document doc(path, parse(read_text(path), path));
  // Defaults alone are never what a file was meant to say: most likely the wrong file, or one
  // not yet written (/dev/null, a truncated copy).
  if (doc.root_.size() == 0) {
    throw ConfigError(
        fmt::format("{}: the file holds no keys (it is empty or only comments)", path));
  }
  const YAML::Node root = doc.root_;
  const YAML::Node base = root["base"];
  if (!base.IsDefined()) return doc;
  const auto at = [&](const YAML::Node& node) {
    return fmt::format("{}:{}:{}", path, node.Mark().line + 1, node.Mark().column + 1);
  };
  if (!base.IsScalar() && !base.IsSequence()) {
    throw ConfigError(fmt::format("{}: base: expected a file name or a list of them", at(base)));
  }
  const auto dir = std::filesystem::path(path).parent_path();
  // Each base: the file beside this one, else the preset of that name.
  const auto find = [&](const YAML::Node& item) {
    if (!item.IsScalar() || item.Scalar().empty()) {
      throw ConfigError(fmt::format("{}: base: expected a file name", at(item)));
    }
    const auto& name = item.Scalar();
    std::vector<std::filesystem::path> tried{dir / name};
    if (!presets.empty()) tried.push_back(preset_path(presets, name));
    const auto missing =
        fmt::format("{}: base: '{}' is {}", at(item), name,
                    presets.empty() ? "not a file" : "neither a file nor a preset name");
    return first_file(tried, missing).lexically_normal().string();
  };
  std::vector<std::string> files;
  if (base.IsScalar()) {
    files.push_back(find(base));
  } else {
    for (const auto& item : base) files.push_back(find(item));
  }
  doc.root_.remove("base");
  // Later bases win over earlier ones, and this file over all: merge the last base first.
  for (auto f = files.rbegin(); f != files.rend(); ++f) {
    const auto& base_path = *f;
    if (base_path == std::filesystem::path(path).lexically_normal().string()) {
      throw ConfigError(fmt::format("{}: base: a file cannot inherit itself", path));
    }
    chain.push_back(std::filesystem::weakly_canonical(path).string());
    const auto again = std::find(chain.begin(), chain.end(),
                                 std::filesystem::weakly_canonical(base_path).string());
    if (again != chain.end()) {
      std::string cycle;
      for (auto c = again; c != chain.end(); ++c) cycle += *c + " -> ";
      throw ConfigError(fmt::format("{}: base: the files inherit each other in a cycle: {}{}", path,
                                    cycle, std::filesystem::weakly_canonical(base_path).string()));
    }
    const Document parent = load_chain(base_path, presets, chain);
    chain.pop_back();
    std::vector<std::pair<std::string, std::string>> taken;
    merge_under(doc.root_, parent.root_, "", base_path, taken);
    for (auto& [key, file] : taken) {
      // A value the parent itself inherited keeps its original file.
      std::string origin = file;
      for (const auto& [k, f2] : parent.inherited_) {
        if (starts_with_path(key, k)) origin = f2;
      }
      doc.inherited_.emplace_back(key, origin);
    }
    // Inside an inherited subtree, values the parent inherited keep their own origin.
    for (const auto& [k, f2] : parent.inherited_) {
      for (const auto& [key, file] : taken) {
        if (starts_with_path(k, key)) {
          doc.inherited_.emplace_back(k, f2);
          break;
        }
      }
    }
  }
  return doc;
}

Document Document::from_string(std::string_view yaml, std::string name) {
  YAML::Node root = parse(yaml, name);
  return Document(std::move(name), std::move(root));
}

void Document::apply_override(std::string_view assignment, std::string_view shown_as) {
  const std::string shown =
      shown_as.empty() ? "--set " + std::string(assignment) : std::string(shown_as);
  const auto eq = assignment.find('=');
  const auto bad = [&](std::string_view why) {
    return ConfigError(
        fmt::format("{}: {}; expected key.path=value, e.g. "
                    "--set synthetic.ranks=16",
                    shown, why));
  };
  if (eq == std::string_view::npos) throw bad("no '='");
  const std::string path(assignment.substr(0, eq));
  const std::string value(assignment.substr(eq + 1));
  if (path.empty()) throw bad("no key before '='");
  if (value.empty()) throw bad("no value after '='");

  // The path's steps: keys, each followed by any number of list indices ("schedules[1]").
  struct Step {
    std::string key;  // empty for an index
    std::size_t index = 0;
  };
  std::vector<Step> steps;
  std::size_t begin = 0;
  for (;;) {
    const auto dot = path.find('.', begin);
    const std::string part = path.substr(begin, dot - begin);
    const auto bracket = part.find('[');
    const std::string key = part.substr(0, bracket);
    if (key.empty()) {
      throw bad(part.empty()
                    ? "empty key in the path"
                    : "an index without a key; list indices follow a key, as in schedules[1]");
    }
    if (key.find_first_of("] ") != std::string::npos) {
      throw bad(fmt::format("'{}' is not a plain key", part));
    }
    steps.push_back({key});
    for (auto at = bracket; at != std::string::npos;) {
      const auto close = part.find(']', at);
      const auto digits = part.substr(at + 1, close == std::string::npos ? 0 : close - at - 1);
      const bool number = !digits.empty() && digits.size() <= 9 &&
                          digits.find_first_not_of("0123456789") == std::string::npos;
      if (!number || (close + 1 < part.size() && part[close + 1] != '[')) {
        throw bad(fmt::format("'{}' is not a key with list indices such as schedules[1]", part));
      }
      steps.push_back({"", static_cast<std::size_t>(std::stoul(digits))});
      at = close + 1 < part.size() ? close + 1 : std::string::npos;
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

  // yaml-cpp nodes are handles: reset() re-points one without writing through it. Missing
  // sections are created; a list item must exist (an override does not grow a list).
  YAML::Node node;
  node.reset(root_);
  std::string walked;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const bool last = i + 1 == steps.size();
    const Step& step = steps[i];
    if (step.key.empty()) {
      if (!node.IsSequence()) throw bad(fmt::format("'{}' is not a list", walked));
      if (step.index >= node.size()) {
        throw bad(fmt::format("'{}' has {} item(s), numbered from 0: there is no [{}]", walked,
                              node.size(), step.index));
      }
      walked += fmt::format("[{}]", step.index);
      if (last) {
        node[step.index] = parsed;
        break;
      }
      YAML::Node child = node[step.index];
      node.reset(child);
      continue;
    }
    if (i > 0 && steps[i - 1].key.empty() && !node.IsMap()) {
      throw bad(fmt::format("'{}' is a value, not a section with keys", walked));
    }
    walked += (walked.empty() ? "" : ".") + step.key;
    if (last) {
      node[step.key] = parsed;
      break;
    }
    YAML::Node child = node[step.key];
    const bool indexed = steps[i + 1].key.empty();
    if (indexed) {
      if (!child.IsDefined() || !child.IsSequence()) {
        throw bad(fmt::format("'{}' is not a list", walked));
      }
    } else if (!child.IsDefined() || child.IsNull()) {
      child = YAML::Node(YAML::NodeType::Map);
      node[step.key] = child;
      child.reset(node[step.key]);
    } else if (!child.IsMap()) {
      throw bad(fmt::format("'{}' is a value, not a section with keys", walked));
    }
    node.reset(child);
  }
  overrides_.emplace_back(path, shown);
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
      const std::string key(
          path.substr(i, end == std::string_view::npos ? path.size() - i : end - i));
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
  if (path.empty()) return ConfigError(fmt::format("{}: {}", locate(path), problem));
  return ConfigError(fmt::format("{}: {}: {}", locate(path), path, problem));
}

ConfigError Document::located(const ConfigError& e) const {
  return e.key().empty() ? e : error_at(e.key(), e.problem());
}

std::optional<std::string> Document::file_of(std::string_view path) const {
  // The latest override that covers this path wins, as it did when it was applied.
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    // The override set this path, a value inside it, or a section it replaced.
    if (starts_with_path(path, it->first) || starts_with_path(it->first, path)) return {};
  }
  std::string file = name_;
  std::size_t best = 0;
  for (const auto& [key, origin] : inherited_) {
    if (starts_with_path(path, key) && key.size() >= best) {
      file = origin;
      best = key.size();
    }
  }
  return file;
}

std::string Document::location(std::string_view path, const YAML::Node& node) const {
  const auto written = file_of(path);
  if (!written) {
    for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
      if (starts_with_path(path, it->first) || starts_with_path(it->first, path)) {
        return it->second;
      }
    }
  }
  const std::string file = written.value_or(name_);
  if (node.IsDefined() && node.Mark().line >= 0) {
    return fmt::format("{}:{}:{}", file, node.Mark().line + 1, node.Mark().column + 1);
  }
  return file;
}

}  // namespace moesim::config
