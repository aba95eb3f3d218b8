#include "study_summary.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include "chrome_trace.hpp"
#include "config/enum_name.hpp"
#include "dag_csv.hpp"
#include "model/moe_shape.hpp"
#include "text_table.hpp"
#include "timeline_csv.hpp"

namespace moesim::report {

namespace {

// The model's categories; the host's (the last) only where the workload has host ops, so that
// runs without a host keep their breakdown's columns.
std::vector<CategoryInfo> categories(bool host) {
  static_assert(static_cast<std::size_t>(model::Category::kHost) == model::kCategoryCount - 1);
  std::vector<CategoryInfo> out;
  for (std::size_t c = 0; c < model::kCategoryCount; ++c) {
    const auto cat = static_cast<model::Category>(c);
    if (model::is_host(cat) && !host) continue;
    out.push_back(
        {std::string(model::name(cat)), model::is_communication(cat), model::is_host(cat)});
  }
  return out;
}

core::Time busy(const RankBreakdown& r, model::Category c) {
  return r.busy[static_cast<std::size_t>(c)];
}
core::Time exposed(const RankBreakdown& r, model::Category c) {
  return r.exposed[static_cast<std::size_t>(c)];
}
constexpr double kGiB = 1ull << 30;

// What the table's memory column counts, and the schedules that need more than the GPU has.
std::string memory_notes(model::Mode mode, const std::vector<PointResult>& results) {
  const auto& first = results.front();
  const bool train = mode == model::Mode::kTrain;
  // By training.zero: what the data-parallel groups shard.
  static constexpr std::array<std::string_view, model::kZeroWeights + 1> kSharded{
      "none sharded (no ZeRO)", "the states sharded over data parallelism (ZeRO-1)",
      "gradients and states sharded over data parallelism (ZeRO-2)",
      "all three sharded over data parallelism (ZeRO-3),\n     plus the largest block's weights "
      "gathered whole"};
  std::string out = fmt::format(
      "mem: at least this much per GPU: {};\n     activations and buffers not counted. ",
      train ? fmt::format("weights, gradients and Adam's fp32 states,\n     {}",
                          kSharded[static_cast<std::size_t>(first.memory.zero)])
            : "weights and the KV cache");
  if (!first.memory_capacity) {
    return out +
           fmt::format("The {} profile gives no memory.capacity to check it against.\n", first.gpu);
  }
  out += fmt::format("The {} has {:.2f} GiB.\n", first.gpu, *first.memory_capacity / kGiB);
  for (const auto& r : results) {
    if (r.fits()) continue;
    std::string parts;
    for (const auto& [what, bytes] :
         {std::pair{"weights", r.memory.weights}, std::pair{"gradients", r.memory.gradients},
          std::pair{"optimizer", r.memory.optimizer}, std::pair{"KV cache", r.memory.kv_cache},
          std::pair{"gathered block", r.memory.gathered}}) {
      if (bytes > 0)
        parts += fmt::format("{}{} {:.2f}", parts.empty() ? "" : ", ", what, bytes / kGiB);
    }
    out += fmt::format(
        "warning: {} does not fit: {:.2f} GiB per GPU ({}); more expert or tensor parallelism{} "
        "would spread it\n",
        r.schedule.name, r.memory.total() / kGiB, parts,
        train && r.memory.zero < model::kZeroWeights ? ", or a higher training.zero stage," : "");
  }
  return out;
}

// Schedules whose host issued work for most of the run: the GPU waited on the CPU.
std::string launch_notes(const std::vector<PointResult>& results) {
  constexpr double kLaunchBound = 0.8;  // of the run: "most"
  std::string out;
  for (const auto& r : results) {
    const double share = r.breakdown.critical_rank().host.seconds() /
                         std::max(r.breakdown.makespan.seconds(), 1e-300);
    if (share < kLaunchBound) continue;
    out += fmt::format(
        "note: {} is launch-bound: its host issued kernels for {:.0f}% of the run (CUDA graphs, "
        "fused kernels or larger batches would help)\n",
        r.schedule.name, 100 * share);
  }
  return out;
}

// Dispatch and combine together.
// What a schedule changes in the model against the baseline's, in words; empty when nothing.
std::string model_change(const model::Footprint& f, const model::Footprint& base) {
  std::vector<std::string> parts;
  if (f.routed != base.routed) {
    parts.push_back(fmt::format("{} routed expert(s) per token ({})", f.routed, base.routed));
  }
  if (f.shared != base.shared) {
    parts.push_back(fmt::format("{} shared expert(s) ({})", f.shared, base.shared));
  }
  if (f.exchanged != base.exchanged) {
    parts.push_back(
        fmt::format("exchanges {:.3g} of the hidden width through added projections "
                    "({:.3g})",
                    f.exchanged, base.exchanged));
  }
  if (f.computed_rows != base.computed_rows) {
    parts.push_back(fmt::format("experts compute {:.3g} of the routed rows, as centroids ({:.3g})",
                                f.computed_rows, base.computed_rows));
  }
  const auto relative = [](double a, double b) { return b > 0 ? a / b - 1 : 0.0; };
  constexpr double kShown = 5e-4;  // changes below 0.05% print as none
  const double params = relative(f.parameters, base.parameters);
  const double active = relative(f.active, base.active);
  if (!parts.empty() || std::abs(params) >= kShown || std::abs(active) >= kShown) {
    parts.push_back(
        fmt::format("parameters {:.3f} B ({:+.1f}%), active per token {:.3f} B "
                    "({:+.1f}%)",
                    f.parameters / 1e9, params * 1e2, f.active / 1e9, active * 1e2));
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

// Inference as serving measures it, one row per schedule.
std::string serving_table(const std::vector<PointResult>& results) {
  if (results.empty() || !results.front().serving) return "";
  using Table = TextTable;
  Table t({{"schedule", 18, Table::Align::kLeft},
           {"TTFT [ms]", 10},
           {"TPOT [ms]", 10},
           {"e2e mean", 10},
           {"e2e p90", 10},
           {"prefill tok/s", 14},
           {"decode tok/s", 13}});
  for (const auto& r : results) {
    const auto& m = *r.serving;
    const auto ms = [](core::Time x) { return fmt::format("{:.3f}", x.milliseconds()); };
    // Without a decode step there is no time per output token nor decode throughput.
    t.add_row({r.schedule.name, ms(m.ttft), m.decodes ? ms(m.tpot_mean) : "-", ms(m.e2e_mean),
               ms(m.e2e_p90), fmt::format("{:.0f}", m.prefill_tokens_per_s),
               m.decodes ? fmt::format("{:.0f}", m.decode_tokens_per_s) : "-"});
  }
  const auto& m = *results.front().serving;
  return fmt::format(
      "\nserving: {} requests ({:.0f} prompt and {:.0f} output tokens) as static batches, "
      "prefilled together, then decoded (TTFT: time to first token; TPOT: time per output "
      "token after it; e2e: request latency):\n{}",
      m.requests, m.prompt_tokens, m.output_tokens, t.render());
}

std::string model_notes(const std::vector<PointResult>& results) {
  std::string out;
  for (std::size_t i = 1; i < results.size(); ++i) {
    const auto change = model_change(results[i].footprint, results.front().footprint);
    if (!change.empty()) out += fmt::format("  {}: {}\n", results[i].schedule.name, change);
  }
  if (out.empty()) return "";
  return fmt::format(
      "* changes the model against {} (its values in parentheses): part of its speedup is a "
      "different model, not a faster schedule\n{}",
      results.front().schedule.name, out);
}

core::Time a2a_busy(const RankBreakdown& r) {
  return busy(r, model::Category::kA2aDispatch) + busy(r, model::Category::kA2aCombine);
}
core::Time a2a_exposed(const RankBreakdown& r) {
  return exposed(r, model::Category::kA2aDispatch) + exposed(r, model::Category::kA2aCombine);
}

}  // namespace

std::string PointResult::fit_note() const {
  if (fits()) return "";
  return fmt::format("; does not fit: {:.2f} GiB per GPU", memory.total() / kGiB);
}

PointResult point_result(const model::Study& study, const model::Simulation& sim,
                         const cost::Profile& profile, const StudyOutputs& outputs) {
  std::vector<std::uint8_t> category(sim.workload->category.size());
  for (std::size_t i = 0; i < category.size(); ++i) {
    category[i] = static_cast<std::uint8_t>(sim.workload->category[i]);
  }
  PointResult r;
  r.schedule = study.schedule;
  const bool host = std::find(sim.workload->category.begin(), sim.workload->category.end(),
                              model::Category::kHost) != sim.workload->category.end();
  r.breakdown = breakdown(sim.workload->graph, sim.timeline, category, categories(host));
  r.a2a_bytes = sim.workload->a2a_bytes;
  r.memory = model::memory_floor(study, *sim.workload);
  r.footprint = model::footprint(study.model, model::moe_shape(study.model, study.schedule));
  r.gpu = profile.name;
  if (const auto& capacity = profile.memory.capacity) {
    r.memory_capacity = static_cast<double>(capacity->count);
  }
  r.tokens = sim.workload->tokens;
  if (study.mode == model::Mode::kInfer) {
    // Each pass ends when the last of its ops ends on any rank.
    const auto& w = *sim.workload;
    // The passes are those the workload recorded (rebuilding them would redo their work).
    std::vector<core::Time> pass_end;
    for (const auto& range : w.pass_ops) {
      pass_end.resize(std::max(pass_end.size(), static_cast<std::size_t>(range.pass) + 1));
      auto& end = pass_end[static_cast<std::size_t>(range.pass)];
      for (auto op = range.first; op <= range.last; ++op) {
        end = std::max(end, sim.timeline.span(op).end);
      }
    }
    r.serving = model::serving_metrics(w.requests, pass_end, study.parallel.ep * study.parallel.dp);
  }
  r.ops = sim.workload->graph.op_count();
  r.transfers = sim.transfers;
  if (outputs.trace) {
    r.trace = chrome_trace_json(sim.workload->graph, sim.timeline, sim.link_loads);
  }
  if (outputs.dag) {
    const auto& w = *sim.workload;
    r.dag = dag_csv(w.graph, [&w](core::OpId op) {
      const auto& work = w.work[op];
      const bool compute = work.call == net::OpWork::kCompute;
      // What the op does, from its args; the transfer graph's index is left out (it moves
      // when a call is added before it).
      std::string what;
      for (const auto& [key, value] : w.graph.op_args(op)) {
        if (key == "algorithm_graph") continue;
        fmt::format_to(std::back_inserter(what), "{}{}{}{}", what.empty() ? "" : " ",
                       key == "work" ? "" : key, key == "work" ? "" : "=", value);
      }
      return DagRow{std::string(model::name(w.category[op])), compute ? work.duration.count() : 0,
                    what};
    });
  }
  return r;
}

std::vector<double> summary_values(model::Mode mode, const PointResult& r, std::int64_t gpus) {
  using model::Category;
  const auto& c = r.breakdown.critical_rank();
  const double t = r.breakdown.makespan.seconds();
  std::vector<double> v{
      static_cast<double>(gpus),
      t * 1e3,
      a2a_busy(c).milliseconds(),
      a2a_exposed(c).milliseconds(),
      c.compute.milliseconds(),
      busy(c, Category::kTp).milliseconds(),
      busy(c, Category::kDp).milliseconds(),
      c.idle.milliseconds(),
      mode == model::Mode::kInfer && t > 0 ? static_cast<double>(r.tokens) / t : std::nan(""),
      r.a2a_bytes / kGiB,
      r.memory.total() / kGiB,
      c.host.milliseconds()};
  const auto nan = std::nan("");
  const auto& sv = r.serving;
  for (const double x :
       {sv ? sv->ttft.milliseconds() : nan, sv && sv->decodes ? sv->tpot_mean.milliseconds() : nan,
        sv ? sv->e2e_mean.milliseconds() : nan, sv ? sv->e2e_p90.milliseconds() : nan,
        sv ? sv->prefill_tokens_per_s : nan, sv && sv->decodes ? sv->decode_tokens_per_s : nan}) {
    v.push_back(x);
  }
  for (std::size_t k = 0; k < model::kCategoryCount; ++k) {
    if (model::is_compute(static_cast<Category>(k))) v.push_back(c.busy[k].milliseconds());
  }
  return v;
}

std::size_t summary_value_count() {
  std::size_t compute = 0;
  for (std::size_t k = 0; k < model::kCategoryCount; ++k) {
    compute += model::is_compute(static_cast<model::Category>(k));
  }
  return kSummaryHostColumn + 1 + kServingColumns + compute;
}

namespace {
// The summary's own columns before and after the extra ones.
constexpr std::array<std::string_view, 5> kLeadingColumns{"experiment", "point", "schedule", "mode",
                                                          "implementation"};
constexpr std::array<std::string_view, 13 + kServingColumns> kValueColumns{"gpus",
                                                                           "time_ms",
                                                                           "speedup",
                                                                           "a2a_ms",
                                                                           "a2a_exposed_ms",
                                                                           "compute_ms",
                                                                           "tp_comm_ms",
                                                                           "dp_comm_ms",
                                                                           "idle_ms",
                                                                           "tokens_per_s",
                                                                           "a2a_gib",
                                                                           "memory_gib",
                                                                           "host_ms",
                                                                           "ttft_ms",
                                                                           "tpot_ms",
                                                                           "e2e_mean_ms",
                                                                           "e2e_p90_ms",
                                                                           "prefill_tokens_per_s",
                                                                           "decode_tokens_per_s"};
}  // namespace

bool is_summary_column(std::string_view name) {
  return std::find(kLeadingColumns.begin(), kLeadingColumns.end(), name) != kLeadingColumns.end() ||
         std::find(kValueColumns.begin(), kValueColumns.end(), name) != kValueColumns.end();
}

std::string summary_csv(const std::string& experiment,
                        const std::vector<std::string>& extra_columns,
                        const std::vector<SummaryRow>& rows) {
  using model::Category;
  std::string out;
  for (const auto column : kLeadingColumns) out += (out.empty() ? "" : ",") + std::string(column);
  for (const auto& column : extra_columns) {
    if (is_summary_column(column)) {
      throw std::logic_error(fmt::format("summary.csv: an extra column named {}", column));
    }
    out += "," + csv_field(column);
  }
  for (const auto column : kValueColumns) out += "," + std::string(column);
  for (std::size_t c = 0; c < model::kCategoryCount; ++c) {
    if (model::is_compute(static_cast<Category>(c))) {
      out += fmt::format(",{}_ms", model::name(static_cast<Category>(c)));
    }
  }
  out += '\n';
  for (const auto& row : rows) {
    out += fmt::format("{},{},{},{},{}", csv_field(experiment), csv_field(row.point),
                       csv_field(row.schedule), config::enum_name(row.mode),
                       csv_field(row.implementation));
    for (const auto& cell : row.extra) out += "," + csv_field(cell);
    for (std::size_t i = 0; i < row.values.size(); ++i) {
      const double x = row.values[i];
      if (std::isnan(x)) {
        out += ",";
      } else if (i == 0) {
        out += fmt::format(",{:.0f}", x);
      } else if (i == kSummaryTokensColumn) {
        out += fmt::format(",{:.1f}", x);
      } else if (i == kSummaryGibColumn || i == kSummaryMemoryColumn) {
        out += fmt::format(",{:.4f}", x);
      } else {
        out += fmt::format(",{:.6f}", x);
      }
      if (i == kSummaryTimeColumn) out += fmt::format(",{:.4f}", x > 0 ? row.baseline_ms / x : 0.0);
    }
    out += '\n';
  }
  return out;
}

std::vector<SummaryRow> summary_rows(model::Mode mode, const std::string& implementation,
                                     std::int64_t gpus, const std::vector<PointResult>& results) {
  std::vector<SummaryRow> rows;
  for (const auto& r : results) {
    rows.push_back({r.schedule.name,
                    r.schedule.name,
                    mode,
                    implementation,
                    {},
                    summary_values(mode, r, gpus),
                    0});
    rows.back().baseline_ms = rows.front().values[kSummaryTimeColumn];
  }
  return rows;
}

std::string summary_table(model::Mode mode, const std::vector<PointResult>& results) {
  using model::Category;
  using Table = TextTable;
  const bool infer = mode == model::Mode::kInfer;
  std::vector<Table::Column> columns{{"schedule", 18, Table::Align::kLeft},
                                     {"time [ms]", 10},
                                     {"speedup", 8},
                                     {"a2a [ms]", 9},
                                     {"exposed", 9},
                                     {"compute", 9},
                                     {"tp", 8},
                                     {"dp", 8},
                                     {"a2a [GiB]", 9},
                                     {"mem [GiB]", 9}};
  if (infer) columns.push_back({"tokens/s", 10});
  // The host column where the implementation costs host time.
  const bool host = std::any_of(results.begin(), results.end(), [](const PointResult& r) {
    return r.breakdown.critical_rank().host > core::Time::zero();
  });
  if (host) columns.push_back({"host", 9});
  Table summary(std::move(columns));
  if (results.empty()) return summary.render();
  const auto& b0 = results.front().breakdown;
  const auto a2a = [](const RankBreakdown& c) { return a2a_busy(c).seconds(); };
  const auto hidden = [](const RankBreakdown& c) {
    return (a2a_busy(c) - a2a_exposed(c)).seconds();
  };
  for (const auto& r : results) {
    const auto& c = r.breakdown.critical_rank();
    const double t = r.breakdown.makespan.seconds();
    const auto ms = [](double milliseconds) { return fmt::format("{:.3f}", milliseconds); };
    const bool changed =
        &r != &results.front() && !model_change(r.footprint, results.front().footprint).empty();
    std::vector<std::string> row{r.schedule.name + (changed ? "*" : ""),
                                 ms(t * 1e3),
                                 fmt::format("{:.3f}x", b0.makespan.seconds() / t),
                                 ms(a2a(c) * 1e3),
                                 ms(a2a_exposed(c).milliseconds()),
                                 ms(c.compute.milliseconds()),
                                 ms(busy(c, Category::kTp).milliseconds()),
                                 ms(busy(c, Category::kDp).milliseconds()),
                                 fmt::format("{:.2f}", r.a2a_bytes / kGiB),
                                 fmt::format("{:.2f}", r.memory.total() / kGiB)};
    if (infer) row.push_back(fmt::format("{:.0f}", static_cast<double>(r.tokens) / t));
    if (host) row.push_back(ms(c.host.milliseconds()));
    summary.add_row(std::move(row));
  }
  std::string out = summary.render() + model_notes(results) + memory_notes(mode, results) +
                    launch_notes(results) + serving_table(results);
  if (results.size() > 1) {
    out += fmt::format(
        "\nwhere each saving against {} comes from (critical rank, ms; positive = "
        "faster):\n",
        results.front().schedule.name);
    Table savings({{"schedule", 18, Table::Align::kLeft},
                   {"saved", 9},
                   {"a2a bytes", 13},
                   {"a2a overlap", 13},
                   {"compute", 13},
                   {"other", 9}});
    const auto& c0 = b0.critical_rank();
    // Milliseconds to three places, where a difference that rounds to zero prints as 0.000, not
    // -0.000 (the residual column is a difference of sums).
    const auto ms = [](double seconds) {
      constexpr double kHalfPrintedUnit = 5e-4;
      const double v = seconds * 1e3;
      return fmt::format("{:.3f}", std::abs(v) < kHalfPrintedUnit ? 0.0 : v);
    };
    for (std::size_t i = 1; i < results.size(); ++i) {
      const auto& c = results[i].breakdown.critical_rank();
      const double saved = (b0.makespan - results[i].breakdown.makespan).seconds();
      // Less all-to-all busy time is the bytes' doing; more of it hidden is the overlap's.
      const double bytes = a2a(c0) - a2a(c);
      const double overlap = hidden(c) - hidden(c0);
      const double compute = (c0.compute - c.compute).seconds();
      savings.add_row({results[i].schedule.name, ms(saved), ms(bytes), ms(overlap), ms(compute),
                       ms(saved - bytes - overlap - compute)});
    }
    out += savings.render();
  }
  return out;
}

}  // namespace moesim::report
