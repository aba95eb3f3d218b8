#pragma once
// A YAML configuration document: where it came from (file, or embedded defaults), its tree, and
// the --set overrides applied to it, so that every error can say where a value was written.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "error.hpp"

namespace moesim::config {

// The first of `candidates` that is a regular file. Throws ConfigError "<missing>; tried:" with
// the candidates, one per line, when none is.
// The preset `name` in `folder`: name.yaml (a name that already ends in .yaml is kept).
std::filesystem::path preset_path(const std::filesystem::path& folder, const std::string& name);

std::filesystem::path first_file(const std::vector<std::filesystem::path>& candidates,
                                 std::string_view missing);

class Document {
 public:
  // Throws ConfigError when the file cannot be read or is not valid YAML. A top-level key
  // `base: FILE` or `base: [FILE, ...]` (paths relative to this file, else, given a folder of
  // `presets`, a name there without `.yaml`) inherits those files: they are merged in order,
  // then this file over them (maps merge key by key; other values replace). Errors in
  // inherited values name the file they came from. A base that is not found is an error at its
  // line naming the paths tried; a chain of bases that comes back to a file (a cycle) is one
  // naming the chain.
  static Document load_file(const std::string& path, const std::filesystem::path& presets = {});
  // `name` stands for the file in messages, e.g. "<embedded default experiment>".
  static Document from_string(std::string_view yaml, std::string name);

  // Applies "key.path=value" (value in YAML syntax). Creates missing sections; an unknown key
  // is caught when the document is read. Throws ConfigError on a malformed assignment.
  // Messages name the assignment as `shown_as`, by default "--set <assignment>" (an
  // assignment made for another document says what the user wrote there).
  void apply_override(std::string_view assignment, std::string_view shown_as = {});
  // Merges the file at `path` (with its own bases) over this document: its values replace
  // these, maps merge key by key. Errors in those values name that file. Like apply_override,
  // it writes through to copies of this document (yaml-cpp nodes are shared handles).
  void apply_file(const std::string& path);

  // Replaces `section.key` (a reference to another file, such as model.hf_config) by `values`:
  // they fill `section` where it has no value of its own (explicit keys win), and errors in them
  // name `from`.
  void import_section(std::string_view section, std::string_view key, const YAML::Node& values,
                      const std::string& from);

  const YAML::Node& root() const { return root_; }
  const std::string& name() const { return name_; }
  // The file that wrote `path` (this document's, or the base it was inherited from); none when
  // an override wrote it. For paths written relative to the file that holds them.
  std::optional<std::string> file_of(std::string_view path) const;
  // "file.yaml:12:5", or "--set a.b=v" (as the override is shown) when that path (or a section
  // above it) was overridden.
  std::string location(std::string_view path, const YAML::Node& node) const;
  // The location of a key path such as "tables.gemm[3].time" (or of its deepest existing part),
  // for errors found after reading: inconsistent values, impossible combinations.
  std::string locate(std::string_view path) const;
  // "<location>: <path>: <problem>", the form of every configuration error.
  ConfigError error_at(std::string_view path, std::string_view problem) const;
  // `e` with where its key was written in this document (see ConfigError::about()); `e` itself
  // when it is not about a key.
  ConfigError located(const ConfigError& e) const;

 private:
  Document(std::string name, YAML::Node root) : name_(std::move(name)), root_(std::move(root)) {}
  // load_file() with the files whose bases are being loaded, outermost first.
  static Document load_chain(const std::string& path, const std::filesystem::path& presets,
                             std::vector<std::string>& chain);

  std::string name_;
  YAML::Node root_;
  std::vector<std::pair<std::string, std::string>> overrides_;  // (key path, as shown)
  std::vector<std::pair<std::string, std::string>> inherited_;  // (key path, file it came from)
};

}  // namespace moesim::config
