#include "fidelity_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include "config/document.hpp"
#include "config/enum_name.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "parallel.hpp"
#include "report/csv.hpp"
#include "report/output_dir.hpp"
#include "report/text_table.hpp"
#include "study.hpp"

namespace moesim::cli {

namespace fs = std::filesystem;

namespace {

constexpr double kTera = 1e12;
constexpr double kGiga = 1e9;  // GB/s, as nccl-tests and DeepEP print them
constexpr double kMsPerS = 1e3;
constexpr double kMicrosPerS = 1e6;

struct Case {
  fs::path file;
  std::string suite;  // the folder it is in
  std::string name;   // its file name without .yaml
  ExperimentConfig experiment;
};

struct Outcome {
  double predicted = 0;
  double error = 0;  // (predicted - published) / published
};

// Sequences of one training iteration (all ranks) or of one inference batch.
double sequences(const ExperimentConfig& e) {
  const auto& m = e.model;
  if (e.mode == model::Mode::kTrain && m.global_batch > 0) {
    return static_cast<double>(m.global_batch);
  }
  return static_cast<double>(m.micro_batch * e.parallel.ep * e.parallel.dp);
}

bool network_metric(FidelityMetric m) {
  return m == FidelityMetric::kTimeUs || m == FidelityMetric::kAlgbwGbps ||
         m == FidelityMetric::kBusbwGbps;
}

void check_case(const Case& c, const config::Document& document) {
  const auto& e = c.experiment;
  if (!e.fidelity) {
    throw document.error_at("fidelity", "a fidelity case needs its published measurement");
  }
  if (e.sweep || e.synthetic) {
    throw config::ConfigError(fmt::format(
        "{}: a fidelity case is one study, without sweep or synthetic", c.file.string()));
  }
  const auto metric = e.fidelity->metric;
  if (e.collective && e.dispatch) {
    throw document.error_at("dispatch", "a case is a collective or a dispatch, not both");
  }
  if (e.collective.has_value() != network_metric(metric)) {
    throw document.error_at(e.collective ? "fidelity.metric" : "collective",
                            e.collective ? "a collective is measured in time_us, algbw_gbps or "
                                           "busbw_gbps"
                                         : "time_us, algbw_gbps and busbw_gbps need a collective");
  }
  if (e.dispatch.has_value() != (metric == FidelityMetric::kDispatchGbps)) {
    throw document.error_at(
        e.dispatch ? "fidelity.metric" : "dispatch",
        e.dispatch ? "a dispatch is measured in dispatch_gbps" : "dispatch_gbps needs a dispatch");
  }
  if (e.collective || e.dispatch) return;
  if (e.schedules.size() > 1) {
    throw document.error_at("schedules", "a fidelity case runs one schedule");
  }
  const bool first_token = e.fidelity->metric == FidelityMetric::kFirstTokenMs;
  if (first_token != (e.mode == model::Mode::kInfer)) {
    throw document.error_at("fidelity.metric", first_token ? "first_token_ms needs mode: infer"
                                                           : "a training metric needs mode: train");
  }
  if (first_token && e.inference.generate != 0) {
    throw document.error_at("inference.generate",
                            "first_token_ms is the prefill alone: generate must be 0");
  }
  if ((e.fidelity->metric == FidelityMetric::kTflopsPerGpu) !=
      (e.fidelity->flops != FlopsFormula::kNone)) {
    throw document.error_at("fidelity.flops",
                            "tflops_per_gpu needs the source's formula, and only it takes one");
  }
}

std::vector<Case> load_cases(const FidelityOptions& o) {
  std::vector<fs::path> roots;
  for (const auto& p : o.paths) roots.emplace_back(p);
  if (roots.empty()) roots.push_back(data_dir() / "experiments" / "fidelity");
  std::vector<Case> cases;
  for (const auto& root : roots) {
    std::vector<fs::path> files;
    if (fs::is_directory(root)) {
      for (const auto& entry : fs::recursive_directory_iterator(root)) {
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
          files.push_back(entry.path());
        }
      }
      std::sort(files.begin(), files.end());
    } else if (fs::is_regular_file(root)) {
      files.push_back(root);
    } else {
      throw config::ConfigError(fmt::format("{}: no such file or folder", root.string()));
    }
    for (const auto& file : files) {
      auto document = config::Document::load_file(file.string(), data_dir() / kModelPresets);
      Case c{file, file.parent_path().filename().string(), file.stem().string(),
             read_experiment(document, file.parent_path())};
      check_case(c, document);
      cases.push_back(std::move(c));
    }
  }
  if (cases.empty()) throw config::ConfigError("fidelity: no cases found");
  return cases;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The first word of a source (its URL or repository): how sources are told apart in summaries.
std::string source_key(const std::string& source) {
  auto key = source.substr(0, source.find(' '));
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) key = key.substr(scheme.size());
  }
  // A repository or site: host and the first two path parts at most.
  std::size_t cut = 0;
  for (int parts = 0; parts < 3 && cut != std::string::npos; ++parts) {
    cut = key.find('/', cut == 0 ? 0 : cut + 1);
  }
  return cut == std::string::npos ? key : key.substr(0, cut);
}

}  // namespace

