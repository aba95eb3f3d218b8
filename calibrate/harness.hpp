#pragma once
// One calibration run: the op table on one device (rank 0; the other ranks wait), then the
// collective sweep over every rank. What it measured goes to the fits (fit.hpp,
// network_fit.hpp) and the outputs (outputs.hpp).
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "comm.hpp"
#include "driver.hpp"

namespace moesim::calibrate {

struct HarnessResult {
  std::vector<Measurement> measurements;
  std::vector<std::string> skipped;
  std::vector<std::pair<std::string, std::string>> ops;  // (name, what) of the ops run
};

// The link class the ranks' collectives cross: "network" across hosts; on one host "nvlink"
// where the GPUs reach each other over NVLink, else "pcie".
std::string link_class(const kernels::Backend& backend, const kernels::Communicator& comm);

// `log` (rank 0; may be null) gets a line per case and the collectives' table.
HarnessResult run_harness(kernels::Backend& backend, kernels::Communicator& comm, const Plan& plan,
                          const std::string& link, std::ostream* log);

}  // namespace moesim::calibrate
