#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "gather_rows.hpp"

namespace moesim::kernels {
namespace {

TEST(GatherRowsCpu, PermutesRows) {
  const std::vector<std::int32_t> src{10, 11, 20, 21, 30, 31};  // 3 rows of 8 bytes
  const std::vector<std::int32_t> index{2, 0, 2, 1};
  std::vector<std::int32_t> dst(8);
  gather_rows_cpu(std::as_bytes(std::span(src)), 3, index, 8,
                  std::as_writable_bytes(std::span(dst)));
  EXPECT_EQ(dst, (std::vector<std::int32_t>{30, 31, 10, 11, 30, 31, 20, 21}));
}

TEST(GatherRowsCpu, RejectsIndicesOutOfRange) {
  const std::vector<std::byte> src(8);
  std::vector<std::byte> dst(8);
  const std::vector<std::int32_t> index{2};
  EXPECT_THROW(gather_rows_cpu(src, 2, index, 4, dst), std::out_of_range);
}

}  // namespace
}  // namespace moesim::kernels
