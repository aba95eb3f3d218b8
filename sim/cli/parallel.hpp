#pragma once
// Independent simulations run at once: a sweep's points, a study's schedules.
#include <cstddef>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "core/engine.hpp"

namespace moesim::cli {

// Calls task(i) for every i in [0, count) on up to `jobs` threads (the calling one included),
// handing out indices in order. After a task throws, no further index is handed out; once the
// running tasks end, the first exception thrown is rethrown here.
void run_parallel(std::size_t count, int jobs, const std::function<void(std::size_t)>& task);

// Progress of simulations running at once, on one line that is rewritten in place: each running
// one's name and share of ops done ("[moesim] running: cdac 45%, dcca 12%"). A simulation that
// ends prints its own line (finished()), and the running line follows it again. Safe to call
// from the tasks' threads.
class ParallelProgress {
 public:
  ParallelProgress(std::ostream& err, std::vector<std::string> names);
  // For simulation i's engine. Its last report (every op done) prints nothing: finished() does.
  core::ProgressCallback callback(std::size_t i);
  void finished(std::size_t i, const std::string& line);

 private:
  void show_running();                      // with mutex_ held
  void overwrite(const std::string& line);  // over the running line, blanking what is left
  std::ostream& err_;
  std::vector<std::string> names_;
  std::vector<int> percent_;  // by simulation: -1 when not running
  std::size_t shown_ = 0;     // characters of the running line on screen (0: none)
  std::mutex mutex_;
};

}  // namespace moesim::cli
