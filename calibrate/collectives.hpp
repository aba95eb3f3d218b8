#pragma once
// The collective sweep, as nccl-tests runs it: each of all-to-all, all-reduce, all-gather,
// reduce-scatter and send/recv over the plan's sizes (bytes per rank as nccl-tests prints
// them), fp32 elements, every rank's results checked, printed in nccl-tests' columns (size,
// count, type, time, algbw, busbw, #wrong) on rank 0.
#include <iosfwd>
#include <string>
#include <string_view>

#include "comm.hpp"
#include "driver.hpp"

namespace moesim::calibrate {

// nccl-tests' bus-bandwidth factor: busbw = algbw x factor (all-reduce 2(n-1)/n; all-gather,
// reduce-scatter, all-to-all (n-1)/n; send/recv 1). Throws std::invalid_argument for another op.
double bus_factor(std::string_view op, int ranks);

// Runs the sweep through `driver` (its measurements carry ranks and `link`); `table` (rank 0,
// may be null) gets the nccl-tests-style lines.
void sweep_collectives(Driver& driver, kernels::Communicator& comm, const std::string& link,
                       std::ostream* table);

}  // namespace moesim::calibrate
