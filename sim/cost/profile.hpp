#pragma once
// A GPU profile: what the cost model knows about one GPU type. The same format holds profiles
// derived from published figures and profiles measured by `moesim calibrate`; the provenance
// block says which, and from what.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "config/check.hpp"
#include "config/document.hpp"
#include "config/quantity.hpp"
#include "core/time.hpp"
#include "dtype.hpp"
#include "flash.hpp"

namespace moesim::cost {

enum class ProvenanceKind { kDerived, kMeasured };
constexpr auto enum_names(ProvenanceKind) {
  return std::array{std::pair{std::string_view("derived"), ProvenanceKind::kDerived},
                    std::pair{std::string_view("measured"), ProvenanceKind::kMeasured}};
}

struct Provenance {
  ProvenanceKind kind = ProvenanceKind::kDerived;
  std::vector<std::string> sources;  // derived: the published figures used
  std::string device, driver, cuda, cublas, nccl, date, command;  // measured
  std::string notes;
  template <class V>
  void fields(V& v) {
    v.field("kind", kind, "derived (from published figures) or measured (by moesim calibrate)");
    v.field("sources", sources, "derived: which published figures, with where they were read");
    v.field("device", device, "measured: device name as the driver reports it");
    v.field("driver", driver, "measured: driver version");
    v.field("cuda", cuda, "measured: CUDA runtime version");
    v.field("cublas", cublas, "measured: cuBLAS version");
    v.field("nccl", nccl, "measured: NCCL version");
    v.field("date", date, "measured: date of the measurement (YYYY-MM-DD)");
    v.field("command", command, "measured: the command that produced this profile");
    v.field("notes", notes, "assumptions and caveats");
  }
};

// Peak dense throughput by dtype; a dtype the GPU lacks is left out.
struct PeakThroughput {
  std::optional<config::FlopRate> bf16, fp16, fp32, fp8;
  template <class V>
  void fields(V& v) {
    const auto positive = config::Check::positive();
    v.field("bf16", bf16, "dense BF16 tensor-core peak", positive);
    v.field("fp16", fp16, "dense FP16 tensor-core peak", positive);
    v.field("fp32", fp32, "FP32 peak (non-tensor)", positive);
    v.field("fp8", fp8, "dense FP8 tensor-core peak", positive);
  }
};

// A point of an achievable-fraction curve; the cost model interpolates in log(size). Size is
// config::Flops (per kernel) for compute and config::Bytes (moved per kernel) for memory.
template <class Size>
struct EfficiencyPoint {
  Size size;
  double fraction = 1;
  template <class V>
  void fields(V& v) {
    constexpr bool flops = std::is_same_v<Size, config::Flops>;
    v.field("size", size, flops ? "FLOPs of one kernel" : "bytes moved by one kernel",
            config::Check::positive().required());
    v.field("fraction", fraction, "fraction of peak reached at that size",
            config::Check{true, 0.0, true, 1.0});
  }
};
using ComputeEfficiencyPoint = EfficiencyPoint<config::Flops>;
using MemoryEfficiencyPoint = EfficiencyPoint<config::Bytes>;

// How GEMMs are cut into thread-block tiles and spread over the SMs: what makes a GEMM's time
// depend on its shape, not only its FLOPs (tile and wave quantisation).
struct GemmTiling {
  std::int64_t sms = 0;  // streaming multiprocessors
  std::int64_t tile_m = 128, tile_n = 128;
  // Split-K: a GEMM with fewer tiles than SMs splits K over up to sms / tiles slices, each at
  // least this deep, so that the SMs are filled.
  std::int64_t split_k_depth = 256;
  // Software pipeline depth of the main loop: a tile's first (stages - 1) K-steps of 64 are
  // loaded before any is computed, which a short K cannot amortise. 0: not modelled.
  std::int64_t pipeline_stages = 0;
  template <class V>
  void fields(V& v) {
    const auto positive = config::Check::at_least(1).required();
    v.field("sms", sms, "streaming multiprocessors (one tile each at a time)", positive);
    v.field("tile_m", tile_m, "rows of C per thread-block tile", config::Check::at_least(1));
    v.field("tile_n", tile_n, "columns of C per thread-block tile", config::Check::at_least(1));
    v.field("split_k_depth", split_k_depth,
            "split-K: the least K of one slice when a GEMM with fewer tiles than SMs splits K",
            config::Check::at_least(1));
    v.field("pipeline_stages", pipeline_stages,
            "main-loop pipeline stages: (stages - 1) K-steps of 64 fill it before computing",
            config::Check::non_negative());
  }
};

// What a dtype's GEMMs reach of its peak, against the efficiency curve (measured in bf16): the
// ratio of its best-shape maximum to bf16's.
struct DtypeEfficiency {
  std::optional<double> fp8;
  template <class V>
  void fields(V& v) {
    v.field("fp8", fp8, "fp8 GEMMs' best-shape fraction of the fp8 peak over bf16's of its own",
            config::Check{false, 0.0, true, std::nullopt});
  }
};

struct ComputeSpec {
  PeakThroughput peak;
  std::vector<ComputeEfficiencyPoint> efficiency;
  std::optional<GemmTiling> tiling;  // absent: GEMMs priced by their FLOPs alone
  std::optional<FlashTable> flash;   // fused attention kernels, measured
  DtypeEfficiency dtype_efficiency;
  template <class V>
  void fields(V& v) {
    v.field("peak", peak, "peak dense throughput per dtype", config::Check::none().required());
    v.field("efficiency", efficiency, "achievable fraction of peak by kernel size",
            config::Check::none().required());
    v.field("tiling", tiling,
            "GEMM tiles and SMs: a GEMM whose tiles fill the SMs worse than a square one of the "
            "same FLOPs is that much slower");
    v.field("flash", flash,
            "measured FlashAttention throughput by generation, pass, mask, head width and "
            "sequence length (absent: fused attention priced by the GEMM curve)");
    v.field("dtype_efficiency", dtype_efficiency,
            "per dtype: its GEMMs' best fraction of its peak relative to the curve's (bf16)");
  }
};

struct MemorySpec {
  config::Bandwidth bandwidth;
  std::vector<MemoryEfficiencyPoint> efficiency;
  std::optional<config::Bytes> capacity;  // absent: unknown, and nothing is checked against it
  template <class V>
  void fields(V& v) {
    v.field("capacity", capacity,
            "device memory per GPU; runs whose memory floor (weights, gradients, optimizer "
            "states, KV cache) exceeds it are flagged",
            config::Check::positive());
    v.field("bandwidth", bandwidth, "peak device-memory bandwidth",
            config::Check::positive().required());
    v.field("efficiency", efficiency, "achievable fraction of bandwidth by bytes moved",
            config::Check::none().required());
  }
};

// --- measured tables ----------------------------------------------------------------------------
struct GemmPoint {
  std::int64_t m = 0, n = 0, k = 0;
  Dtype dtype = Dtype::kBf16;
  core::Time time;
  template <class V>
  void fields(V& v) {
    const auto dim = config::Check::at_least(1).required();
    v.field("m", m, "rows of A and C", dim);
    v.field("n", n, "columns of B and C", dim);
    v.field("k", k, "inner dimension", dim);
    v.field("dtype", dtype, "element type");
    v.field("time", time, "measured kernel time", config::Check::positive().required());
  }
};
struct MemoryPoint {
  config::Bytes bytes;
  core::Time time;
  template <class V>
  void fields(V& v) {
    v.field("bytes", bytes, "bytes read plus written", config::Check::positive().required());
    v.field("time", time, "measured kernel time", config::Check::positive().required());
  }
};
struct AttentionPoint {
  std::int64_t batch = 0, heads = 0, seq = 0, head_dim = 0;
  bool causal = true;
  // A fused kernel (FlashAttention-style: the scores never reach memory), or the scores
  // materialised between two batched GEMMs and a softmax (what moesim calibrate measures).
  bool fused = true;
  Dtype dtype = Dtype::kBf16;
  core::Time time;
  template <class V>
  void fields(V& v) {
    const auto dim = config::Check::at_least(1).required();
    v.field("batch", batch, "sequences", dim);
    v.field("heads", heads, "query heads", dim);
    v.field("seq", seq, "sequence length (queries = keys)", dim);
    v.field("head_dim", head_dim, "dimension per head", dim);
    v.field("causal", causal, "causal mask");
    v.field(
        "fused", fused,
        "one fused kernel (priced for fused attention), or scores materialised (recorded only)");
    v.field("dtype", dtype, "element type");
    v.field("time", time, "measured forward kernel time", config::Check::positive().required());
  }
};
enum class Collective { kAllToAll, kAllReduce, kAllGather, kReduceScatter, kSendRecv };
constexpr auto enum_names(Collective) {
  return std::array{std::pair{std::string_view("all_to_all"), Collective::kAllToAll},
                    std::pair{std::string_view("all_reduce"), Collective::kAllReduce},
                    std::pair{std::string_view("all_gather"), Collective::kAllGather},
                    std::pair{std::string_view("reduce_scatter"), Collective::kReduceScatter},
                    std::pair{std::string_view("send_recv"), Collective::kSendRecv}};
}
enum class LinkClass { kNvlink, kPcie, kNetwork };
constexpr auto enum_names(LinkClass) {
  return std::array{std::pair{std::string_view("nvlink"), LinkClass::kNvlink},
                    std::pair{std::string_view("pcie"), LinkClass::kPcie},
                    std::pair{std::string_view("network"), LinkClass::kNetwork}};
}
struct CollectivePoint {
  Collective op = Collective::kAllToAll;
  config::Bytes bytes;
  std::int64_t ranks = 0;
  LinkClass link = LinkClass::kNvlink;
  core::Time time;
  template <class V>
  void fields(V& v) {
    v.field("op", op, "collective");
    v.field("bytes", bytes, "size per rank, as nccl-tests prints it",
            config::Check::positive().required());
    v.field("ranks", ranks, "ranks taking part", config::Check::at_least(2).required());
    v.field("link", link, "slowest link class crossed");
    v.field("time", time, "measured time", config::Check::positive().required());
  }
};

struct Tables {
  std::vector<GemmPoint> gemm;
  std::vector<MemoryPoint> memory;
  std::vector<AttentionPoint> attention;
  std::vector<CollectivePoint> collective;
  template <class V>
  void fields(V& v) {
    v.field("gemm", gemm, "GEMM time by (m, n, k, dtype)");
    v.field("memory", memory, "memory-bound kernel time by bytes moved");
    v.field("attention", attention, "attention time by (batch, heads, seq, head_dim, causal)");
    v.field("collective", collective, "collective time by (op, bytes, ranks, link)");
  }
};

struct Profile {
  std::string name;
  Provenance provenance;
  ComputeSpec compute;
  MemorySpec memory;
  core::Time launch_overhead = core::Time::us(3);
  Tables tables;
  template <class V>
  void fields(V& v) {
    v.field("name", name, "GPU type", config::Check::none().required());
    v.field("provenance", provenance, "where the numbers come from",
            config::Check::none().required());
    v.field("compute", compute, "tensor-core and FP32 throughput",
            config::Check::none().required());
    v.field("memory", memory, "device memory", config::Check::none().required());
    v.field("launch_overhead", launch_overhead, "fixed cost of one kernel",
            config::Check::non_negative());
    v.field("tables", tables, "measured kernel times (empty in derived profiles)");
  }
};

// Reads and checks a profile: the fields, then what spans entries (provenance complete for its
// kind, at least one peak, curves in increasing size, tables monotone where time must grow with
// size, no duplicate table points). Throws config::ConfigError naming the place.
Profile read_profile(const config::Document& document);
Profile load_profile(const std::string& path);

}  // namespace moesim::cost
