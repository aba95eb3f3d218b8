#include "quantity.hpp"

#include <fmt/format.h>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <vector>

#include "error.hpp"
#include "suggest.hpp"

namespace moesim::config {

namespace {

struct Unit {
  std::string_view symbol;
  Dimension dimension;
  double factor;  // to the base unit
};

constexpr double kKi = 1024.0;
constexpr double kBitsPerByte = 8.0;

// Listed largest first within each dimension: format() takes the first exact one.
constexpr std::array kUnits{
    Unit{"PiB", Dimension::kBytes, kKi* kKi* kKi* kKi* kKi},
    Unit{"TiB", Dimension::kBytes, kKi* kKi* kKi* kKi},
    Unit{"GiB", Dimension::kBytes, kKi* kKi* kKi},
    Unit{"MiB", Dimension::kBytes, kKi* kKi},
    Unit{"KiB", Dimension::kBytes, kKi},
    Unit{"PB", Dimension::kBytes, 1e15},
    Unit{"TB", Dimension::kBytes, 1e12},
    Unit{"GB", Dimension::kBytes, 1e9},
    Unit{"MB", Dimension::kBytes, 1e6},
    Unit{"KB", Dimension::kBytes, 1e3},
    Unit{"kB", Dimension::kBytes, 1e3},
    Unit{"B", Dimension::kBytes, 1},

    Unit{"TB/s", Dimension::kBandwidth, 1e12},
    Unit{"GB/s", Dimension::kBandwidth, 1e9},
    Unit{"MB/s", Dimension::kBandwidth, 1e6},
    Unit{"KB/s", Dimension::kBandwidth, 1e3},
    Unit{"kB/s", Dimension::kBandwidth, 1e3},
    Unit{"TiB/s", Dimension::kBandwidth, kKi* kKi* kKi* kKi},
    Unit{"GiB/s", Dimension::kBandwidth, kKi* kKi* kKi},
    Unit{"MiB/s", Dimension::kBandwidth, kKi* kKi},
    Unit{"KiB/s", Dimension::kBandwidth, kKi},
    Unit{"Tb/s", Dimension::kBandwidth, 1e12 / kBitsPerByte},
    Unit{"Gb/s", Dimension::kBandwidth, 1e9 / kBitsPerByte},
    Unit{"Mb/s", Dimension::kBandwidth, 1e6 / kBitsPerByte},
    Unit{"Kb/s", Dimension::kBandwidth, 1e3 / kBitsPerByte},
    Unit{"Tbit/s", Dimension::kBandwidth, 1e12 / kBitsPerByte},
    Unit{"Gbit/s", Dimension::kBandwidth, 1e9 / kBitsPerByte},
    Unit{"Mbit/s", Dimension::kBandwidth, 1e6 / kBitsPerByte},
    Unit{"B/s", Dimension::kBandwidth, 1},
    Unit{"b/s", Dimension::kBandwidth, 1 / kBitsPerByte},

    Unit{"s", Dimension::kTime, 1},
    Unit{"ms", Dimension::kTime, 1e-3},
    Unit{"us", Dimension::kTime, 1e-6},
    Unit{"\xC2\xB5s", Dimension::kTime, 1e-6},  // µs
    Unit{"ns", Dimension::kTime, 1e-9},
    Unit{"ps", Dimension::kTime, 1e-12},

    Unit{"PFLOP", Dimension::kFlops, 1e15},
    Unit{"TFLOP", Dimension::kFlops, 1e12},
    Unit{"GFLOP", Dimension::kFlops, 1e9},
    Unit{"MFLOP", Dimension::kFlops, 1e6},
    Unit{"FLOP", Dimension::kFlops, 1},

    Unit{"PFLOP/s", Dimension::kFlopRate, 1e15},
    Unit{"TFLOP/s", Dimension::kFlopRate, 1e12},
    Unit{"GFLOP/s", Dimension::kFlopRate, 1e9},
    Unit{"MFLOP/s", Dimension::kFlopRate, 1e6},
    Unit{"FLOP/s", Dimension::kFlopRate, 1},
};

const Unit* find_unit(std::string_view symbol) {
  for (const auto& unit : kUnits) {
    if (unit.symbol == symbol) return &unit;
  }
  return nullptr;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void fail(std::string_view text, Dimension expected, std::string_view problem) {
  throw ConfigError(fmt::format("\"{}\" {}; expected {} such as \"{}\" (units: {})", text, problem,
                                dimension_name(expected), dimension_example(expected),
                                dimension_units(expected)));
}

}  // namespace

std::string_view dimension_name(Dimension dimension) {
  switch (dimension) {
    case Dimension::kBytes:
      return "a size";
    case Dimension::kBandwidth:
      return "a bandwidth";
    case Dimension::kTime:
      return "a time";
    case Dimension::kFlops:
      return "a FLOP count";
    case Dimension::kFlopRate:
      return "a FLOP rate";
  }
  return "a quantity";
}

std::string_view dimension_example(Dimension dimension) {
  switch (dimension) {
    case Dimension::kBytes:
      return "48 GiB";
    case Dimension::kBandwidth:
      return "400 GB/s";
    case Dimension::kTime:
      return "1.5 us";
    case Dimension::kFlops:
      return "2 TFLOP";
    case Dimension::kFlopRate:
      return "989 TFLOP/s";
  }
  return "";
}

std::string dimension_units(Dimension dimension) {
  std::string out;
  for (const auto& unit : kUnits) {
    if (unit.dimension != dimension) continue;
    if (!out.empty()) out += ", ";
    out += unit.symbol;
  }
  return out;
}

double parse_quantity(std::string_view raw, Dimension expected) {
  const std::string_view text = trim(raw);
  if (text.empty()) fail(raw, expected, "is empty");
  double number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc::result_out_of_range) fail(raw, expected, "is out of range");
  if (ec != std::errc() || end == text.data()) fail(raw, expected, "does not start with a number");
  const std::string_view symbol = trim(text.substr(static_cast<std::size_t>(end - text.data())));
  if (!std::isfinite(number)) fail(raw, expected, "is not a finite number");
  if (symbol.empty()) fail(raw, expected, "has no unit");
  const Unit* unit = find_unit(symbol);
  if (unit == nullptr) {
    std::vector<std::string_view> candidates;
    for (const auto& u : kUnits) {
      if (u.dimension == expected) candidates.push_back(u.symbol);
    }
    const auto guess = closest_match(symbol, candidates);
    fail(raw, expected,
         fmt::format("has an unknown unit '{}'{}", symbol,
                     guess ? fmt::format(" (did you mean '{}'?)", *guess) : std::string()));
  }
  if (unit->dimension != expected) {
    fail(raw, expected,
         fmt::format("is {} (unit '{}')", dimension_name(unit->dimension), unit->symbol));
  }
  const double value = number * unit->factor;
  if (!std::isfinite(value)) fail(raw, expected, "is out of range");
  return value;
}

Bytes parse_bytes(std::string_view text) {
  const double value = parse_quantity(text, Dimension::kBytes);
  if (value != std::floor(value)) {
    fail(text, Dimension::kBytes, fmt::format("is {} bytes, not a whole number", value));
  }
  if (std::fabs(value) > static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2)) {
    fail(text, Dimension::kBytes, "is out of range");
  }
  return Bytes{static_cast<std::int64_t>(value)};
}

