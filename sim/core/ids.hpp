#pragma once
// Dense integer ids for the things the engine schedules. Ids index flat arrays; kNoId marks
// "none".
#include <cstdint>
#include <limits>

namespace moesim::core {

using RankId = std::uint32_t;
using StreamId = std::uint32_t;
using OpId = std::uint32_t;
using GangId = std::uint32_t;
inline constexpr std::uint32_t kNoId = std::numeric_limits<std::uint32_t>::max();

}  // namespace moesim::core
