#pragma once
// `moesim figures [--out DIR] [-j N] [--only NAME,...]`: every figure listed in
// experiments/figures.yaml, from scratch: runs experiments/<name>.yaml as a sweep into
// DIR/<name>/summary.csv, then draws it with plots/<name>.py into DIR/<name>/<name>.png and .pdf.
#include <iosfwd>
#include <string>
#include <vector>

namespace moesim::cli {

struct FiguresOptions {
  std::string out = "out/figures";
  int jobs = 0;                   // 0: every core
  std::vector<std::string> only;  // empty: all
  bool progress = true;
};

void figures(const FiguresOptions& options, std::ostream& out, std::ostream& err);

}  // namespace moesim::cli
