#include "moe_shape.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "config/count.hpp"
#include "config/error.hpp"

namespace moesim::model {

namespace {

// schedules.md 1, 2 and 5: what each block structure routes, and how.
struct StructureRow {
  Structure structure;
  std::int64_t k;      // routed experts per token; 0: top_k (the schedule's, else the model's)
  bool shared_expert;  // has at least one shared expert, whatever the model says
  int paths;           // routed paths
  std::array<bool, 2> shortcut;  // by path: reads the preceding block's representation
};
constexpr std::array<StructureRow, 5> kStructures{{
    {Structure::kStandard, 0, false, 1, {false, false}},
    {Structure::kSharedExpert, 1, true, 1, {false, false}},
    {Structure::kScMoE, 1, true, 1, {true, false}},
    {Structure::kDgMoE, 1, false, 2, {true, false}},  // two top-1 gates: preceding, current
    {Structure::kScMoE2, 2, true, 1, {true, false}},
}};

const StructureRow& row(Structure s) {
  return *std::find_if(kStructures.begin(), kStructures.end(),
                       [s](const StructureRow& r) { return r.structure == s; });
}

// Defaults of the parts that carry a setting, as in their papers (schedules.md 3 and 4).
constexpr double kDccaRatio = 0.25;
constexpr int kLastShortcutPosition = 3;

void set_structure(ScheduleConfig& s, Structure value) {
  s.structure = value;
}

using A = PartArgument;
constexpr std::array<SchedulePart, 14> kParts{{
    {"cdac", "fine-grained baseline: exchange tokens at the full width h", A::kNone, false, 0,
     [](ScheduleConfig&, PartValue) {}},
    {"dcca",
     "BigMac: shared descend/ascend projections, exchange at width r*h (dcca0.5: r = 0.5; "
     "default 0.25)",
     A::kFraction, false, kDccaRatio, [](ScheduleConfig& s, PartValue v) { s.dcca = v.fraction; }},
    {"lsh",
     "LSH-MoE: exchange cluster centroids, a fraction rho of the rows (lsh0.1: rho = 0.1; "
     "default 0.2), 6 cross-polytope hashes",
     A::kFraction, false, LshConfig{}.rate,
     [](ScheduleConfig& s, PartValue v) {
       s.lsh = LshConfig{};
       s.lsh->rate = v.fraction;
     }},
    {"scmoe", "ScMoE: shared expert + top-1 routed on the preceding block, exchange overlapped",
     A::kNone, true, 0, [](ScheduleConfig& s, PartValue) { set_structure(s, Structure::kScMoE); }},
    {"scmoe2", "ScMoE-2: as scmoe with top-2 routing", A::kNone, true, 0,
     [](ScheduleConfig& s, PartValue) { set_structure(s, Structure::kScMoE2); }},
    {"dgmoe", "DGMoE: two top-1 gates, on the preceding and on the current representation",
     A::kNone, true, 0, [](ScheduleConfig& s, PartValue) { set_structure(s, Structure::kDgMoE); }},
    {"shared_expert", "shared expert + top-1 routed, both on the current representation", A::kNone,
     true, 0, [](ScheduleConfig& s, PartValue) { set_structure(s, Structure::kSharedExpert); }},
    {"2d", "hierarchical all-to-all: inside each node, then along each rail", A::kNone, false, 0,
     [](ScheduleConfig& s, PartValue) { s.all_to_all = ExchangeAlgorithm::kHierarchical; }},
    {"per_expert", "dispatch a token once per routed expert (whatever the model's dispatcher)",
     A::kNone, false, 0,
     [](ScheduleConfig& s, PartValue) { s.dispatch = DispatchMode::kPerExpert; }},
    {"per_rank", "dispatch a token once per destination rank, not once per expert", A::kNone, false,
     0, [](ScheduleConfig& s, PartValue) { s.dispatch = DispatchMode::kPerRank; }},
    {"per_node", "dispatch a token once per destination node, forwarded there over NVLink (DeepEP)",
     A::kNone, false, 0, [](ScheduleConfig& s, PartValue) { s.dispatch = DispatchMode::kPerNode; }},
    {"pipe", "pipelining: the exchanges in N chunks overlapping the experts", A::kCount, false, 0,
     [](ScheduleConfig& s, PartValue n) { s.pipeline = n.count; }},
    {"top", "N routed experts per token (per gate) instead of the structure's or model's top-k",
     A::kCount, false, 0, [](ScheduleConfig& s, PartValue n) { s.top_k = n.count; }},
    {"pos", "shortcut position N (1, 2 or 3) of scmoe, scmoe2 and dgmoe", A::kCount, false, 0,
     [](ScheduleConfig& s, PartValue n) { s.shortcut = n.count; }},
}};

std::string written(const SchedulePart& p) {
  switch (p.argument) {
    case A::kCount:
      return fmt::format("{}<N>", p.name);
    case A::kFraction:
      return fmt::format("{}[<f>]", p.name);
    case A::kNone:
      break;
  }
  return std::string(p.name);
}

// The value written after a part's name ("4" in pipe4, "0.5" in dcca0.5), or an error naming
// what was expected.
PartValue part_value(const SchedulePart& p, std::string_view text, const std::string& part,
                     const std::string& full) {
  PartValue value;
  if (p.argument == A::kFraction) {
    value.fraction = p.fallback;
    if (text.empty()) return value;
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !(v > 0 && v <= 1)) {
      throw config::ConfigError(fmt::format(
          "--schedules: '{}' in '{}': expected {} or {}<f> with f a fraction in (0, 1], e.g. "
          "{}0.5",
          part, full, p.name, p.name, p.name));
    }
    value.fraction = v;
    return value;
  }
  const auto count = config::count_from(text);
  const bool position = p.name == "pos";
  if (!count || (position && *count > kLastShortcutPosition)) {
    throw config::ConfigError(
        fmt::format("--schedules: '{}' in '{}': expected {}<N> with N a whole number {}", part,
                    full, p.name, position ? "from 1 to 3" : "of at least 1"));
  }
  value.count = *count;
  return value;
}

// Whether `part` is `p`, with what may follow its name.
bool names(const SchedulePart& p, std::string_view part) {
  if (!part.starts_with(p.name)) return false;
  const auto rest = part.substr(p.name.size());
  switch (p.argument) {
    case A::kNone:
      return rest.empty();
    case A::kCount:  // a bare name too, refused for its missing number
      return rest.find_first_not_of("0123456789") == std::string_view::npos;
    case A::kFraction:
      return rest.empty() || rest.find_first_not_of("0123456789.eE-+") == std::string_view::npos;
  }
  return false;
}

}  // namespace

