#pragma once
// The root of moesim's exception hierarchy. Libraries throw; only main() turns errors into exit
// codes. Subsystems derive their own (config, topology, CUDA, ...).
#include <stdexcept>
#include <string>

namespace moesim {

// A problem the user can fix (bad input, impossible configuration). main() prints what() alone.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace moesim

namespace moesim::core {

// The op graph is malformed: dangling dependency, cycle, inconsistent gang.
class GraphError : public moesim::Error {
 public:
  using moesim::Error::Error;
};

// The run cannot make progress: some ops can never start or never finish.
class DeadlockError : public moesim::Error {
 public:
  using moesim::Error::Error;
};

}  // namespace moesim::core
