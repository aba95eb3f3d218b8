// Collectives between host processes through MPI: the host backend's way of running the
// harness's collective sweeps (its buffers are host memory).
#include <mpi.h>

#include <climits>
#include <string>
#include <vector>

#include "comm_impl.hpp"
#include "core/error.hpp"

namespace moesim::kernels {

namespace {

int mpi_count(std::size_t count) {
  if (count > static_cast<std::size_t>(INT_MAX)) {
    throw Error("MPI collective of " + std::to_string(count) +
                " elements: more than MPI's int counts hold");
  }
  return static_cast<int>(count);
}

void check(int status, const char* call) {
  if (status != MPI_SUCCESS) throw Error(std::string(call) + " failed");
}

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(Backend& backend) : info_(world_layout()) {
    if (backend.info().backend != "host") {
      throw Error("MPI collectives run on host buffers; GPUs exchange through NCCL");
    }
    int major = 0, minor = 0;
    MPI_Get_version(&major, &minor);
    char library[MPI_MAX_LIBRARY_VERSION_STRING];
    int length = 0;
    MPI_Get_library_version(library, &length);
    std::string text(library, static_cast<std::size_t>(length));
    info_.library = text.substr(0, text.find_first_of(",\n"));
  }
  const CommInfo& info() const override { return info_; }

  void all_to_allv(const Buffer& send, std::span<const std::size_t> send_counts, Buffer& recv,
                   std::span<const std::size_t> recv_counts) override {
    check_counts(send_counts, recv_counts, info_.size);
    const auto n = static_cast<std::size_t>(info_.size);
    std::vector<int> sc(n), sd(n), rc(n), rd(n);
    std::size_t s_off = 0, r_off = 0;
    for (std::size_t p = 0; p < n; ++p) {
      sc[p] = mpi_count(send_counts[p]);
      sd[p] = mpi_count(s_off);
      rc[p] = mpi_count(recv_counts[p]);
      rd[p] = mpi_count(r_off);
      s_off += send_counts[p];
      r_off += recv_counts[p];
    }
    check(MPI_Alltoallv(send.data(), sc.data(), sd.data(), MPI_FLOAT, recv.data(), rc.data(),
                        rd.data(), MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Alltoallv");
  }
  void all_reduce(const Buffer& send, Buffer& recv, std::size_t count) override {
    check(MPI_Allreduce(send.data(), recv.data(), mpi_count(count), MPI_FLOAT, MPI_SUM,
                        MPI_COMM_WORLD),
          "MPI_Allreduce");
  }
  void all_gather(const Buffer& send, Buffer& recv, std::size_t count) override {
    check(MPI_Allgather(send.data(), mpi_count(count), MPI_FLOAT, recv.data(), mpi_count(count),
                        MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Allgather");
  }
  void reduce_scatter(const Buffer& send, Buffer& recv, std::size_t count) override {
    check(MPI_Reduce_scatter_block(send.data(), recv.data(), mpi_count(count), MPI_FLOAT, MPI_SUM,
                                   MPI_COMM_WORLD),
          "MPI_Reduce_scatter_block");
  }
  void send_recv(const Buffer& send, Buffer& recv, std::size_t count) override {
    const int next = (info_.rank + 1) % info_.size;
    const int previous = (info_.rank + info_.size - 1) % info_.size;
    check(MPI_Sendrecv(send.data(), mpi_count(count), MPI_FLOAT, next, 0, recv.data(),
                       mpi_count(count), MPI_FLOAT, previous, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "MPI_Sendrecv");
  }
  void barrier() override { mpi_barrier(); }
  double max_over_ranks(double value) override { return mpi_max(value); }
  std::int64_t sum_over_ranks(std::int64_t value) override { return mpi_sum(value); }
  std::string broadcast(const std::string& from_root) override { return mpi_broadcast(from_root); }

 private:
  CommInfo info_;
};

}  // namespace

void mpi_barrier() {
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
}

double mpi_max(double value) {
  double out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

std::int64_t mpi_sum(std::int64_t value) {
  std::int64_t out = 0;
  check(MPI_Allreduce(&value, &out, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  return out;
}

std::string mpi_broadcast(const std::string& from_root) {
  long long length = static_cast<long long>(from_root.size());
  check(MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD), "MPI_Bcast");
  std::string out = from_root;
  out.resize(static_cast<std::size_t>(length));
  check(MPI_Bcast(out.data(), mpi_count(out.size()), MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return out;
}

std::unique_ptr<Communicator> make_mpi_communicator(Backend& backend) {
  return std::make_unique<MpiCommunicator>(backend);
}

}  // namespace moesim::kernels
