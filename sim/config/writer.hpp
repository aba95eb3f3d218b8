#pragma once
// Emits a configuration struct as YAML: every field, defaults included, quantities with units,
// each key followed by its help text as a comment. Reading the output back gives the same values.
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "check.hpp"
#include "enum_name.hpp"
#include "quantity.hpp"

namespace moesim::config {

class Writer;

template <class T>
concept WritableStruct = requires(T& t, Writer& w) {
  t.fields(w);
};

// How lists of sections are written: each item a block with every key's help (kDocumented),
// or one line per item with no help (kCompactLists: long measured tables).
enum class ListStyle { kDocumented, kCompactLists };

class Writer {
 public:
  explicit Writer(YAML::Emitter& out, ListStyle lists = ListStyle::kDocumented)
      : out_(out), lists_(lists) {}

  template <class T>
  void field(std::string_view key, const T& value, std::string_view help, const Check& = {}) {
    const bool comment = !help.empty() && flow_depth_ == 0;
    if constexpr (requires {
                    value.has_value();
                    *value;
                  }) {  // std::optional: absent, no key
      if (value.has_value()) field(key, *value, help);
    } else if constexpr (WritableStruct<T>) {  // a section: its help goes above it
      if (comment) out_ << YAML::Newline << YAML::Comment(std::string(help));
      out_ << YAML::Key << std::string(key) << YAML::Value;
      write(value);
    } else {
      out_ << YAML::Key << std::string(key) << YAML::Value;
      write(value);
      if (comment) out_ << YAML::Comment(std::string(help));
    }
  }

  template <class T>
  void write(const T& value) {
    if constexpr (WritableStruct<T>) {
      out_ << YAML::BeginMap;
      T copy = value;  // fields() is shared with Reader, which needs mutable access
      copy.fields(*this);
      out_ << YAML::EndMap;
    } else if constexpr (std::is_same_v<T, bool>) {
      out_ << (value ? "true" : "false");
    } else if constexpr (std::is_integral_v<T>) {
      out_ << std::to_string(value);
    } else if constexpr (std::is_floating_point_v<T>) {
      out_ << format_real(static_cast<double>(value));
    } else if constexpr (std::is_same_v<T, std::string>) {
      out_ << YAML::DoubleQuoted << value;
    } else if constexpr (std::is_same_v<T, core::Time> || std::is_same_v<T, Bytes> ||
                         std::is_same_v<T, Bandwidth> || std::is_same_v<T, Flops> ||
                         std::is_same_v<T, FlopRate>) {
      out_ << format(value);
    } else if constexpr (std::is_enum_v<T>) {
      out_ << std::string(enum_name(value));
    } else if constexpr (requires {
                           typename T::value_type;
                           value.begin();
                         }) {
      constexpr bool sections = WritableStruct<typename T::value_type>;
      out_ << YAML::BeginSeq;
      for (const auto& item : value) {
        if (sections && lists_ == ListStyle::kCompactLists) {
          ++flow_depth_;
          out_ << YAML::Flow;
          write(item);
          --flow_depth_;
        } else {
          write(item);
        }
      }
      out_ << YAML::EndSeq;
    } else {
      static_assert(sizeof(T) == 0, "config::Writer: unsupported field type");
    }
  }

 private:
  static std::string format_real(double value);
  YAML::Emitter& out_;
  ListStyle lists_;
  int flow_depth_ = 0;  // inside a one-line item: no comments
};

// The resolved configuration as YAML text, with a header comment.
template <WritableStruct T>
std::string to_yaml(const T& config, std::string_view header,
                    ListStyle lists = ListStyle::kDocumented) {
  YAML::Emitter out;
  if (!header.empty()) out << YAML::Comment(std::string(header)) << YAML::Newline;
  Writer writer(out, lists);
  writer.write(config);
  return std::string(out.c_str()) + "\n";
}

// A list of sections as one line of YAML (flow style, no help), e.g. to place it in a document
// with Document::apply_override.
template <WritableStruct T>
std::string list_to_yaml(const std::vector<T>& items) {
  YAML::Emitter out;
  out << YAML::Flow;
  Writer writer(out, ListStyle::kCompactLists);
  writer.write(items);
  return out.c_str();
}

}  // namespace moesim::config
