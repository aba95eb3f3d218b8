#pragma once
// What the commands that run on devices share (calibrate, validate): the backend a rank takes,
// today's date for provenance, and running a command so that one rank's failure ends them all.
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>

#include "backend.hpp"
#include "mpi_session.hpp"

namespace moesim::cli {

// --device cuda (this rank's GPU: the ranks of a host take its GPUs in turn) or host. Throws
// ConfigError on another name, moesim::Error where no GPU is usable.
std::unique_ptr<kernels::Backend> make_device_backend(const std::string& device);

// YYYY-MM-DD, UTC.
std::string today_utc();

// Runs `body` in an MPI session; an exception on one rank of several is printed and ends every
// rank (the others may be waiting in a collective), else it propagates.
void run_on_ranks(const std::function<void(const MpiSession&)>& body, std::ostream& err);

}  // namespace moesim::cli
