// The CUDA backend: the kernels of moe_kernels.cu and gather_rows.cu, GEMMs through cuBLAS, on
// one stream of one GPU, timed with CUDA events.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include "backend.hpp"
#include "cuda_check.hpp"
#include "gather_rows_cuda.hpp"
#include "moe_kernels_cuda.hpp"

namespace moesim::kernels {

namespace {

void cublas_check(cublasStatus_t status, const char* call) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw CudaError(std::string(call) + " failed: cuBLAS status " + std::to_string(status));
  }
}
#define MOESIM_CUBLAS_CHECK(call) cublas_check((call), #call)

class CudaBuffer final : public Buffer {
 public:
  explicit CudaBuffer(std::size_t bytes) : bytes_(bytes) {
    MOESIM_CUDA_CHECK(cudaMalloc(&data_, bytes == 0 ? 1 : bytes));
  }
  ~CudaBuffer() override { cudaFree(data_); }
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;
  std::size_t bytes() const override { return bytes_; }
  void* data() override { return data_; }
  const void* data() const override { return data_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_;
};

void* ptr(const Buffer& b) {
  return const_cast<void*>(b.data());
}
template <class T>
T* typed(const Buffer& b) {
  return static_cast<T*>(ptr(b));
}

cudaDataType_t cuda_type(Precision p) {
  switch (p) {
    case Precision::kBf16:
      return CUDA_R_16BF;
    case Precision::kFp16:
      return CUDA_R_16F;
    case Precision::kFp8:
      return CUDA_R_8F_E4M3;
    case Precision::kFp32:
      break;
  }
  return CUDA_R_32F;
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) {
    MOESIM_CUDA_CHECK(cudaSetDevice(device));
    cudaDeviceProp prop{};
    MOESIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    int driver = 0, runtime = 0, cublas = 0;
    MOESIM_CUDA_CHECK(cudaDriverGetVersion(&driver));
    MOESIM_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    for (auto& lane : lanes_) MOESIM_CUDA_CHECK(cudaStreamCreate(&lane));
    stream_ = lanes_[0];
    MOESIM_CUBLAS_CHECK(cublasCreate(&blas_));
    MOESIM_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
    MOESIM_CUBLAS_CHECK(cublasGetVersion(blas_, &cublas));
    MOESIM_CUBLAS_CHECK(cublasLtCreate(&lt_));
    info_.backend = "cuda";
    info_.device = prop.name;
    info_.driver = version(driver);
    info_.runtime = version(runtime);
    info_.blas = "cuBLAS " + std::to_string(cublas);
    info_.multiprocessors = prop.multiProcessorCount;
    info_.memory_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
    info_.nvlink_peers = nvlink_peers(device);
    bf16_ = prop.major >= 8;
    fp8_ = prop.major * 10 + prop.minor >= 89;  // Ada and Hopper tensor cores
  }
  ~CudaBackend() override {
    cublasLtDestroy(lt_);
    cublasDestroy(blas_);
    for (auto event : marks_) cudaEventDestroy(event);
    for (auto lane : lanes_) cudaStreamDestroy(lane);
  }
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const DeviceInfo& info() const override { return info_; }
  bool supports(Precision p) const override {
    if (p == Precision::kBf16) return bf16_;
    if (p == Precision::kFp8) return fp8_;
    return true;
  }
  std::size_t element_bytes(Precision p) const override {
    switch (p) {
      case Precision::kFp32:
        return sizeof(float);
      case Precision::kFp8:
        return 1;
      case Precision::kBf16:
      case Precision::kFp16:
        break;
    }
    return 2;
  }

