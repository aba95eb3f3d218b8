#pragma once
// `moesim sweep EXPERIMENT.yaml [-j N] [--set ...] [--out DIR]`: every point of the file's
// `sweep:` grid (a file without one is a single point), each of its schedules, into one
// summary.csv. -j N runs N points at once; under mpirun the points are spread over the ranks
// and rank 0 writes. The CSV is the same byte for byte however the work was spread.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "experiment.hpp"
#include "mpi_session.hpp"

namespace moesim::cli {

struct SweepOptions {
  std::string experiment;
  std::vector<std::string> overrides;  // key.path=value, before each point's own
  std::optional<std::string> out;      // default: out/<name>
  int jobs = 1;
  bool progress = true;
};

// One point of a sweep: its label, the assignments that make it, and its cells in the axis
// columns.
struct SweepPoint {
  std::string label;
  std::string base;  // file merged over the experiment first, if any
  std::vector<std::string> assignments;
  std::vector<std::string> cells;
};
// The points of a grid in order (the explicit points, or one unnamed point, times the axes;
// the first varies slowest) and the names of the extra columns that tell them apart. Throws
// ConfigError for an axis without values or duplicate labels.
std::vector<SweepPoint> sweep_points(const SweepConfig& sweep);
std::vector<std::string> sweep_columns(const SweepConfig& sweep);

// Returns the folder written (rank 0; other ranks: empty), validating every point before
// running any.
std::string sweep(const SweepOptions& options, const MpiSession& mpi, std::ostream& out,
                  std::ostream& err);

}  // namespace moesim::cli
