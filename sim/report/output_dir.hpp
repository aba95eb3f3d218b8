#pragma once
// Where commands write. A run's folder is built whole beside its final place and swapped in at
// the end: files go to `<folder>.partial-<pid>/`, and commit() replaces `<folder>` with it in
// two renames. So a folder is always one run's complete output: an earlier run's files never
// stay beside a new run's, and a failed or interrupted run leaves the previous folder as it was
// (the staging folder is removed on an error, and on SIGINT, SIGTERM or SIGHUP by
// interrupts.hpp; a SIGKILL leaves it, marked by its name).
// Single files a command writes next to the user's (a DOT file, a sweep CSV) go through
// write_file(): whole or not at all.
#include <filesystem>
#include <string>
#include <string_view>

namespace moesim::report {

class OutputDir {
 public:
  // Creates the staging folder (and the parents). Throws moesim::Error if it cannot, or if
  // `path` names an existing file that is not a folder.
  explicit OutputDir(std::filesystem::path path);
  ~OutputDir();  // removes the staging folder unless committed
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  // The final folder (what to tell the user).
  const std::filesystem::path& path() const { return path_; }
  // Writes `content` to `name` in the staging folder. Returns the file's final path.
  std::filesystem::path write(std::string_view name, std::string_view content) const;
  // Replaces the final folder with the staged one. Throws moesim::Error if it cannot (the
  // previous folder is then kept).
  void commit();

 private:
  std::filesystem::path path_;
  std::filesystem::path stage_;
  bool committed_ = false;
};

// Writes `content` to `path`, whole or not at all (a temporary file renamed into place).
// Throws moesim::Error naming the file.
std::filesystem::path write_file(const std::filesystem::path& path, std::string_view content);

}  // namespace moesim::report
