#pragma once
// Collectives between ranks, on a backend's buffers: NCCL between GPUs (its unique id passed
// over MPI), MPI between host processes, or a group of one. The operations are those of
// nccl-tests, on fp32 elements: all-to-all(v), all-reduce (sum), all-gather, reduce-scatter
// (sum) and send/recv around a ring. Ranks come from MPI_COMM_WORLD when MPI is initialised
// (the caller initialises it); otherwise the group is this process alone.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "backend.hpp"

namespace moesim::kernels {

struct CommInfo {
  std::string library;  // "NCCL 2.28.9", "Open MPI v4.1.4", "self"
  int rank = 0;
  int size = 1;
  int local_rank = 0;  // among the ranks on this host
  int hosts = 1;       // distinct hosts the ranks run on
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual const CommInfo& info() const = 0;

  // Rank r sends send_counts[p] elements to rank p from consecutive blocks of `send`, and
  // receives recv_counts[p] elements from rank p into consecutive blocks of `recv`.
  virtual void all_to_allv(const Buffer& send, std::span<const std::size_t> send_counts,
                           Buffer& recv, std::span<const std::size_t> recv_counts) = 0;
  // `count` elements, summed over ranks.
  virtual void all_reduce(const Buffer& send, Buffer& recv, std::size_t count) = 0;
  // Each rank contributes `count` elements; recv holds size() x count, in rank order.
  virtual void all_gather(const Buffer& send, Buffer& recv, std::size_t count) = 0;
  // send holds size() x count; rank r receives the sum of everyone's block r.
  virtual void reduce_scatter(const Buffer& send, Buffer& recv, std::size_t count) = 0;
  // Sends `count` elements to rank + 1 and receives as many from rank - 1 (around the ring).
  virtual void send_recv(const Buffer& send, Buffer& recv, std::size_t count) = 0;

  // Every rank waits for the others.
  virtual void barrier() = 0;
  // The largest of the ranks' values, on every rank.
  virtual double max_over_ranks(double value) = 0;
  // The sum of the ranks' integers, on every rank.
  virtual std::int64_t sum_over_ranks(std::int64_t value) = 0;
  // Rank 0's string, on every rank.
  virtual std::string broadcast(const std::string& from_root) = 0;

  // Times `op` as nccl-tests does: after `warmup` runs, each repetition starts after a barrier
  // and lasts until the slowest rank is done; seconds each, the same on every rank.
  std::vector<double> time(Backend& backend, const std::function<void()>& op, int warmup, int reps);

  // Equal blocks: all_to_allv with `count` elements to and from every rank.
  void all_to_all(const Buffer& send, Buffer& recv, std::size_t count);
};

// Whether this process runs under MPI with MPI initialised (a group larger than one is possible).
bool mpi_active();
// The communicator for `backend`: NCCL for the cuda backend, MPI for the host backend, each
// where it was built and MPI is active; otherwise this process alone. Throws moesim::Error where
// the backend's library is missing but more than one rank runs.
std::unique_ptr<Communicator> make_communicator(Backend& backend);
// Among the ranks on this host, this process's index (0 without MPI): which GPU to take.
int local_rank();

}  // namespace moesim::kernels
