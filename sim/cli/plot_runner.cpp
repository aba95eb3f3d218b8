#include "plot_runner.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.hpp"
#include "study.hpp"

namespace moesim::cli {

namespace {
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

bool can_plot(const std::string& script, std::string& why) {
  namespace fs = std::filesystem;
  const auto path = data_dir() / "plots" / script;
  std::error_code ec;
  if (fs::exists(kPlotPython, ec) && fs::exists(path, ec)) return true;
  why = fmt::format("needs {} and {}", kPlotPython, path.string());
  return false;
}

void run_plot(const std::string& script, const std::vector<std::string>& args) {
  std::string command =
      fmt::format("{} {}", kPlotPython, quoted((data_dir() / "plots" / script).string()));
  for (const auto& a : args) command += " " + quoted(a);
  if (std::system(command.c_str()) != 0) {
    throw Error(fmt::format("plots/{} failed: {}", script, command));
  }
}

}  // namespace moesim::cli
