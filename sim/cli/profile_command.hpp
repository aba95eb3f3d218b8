#pragma once
// `moesim profile PROFILE [--sweep CSV]` (a file or a name): checks a GPU profile, summarises
// it, shows how the cost model prices typical kernels (and by which rule), and writes a GEMM
// sweep for plots/.
#include <iosfwd>
#include <optional>
#include <string>

namespace moesim::cli {

struct ProfileOptions {
  std::string profile;
  std::optional<std::string> sweep_csv;
};

void profile(const ProfileOptions& options, std::ostream& out);

}  // namespace moesim::cli
