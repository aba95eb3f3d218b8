#pragma once
// Independent simulations run at once: a sweep's points, a study's schedules.
#include <cstddef>
#include <functional>

namespace moesim::cli {

// Calls task(i) for every i in [0, count) on up to `jobs` threads (the calling one included),
// handing out indices in order. After a task throws, no further index is handed out; once the
// running tasks end, the first exception thrown is rethrown here.
void run_parallel(std::size_t count, int jobs, const std::function<void(std::size_t)>& task);

}  // namespace moesim::cli
