#pragma once
// What a schedule makes of a MoE block: the only code that reads a ScheduleConfig's mechanisms.
// Each mechanism is a row of a table (schedules.md's structures, and the parts a schedule name
// joins with '+'), so a new one is a config key, a row here, and a step in moe_block.cpp if it
// adds one.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config.hpp"

namespace moesim::model {

struct MoeShape {
  std::int64_t width = 0;         // exchanged width: h, or r*h with DCCA
  std::int64_t expert_inner = 0;  // a routed expert's intermediate size (f, or f/r with DCCA)
  std::int64_t k = 1;             // routed experts per token
  std::string_view k_key;         // the key that set k, for errors
  std::int64_t shared_experts = 0;
  int paths = 1;                   // routed paths per block (DGMoE: 2)
  std::array<bool, 2> shortcut{};  // path reads the preceding block's representation
  int shortcut_position = 2;       // 1, 2 or 3 (schedules.md 5)
  std::int64_t chunks = 1;         // pipelining degree d
  bool projections = false;        // DCCA's shared descend and ascend projections
  std::optional<LshConfig> lsh;    // centroids instead of tokens
  ExchangeAlgorithm algorithm = ExchangeAlgorithm::kFlat;
  DispatchMode dispatch = DispatchMode::kPerExpert;
  std::optional<cost::Dtype> dispatch_dtype, combine_dtype;
  // LSH's compression rate rho: the fraction of routed rows exchanged and computed.
  double rows_factor() const { return lsh ? lsh->rate : 1.0; }
};

MoeShape moe_shape(const ModelConfig& model, const ScheduleConfig& schedule);

// The parts a schedule's name joins with '+' (`moesim predict --schedules dcca+scmoe`): the one
// list that name parsing, --help and the README take. A part with a number is written
// <name><N> (pipe4, top1, pos3); a part with a fraction may be followed by one (dcca0.5,
// lsh0.1), else it takes its paper's default.
enum class PartArgument {
  kNone,
  kCount,     // a whole number N >= 1 follows the name (required)
  kFraction,  // a fraction in (0, 1] may follow the name
};
// What follows a part's name: a count (kCount) or a fraction (kFraction), else nothing.
struct PartValue {
  std::int64_t count = 0;
  double fraction = 0;
};
struct SchedulePart {
  std::string_view name;
  std::string_view description;
  PartArgument argument = PartArgument::kNone;
  bool structure = false;  // sets the block structure (a schedule has one)
  double fallback = 0;     // kFraction: the value when none is written
  void (*apply)(ScheduleConfig& schedule, PartValue value);
};
std::span<const SchedulePart> schedule_parts();
// "cdac, dcca[<r>], lsh[<rho>], ..., pipe<N>, top<N>, pos<N>" as names are written.
std::string schedule_part_names();
// One line per part, "  name  description", for --help and the README.
std::string schedule_part_list();

// "cdac", "dcca+scmoe", "dcca0.5", "lsh0.1+pipe4", "top1", ...: a schedule from its name. Throws
// ConfigError naming the part for an unknown one.
ScheduleConfig schedule_from_name(const std::string& name);

}  // namespace moesim::model
