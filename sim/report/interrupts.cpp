#include "interrupts.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace moesim::report {

namespace {

struct Unfinished {
  std::mutex mutex;
  std::vector<std::filesystem::path> paths;
};

Unfinished& unfinished() {
  static Unfinished registry;  // see interrupts.hpp: the one process-wide registry
  return registry;
}

constexpr std::array kSignals{SIGINT, SIGTERM, SIGHUP};
// The write end of the pipe the handler wakes the watcher through (a handler may only write).
volatile std::sig_atomic_t wake_fd = -1;

extern "C" void on_signal(int sig) {
  const auto byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const auto n = ::write(wake_fd, &byte, 1);
}

}  // namespace

struct InterruptGuard::Watcher {
  int pipe[2] = {-1, -1};
  std::array<struct sigaction, kSignals.size()> previous{};
  std::thread thread;
};

// A handler on any thread (libraries start their own) writes the signal's number to a pipe; the
// watcher thread reads it and does what a handler may not: remove folders, print, exit.
InterruptGuard::InterruptGuard() : watcher_(std::make_unique<Watcher>()) {
  if (::pipe2(watcher_->pipe, O_CLOEXEC) != 0) return;  // no cleanup on signals, nothing worse
  wake_fd = watcher_->pipe[1];
  const int read_end = watcher_->pipe[0];
  watcher_->thread = std::thread([read_end] {
    unsigned char sig = 0;
    if (::read(read_end, &sig, 1) != 1 || sig == 0) return;  // 0: the guard ends
    auto& u = unfinished();
    std::lock_guard lock(u.mutex);
    for (const auto& p : u.paths) {
      // A writer may still add a file while this runs: retry until the folder is gone.
      constexpr int kTries = 100;
      std::error_code ec;
      for (int i = 0; i < kTries && std::filesystem::exists(p, ec); ++i) {
        std::filesystem::remove_all(p, ec);
      }
      std::fprintf(stderr, "\nmoesim: interrupted; removed the unfinished %s\n", p.c_str());
    }
    std::fflush(stderr);
    _exit(128 + sig);
  });
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    sigaction(kSignals[i], &action, &watcher_->previous[i]);
  }
}

InterruptGuard::~InterruptGuard() {
  if (!watcher_->thread.joinable()) return;
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    sigaction(kSignals[i], &watcher_->previous[i], nullptr);
  }
  const unsigned char stop = 0;
  [[maybe_unused]] const auto n = ::write(watcher_->pipe[1], &stop, 1);
  watcher_->thread.join();
  wake_fd = -1;
  ::close(watcher_->pipe[0]);
  ::close(watcher_->pipe[1]);
}

void register_unfinished(const std::filesystem::path& path) {
  auto& u = unfinished();
  std::lock_guard lock(u.mutex);
  u.paths.push_back(path);
}

void unregister_unfinished(const std::filesystem::path& path) {
  auto& u = unfinished();
  std::lock_guard lock(u.mutex);
  u.paths.erase(std::remove(u.paths.begin(), u.paths.end(), path), u.paths.end());
}

}  // namespace moesim::report
