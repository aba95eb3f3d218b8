#include "chrome_trace.hpp"

#include <fmt/format.h>

namespace moesim::report {

namespace {
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Trace timestamps are microseconds; print picoseconds exactly as a decimal fraction.
std::string micros(core::Time t) {
  const auto ps = t.count();
  return fmt::format("{}{}.{:06d}", ps < 0 ? "-" : "", std::abs(ps) / core::Time::kPsPerUs,
                     std::abs(ps) % core::Time::kPsPerUs);
}
}  // namespace

std::string chrome_trace_json(const core::OpGraph& graph, const core::Timeline& timeline,
                              std::span<const net::LinkLoad> links) {
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  bool first = true;
  const auto sep = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (core::RankId r = 0; r < graph.rank_count(); ++r) {
    sep();
    fmt::format_to(std::back_inserter(out),
                   R"({{"ph":"M","name":"process_name","pid":{},"args":{{"name":"rank {}"}}}})", r,
                   r);
  }
  for (core::StreamId s = 0; s < graph.stream_count(); ++s) {
    sep();
    fmt::format_to(std::back_inserter(out),
                   R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":{}}}}})",
                   graph.stream(s).rank, s, json_string(graph.stream_name(s)));
  }
  for (core::OpId op = 0; op < timeline.size(); ++op) {
    const auto span = timeline.span(op);
    sep();
    std::string labels;
    for (const auto id : graph.op_labels(span.op)) {
      if (!labels.empty()) labels += ',';
      labels += graph.label(id);
    }
    std::string args = fmt::format("\"op\":{}", span.op);
    for (const auto& arg : graph.op_args(span.op)) {
      args += "," + json_string(arg.key) + ":" + json_string(arg.value);
    }
    fmt::format_to(
        std::back_inserter(out),
        R"({{"ph":"X","name":{},"cat":{},"pid":{},"tid":{},"ts":{},"dur":{},"args":{{{}}}}})",
        json_string(graph.op_name(span.op)), json_string(labels), span.rank, span.stream,
        micros(span.start), micros(span.end - span.start), args);
  }
  // Counter tracks: one per link, in a process of their own after the ranks.
  const auto links_pid = graph.rank_count();
  if (!links.empty()) {
    sep();
    fmt::format_to(std::back_inserter(out),
                   R"({{"ph":"M","name":"process_name","pid":{},"args":{{"name":"links"}}}})",
                   links_pid);
  }
  constexpr double kPercent = 100;
  for (const auto& link : links) {
    const auto name =
        json_string(fmt::format("{} [% of {:.1f} GB/s]", link.name, link.capacity / 1e9));
    for (const auto& [t, rate] : link.steps) {
      sep();
      fmt::format_to(std::back_inserter(out),
                     R"({{"ph":"C","name":{},"pid":{},"ts":{},"args":{{"utilisation":{:.3f}}}}})",
                     name, links_pid, micros(t), kPercent * rate / link.capacity);
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace moesim::report
