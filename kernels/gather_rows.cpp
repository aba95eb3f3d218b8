#include "gather_rows.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace moesim::kernels {

void gather_rows_cpu(std::span<const std::byte> src, std::int64_t src_rows,
                     std::span<const std::int32_t> index, std::int64_t row_bytes,
                     std::span<std::byte> dst) {
  const auto width = static_cast<std::size_t>(row_bytes);
  if (src.size() < static_cast<std::size_t>(src_rows) * width ||
      dst.size() < index.size() * width) {
    throw std::invalid_argument("gather_rows_cpu: buffers smaller than rows x row_bytes");
  }
  for (std::size_t i = 0; i < index.size(); ++i) {
    const auto from = index[i];
    if (from < 0 || from >= src_rows) {
      throw std::out_of_range("gather_rows_cpu: index[" + std::to_string(i) +
                              "] = " + std::to_string(from) + " outside [0, " +
                              std::to_string(src_rows) + ")");
    }
    std::memcpy(dst.data() + i * width, src.data() + static_cast<std::size_t>(from) * width, width);
  }
}

}  // namespace moesim::kernels
