#include "output_dir.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "core/error.hpp"

namespace moesim::report {

OutputDir::OutputDir(std::filesystem::path path) : path_(std::move(path)) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec || !std::filesystem::is_directory(path_)) {
    throw moesim::Error("cannot create output folder '" + path_.string() +
                        "': " + (ec ? ec.message() : "a file of that name exists"));
  }
}

std::filesystem::path OutputDir::write(std::string_view name, std::string_view content) const {
  const auto target = path_ / std::string(name);
  auto temporary = target;
  temporary += ".partial";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw moesim::Error("cannot write '" + temporary.string() + "': " + std::strerror(errno));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      std::filesystem::remove(temporary);
      throw moesim::Error("cannot write '" + temporary.string() + "' (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, target, ec);
  if (ec) {
    std::filesystem::remove(temporary);
    throw moesim::Error("cannot move '" + temporary.string() + "' into place: " + ec.message());
  }
  return target;
}

}  // namespace moesim::report
