#include "parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace moesim::cli {

void run_parallel(std::size_t count, int jobs, const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0};
  std::mutex failed;
  std::exception_ptr failure;
  const auto worker = [&] {
    for (;;) {
      const auto i = next.fetch_add(1);
      if (i >= count) return;
      try {
        task(i);
      } catch (...) {
        const std::lock_guard lock(failed);
        if (!failure) failure = std::current_exception();
        next = count;  // stop handing out work
      }
    }
  };
  const auto threads_wanted = std::min(static_cast<std::size_t>(std::max(1, jobs)), count);
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < threads_wanted; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

ParallelProgress::ParallelProgress(std::ostream& err, std::vector<std::string> names)
    : err_(err), names_(std::move(names)), percent_(names_.size(), -1) {}

core::ProgressCallback ParallelProgress::callback(std::size_t i) {
  return [this, i](const core::Progress& p) {
    if (p.ops_finished >= p.ops_total) return;
    constexpr std::size_t kPercent = 100;
    const std::lock_guard lock(mutex_);
    percent_[i] =
        static_cast<int>(kPercent * p.ops_finished / std::max<std::size_t>(p.ops_total, 1));
    show_running();
  };
}

void ParallelProgress::finished(std::size_t i, const std::string& line) {
  const std::lock_guard lock(mutex_);
  percent_[i] = -1;
  if (shown_ > 0) {  // over the running line, blanking what is left of it
    overwrite(line);
    err_ << '\n';
    shown_ = 0;
    show_running();
  } else {
    err_ << line << '\n';
  }
  err_ << std::flush;
}

void ParallelProgress::show_running() {
  std::string line = "[moesim] running:";
  bool any = false;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (percent_[i] < 0) continue;
    line += fmt::format("{} {} {}%", any ? "," : "", names_[i], percent_[i]);
    any = true;
  }
  if (!any) return;
  overwrite(line);
  err_ << std::flush;
  shown_ = line.size();
}

void ParallelProgress::overwrite(const std::string& line) {
  err_ << '\r' << line << std::string(shown_ > line.size() ? shown_ - line.size() : 0, ' ');
}

}  // namespace moesim::cli
