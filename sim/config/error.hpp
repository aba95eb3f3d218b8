#pragma once
#include "core/error.hpp"

namespace moesim::config {

// A configuration the user must fix: the message names the file (or --set), line and column,
// the key path, the offending value, and what was expected.
class ConfigError : public moesim::Error {
 public:
  using moesim::Error::Error;
};

}  // namespace moesim::config
