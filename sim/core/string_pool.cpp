#include "string_pool.hpp"

namespace moesim::core {

std::uint32_t StringPool::intern(std::string_view text) {
  std::string key(text);
  const auto found = index_.find(key);
  if (found != index_.end()) return found->second;
  const auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.push_back(key);
  index_.emplace(std::move(key), id);
  return id;
}

}  // namespace moesim::core
