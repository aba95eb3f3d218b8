#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "cli/parallel.hpp"

namespace moesim::cli {
namespace {

TEST(RunParallel, EveryIndexRunsOnce) {
  for (const int jobs : {1, 3, 16}) {
    std::vector<std::atomic<int>> runs(100);
    run_parallel(runs.size(), jobs, [&](std::size_t i) { ++runs[i]; });
    for (std::size_t i = 0; i < runs.size(); ++i) EXPECT_EQ(runs[i], 1) << i << " jobs " << jobs;
  }
  run_parallel(0, 4, [](std::size_t) { FAIL() << "no index to run"; });
}

TEST(RunParallel, AFailureStopsHandingOutWorkAndIsRethrown) {
  std::vector<int> ran;
  const auto task = [&](std::size_t i) {
    ran.push_back(static_cast<int>(i));
    if (i == 5) throw std::runtime_error("point 5 failed");
  };
  try {
    run_parallel(100, 1, task);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "point 5 failed");
  }
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  std::atomic<int> started{0};
  EXPECT_THROW(run_parallel(1000, 4,
                            [&](std::size_t i) {
                              ++started;
                              if (i == 0) throw std::runtime_error("first");
                              // Slow enough that the failure is seen long before the end.
                              std::this_thread::sleep_for(std::chrono::milliseconds(1));
                            }),
               std::runtime_error);
  EXPECT_LT(started, 1000);  // the others stopped being handed work
}

// Two schedules at once: the running line is rewritten in place as each reports, an end is a
// line of its own over it (blanking the rest of the longer running line), and the running
// line comes back for what still runs.
TEST(ParallelProgress, ShowsWhatRunsOnOneLineAndEachEndOnItsOwn) {
  std::ostringstream err;
  ParallelProgress shown(err, {"cdac", "dcca"});
  const auto cdac = shown.callback(0), dcca = shown.callback(1);
  cdac({.ops_finished = 45, .ops_total = 100, .now = core::Time::zero()});
  dcca({.ops_finished = 12, .ops_total = 100, .now = core::Time::zero()});
  cdac({.ops_finished = 100, .ops_total = 100, .now = core::Time::zero()});  // says nothing
  shown.finished(0, "[moesim] 1/2 cdac: 1.000 ms");
  shown.finished(1, "[moesim] 2/2 dcca: 2.000 ms");
  EXPECT_EQ(err.str(),
            "\r[moesim] running: cdac 45%"
            "\r[moesim] running: cdac 45%, dcca 12%"
            "\r[moesim] 1/2 cdac: 1.000 ms         \n"
            "\r[moesim] running: dcca 12%"
            "\r[moesim] 2/2 dcca: 2.000 ms\n");
  // Runs too short to report before they end print their end lines alone.
  std::ostringstream quiet;
  ParallelProgress short_runs(quiet, {"a"});
  short_runs.callback(0)({.ops_finished = 7, .ops_total = 7, .now = core::Time::zero()});
  short_runs.finished(0, "[moesim] 1/1 a: 0.100 ms");
  EXPECT_EQ(quiet.str(), "[moesim] 1/1 a: 0.100 ms\n");
}

}  // namespace
}  // namespace moesim::cli
