#pragma once
#include <string>
#include <utility>

#include "core/error.hpp"

namespace moesim::config {

// A configuration the user must fix: the message names the file (or --set), line and column,
// the key path, the offending value, and what was expected.
class ConfigError : public moesim::Error {
 public:
  using moesim::Error::Error;
  // A problem with the value at a key path ("model.moe.blocks"), found by code that has the
  // values but not the document they came from: the message is "<key>: <problem>", and a caller
  // holding the document adds where the key was written (Document::located()).
  static ConfigError about(std::string key, std::string problem) {
    ConfigError e(key + ": " + problem);
    e.key_ = std::move(key);
    e.problem_ = std::move(problem);
    return e;
  }
  const std::string& key() const { return key_; }  // empty if not about one key
  const std::string& problem() const { return problem_; }

 private:
  std::string key_, problem_;
};

}  // namespace moesim::config