  std::unique_ptr<Buffer> alloc(std::size_t bytes) override {
    return std::make_unique<CudaBuffer>(bytes);
  }
  void upload(Buffer& to, std::span<const float> values, Precision p) override {
    if (p == Precision::kFp32) {
      copy_in(to, values.data(), values.size() * sizeof(float));
    } else if (p == Precision::kBf16) {
      std::vector<__nv_bfloat16> v(values.size());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = __float2bfloat16(values[i]);
      copy_in(to, v.data(), v.size() * sizeof(v[0]));
    } else if (p == Precision::kFp8) {
      std::vector<__nv_fp8_e4m3> v(values.size());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = __nv_fp8_e4m3(values[i]);
      copy_in(to, v.data(), v.size() * sizeof(v[0]));
    } else {
      std::vector<__half> v(values.size());
      for (std::size_t i = 0; i < v.size(); ++i) v[i] = __float2half(values[i]);
      copy_in(to, v.data(), v.size() * sizeof(v[0]));
    }
  }
  void upload_ints(Buffer& to, std::span<const std::int32_t> values) override {
    copy_in(to, values.data(), values.size() * sizeof(std::int32_t));
  }
  std::vector<float> download(const Buffer& from, std::size_t count, Precision p) override {
    std::vector<float> out(count);
    if (p == Precision::kFp32) {
      copy_out(from, out.data(), count * sizeof(float));
    } else if (p == Precision::kBf16) {
      std::vector<__nv_bfloat16> v(count);
      copy_out(from, v.data(), count * sizeof(v[0]));
      for (std::size_t i = 0; i < count; ++i) out[i] = __bfloat162float(v[i]);
    } else if (p == Precision::kFp8) {
      std::vector<__nv_fp8_e4m3> v(count);
      copy_out(from, v.data(), count * sizeof(v[0]));
      for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<float>(v[i]);
    } else {
      std::vector<__half> v(count);
      copy_out(from, v.data(), count * sizeof(v[0]));
      for (std::size_t i = 0; i < count; ++i) out[i] = __half2float(v[i]);
    }
    return out;
  }
  std::vector<std::int32_t> download_ints(const Buffer& from, std::size_t count) override {
    std::vector<std::int32_t> out(count);
    copy_out(from, out.data(), count * sizeof(std::int32_t));
    return out;
  }

  void fill(Buffer& to, std::size_t count, Precision p, std::uint64_t seed) override {
    if (count * element_bytes(p) > to.bytes()) throw std::out_of_range("fill: buffer too small");
    const int element = p == Precision::kFp32   ? kFillFp32
                        : p == Precision::kBf16 ? kFillBf16
                        : p == Precision::kFp16 ? kFillFp16
                                                : kFillFp8;
    fill_cuda(ptr(to), static_cast<std::int64_t>(count), element, seed, stream_);
  }

