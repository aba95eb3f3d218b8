#pragma once
// Interned strings: op names and label sets repeat across ranks and layers, so each distinct
// string is stored once and ops hold a 32-bit id.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace moesim::core {

class StringPool {
 public:
  std::uint32_t intern(std::string_view text);
  std::string_view at(std::uint32_t id) const { return strings_[id]; }
  std::size_t size() const { return strings_.size(); }

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> index_;
};

}  // namespace moesim::core
