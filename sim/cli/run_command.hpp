#pragma once
// `moesim run [EXPERIMENT.yaml] [--set key=value ...] [--out DIR] [--trace]`
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace moesim::cli {

struct RunOptions {
  std::optional<std::string> experiment;  // none: the embedded default
  std::vector<std::string> overrides;     // key.path=value
  std::optional<std::string> out;         // default: out/<name>
  bool trace = false;
  bool progress = true;
};

// Validates everything before writing anything; throws moesim::Error (ConfigError for input).
void run(const RunOptions& options, std::ostream& out, std::ostream& err);

}  // namespace moesim::cli
