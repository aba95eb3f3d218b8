#pragma once
// The communicators behind make_communicator() (comm.hpp), each built where its library is.
#include <memory>
#include <span>

#include "comm.hpp"

namespace moesim::kernels {

// This process alone: every collective copies its own block.
std::unique_ptr<Communicator> make_self_communicator(Backend& backend);
#if MOESIM_WITH_MPI
// MPI_COMM_WORLD over host buffers.
std::unique_ptr<Communicator> make_mpi_communicator(Backend& backend);
// What every communicator over MPI_COMM_WORLD does the same way (Communicator's barrier,
// max_over_ranks, sum_over_ranks, broadcast).
void mpi_barrier();
double mpi_max(double value);
std::int64_t mpi_sum(std::int64_t value);
std::string mpi_broadcast(const std::string& from_root);
#endif
#if MOESIM_WITH_NCCL
// NCCL over the CUDA backend's buffers and stream; the unique id travels over MPI.
std::unique_ptr<Communicator> make_nccl_communicator(Backend& backend);
#endif
// Throws moesim::Error unless there is one send and one receive count per rank.
void check_counts(std::span<const std::size_t> send_counts,
                  std::span<const std::size_t> recv_counts, int ranks);

// Rank layout from MPI (rank, size, local rank, hosts), or one rank of one without it.
CommInfo world_layout();

}  // namespace moesim::kernels
