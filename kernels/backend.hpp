#pragma once
// Where the MoE ops run for calibration and validation: a device backend with one interface and
// two implementations. `cuda` runs the CUDA kernels and cuBLAS on a GPU; `host` runs the CPU
// references and the BLAS on this machine, so that everything above this layer (the harness,
// the fits, the outputs) runs and is tested where there is no GPU. Buffers live on the backend's
// device; values cross as fp32 (converted to the buffer's precision on the way).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gating.hpp"

namespace moesim::kernels {

// kFp8: e4m3 inputs with fp32 accumulation and a bf16 result (GEMMs only; GPUs of compute
// capability 8.9 and later).
enum class Precision { kFp32, kBf16, kFp16, kFp8 };

struct DeviceInfo {
  std::string backend;  // "host" or "cuda"
  std::string device;   // GPU or CPU name
  std::string driver;   // CUDA driver version, or what stands for it
  std::string runtime;  // CUDA runtime version, or what stands for it
  std::string blas;     // cuBLAS or the host BLAS
  int multiprocessors = 0;
  std::int64_t memory_bytes = 0;  // device memory (0: not said)
  // Whether this GPU reaches its peers on this host over NVLink: P2P access with native
  // atomics, which NVLink carries and PCIe peer-to-peer does not.
  bool nvlink_peers = false;
};

// Memory on the backend's device.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual std::size_t bytes() const = 0;
  // The memory itself (device memory on a GPU), for communication libraries (comm.hpp).
  virtual void* data() = 0;
  virtual const void* data() const = 0;
};

// How an op is timed: one by one (each repetition between two events), or captured once into a
// CUDA graph that is then replayed (what a CUDA-graph framework pays per launch). The host
// backend has no graphs and times both the same way.
enum class Launch { kStream, kGraph };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const DeviceInfo& info() const = 0;
  virtual bool supports(Precision p) const = 0;
  // Bytes one element of `p` takes in this backend's buffers.
  virtual std::size_t element_bytes(Precision p) const = 0;

  virtual std::unique_ptr<Buffer> alloc(std::size_t bytes) = 0;
  virtual void upload(Buffer& to, std::span<const float> values, Precision p) = 0;
  virtual void upload_ints(Buffer& to, std::span<const std::int32_t> values) = 0;
  virtual std::vector<float> download(const Buffer& from, std::size_t count, Precision p) = 0;
  virtual std::vector<std::int32_t> download_ints(const Buffer& from, std::size_t count) = 0;
  // Element i of `to` becomes fill_value(seed, i) (fill.hpp), in precision p: test data made
  // on the device, which the host can recompute element by element.
  virtual void fill(Buffer& to, std::size_t count, Precision p, std::uint64_t seed) = 0;

  // The ops, as the CPU references define them (dense.hpp, gating.hpp, permute.hpp, lsh.hpp);
  // fp32 unless a precision is given. gemm: row-major C[m,n] = A[m,k] B[k,n]; in kFp8, B is
  // given transposed ([n,k], the layout FP8 tensor cores take) and C is bf16. Asynchronous on a
  // GPU: time() waits for them.
  virtual void gemm(Precision p, std::int64_t m, std::int64_t n, std::int64_t k, const Buffer& a,
                    const Buffer& b, Buffer& c) = 0;
  virtual void copy(const Buffer& from, Buffer& to, std::size_t bytes) = 0;
  virtual void softmax_rows(Buffer& x, std::int64_t rows, std::int64_t cols, bool causal) = 0;
  virtual void layer_norm(const Buffer& x, std::int64_t rows, std::int64_t cols, Buffer& out) = 0;
  virtual void gelu(const Buffer& x, std::int64_t count, Buffer& out) = 0;
  virtual void attention(const Buffer& q, const Buffer& k, const Buffer& v, std::int64_t batch,
                         std::int64_t heads, std::int64_t seq, std::int64_t head_dim, bool causal,
                         Buffer& out) = 0;
  virtual void gate(const Buffer& logits, const GateShape& shape, Buffer& experts,
                    Buffer& weights) = 0;
  virtual void gather(const Buffer& src, std::int64_t src_rows, const Buffer& index,
                      std::int64_t rows, std::int64_t row_bytes, Buffer& dst) = 0;
  virtual void combine(const Buffer& rows, std::int64_t width, const Buffer& slot,
                       const Buffer& weights, std::int64_t tokens, std::int64_t k, Buffer& out) = 0;
  virtual void lsh_codes(const Buffer& projected, std::int64_t tokens, std::int64_t hashes,
                         std::int64_t dims, Buffer& codes) = 0;
  virtual void nothing() = 0;  // an empty kernel: what launching one costs

  // Runs `op` `warmup` times, then `reps` times timed one by one: seconds each.
  virtual std::vector<double> time(const std::function<void()>& op, int warmup, int reps,
                                   Launch launch = Launch::kStream) = 0;
  // Waits until everything issued so far, on every lane, has finished.
  virtual void synchronize() = 0;
  // The CUDA stream the ops run on (cudaStream_t), null on the host: for communication
  // libraries that run on the same stream.
  virtual void* stream() = 0;
  // Lanes: the streams ops are issued on. Lane 0 (the default) carries compute, lane 1
  // communication, so that an exchange can run while compute does (validation replays programs
  // on both). The host backend runs everything in issue order: its lanes never overlap.
  static constexpr int kLanes = 2;
  virtual void use_lane(int lane) = 0;
  // A mark in the current lane's order (a CUDA event; the host's clock at the call), and the
  // seconds between two marks once both have passed (synchronize() first). The current lane
  // waits for everything issued before mark `id` on its own lane. clear_marks() forgets them.
  virtual int mark() = 0;
  virtual void wait_for(int id) = 0;
  virtual double seconds_between(int from, int to) = 0;
  virtual void clear_marks() = 0;
  // Seconds to move `bytes` from host memory to the device (pinned where the device has it).
  virtual double upload_seconds(std::size_t bytes) = 0;
};

// Throws std::invalid_argument unless 0 <= lane < Backend::kLanes.
void check_lane(int lane);

// The host backend (always). The CUDA backend (when built with CUDA): throws CudaError where no
// GPU is usable.
std::unique_ptr<Backend> make_host_backend();
std::unique_ptr<Backend> make_cuda_backend(int device);
bool cuda_backend_built();

}  // namespace moesim::kernels
