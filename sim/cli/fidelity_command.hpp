#pragma once
// `moesim fidelity [PATH ...] [-j N] [--out DIR] [--max-median-error P]`: every published
// measurement of experiments/fidelity/ (or the files and folders given) predicted and held
// against the published value: per case the error, per suite (the case's folder) the median
// and worst absolute error. Writes DIR/fidelity.csv. With --max-median-error, a suite whose
// median absolute error exceeds P percent fails the run.
#include <iosfwd>
#include <string>
#include <vector>

#include "experiment.hpp"
#include "report/study_summary.hpp"

namespace moesim::cli {

struct FidelityOptions {
  std::vector<std::string> paths;  // files or folders; empty: <data>/experiments/fidelity
  std::string out = "out/fidelity";
  int jobs = 1;
  double max_median_error = 0;  // percent; 0: report only
  bool progress = true;
};

void fidelity(const FidelityOptions& options, std::ostream& out, std::ostream& err);

// The case's metric from its simulation (FidelityMetric's unit).
double predicted_metric(const ExperimentConfig& e, const report::PointResult& result);
// A collective or dispatch case's metric, played on its cluster.
double network_metric(const ExperimentConfig& e, const topo::Cluster& cluster);
// An iteration's FLOPs as the source counts them (FlopsFormula); dense GPT shapes.
double formula_flops(FlopsFormula formula, const model::ModelConfig& m, double sequences);

}  // namespace moesim::cli
