#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

#include "comm.hpp"
#include "comm_impl.hpp"
#include "core/error.hpp"

#if MOESIM_WITH_MPI
#include <mpi.h>
#endif

namespace moesim::kernels {

namespace {

// Operations back to back in one timed repetition, as nccl-tests times `iters` of them and
// divides: the host's launch cost is then amortised as it is in a training step.
constexpr int kOpsPerRepetition = 5;

class SelfCommunicator final : public Communicator {
 public:
  explicit SelfCommunicator(Backend& backend) : backend_(backend) { info_.library = "self"; }
  const CommInfo& info() const override { return info_; }
  void all_to_allv(const Buffer& send, std::span<const std::size_t> send_counts, Buffer& recv,
                   std::span<const std::size_t> recv_counts) override {
    if (send_counts.size() != 1 || recv_counts.size() != 1 || send_counts[0] != recv_counts[0]) {
      throw Error("all_to_allv: a group of one sends its one block to itself");
    }
    copy(send, recv, send_counts[0]);
  }
  void all_reduce(const Buffer& send, Buffer& recv, std::size_t count) override {
    copy(send, recv, count);
  }
  void all_gather(const Buffer& send, Buffer& recv, std::size_t count) override {
    copy(send, recv, count);
  }
  void reduce_scatter(const Buffer& send, Buffer& recv, std::size_t count) override {
    copy(send, recv, count);
  }
  void send_recv(const Buffer& send, Buffer& recv, std::size_t count) override {
    copy(send, recv, count);
  }
  void barrier() override {}
  double max_over_ranks(double value) override { return value; }
  std::int64_t sum_over_ranks(std::int64_t value) override { return value; }
  std::string broadcast(const std::string& from_root) override { return from_root; }

 private:
  void copy(const Buffer& from, Buffer& to, std::size_t count) {
    backend_.copy(from, to, count * sizeof(float));
  }
  Backend& backend_;
  CommInfo info_;
};

}  // namespace

std::vector<double> Communicator::time(Backend& backend, const std::function<void()>& op,
                                       int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) op();
  backend.synchronize();
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    barrier();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kOpsPerRepetition; ++i) op();
    backend.synchronize();
    const double mine =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
        kOpsPerRepetition;
    out.push_back(max_over_ranks(mine));
  }
  return out;
}

void Communicator::all_to_all(const Buffer& send, Buffer& recv, std::size_t count) {
  const std::vector<std::size_t> counts(static_cast<std::size_t>(info().size), count);
  all_to_allv(send, counts, recv, counts);
}

bool mpi_active() {
#if MOESIM_WITH_MPI
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized != 0 && finalized == 0;
#else
  return false;
#endif
}

void check_counts(std::span<const std::size_t> send_counts,
                  std::span<const std::size_t> recv_counts, int ranks) {
  const auto n = static_cast<std::size_t>(ranks);
  if (send_counts.size() != n || recv_counts.size() != n) {
    throw Error("all_to_allv: one count per rank expected");
  }
}

CommInfo world_layout() {
  CommInfo info;
#if MOESIM_WITH_MPI
  if (!mpi_active()) return info;
  MPI_Comm_rank(MPI_COMM_WORLD, &info.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &info.size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, info.rank, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &info.local_rank);
  MPI_Comm_free(&local);
  const int first_on_host = info.local_rank == 0 ? 1 : 0;
  MPI_Allreduce(&first_on_host, &info.hosts, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
#endif
  return info;
}

int local_rank() {
  return world_layout().local_rank;
}

std::unique_ptr<Communicator> make_self_communicator(Backend& backend) {
  return std::make_unique<SelfCommunicator>(backend);
}

std::unique_ptr<Communicator> make_communicator(Backend& backend) {
  const CommInfo layout = world_layout();
  if (layout.size == 1) return make_self_communicator(backend);
  const bool cuda = backend.info().backend == "cuda";
#if MOESIM_WITH_NCCL
  if (cuda) return make_nccl_communicator(backend);
#endif
#if MOESIM_WITH_MPI
  if (!cuda) return make_mpi_communicator(backend);
#endif
  throw Error(cuda ? "collectives between GPUs need NCCL, and this moesim was built without it "
                     "(see moesim --version)"
                   : "collectives between host processes need MPI, and this moesim was built "
                     "without it (see moesim --version)");
}

}  // namespace moesim::kernels
