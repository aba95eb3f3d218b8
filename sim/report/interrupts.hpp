#pragma once
// Cleaning up after SIGINT, SIGTERM and SIGHUP. main() holds one InterruptGuard: its handler
// passes the signal through a pipe to a thread of its own, which removes the folders registered
// as unfinished (OutputDir's staging folders), says so, and ends the process with 128 + the
// signal's number. The registry is process-wide by nature (so are signals); it is the
// one piece of global state, and holds only paths.
#include <filesystem>
#include <memory>

namespace moesim::report {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct Watcher;
  std::unique_ptr<Watcher> watcher_;
};

// A folder to remove if the process is interrupted before unregister_unfinished(path).
void register_unfinished(const std::filesystem::path& path);
void unregister_unfinished(const std::filesystem::path& path);

}  // namespace moesim::report
