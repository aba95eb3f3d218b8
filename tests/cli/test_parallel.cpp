#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

}  // namespace
}  // namespace moesim::cli
