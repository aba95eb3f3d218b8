#include "harness.hpp"

#include <fmt/format.h>

#include <ostream>

#include "collectives.hpp"
#include "ops.hpp"

namespace moesim::calibrate {

std::string link_class(const kernels::Backend& backend, const kernels::Communicator& comm) {
  if (comm.info().hosts > 1) return "network";
  return backend.info().nvlink_peers ? "nvlink" : "pcie";
}

HarnessResult run_harness(kernels::Backend& backend, kernels::Communicator& comm, const Plan& plan,
                          const std::string& link, std::ostream* log) {
  HarnessResult result;
  Driver driver(backend, plan, log);
  if (comm.info().rank == 0) {
    for (const auto& entry : op_table()) {
      if (log != nullptr) *log << fmt::format("# {}: {}\n", entry.name, entry.what);
      entry.sweep(driver);
      result.ops.emplace_back(std::string(entry.name), std::string(entry.what));
    }
  }
  comm.barrier();
  if (comm.info().size > 1) {
    Driver collectives(backend, plan, nullptr);
    sweep_collectives(collectives, comm, link, log);
    result.measurements = driver.measurements();
    for (const auto& m : collectives.measurements()) result.measurements.push_back(m);
  } else {
    result.measurements = driver.measurements();
  }
  result.skipped = driver.skipped();
  return result;
}

}  // namespace moesim::calibrate