double formula_flops(FlopsFormula formula, const model::ModelConfig& m, double batch) {
  // Narayanan et al., "Efficient Large-Scale Language Model Training on GPU Clusters" (SC21),
  // eq. 3: 96 B s l h^2 (1 + s / 6h + V / 16 l h), with activation recomputation's forward.
  const double s = static_cast<double>(m.seq_len), l = static_cast<double>(m.layers),
               h = static_cast<double>(m.hidden), v = static_cast<double>(m.vocab);
  const double recomputed = 96 * batch * s * l * h * h * (1 + s / (6 * h) + v / (16 * l * h));
  constexpr double kWithoutRecomputation = 3.0 / 4;  // three passes of the four
  switch (formula) {
    case FlopsFormula::kMegatron:
      return recomputed;
    case FlopsFormula::kMegatronModel:
      return recomputed * kWithoutRecomputation;
    case FlopsFormula::kNone:
      break;
  }
  return 0;
}

double predicted_metric(const ExperimentConfig& e, const report::PointResult& r) {
  const double seconds = r.breakdown.makespan.seconds();
  const double gpus = static_cast<double>(e.parallel.world());
  switch (e.fidelity->metric) {
    case FidelityMetric::kIterationMs:
    case FidelityMetric::kFirstTokenMs:
      return seconds * kMsPerS;
    case FidelityMetric::kTokensPerSecondGpu:
      return sequences(e) * static_cast<double>(e.model.seq_len) / seconds / gpus;
    case FidelityMetric::kSamplesPerSecond:
      return sequences(e) / seconds;
    case FidelityMetric::kTflopsPerGpu:
      return formula_flops(e.fidelity->flops, e.model, sequences(e)) / seconds / gpus / kTera;
    case FidelityMetric::kTimeUs:
    case FidelityMetric::kAlgbwGbps:
    case FidelityMetric::kBusbwGbps:
    case FidelityMetric::kDispatchGbps:
      break;  // not a study's: network_metric()
  }
  return 0;
}

double network_metric(const ExperimentConfig& e, const topo::Cluster& cluster) {
  const auto metric = e.fidelity->metric;
  if (e.dispatch) {
    const auto played = play_dispatch(cluster, *e.dispatch);
    return played.counted_bytes / played.seconds / kGiga;
  }
  const auto& c = *e.collective;
  const auto played = play_collective(cluster, {}, c, "flow", {});
  const double algbw = static_cast<double>(c.size.count) / played.seconds / kGiga;
  switch (metric) {
    case FidelityMetric::kTimeUs:
      return played.seconds * kMicrosPerS;
    case FidelityMetric::kAlgbwGbps:
      return algbw;
    default:
      return algbw * net::busbw_factor(collective_named(c.op).kind,
                                       static_cast<int>(cluster.gpus().size()));
  }
}

