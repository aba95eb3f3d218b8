// Collectives between GPUs through NCCL, on the CUDA backend's current lane: the harness's
// nccl-tests-style sweeps. One rank per GPU; rank 0's unique id reaches the others over MPI.
#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "comm_impl.hpp"
#include "core/error.hpp"
#include "cuda_check.hpp"

namespace moesim::kernels {

namespace {

void nccl_check(ncclResult_t status, const char* call) {
  if (status != ncclSuccess) {
    throw CudaError(std::string(call) + " failed: " + ncclGetErrorString(status));
  }
}
#define MOESIM_NCCL_CHECK(call) nccl_check((call), #call)

class NcclCommunicator final : public Communicator {
 public:
  explicit NcclCommunicator(Backend& backend) : info_(world_layout()), backend_(backend) {
    if (backend.info().backend != "cuda") throw Error("NCCL collectives run on GPU buffers");
    int version = 0;
    MOESIM_NCCL_CHECK(ncclGetVersion(&version));
    info_.library = "NCCL " + std::to_string(version / 10000) + "." +
                    std::to_string(version % 10000 / 100) + "." + std::to_string(version % 100);
    ncclUniqueId id{};
    if (info_.rank == 0) MOESIM_NCCL_CHECK(ncclGetUniqueId(&id));
    const std::string shared = mpi_broadcast(std::string(id.internal, sizeof(id.internal)));
    std::copy(shared.begin(), shared.end(), id.internal);
    MOESIM_NCCL_CHECK(ncclCommInitRank(&comm_, info_.size, id, info_.rank));
  }
  ~NcclCommunicator() override { ncclCommDestroy(comm_); }
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;
  const CommInfo& info() const override { return info_; }

  // As nccl-tests and the MoE frameworks do it: one send and one receive per peer in a group.
  void all_to_allv(const Buffer& send, std::span<const std::size_t> send_counts, Buffer& recv,
                   std::span<const std::size_t> recv_counts) override {
    check_counts(send_counts, recv_counts, info_.size);
    const auto n = static_cast<std::size_t>(info_.size);
    const auto* from = static_cast<const float*>(send.data());
    auto* to = static_cast<float*>(recv.data());
    MOESIM_NCCL_CHECK(ncclGroupStart());
    for (std::size_t p = 0; p < n; ++p) {
      const int peer = static_cast<int>(p);
      MOESIM_NCCL_CHECK(ncclSend(from, send_counts[p], ncclFloat, peer, comm_, stream()));
      MOESIM_NCCL_CHECK(ncclRecv(to, recv_counts[p], ncclFloat, peer, comm_, stream()));
      from += send_counts[p];
      to += recv_counts[p];
    }
    MOESIM_NCCL_CHECK(ncclGroupEnd());
  }
  void all_reduce(const Buffer& send, Buffer& recv, std::size_t count) override {
    MOESIM_NCCL_CHECK(
        ncclAllReduce(send.data(), recv.data(), count, ncclFloat, ncclSum, comm_, stream()));
  }
  void all_gather(const Buffer& send, Buffer& recv, std::size_t count) override {
    MOESIM_NCCL_CHECK(ncclAllGather(send.data(), recv.data(), count, ncclFloat, comm_, stream()));
  }
  void reduce_scatter(const Buffer& send, Buffer& recv, std::size_t count) override {
    MOESIM_NCCL_CHECK(
        ncclReduceScatter(send.data(), recv.data(), count, ncclFloat, ncclSum, comm_, stream()));
  }
  void send_recv(const Buffer& send, Buffer& recv, std::size_t count) override {
    const int next = (info_.rank + 1) % info_.size;
    const int previous = (info_.rank + info_.size - 1) % info_.size;
    MOESIM_NCCL_CHECK(ncclGroupStart());
    MOESIM_NCCL_CHECK(ncclSend(send.data(), count, ncclFloat, next, comm_, stream()));
    MOESIM_NCCL_CHECK(ncclRecv(recv.data(), count, ncclFloat, previous, comm_, stream()));
    MOESIM_NCCL_CHECK(ncclGroupEnd());
  }
  void barrier() override { mpi_barrier(); }
  double max_over_ranks(double value) override { return mpi_max(value); }
  std::int64_t sum_over_ranks(std::int64_t value) override { return mpi_sum(value); }
  std::string broadcast(const std::string& from_root) override { return mpi_broadcast(from_root); }

 private:
  // The backend's current lane: collectives go where the caller put them.
  cudaStream_t stream() { return static_cast<cudaStream_t>(backend_.stream()); }
  CommInfo info_;
  Backend& backend_;
  ncclComm_t comm_{};
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Backend& backend) {
  return std::make_unique<NcclCommunicator>(backend);
}

}  // namespace moesim::kernels
