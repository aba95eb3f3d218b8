// The host backend: the CPU references and the BLAS, on this machine's memory. Every precision
// runs as fp32 (a host "bf16" GEMM is an fp32 one): it exists to run and test what sits above
// the device layer, not to predict a GPU.
#include <cblas.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "backend.hpp"
#include "dense.hpp"
#include "fill.hpp"
#include "gather_rows.hpp"
#include "lsh.hpp"
#include "permute.hpp"

namespace moesim::kernels {

void check_lane(int lane) {
  if (lane < 0 || lane >= Backend::kLanes) {
    throw std::invalid_argument("kernels: lane " + std::to_string(lane) + " out of range");
  }
}

namespace {

class HostBuffer final : public Buffer {
 public:
  explicit HostBuffer(std::size_t bytes) : data_(bytes) {}
  std::size_t bytes() const override { return data_.size(); }
  void* data() override { return data_.data(); }
  const void* data() const override { return data_.data(); }
  std::byte* bytes_data() { return data_.data(); }
  const std::byte* bytes_data() const { return data_.data(); }

 private:
  std::vector<std::byte> data_;
};

HostBuffer& host(Buffer& b) {
  return static_cast<HostBuffer&>(b);
}
const HostBuffer& host(const Buffer& b) {
  return static_cast<const HostBuffer&>(b);
}

template <class T>
std::span<T> as(Buffer& b, std::size_t count) {
  if (count * sizeof(T) > b.bytes()) throw std::out_of_range("host backend: buffer too small");
  return {reinterpret_cast<T*>(host(b).bytes_data()), count};
}
template <class T>
std::span<const T> as(const Buffer& b, std::size_t count) {
  if (count * sizeof(T) > b.bytes()) throw std::out_of_range("host backend: buffer too small");
  return {reinterpret_cast<const T*>(host(b).bytes_data()), count};
}

std::string cpu_name() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown CPU";
}

std::string trimmed(std::string s) {
  const auto first = s.find_first_not_of(' ');
  const auto last = s.find_last_not_of(' ');
  return first == std::string::npos ? s : s.substr(first, last - first + 1);
}

std::size_t sz(std::int64_t v) {
  return static_cast<std::size_t>(v);
}

class HostBackend final : public Backend {
 public:
  HostBackend() {
    info_.backend = "host";
    info_.device = cpu_name();
    info_.driver = "none (host backend)";
    info_.runtime = "none (host backend)";
    info_.blas = trimmed(OPENBLAS_VERSION);  // " OpenBLAS 0.3.21 "
  }
  const DeviceInfo& info() const override { return info_; }
  bool supports(Precision p) const override { return p != Precision::kFp8; }  // as fp32
  std::size_t element_bytes(Precision) const override { return sizeof(float); }

  std::unique_ptr<Buffer> alloc(std::size_t bytes) override {
    return std::make_unique<HostBuffer>(bytes);
  }
  void upload(Buffer& to, std::span<const float> values, Precision) override {
    auto dst = as<float>(to, values.size());
    std::copy(values.begin(), values.end(), dst.begin());
  }
  void upload_ints(Buffer& to, std::span<const std::int32_t> values) override {
    auto dst = as<std::int32_t>(to, values.size());
    std::copy(values.begin(), values.end(), dst.begin());
  }
  std::vector<float> download(const Buffer& from, std::size_t count, Precision) override {
    const auto src = as<float>(from, count);
    return {src.begin(), src.end()};
  }
  std::vector<std::int32_t> download_ints(const Buffer& from, std::size_t count) override {
    const auto src = as<std::int32_t>(from, count);
    return {src.begin(), src.end()};
  }

  void fill(Buffer& to, std::size_t count, Precision, std::uint64_t seed) override {
    auto dst = as<float>(to, count);
    for (std::size_t i = 0; i < count; ++i) dst[i] = fill_value(seed, i);
  }

