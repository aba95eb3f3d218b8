#pragma once
// What every fuzz target shares: the input as text, and the rule that user input may only end
// in moesim::Error (a message for the user), never in another exception, a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace moesim::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; a moesim::Error is the expected refusal of bad input. Anything else escapes and
// the fuzzer reports it (an uncaught exception aborts).
template <class F>
int expect_only_user_errors(F&& body) {
  try {
    body();
  } catch (const moesim::Error&) {
  }
  return 0;
}

}  // namespace moesim::fuzz
