#pragma once
// Element types of GPU kernels and their sizes.
#include <array>
#include <string_view>
#include <utility>

#include "config/enum_name.hpp"

namespace moesim::cost {

enum class Dtype { kBf16, kFp16, kFp32, kFp8 };

constexpr auto enum_names(Dtype) {
  return std::array{std::pair{std::string_view("bf16"), Dtype::kBf16},
                    std::pair{std::string_view("fp16"), Dtype::kFp16},
                    std::pair{std::string_view("fp32"), Dtype::kFp32},
                    std::pair{std::string_view("fp8"), Dtype::kFp8}};
}

constexpr std::string_view name(Dtype d) {
  return config::enum_name(d);
}

constexpr double bytes_per_element(Dtype d) {
  switch (d) {
    case Dtype::kBf16:
      return 2;
    case Dtype::kFp16:
      return 2;
    case Dtype::kFp32:
      return 4;
    case Dtype::kFp8:
      return 1;
  }
  return 0;
}

}  // namespace moesim::cost
