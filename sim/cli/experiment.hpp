#pragma once
// An experiment file: what to simulate. With no file, `moesim run` uses these defaults.
#include <string>

#include "config/check.hpp"
#include "synthetic/synthetic.hpp"

namespace moesim::cli {

struct ExperimentConfig {
  std::string name = "synthetic-demo";
  synthetic::SyntheticConfig synthetic;

  template <class V>
  void fields(V& v) {
    v.field("name", name, "names the run and its default output folder out/<name>");
    v.field("synthetic", synthetic, "a layered compute/exchange workload");
  }
};

}  // namespace moesim::cli
