#pragma once
// Runs a script of plots/ with the Python that has matplotlib on Debian (the scripts name it in
// their shebang).
#include <string>
#include <vector>

namespace moesim::cli {

inline constexpr const char* kPlotPython = "/usr/bin/python3";

// Whether the interpreter and plots/<script> are there; otherwise why not, in `why`.
bool can_plot(const std::string& script, std::string& why);
// Runs plots/<script> with `args`; throws moesim::Error when it fails.
void run_plot(const std::string& script, const std::vector<std::string>& args);

}  // namespace moesim::cli
