// GPU test: skips with the reason when no CUDA device is usable.
#include <gtest/gtest.h>

#include <cuda_runtime.h>

#include <random>
#include <vector>

#include "cuda_check.hpp"
#include "device.hpp"
#include "gather_rows.hpp"
#include "gather_rows_cuda.hpp"

namespace moesim::kernels {
namespace {

class GatherRowsGpu : public ::testing::TestWithParam<std::int64_t> {
 protected:
  void SetUp() override {
    const auto devices = cuda_devices();
    if (devices.count == 0) GTEST_SKIP() << devices.reason;
  }
};

TEST_P(GatherRowsGpu, MatchesTheCpuReferenceBitForBit) {
  const std::int64_t row_bytes = GetParam();  // 16-byte multiples take the vector path
  const std::int64_t src_rows = 300, rows = 1000;
  std::mt19937 rng(7);
  std::vector<std::byte> src(static_cast<std::size_t>(src_rows * row_bytes));
  for (auto& b : src) b = static_cast<std::byte>(rng());
  std::vector<std::int32_t> index(rows);
  for (auto& i : index) i = static_cast<std::int32_t>(rng() % src_rows);

  std::vector<std::byte> expected(static_cast<std::size_t>(rows * row_bytes));
  gather_rows_cpu(src, src_rows, index, row_bytes, expected);

  void *d_src = nullptr, *d_dst = nullptr;
  std::int32_t* d_index = nullptr;
  MOESIM_CUDA_CHECK(cudaMalloc(&d_src, src.size()));
  MOESIM_CUDA_CHECK(cudaMalloc(&d_dst, expected.size()));
  MOESIM_CUDA_CHECK(cudaMalloc(&d_index, index.size() * sizeof(std::int32_t)));
  MOESIM_CUDA_CHECK(cudaMemcpy(d_src, src.data(), src.size(), cudaMemcpyHostToDevice));
  MOESIM_CUDA_CHECK(cudaMemcpy(d_index, index.data(), index.size() * sizeof(std::int32_t),
                               cudaMemcpyHostToDevice));
  gather_rows_cuda(d_src, d_index, rows, row_bytes, d_dst, nullptr);
  std::vector<std::byte> actual(expected.size());
  MOESIM_CUDA_CHECK(cudaMemcpy(actual.data(), d_dst, actual.size(), cudaMemcpyDeviceToHost));
  cudaFree(d_src);
  cudaFree(d_dst);
  cudaFree(d_index);
  EXPECT_EQ(actual, expected);
}

INSTANTIATE_TEST_SUITE_P(RowWidths, GatherRowsGpu, ::testing::Values(4096, 2050, 16, 3));

}  // namespace
}  // namespace moesim::kernels
