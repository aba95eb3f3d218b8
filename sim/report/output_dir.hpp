#pragma once
// The folder a run writes into. Files are written whole or not at all: each goes to a temporary
// name first and is renamed into place, so an interrupted or failed run never leaves a
// half-written file behind.
#include <filesystem>
#include <string>
#include <string_view>

namespace moesim::report {

class OutputDir {
 public:
  // Creates the folder (and parents). Throws moesim::Error if it cannot.
  explicit OutputDir(std::filesystem::path path);
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name` inside the folder, atomically. Returns the file's path.
  std::filesystem::path write(std::string_view name, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace moesim::report