Bandwidth parse_bandwidth(std::string_view text) {
  return Bandwidth{parse_quantity(text, Dimension::kBandwidth)};
}

core::Time parse_time(std::string_view text) {
  const double seconds = parse_quantity(text, Dimension::kTime);
  try {
    return core::Time::from_seconds(seconds);
  } catch (const core::TimeRangeError&) {
    fail(text, Dimension::kTime, "is out of range (at most about 106 days)");
  }
}

Flops parse_flops(std::string_view text) {
  return Flops{parse_quantity(text, Dimension::kFlops)};
}

FlopRate parse_flop_rate(std::string_view text) {
  return FlopRate{parse_quantity(text, Dimension::kFlopRate)};
}

namespace {
// The largest unit in which `value` prints (shortest round-trip form) and parses back exactly.
std::string format_exact(double value, Dimension dimension) {
  for (const auto& unit : kUnits) {
    if (unit.dimension != dimension || unit.symbol == "kB" || unit.symbol == "kB/s" ||
        unit.symbol == "\xC2\xB5s" || unit.symbol.find("bit") != std::string_view::npos) {
      continue;
    }
    const double scaled = value / unit.factor;
    if (value == 0 ? unit.factor != 1 : std::fabs(scaled) < 1) continue;
    const std::string text = fmt::format("{} {}", scaled, unit.symbol);
    if (parse_quantity(text, dimension) == value) return text;
  }
  throw std::logic_error(fmt::format("format_exact: no unit for {}", value));
}
}  // namespace

std::string format(Bytes value) {
  // The exact unit that gives the smallest number: "48 GiB", "2 GB", "1001 B".
  std::string_view best_symbol = "B";
  std::int64_t best = value.count;
  for (const auto& unit : kUnits) {
    if (unit.dimension != Dimension::kBytes || unit.symbol == "kB") continue;
    const auto factor = static_cast<std::int64_t>(unit.factor);
    if (value.count % factor == 0 && std::llabs(value.count / factor) < std::llabs(best)) {
      best = value.count / factor;
      best_symbol = unit.symbol;
    }
  }
  return fmt::format("{} {}", best, best_symbol);
}

std::string format(Bandwidth value) {
  return format_exact(value.bytes_per_second, Dimension::kBandwidth);
}

std::string format(core::Time value) {
  constexpr std::array<std::pair<std::string_view, core::Time::Rep>, 5> kSteps{{
      {"s", core::Time::kPsPerS},
      {"ms", core::Time::kPsPerMs},
      {"us", core::Time::kPsPerUs},
      {"ns", core::Time::kPsPerNs},
      {"ps", 1},
  }};
  for (const auto& [symbol, ps] : kSteps) {
    if (value.count() != 0 && value.count() % ps == 0) {
      return fmt::format("{} {}", value.count() / ps, symbol);
    }
  }
  return "0 s";
}

std::string format(Flops value) {
  return format_exact(value.count, Dimension::kFlops);
}

std::string format(FlopRate value) {
  return format_exact(value.flops_per_second, Dimension::kFlopRate);
}

}  // namespace moesim::config