  void gemm(Precision p, std::int64_t m, std::int64_t n, std::int64_t k, const Buffer& a,
            const Buffer& b, Buffer& c) override {
    if (p == Precision::kFp8) return gemm_fp8(m, n, k, a, b, c);
    // Row-major C = A B is column-major C^T = B^T A^T.
    const float one = 1, zero = 0;
    const auto t = cuda_type(p);
    MOESIM_CUBLAS_CHECK(cublasGemmEx(
        blas_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
        static_cast<int>(k), &one, ptr(b), t, static_cast<int>(n), ptr(a), t, static_cast<int>(k),
        &zero, ptr(c), t, static_cast<int>(n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
  void copy(const Buffer& from, Buffer& to, std::size_t bytes) override {
    MOESIM_CUDA_CHECK(
        cudaMemcpyAsync(ptr(to), ptr(from), bytes, cudaMemcpyDeviceToDevice, stream_));
  }
  void softmax_rows(Buffer& x, std::int64_t rows, std::int64_t cols, bool causal) override {
    softmax_rows_cuda(typed<float>(x), rows, cols, causal, stream_);
  }
  void layer_norm(const Buffer& x, std::int64_t rows, std::int64_t cols, Buffer& out) override {
    layer_norm_cuda(typed<float>(x), rows, cols, typed<float>(out), stream_);
  }
  void gelu(const Buffer& x, std::int64_t count, Buffer& out) override {
    gelu_cuda(typed<float>(x), count, typed<float>(out), stream_);
  }
  void attention(const Buffer& q, const Buffer& k, const Buffer& v, std::int64_t batch,
                 std::int64_t heads, std::int64_t seq, std::int64_t head_dim, bool causal,
                 Buffer& out) override {
    const auto groups = static_cast<int>(batch * heads);
    const auto s = static_cast<int>(seq), d = static_cast<int>(head_dim);
    const std::size_t scores_bytes = static_cast<std::size_t>(groups) * seq * seq * sizeof(float);
    if (!scores_ || scores_->bytes() < scores_bytes)
      scores_ = std::make_unique<CudaBuffer>(scores_bytes);
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim)), one = 1, zero = 0;
    // Scores S = Q K^T (row-major) is column-major S^T = K Q^T.
    MOESIM_CUBLAS_CHECK(cublasSgemmStridedBatched(
        blas_, CUBLAS_OP_T, CUBLAS_OP_N, s, s, d, &scale, typed<float>(k), d,
        static_cast<long long>(s) * d, typed<float>(q), d, static_cast<long long>(s) * d, &zero,
        typed<float>(*scores_), s, static_cast<long long>(s) * s, groups));
    softmax_rows_cuda(typed<float>(*scores_), static_cast<std::int64_t>(groups) * seq, seq, causal,
                      stream_);
    // O = P V (row-major) is column-major O^T = V^T P^T.
    MOESIM_CUBLAS_CHECK(cublasSgemmStridedBatched(
        blas_, CUBLAS_OP_N, CUBLAS_OP_N, d, s, s, &one, typed<float>(v), d,
        static_cast<long long>(s) * d, typed<float>(*scores_), s, static_cast<long long>(s) * s,
        &zero, typed<float>(out), d, static_cast<long long>(s) * d, groups));
  }
  void gate(const Buffer& logits, const GateShape& s, Buffer& experts, Buffer& weights) override {
    gate_topk_cuda(typed<float>(logits), s.tokens, s.experts, s.k, s.groups, s.group_limit,
                   typed<std::int32_t>(experts), typed<float>(weights), stream_);
  }
  void gather(const Buffer& src, std::int64_t, const Buffer& index, std::int64_t rows,
              std::int64_t row_bytes, Buffer& dst) override {
    gather_rows_cuda(ptr(src), typed<std::int32_t>(index), rows, row_bytes, ptr(dst), stream_);
  }
  void combine(const Buffer& rows, std::int64_t width, const Buffer& slot, const Buffer& weights,
               std::int64_t tokens, std::int64_t k, Buffer& out) override {
    combine_cuda(typed<float>(rows), width, typed<std::int32_t>(slot), typed<float>(weights),
                 tokens, k, typed<float>(out), stream_);
  }
  void lsh_codes(const Buffer& projected, std::int64_t tokens, std::int64_t hashes,
                 std::int64_t dims, Buffer& codes) override {
    cross_polytope_codes_cuda(typed<float>(projected), tokens, hashes, dims,
                              typed<std::int32_t>(codes), stream_);
  }
  void nothing() override { empty_kernel_cuda(stream_); }

  std::vector<double> time(const std::function<void()>& op, int warmup, int reps,
                           Launch launch) override {
    if (launch == Launch::kGraph) return time_graph(op, warmup, reps);
    for (int i = 0; i < warmup; ++i) op();
    cudaEvent_t start, stop;
    MOESIM_CUDA_CHECK(cudaEventCreate(&start));
    MOESIM_CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<double> out;
    for (int i = 0; i < reps; ++i) {
      MOESIM_CUDA_CHECK(cudaEventRecord(start, stream_));
      op();
      MOESIM_CUDA_CHECK(cudaEventRecord(stop, stream_));
      MOESIM_CUDA_CHECK(cudaEventSynchronize(stop));
      float ms = 0;
      MOESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
      out.push_back(ms * 1e-3);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return out;
  }
  void synchronize() override {
    for (auto lane : lanes_) MOESIM_CUDA_CHECK(cudaStreamSynchronize(lane));
  }
  void use_lane(int lane) override {
    check_lane(lane);
    stream_ = lanes_[static_cast<std::size_t>(lane)];
    MOESIM_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
  }
  int mark() override {
    if (used_marks_ == marks_.size()) {
      cudaEvent_t event{};
      MOESIM_CUDA_CHECK(cudaEventCreate(&event));
      marks_.push_back(event);
    }
    MOESIM_CUDA_CHECK(cudaEventRecord(marks_[used_marks_], stream_));
    return static_cast<int>(used_marks_++);
  }
  void wait_for(int id) override {
    MOESIM_CUDA_CHECK(cudaStreamWaitEvent(stream_, marks_.at(static_cast<std::size_t>(id)), 0));
  }
  double seconds_between(int from, int to) override {
    float ms = 0;
    MOESIM_CUDA_CHECK(cudaEventElapsedTime(&ms, marks_.at(static_cast<std::size_t>(from)),
                                           marks_.at(static_cast<std::size_t>(to))));
    return ms * 1e-3;
  }
  void clear_marks() override { used_marks_ = 0; }  // the events are reused
  void* stream() override { return stream_; }
  double upload_seconds(std::size_t bytes) override {
    void* host = nullptr;
    MOESIM_CUDA_CHECK(cudaMallocHost(&host, bytes));
    CudaBuffer to(bytes);
    const auto t = time(
        [&] {
          MOESIM_CUDA_CHECK(
              cudaMemcpyAsync(to.data(), host, bytes, cudaMemcpyHostToDevice, stream_));
        },
        1, 1, Launch::kStream);
    cudaFreeHost(host);
    return t.front();
  }

 private:
  static bool nvlink_peers(int device) {
    int count = 0;
    MOESIM_CUDA_CHECK(cudaGetDeviceCount(&count));
    bool any = false;
    for (int peer = 0; peer < count; ++peer) {
      if (peer == device) continue;
      int access = 0, atomics = 0;
      MOESIM_CUDA_CHECK(cudaDeviceCanAccessPeer(&access, device, peer));
      MOESIM_CUDA_CHECK(
          cudaDeviceGetP2PAttribute(&atomics, cudaDevP2PAttrNativeAtomicSupported, device, peer));
      if (access == 0 || atomics == 0) return false;
      any = true;
    }
    return any;
  }
  static std::string version(int v) {
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
  }
  // Captures `op` once into a CUDA graph and times its replays.
  std::vector<double> time_graph(const std::function<void()>& op, int warmup, int reps) {
    cudaGraph_t graph{};
    cudaGraphExec_t exec{};
    MOESIM_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    op();
    MOESIM_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    MOESIM_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    const auto out = time([&] { MOESIM_CUDA_CHECK(cudaGraphLaunch(exec, stream_)); }, warmup, reps,
                          Launch::kStream);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    return out;
  }
  // FP8 (e4m3) through cuBLASLt, which requires the "TN" layout: B is given as [n, k] row-major
  // (column-major k x n, transposed), A as [m, k]; the result C [m, n] is bf16.
  void gemm_fp8(std::int64_t m, std::int64_t n, std::int64_t k, const Buffer& a, const Buffer& b,
                Buffer& c) {
    cublasLtMatmulDesc_t desc{};
    cublasLtMatrixLayout_t bl{}, al{}, cl{};
    const cublasOperation_t transposed = CUBLAS_OP_T, plain = CUBLAS_OP_N;
    MOESIM_CUBLAS_CHECK(cublasLtMatmulDescCreate(&desc, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    MOESIM_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA,
                                                       &transposed, sizeof(transposed)));
    MOESIM_CUBLAS_CHECK(
        cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &plain, sizeof(plain)));
    const auto u = [](std::int64_t v) { return static_cast<std::uint64_t>(v); };
    MOESIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&bl, CUDA_R_8F_E4M3, u(k), u(n), k));
    MOESIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&al, CUDA_R_8F_E4M3, u(k), u(m), k));
    MOESIM_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&cl, CUDA_R_16BF, u(n), u(m), n));
    if (!workspace_) workspace_ = std::make_unique<CudaBuffer>(kLtWorkspaceBytes);
    const float one = 1, zero = 0;
    const auto status =
        cublasLtMatmul(lt_, desc, &one, ptr(b), bl, ptr(a), al, &zero, ptr(c), cl, ptr(c), cl,
                       nullptr, workspace_->data(), workspace_->bytes(), stream_);
    cublasLtMatrixLayoutDestroy(cl);
    cublasLtMatrixLayoutDestroy(al);
    cublasLtMatrixLayoutDestroy(bl);
    cublasLtMatmulDescDestroy(desc);
    cublas_check(status, "cublasLtMatmul (fp8)");
  }
  // cuBLASLt's workspace: NVIDIA's recommendation for Hopper is 32 MiB.
  static constexpr std::size_t kLtWorkspaceBytes = std::size_t{32} << 20;

  void copy_in(Buffer& to, const void* from, std::size_t bytes) {
    if (bytes > to.bytes()) throw std::out_of_range("cuda backend: buffer too small");
    MOESIM_CUDA_CHECK(cudaMemcpyAsync(ptr(to), from, bytes, cudaMemcpyHostToDevice, stream_));
    MOESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }
  void copy_out(const Buffer& from, void* to, std::size_t bytes) {
    if (bytes > from.bytes()) throw std::out_of_range("cuda backend: buffer too small");
    MOESIM_CUDA_CHECK(cudaMemcpyAsync(to, ptr(from), bytes, cudaMemcpyDeviceToHost, stream_));
    MOESIM_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

  DeviceInfo info_;
  std::array<cudaStream_t, kLanes> lanes_{};
  cudaStream_t stream_{};  // the current lane's
  std::vector<cudaEvent_t> marks_;
  std::size_t used_marks_ = 0;
  cublasHandle_t blas_{};
  cublasLtHandle_t lt_{};
  bool bf16_ = false;
  bool fp8_ = false;
  std::unique_ptr<CudaBuffer> workspace_;
  std::unique_ptr<CudaBuffer> scores_;
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend(int device) {
  return std::make_unique<CudaBackend>(device);
}

bool cuda_backend_built() {
  return true;
}

}  // namespace moesim::kernels
