#include "mpi_session.hpp"

#include <cstdlib>

#include "core/error.hpp"

#if MOESIM_WITH_MPI
#include <mpi.h>
#endif

namespace moesim::cli {

namespace {
// Environment variables that Open MPI's and PMI-based launchers set in every rank.
bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}
}  // namespace

MpiSession::MpiSession(bool use_mpi) {
  if (!use_mpi || !launched_by_mpirun()) return;
#if MOESIM_WITH_MPI
  MPI_Init(nullptr, nullptr);
  active_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
#else
  throw Error("launched by mpirun, but this moesim was built without MPI (see moesim --version)");
#endif
}

MpiSession::~MpiSession() {
#if MOESIM_WITH_MPI
  if (active_) MPI_Finalize();
#endif
}

void MpiSession::abort(int code) const {
#if MOESIM_WITH_MPI
  if (active_) MPI_Abort(MPI_COMM_WORLD, code);
#else
  (void)code;
#endif
}

void MpiSession::sum_to_root(std::vector<double>& values) const {
#if MOESIM_WITH_MPI
  if (!active_) return;
  std::vector<double> total(values.size(), 0.0);
  MPI_Reduce(values.data(), total.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, 0,
             MPI_COMM_WORLD);
  if (rank_ == 0) values = std::move(total);
#else
  (void)values;
#endif
}

}  // namespace moesim::cli
