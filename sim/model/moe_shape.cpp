#include "moe_shape.hpp"

#include <fmt/format.h>

#include <algorithm>
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

constexpr std::array<SchedulePart, 14> kParts{{
    {"cdac", "fine-grained baseline: exchange tokens at the full width h", false, false,
     [](ScheduleConfig&, std::int64_t) {}},
    {"dcca", "BigMac: shared descend/ascend projections, exchange at width r*h (r = 0.25)", false,
     false, [](ScheduleConfig& s, std::int64_t) { s.dcca = kDccaRatio; }},
    {"lsh", "LSH-MoE: exchange cluster centroids (rho = 0.2, 6 cross-polytope hashes)", false,
     false, [](ScheduleConfig& s, std::int64_t) { s.lsh = LshConfig{}; }},
    {"scmoe", "ScMoE: shared expert + top-1 routed on the preceding block, exchange overlapped",
     false, true, [](ScheduleConfig& s, std::int64_t) { set_structure(s, Structure::kScMoE); }},
    {"scmoe2", "ScMoE-2: as scmoe with top-2 routing", false, true,
     [](ScheduleConfig& s, std::int64_t) { set_structure(s, Structure::kScMoE2); }},
    {"dgmoe", "DGMoE: two top-1 gates, on the preceding and on the current representation", false,
     true, [](ScheduleConfig& s, std::int64_t) { set_structure(s, Structure::kDgMoE); }},
    {"shared_expert", "shared expert + top-1 routed, both on the current representation", false,
     true, [](ScheduleConfig& s, std::int64_t) { set_structure(s, Structure::kSharedExpert); }},
    {"2d", "hierarchical all-to-all: inside each node, then along each rail", false, false,
     [](ScheduleConfig& s, std::int64_t) { s.all_to_all = ExchangeAlgorithm::kHierarchical; }},
    {"per_expert", "dispatch a token once per routed expert (whatever the model's dispatcher)",
     false, false, [](ScheduleConfig& s, std::int64_t) { s.dispatch = DispatchMode::kPerExpert; }},
    {"per_rank", "dispatch a token once per destination rank, not once per expert", false, false,
     [](ScheduleConfig& s, std::int64_t) { s.dispatch = DispatchMode::kPerRank; }},
    {"per_node", "dispatch a token once per destination node, forwarded there over NVLink (DeepEP)",
     false, false, [](ScheduleConfig& s, std::int64_t) { s.dispatch = DispatchMode::kPerNode; }},
    {"pipe", "pipelining: the exchanges in N chunks overlapping the experts", true, false,
     [](ScheduleConfig& s, std::int64_t n) { s.pipeline = n; }},
    {"top", "N routed experts per token instead of the model's top_k", true, false,
     [](ScheduleConfig& s, std::int64_t n) { s.top_k = n; }},
    {"pos", "shortcut position N (1, 2 or 3) of scmoe, scmoe2 and dgmoe", true, false,
     [](ScheduleConfig& s, std::int64_t n) { s.shortcut = n; }},
}};

std::string written(const SchedulePart& p) {
  return p.numbered ? fmt::format("{}<N>", p.name) : std::string(p.name);
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
  if (structure.k > 0) {
    shape.k = structure.k;
    shape.k_key = "schedule.structure";
  } else {
    shape.k = schedule.top_k.value_or(model.moe.top_k);
    shape.k_key = schedule.top_k ? "schedule.top_k" : "model.moe.top_k";
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
  std::string structure;  // the part that set it, if any
  std::size_t start = 0;
  while (start <= full.size()) {
    const auto end = std::min(full.find('+', start), full.size());
    const std::string part = full.substr(start, end - start);
    start = end + 1;
    const SchedulePart* found = nullptr;
    std::int64_t n = 0;
    for (const auto& p : kParts) {
      if (!p.numbered && part == p.name) {
        found = &p;
      } else if (p.numbered && part.size() > p.name.size() && part.starts_with(p.name) &&
                 part.find_first_not_of("0123456789", p.name.size()) == std::string::npos) {
        found = &p;
        const auto count = config::count_from(std::string_view(part).substr(p.name.size()));
        const bool position = p.name == "pos";
        if (!count || (position && *count > kLastShortcutPosition)) {
          throw config::ConfigError(
              fmt::format("--schedules: '{}' in '{}': expected {}<N> with N a whole number {}",
                          part, full, p.name, position ? "from 1 to 3" : "of at least 1"));
        }
        n = *count;
      }
      if (found) break;
    }
    if (found == nullptr) {
      throw config::ConfigError(
          fmt::format("--schedules: unknown part '{}' in '{}'; expected parts joined by '+': {}",
                      part, full, schedule_part_names()));
    }
    if (found->structure) {
      if (!structure.empty()) {
        throw config::ConfigError(fmt::format(
            "--schedules: '{}' gives two block structures, {} and {}; a schedule has one", full,
            structure, part));
      }
      structure = part;
    }
    found->apply(s, n);
    if (end == full.size()) break;
  }
  return s;
}

}  // namespace moesim::model
