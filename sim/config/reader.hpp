#pragma once
// Strict reading of YAML into typed configuration structs.
//
// A configuration struct lists its fields once, in a member template that every visitor uses:
//
//   struct Link {
//     config::Bandwidth bandwidth{...};   // the default lives here, and only here
//     core::Time latency = core::Time::ns(500);
//     template <class V> void fields(V& v) {
//       v.field("bandwidth", bandwidth, "per direction", config::Check::positive().required());
//       v.field("latency", latency, "per hop", config::Check::non_negative());
//     }
//   };
//
// Reader fills it from a Document, rejecting unknown and duplicate keys (with a suggestion),
// missing required keys, wrong types, wrong or missing units and out-of-range values; Writer
// (writer.hpp) emits the resolved values. Enums name their values through an ADL function
// `enum_names(E)` returning pairs of (name, value).
#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "check.hpp"
#include "document.hpp"
#include "error.hpp"
#include "quantity.hpp"

namespace moesim::config {

class Reader;

template <class T>
concept ConfigStruct = requires(T& t, Reader& r) {
  t.fields(r);
};

template <class E>
concept NamedEnum = std::is_enum_v<E> && requires(E e) {
  enum_names(e);
};

// Collects the keys a struct declares, so unknown keys can be reported before any value.
class KeyLister {
 public:
  template <class T>
  void field(std::string_view key, T&, std::string_view, const Check& = {}) {
    keys.push_back(key);
  }
  std::vector<std::string_view> keys;
};

class Reader {
 public:
  Reader(const Document& document, const YAML::Node& map, std::string path);

  template <class T>
  void field(std::string_view key, T& value, std::string_view help, Check check = {}) {
    const YAML::Node child = map_[std::string(key)];
    if (!child.IsDefined()) {
      if (check.is_required) missing(key, help);
      return;
    }
    read(child, child_path(key), value, check);
  }

  // Rejects keys that are not in `known`, and duplicate keys.
  void check_keys(std::span<const std::string_view> known) const;

  // Reads a section: first its keys, then each field's value.
  template <class T>
  void read_section(T& value) {
    KeyLister lister;
    value.fields(lister);
    check_keys(lister.keys);
    value.fields(*this);
  }

  // Reads one value of any supported type at `path`.
  template <class T>
  void read(const YAML::Node& node, const std::string& path, T& value, const Check& check) const;

 private:
  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  [[noreturn]] void missing(std::string_view key, std::string_view help) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                         const std::string& problem) const;
  std::string scalar(const YAML::Node& node, const std::string& path,
                     std::string_view expected) const;
  void bound(const YAML::Node& node, const std::string& path, double value,
             const std::string& shown, const Check& check) const;

  std::int64_t to_integer(const YAML::Node& node, const std::string& path) const;
  double to_real(const YAML::Node& node, const std::string& path) const;
  bool to_bool(const YAML::Node& node, const std::string& path) const;
  template <class Q, class Parse>
  Q to_quantity(const YAML::Node& node, const std::string& path, Parse parse) const;
  std::string choose(const YAML::Node& node, const std::string& path,
                     std::span<const std::string_view> names) const;

  const Document& document_;
  YAML::Node map_;
  std::string path_;
};

template <class Q, class Parse>
Q Reader::to_quantity(const YAML::Node& node, const std::string& path, Parse parse) const {
  const std::string text = scalar(node, path, "a value with a unit");
  try {
    return parse(text);
  } catch (const ConfigError& e) {
    fail(node, path, e.what());
  }
}

template <class T>
void Reader::read(const YAML::Node& node, const std::string& path, T& value,
                  const Check& check) const {
  if constexpr (requires {
                  typename T::value_type;
                  value.has_value();
                  value.reset();
                }) {
    // std::optional: present means set; null (`null`, `~`) means absent, as if not written.
    if (node.IsNull()) {
      value.reset();
      return;
    }
    typename T::value_type inner{};
    read(node, path, inner, check);
    value = std::move(inner);
  } else if constexpr (ConfigStruct<T>) {
    if (!node.IsMap()) fail(node, path, "expected a section of keys (a YAML map)");
    Reader(document_, node, path).read_section(value);
  } else if constexpr (std::is_same_v<T, bool>) {
    value = to_bool(node, path);
  } else if constexpr (std::is_integral_v<T>) {
    const std::int64_t v = to_integer(node, path);
    bound(node, path, static_cast<double>(v), std::to_string(v), check);
    if constexpr (std::is_unsigned_v<T>) {
      if (v < 0) fail(node, path, std::to_string(v) + " must not be negative");
    }
    value = static_cast<T>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    value = static_cast<T>(to_real(node, path));
    bound(node, path, static_cast<double>(value), node.Scalar(), check);
  } else if constexpr (std::is_same_v<T, std::string>) {
    value = scalar(node, path, "a string");
  } else if constexpr (std::is_same_v<T, core::Time>) {
    value = to_quantity<core::Time>(node, path, parse_time);
    bound(node, path, value.seconds(), node.Scalar(), check);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    value = to_quantity<Bytes>(node, path, parse_bytes);
    bound(node, path, static_cast<double>(value.count), node.Scalar(), check);
  } else if constexpr (std::is_same_v<T, Bandwidth>) {
    value = to_quantity<Bandwidth>(node, path, parse_bandwidth);
    bound(node, path, value.bytes_per_second, node.Scalar(), check);
  } else if constexpr (std::is_same_v<T, Flops>) {
    value = to_quantity<Flops>(node, path, parse_flops);
    bound(node, path, value.count, node.Scalar(), check);
  } else if constexpr (std::is_same_v<T, FlopRate>) {
    value = to_quantity<FlopRate>(node, path, parse_flop_rate);
    bound(node, path, value.flops_per_second, node.Scalar(), check);
  } else if constexpr (NamedEnum<T>) {
    const auto table = enum_names(T{});
    std::vector<std::string_view> names;
    for (const auto& [name, e] : table) names.push_back(name);
    const std::string chosen = choose(node, path, names);
    for (const auto& [name, e] : table) {
      if (name == chosen) value = e;
    }
  } else if constexpr (requires {
                         typename T::value_type;
                         value.push_back({});
                       }) {
    if (!node.IsSequence()) fail(node, path, "expected a list");
    T items;
    for (std::size_t i = 0; i < node.size(); ++i) {
      typename T::value_type item{};
      read(node[i], path + "[" + std::to_string(i) + "]", item, check);
      items.push_back(std::move(item));
    }
    value = std::move(items);
  } else {
    static_assert(sizeof(T) == 0, "config::Reader: unsupported field type");
  }
}

// Reads a whole document into a configuration struct.
template <ConfigStruct T>
T read_document(const Document& document, T defaults = T{}) {
  Reader(document, document.root(), "").read_section(defaults);
  return defaults;
}

}  // namespace moesim::config