MoeShape moe_shape(const ModelConfig& model, const ScheduleConfig& schedule) {
  const auto& structure = row(schedule.structure);
  MoeShape shape;
  const auto h = model.hidden;
  const auto f = model.expert_ffn();
  shape.width = h;
  shape.expert_inner = f;
  if (schedule.dcca) {
    // DCCA's reversed experts keep the parameter count: r*h -> f/r -> r*h.
    const double r = *schedule.dcca;
    shape.width = std::max<std::int64_t>(1, std::llround(r * static_cast<double>(h)));
    shape.expert_inner = std::max<std::int64_t>(1, std::llround(static_cast<double>(f) / r));
    shape.projections = true;
  }
  // A schedule's top-k wins; else the structure's own routing (ScMoE's top-1); else the model's.
  if (schedule.top_k) {
    shape.k = *schedule.top_k;
    shape.k_key = "schedule.top_k";
  } else if (structure.k > 0) {
    shape.k = structure.k;
    shape.k_key = "schedule.structure";
  } else {
    shape.k = model.moe.top_k;
    shape.k_key = "model.moe.top_k";
  }
  shape.shared_experts = structure.shared_expert
                             ? std::max<std::int64_t>(1, model.moe.shared_experts)
                             : model.moe.shared_experts;
  shape.paths = structure.paths;
  shape.shortcut = structure.shortcut;
  shape.shortcut_position = static_cast<int>(schedule.shortcut);
  shape.chunks = schedule.pipeline;
  shape.lsh = schedule.lsh;
  shape.algorithm = schedule.all_to_all;
  shape.dispatch = schedule.dispatch.value_or(model.moe.dispatch);
  shape.dispatch_dtype = schedule.dispatch_dtype;
  shape.combine_dtype = schedule.combine_dtype;
  return shape;
}

std::span<const SchedulePart> schedule_parts() {
  return kParts;
}

std::string schedule_part_names() {
  std::string out;
  for (const auto& p : kParts) out += (out.empty() ? "" : ", ") + written(p);
  return out;
}

std::string schedule_part_list() {
  std::size_t width = 0;
  for (const auto& p : kParts) width = std::max(width, written(p).size());
  std::string out;
  for (const auto& p : kParts)
    out += fmt::format("  {:<{}}  {}\n", written(p), width, p.description);
  return out;
}

ScheduleConfig schedule_from_name(const std::string& full) {
  ScheduleConfig s;
  s.name = full;
  std::string structure;               // the part that set it, if any
  std::vector<std::string_view> seen;  // parts named so far
  std::size_t start = 0;
  while (start <= full.size()) {
    const auto end = std::min(full.find('+', start), full.size());
    const std::string part = full.substr(start, end - start);
    start = end + 1;
    const SchedulePart* found = nullptr;
    PartValue value;
    for (const auto& p : kParts) {
      // The longest name that matches: "scmoe2" is not scmoe followed by a number.
      if (names(p, part) && (found == nullptr || p.name.size() > found->name.size())) found = &p;
    }
    if (found != nullptr && found->argument != A::kNone) {
      value = part_value(*found, std::string_view(part).substr(found->name.size()), part, full);
    }
    if (found == nullptr) {
      throw config::ConfigError(
          fmt::format("--schedules: unknown part '{}' in '{}'; expected parts joined by '+': {}",
                      part, full, schedule_part_names()));
    }
    if (std::find(seen.begin(), seen.end(), found->name) != seen.end()) {
      throw config::ConfigError(fmt::format(
          "--schedules: '{}' gives {} twice; a part may appear once in a name", full, found->name));
    }
    seen.push_back(found->name);
    if (found->structure) {
      if (!structure.empty()) {
        throw config::ConfigError(fmt::format(
            "--schedules: '{}' gives two block structures, {} and {}; a schedule has one", full,
            structure, part));
      }
      structure = part;
    }
    found->apply(s, value);
    if (end == full.size()) break;
  }
  return s;
}

}  // namespace moesim::model