void fidelity(const FidelityOptions& o, std::ostream& out, std::ostream& err) {
  const auto cases = load_cases(o);
  std::vector<Outcome> outcomes(cases.size());
  std::vector<std::string> names;
  for (const auto& c : cases) names.push_back(c.suite + "/" + c.name);
  ParallelProgress shown(err, names);
  std::atomic<std::size_t> done{0};
  run_parallel(cases.size(), o.jobs, [&](std::size_t i) {
    const auto& c = cases[i];
    const auto& e = c.experiment;
    try {
      if (e.collective || e.dispatch) {
        outcomes[i].predicted = network_metric(e, load_cluster_of(e, c.file.parent_path()));
      } else {
        const auto inputs = load_inputs_of(e, c.file.parent_path());
        check_schedules(e, inputs);
        const auto result = run_point(e, schedules_of(e).front(), inputs, {},
                                      o.progress ? shown.callback(i) : core::ProgressCallback{});
        outcomes[i].predicted = predicted_metric(e, result);
      }
    } catch (const config::ConfigError& error) {
      throw config::ConfigError(fmt::format("{}: {}", c.file.string(), error.what()));
    }
    const double published = e.fidelity->published;
    outcomes[i].error = (outcomes[i].predicted - published) / published;
    if (o.progress) {
      shown.finished(i, fmt::format("[moesim] {}/{} {}: {:+.1f}%", ++done, cases.size(), names[i],
                                    100 * outcomes[i].error));
    }
  });

  using Table = report::TextTable;
  Table table({{"case", 4, Table::Align::kLeft},
               {"metric", 6, Table::Align::kLeft},
               {"published", 9},
               {"predicted", 9},
               {"error", 7},
               {"bound", 5, Table::Align::kLeft}});
  std::string csv = "suite,case,metric,published,predicted,error_pct,bound,source\n";
  std::map<std::string, std::vector<std::size_t>> suites;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& f = *c.experiment.fidelity;
    const auto metric = config::enum_name(f.metric);
    table.add_row({names[i], std::string(metric), fmt::format("{:.4g}", f.published),
                   fmt::format("{:.4g}", outcomes[i].predicted),
                   fmt::format("{:+.1f}%", 100 * outcomes[i].error), f.bound});
    csv += fmt::format("{},{},{},{},{:.6g},{:.2f},{},{}\n", report::csv_field(c.suite),
                       report::csv_field(c.name), metric, f.published, outcomes[i].predicted,
                       100 * outcomes[i].error, report::csv_field(f.bound),
                       report::csv_field(f.source));
    suites[c.suite].push_back(i);
  }
  out << table.render();
  std::string over;
  for (const auto& [suite, members] : suites) {
    std::vector<double> errors;
    std::set<std::string> sources;
    std::size_t worst = members.front();
    for (const auto i : members) {
      errors.push_back(std::abs(outcomes[i].error));
      sources.insert(source_key(cases[i].experiment.fidelity->source));
      if (std::abs(outcomes[i].error) > std::abs(outcomes[worst].error)) worst = i;
    }
    const double m = 100 * median(errors);
    out << fmt::format(
        "{}: median |error| {:.1f}% over {} cases from {} sources; worst {} {:+.1f}%\n", suite, m,
        members.size(), sources.size(), names[worst], 100 * outcomes[worst].error);
    if (o.max_median_error > 0 && m > o.max_median_error) {
      over += fmt::format("{}{} {:.1f}%", over.empty() ? "" : ", ", suite, m);
    }
  }
  report::OutputDir dir(o.out);
  const auto written = dir.write("fidelity.csv", csv);
  dir.commit();
  out << fmt::format("wrote {}\n", written.string());
  if (!over.empty()) {
    throw Error(
        fmt::format("fidelity: median |error| above {:.1f}%: {}", o.max_median_error, over));
  }
}

}  // namespace moesim::cli