  void gemm(Precision, std::int64_t m, std::int64_t n, std::int64_t k, const Buffer& a,
            const Buffer& b, Buffer& c) override {
    gemm_cpu(m, n, k, as<float>(a, sz(m * k)), as<float>(b, sz(k * n)), as<float>(c, sz(m * n)));
  }
  void copy(const Buffer& from, Buffer& to, std::size_t bytes) override {
    if (bytes > from.bytes() || bytes > to.bytes()) throw std::out_of_range("copy: too many bytes");
    std::memcpy(to.data(), from.data(), bytes);
  }
  void softmax_rows(Buffer& x, std::int64_t rows, std::int64_t cols, bool causal) override {
    softmax_rows_cpu(as<float>(x, sz(rows * cols)), rows, cols, causal);
  }
  void layer_norm(const Buffer& x, std::int64_t rows, std::int64_t cols, Buffer& out) override {
    layer_norm_cpu(as<float>(x, sz(rows * cols)), rows, cols, as<float>(out, sz(rows * cols)));
  }
  void gelu(const Buffer& x, std::int64_t count, Buffer& out) override {
    gelu_cpu(as<float>(x, sz(count)), as<float>(out, sz(count)));
  }
  void attention(const Buffer& q, const Buffer& k, const Buffer& v, std::int64_t batch,
                 std::int64_t heads, std::int64_t seq, std::int64_t head_dim, bool causal,
                 Buffer& out) override {
    const auto n = sz(batch * heads * seq * head_dim);
    attention_cpu(as<float>(q, n), as<float>(k, n), as<float>(v, n), batch, heads, seq, head_dim,
                  causal, as<float>(out, n));
  }
  void gate(const Buffer& logits, const GateShape& s, Buffer& experts, Buffer& weights) override {
    const auto r = gate_topk_cpu(as<float>(logits, sz(s.tokens * s.experts)), s);
    upload_ints(experts, r.experts);
    upload(weights, r.weights, Precision::kFp32);
  }
  void gather(const Buffer& src, std::int64_t src_rows, const Buffer& index, std::int64_t rows,
              std::int64_t row_bytes, Buffer& dst) override {
    gather_rows_cpu(as<std::byte>(src, sz(src_rows * row_bytes)), src_rows,
                    as<std::int32_t>(index, sz(rows)), row_bytes,
                    as<std::byte>(dst, sz(rows * row_bytes)));
  }
  void combine(const Buffer& rows, std::int64_t width, const Buffer& slot, const Buffer& weights,
               std::int64_t tokens, std::int64_t k, Buffer& out) override {
    PermutePlan plan;
    const auto slots = as<std::int32_t>(slot, sz(tokens * k));
    plan.slot.assign(slots.begin(), slots.end());
    std::int32_t used = 0;
    for (const auto s : plan.slot) used = std::max(used, s + 1);
    plan.source.assign(sz(used), 0);
    combine_cpu(as<float>(rows, sz(used * width)), width, plan, as<float>(weights, sz(tokens * k)),
                k, as<float>(out, sz(tokens * width)));
  }
  void lsh_codes(const Buffer& projected, std::int64_t tokens, std::int64_t hashes,
                 std::int64_t dims, Buffer& codes) override {
    const auto c = cross_polytope_codes_cpu(as<float>(projected, sz(tokens * hashes * dims)),
                                            tokens, hashes, dims);
    upload_ints(codes, c);
  }
  void nothing() override {}

  std::vector<double> time(const std::function<void()>& op, int warmup, int reps, Launch) override {
    for (int i = 0; i < warmup; ++i) op();
    std::vector<double> out;
    for (int i = 0; i < reps; ++i) {
      const auto start = std::chrono::steady_clock::now();
      op();
      out.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return out;
  }
  void synchronize() override {}
  void use_lane(int lane) override { check_lane(lane); }
  int mark() override {
    marks_.push_back(std::chrono::steady_clock::now());
    return static_cast<int>(marks_.size()) - 1;
  }
  void wait_for(int) override {}  // ops ran when issued
  double seconds_between(int from, int to) override {
    return std::chrono::duration<double>(marks_.at(static_cast<std::size_t>(to)) -
                                         marks_.at(static_cast<std::size_t>(from)))
        .count();
  }
  void clear_marks() override { marks_.clear(); }
  void* stream() override { return nullptr; }
  double upload_seconds(std::size_t bytes) override {
    std::vector<std::byte> from(bytes), to(bytes);
    const auto start = std::chrono::steady_clock::now();
    std::memcpy(to.data(), from.data(), bytes);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

 private:
  DeviceInfo info_;
  std::vector<std::chrono::steady_clock::time_point> marks_;
};

}  // namespace

std::unique_ptr<Backend> make_host_backend() {
  return std::make_unique<HostBackend>();
}

}  // namespace moesim::kernels
