#include "ops.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "dense.hpp"
#include "fill.hpp"
#include "lsh.hpp"
#include "permute.hpp"

namespace moesim::calibrate {

namespace {

using kernels::Backend;
using kernels::Buffer;
using kernels::fill_value;
using kernels::Precision;

std::size_t sz(std::int64_t v) {
  return static_cast<std::size_t>(v);
}
std::uint64_t u64(std::int64_t v) {
  return static_cast<std::uint64_t>(v);
}

// Seeds of the inputs (fill.hpp): one per operand, so no two operands hold the same values.
enum Seed : std::uint64_t { kSeedA = 1, kSeedB, kSeedX, kSeedQ, kSeedK, kSeedV, kSeedW };

// Relative error of a result rounded to `p` (half an ulp at 1), and of an fp32 reduction.
double rounding(Precision p) {
  switch (p) {
    case Precision::kBf16:
    case Precision::kFp8:  // FP8 GEMMs write bf16
      return std::ldexp(1.0, -8);
    case Precision::kFp16:
      return std::ldexp(1.0, -11);
    case Precision::kFp32:
      break;
  }
  return std::ldexp(1.0, -22);
}
constexpr double kFp32Reduction = 1e-5;  // softmax, norms, GELU: fp32 math, different order
// Rows of C compared after a GEMM (a prefix, so the copy back stays small) and elements in them.
constexpr std::int64_t kGemmCheckRows = 16;
constexpr std::int64_t kGemmCheckElements = 256;

std::vector<float> host_fill(std::size_t count, std::uint64_t seed) {
  std::vector<float> v(count);
  for (std::size_t i = 0; i < count; ++i) v[i] = fill_value(seed, i);
  return v;
}

// Whether a case fits the plan's limits; records the skip otherwise.
bool fits(Driver& d, const Measurement& id, double bytes) {
  const Plan& p = d.plan();
  if (id.flops > p.max_case_flops) {
    d.skip(id, fmt::format("{:.3g} GFLOP, more than this run's {:.3g}", id.flops / 1e9,
                           p.max_case_flops / 1e9));
    return false;
  }
  if (bytes > static_cast<double>(p.max_case_bytes)) {
    d.skip(id, fmt::format("{:.3g} MB of buffers, more than this run's {:.3g}", bytes / 1e6,
                           static_cast<double>(p.max_case_bytes) / 1e6));
    return false;
  }
  return true;
}

Measurement identity(std::string op, std::int64_t m, std::int64_t n, std::int64_t k, double bytes,
                     double flops) {
  Measurement r;
  r.op = std::move(op);
  r.m = m;
  r.n = n;
  r.k = k;
  r.bytes = bytes;
  r.flops = flops;
  return r;
}

// --- GEMMs -------------------------------------------------------------------------------------
void sweep_gemm(Driver& d) {
  Backend& be = d.backend();
  const Plan& plan = d.plan();
  for (const Precision p : plan.precisions) {
    const Precision out = p == Precision::kFp8 ? Precision::kBf16 : p;
    for (const auto& g : plan.gemms) {
      // The rows this shape runs at, within the limits; buffers for the largest, reused.
      std::vector<std::int64_t> rows;
      for (const auto m : plan.gemm_m) {
        auto id = identity(
            "gemm", m, g.n, g.k, gemm_bytes(be, p, m, g.n, g.k),
            2.0 * static_cast<double>(m) * static_cast<double>(g.n) * static_cast<double>(g.k));
        id.dtype = precision_name(p);
        if (fits(d, id, id.bytes)) rows.push_back(m);
      }
      if (rows.empty()) continue;
      const std::int64_t m_max = rows.back();
      const auto a = be.alloc(sz(m_max * g.k) * be.element_bytes(p));
      const auto b = be.alloc(sz(g.k * g.n) * be.element_bytes(p));
      const auto c = be.alloc(sz(m_max * g.n) * be.element_bytes(out));
      be.fill(*a, sz(m_max * g.k), p, kSeedA);
      be.fill(*b, sz(g.k * g.n), p, kSeedB);
      for (const auto m : rows) {
        auto id = identity(
            "gemm", m, g.n, g.k, gemm_bytes(be, p, m, g.n, g.k),
            2.0 * static_cast<double>(m) * static_cast<double>(g.n) * static_cast<double>(g.k));
        id.dtype = precision_name(p);
        Case c_;
        c_.identity = id;
        c_.run = [&, m] { be.gemm(p, m, g.n, g.k, *a, *b, *c); };
        c_.check = [&, m] {
          // Inputs are exact in every precision and their products sum exactly in fp32
          // (fill.hpp): the result differs from the exact one by its own rounding only.
          const std::int64_t r = std::min(m, kGemmCheckRows);
          const auto got = be.download(*c, sz(r * g.n), out);
          CheckResult result;
          for (std::int64_t s = 0; s < std::min(kGemmCheckElements, r * g.n); ++s) {
            const auto h = kernels::fill_hash(kSeedW, u64(s));
            const auto i = static_cast<std::int64_t>(h % u64(r));
            const auto j = static_cast<std::int64_t>((h >> 32) % u64(g.n));
            double exact = 0;
            for (std::int64_t kk = 0; kk < g.k; ++kk) {
              // FP8 takes B transposed ([n, k]); the others [k, n].
              const auto b_index = p == Precision::kFp8 ? j * g.k + kk : kk * g.n + j;
              exact += static_cast<double>(fill_value(kSeedA, u64(i * g.k + kk))) *
                       static_cast<double>(fill_value(kSeedB, u64(b_index)));
            }
            result.compare(got[sz(i * g.n + j)], exact, rounding(out) * std::abs(exact));
          }
          return result;
        };
        d.measure(std::move(c_));
      }
    }
  }
}

// --- memory ------------------------------------------------------------------------------------
void sweep_copy(Driver& d) {
  Backend& be = d.backend();
  for (const auto bytes : d.plan().copy_bytes) {
    const auto id = identity("copy", 0, 0, 0, 2.0 * static_cast<double>(bytes), 0);
    if (!fits(d, id, 2.0 * static_cast<double>(bytes))) continue;
    const auto from = be.alloc(bytes);
    const auto to = be.alloc(bytes);
    const std::size_t count = bytes / sizeof(float);
    be.fill(*from, count, Precision::kFp32, kSeedX);
    Case c;
    c.identity = id;
    c.run = [&] { be.copy(*from, *to, bytes); };
    c.check = [&] {
      const auto got = be.download(*to, count, Precision::kFp32);
      CheckResult r;
      for (std::size_t i = 0; i < count; ++i) r.compare(got[i], fill_value(kSeedX, i), 0);
      return r;
    };
    d.measure(std::move(c));
  }
}

void sweep_h2d(Driver& d) {
  Backend& be = d.backend();
  for (const auto bytes : d.plan().h2d_bytes) {
    const auto id = identity("h2d", 0, 0, 0, static_cast<double>(bytes), 0);
    if (!fits(d, id, static_cast<double>(bytes))) continue;
    Case c;
    c.identity = id;
    c.timer = [&be, bytes](int warmup, int reps) {
      for (int i = 0; i < warmup; ++i) be.upload_seconds(bytes);
      std::vector<double> out;
      for (int i = 0; i < reps; ++i) out.push_back(be.upload_seconds(bytes));
      return out;
    };
    d.measure(std::move(c));
  }
}

void sweep_launch(Driver& d) {
  Backend& be = d.backend();
  Case c;
  c.identity = identity("launch", 0, 0, 0, 0, 0);
  c.run = [&] { be.nothing(); };
  d.measure(std::move(c));
}

// --- elementwise and normalisation -------------------------------------------------------------
// A unary op over `count` fp32 elements of x into out, checked element by element.
template <class Device, class Reference>
void unary_case(Driver& d, Measurement id, std::int64_t rows, std::int64_t cols, Device device,
                Reference reference) {
  Backend& be = d.backend();
  const std::size_t count = sz(rows * cols);
  if (!fits(d, id, 2.0 * static_cast<double>(count * sizeof(float)))) return;
  const auto x = be.alloc(count * sizeof(float));
  const auto out = be.alloc(count * sizeof(float));
  be.fill(*x, count, Precision::kFp32, kSeedX);
  Case c;
  c.identity = std::move(id);
  c.run = [&] { device(*x, *out); };
  c.check = [&] {
    const auto got = be.download(*out, count, Precision::kFp32);
    std::vector<float> want(count);
    reference(host_fill(count, kSeedX), want);
    CheckResult r;
    for (std::size_t i = 0; i < count; ++i) {
      r.compare(got[i], want[i], kFp32Reduction * (1 + std::abs(want[i])));
    }
    return r;
  };
  d.measure(std::move(c));
}

void sweep_layer_norm(Driver& d) {
  const auto cols = d.plan().shapes.hidden;
  for (const auto rows : d.plan().token_counts) {
    const double bytes = 2.0 * static_cast<double>(rows * cols) * sizeof(float);
    unary_case(
        d, identity("layer_norm", rows, cols, 0, bytes, 8.0 * static_cast<double>(rows * cols)),
        rows, cols,
        [&, rows](const Buffer& x, Buffer& out) { d.backend().layer_norm(x, rows, cols, out); },
        [rows, cols](const std::vector<float>& x, std::vector<float>& out) {
          kernels::layer_norm_cpu(x, rows, cols, out);
        });
  }
}

void sweep_gelu(Driver& d) {
  const auto width = std::max(d.plan().shapes.ffn_hidden, d.plan().shapes.hidden);
  for (const auto rows : d.plan().token_counts) {
    const std::int64_t count = rows * width;
    const double bytes = 2.0 * static_cast<double>(count) * sizeof(float);
    unary_case(
        d, identity("gelu", count, 0, 0, bytes, 8.0 * static_cast<double>(count)), rows, width,
        [&, count](const Buffer& x, Buffer& out) { d.backend().gelu(x, count, out); },
        [](const std::vector<float>& x, std::vector<float>& out) { kernels::gelu_cpu(x, out); });
  }
}

// Attention scores' softmax (causal), rows of the sequence length: in place, so each timed run
// normalises the previous one's output; the check runs once more on fresh inputs.
void sweep_softmax(Driver& d) {
  Backend& be = d.backend();
  for (const auto& a : d.plan().attention) {
    const std::int64_t rows = a.batch * a.heads * a.seq, cols = a.seq;
    const std::size_t count = sz(rows * cols);
    const double bytes = 2.0 * static_cast<double>(count) * sizeof(float);
    const auto id = identity("softmax", rows, cols, 0, bytes, 5.0 * static_cast<double>(count));
    if (!fits(d, id, bytes / 2)) continue;
    const auto x = be.alloc(count * sizeof(float));
    be.fill(*x, count, Precision::kFp32, kSeedX);
    Case c;
    c.identity = id;
    c.run = [&, rows, cols] { be.softmax_rows(*x, rows, cols, true); };
    c.check = [&, rows, cols, count] {
      be.fill(*x, count, Precision::kFp32, kSeedX);
      be.softmax_rows(*x, rows, cols, true);
      const auto got = be.download(*x, count, Precision::kFp32);
      auto want = host_fill(count, kSeedX);
      kernels::softmax_rows_cpu(want, rows, cols, true);
      CheckResult r;
      for (std::size_t i = 0; i < count; ++i) {
        r.compare(got[i], want[i], kFp32Reduction * (1 + std::abs(want[i])));
      }
      return r;
    };
    d.measure(std::move(c));
  }
}

// Attention with the scores materialised (two batched GEMMs around the softmax), causal; the
// check recomputes the first head on the host.
void sweep_attention(Driver& d) {
  Backend& be = d.backend();
  for (const auto& a : d.plan().attention) {
    const std::size_t count = sz(a.batch * a.heads * a.seq * a.head_dim);
    const double flops = 4.0 * static_cast<double>(a.batch * a.heads) *
                         static_cast<double>(a.seq * a.seq) * static_cast<double>(a.head_dim);
    const double scores = static_cast<double>(a.batch * a.heads * a.seq * a.seq) * sizeof(float);
    auto id = identity("attention", a.heads, a.seq, a.head_dim,
                       4.0 * static_cast<double>(count) * sizeof(float) + 2 * scores, flops);
    id.batch = a.batch;
    if (!fits(d, id, 4.0 * static_cast<double>(count) * sizeof(float) + scores)) continue;
    const auto q = be.alloc(count * sizeof(float));
    const auto k = be.alloc(count * sizeof(float));
    const auto v = be.alloc(count * sizeof(float));
    const auto out = be.alloc(count * sizeof(float));
    be.fill(*q, count, Precision::kFp32, kSeedQ);
    be.fill(*k, count, Precision::kFp32, kSeedK);
    be.fill(*v, count, Precision::kFp32, kSeedV);
    Case c;
    c.identity = id;
    c.run = [&, a] { be.attention(*q, *k, *v, a.batch, a.heads, a.seq, a.head_dim, true, *out); };
    c.check = [&, a] {
      const std::size_t head = sz(a.seq * a.head_dim);
      const auto got = be.download(*out, head, Precision::kFp32);
      std::vector<float> want(head);
      kernels::attention_cpu(host_fill(head, kSeedQ), host_fill(head, kSeedK),
                             host_fill(head, kSeedV), 1, 1, a.seq, a.head_dim, true, want);
      CheckResult r;
      for (std::size_t i = 0; i < head; ++i) {
        r.compare(got[i], want[i], kFp32Reduction * (1 + std::abs(want[i])));
      }
      return r;
    };
    d.measure(std::move(c));
  }
}

// --- the MoE ops -------------------------------------------------------------------------------
// Logits whose order within each token is a permutation, spaced so that no rounding reorders
// them: the top-k is then the same on every device.
std::vector<float> gate_logits(std::int64_t tokens, std::int64_t experts) {
  std::vector<float> out(sz(tokens * experts));
  for (std::int64_t t = 0; t < tokens; ++t) {
    // A stride coprime with the experts and an offset make a permutation per token.
    std::int64_t stride =
        1 + static_cast<std::int64_t>(kernels::fill_hash(kSeedX, u64(t)) % u64(experts));
    while (std::gcd(stride, experts) != 1) ++stride;
    const auto offset =
        static_cast<std::int64_t>(kernels::fill_hash(kSeedW, u64(t)) % u64(experts));
    for (std::int64_t e = 0; e < experts; ++e) {
      const auto rank = (stride * e + offset) % experts;
      out[sz(t * experts + e)] = 8.0f * static_cast<float>(rank) / static_cast<float>(experts);
    }
  }
  return out;
}

void sweep_gate(Driver& d) {
  Backend& be = d.backend();
  const auto& s = d.plan().shapes;
  if (s.experts <= 0 || s.top_k <= 0) return;
  for (const auto tokens : d.plan().token_counts) {
    const kernels::GateShape shape{tokens, s.experts, s.top_k, s.groups, s.group_limit};
    auto id = identity("gate", tokens, s.experts, s.top_k,
                       static_cast<double>(tokens * s.experts) * sizeof(float) +
                           static_cast<double>(tokens * s.top_k) * 8,
                       6.0 * static_cast<double>(tokens * s.experts));
    id.batch = s.groups;
    id.ranks = static_cast<int>(std::max<std::int64_t>(s.group_limit, 1));
    if (!fits(d, id, id.bytes)) continue;
    const auto logits_host = gate_logits(tokens, s.experts);
    const auto logits = be.alloc(logits_host.size() * sizeof(float));
    const auto experts = be.alloc(sz(tokens * s.top_k) * sizeof(std::int32_t));
    const auto weights = be.alloc(sz(tokens * s.top_k) * sizeof(float));
    be.upload(*logits, logits_host, Precision::kFp32);
    Case c;
    c.identity = id;
    c.run = [&, shape] { be.gate(*logits, shape, *experts, *weights); };
    c.check = [&, shape] {
      const auto want = kernels::gate_topk_cpu(logits_host, shape);
      const auto got_e = be.download_ints(*experts, want.experts.size());
      const auto got_w = be.download(*weights, want.weights.size(), Precision::kFp32);
      CheckResult r;
      for (std::size_t i = 0; i < want.experts.size(); ++i) {
        r.compare(got_e[i], want.experts[i], 0);
        r.compare(got_w[i], want.weights[i], kFp32Reduction * (1 + std::abs(want.weights[i])));
      }
      return r;
    };
    d.measure(std::move(c));
  }
}

// Dispatch's gather: each token's k rows (bf16, the model's width) into expert order.
void sweep_permute(Driver& d) {
  Backend& be = d.backend();
  const auto& s = d.plan().shapes;
  const std::int64_t k = std::max<std::int64_t>(s.top_k, 1);
  const std::int64_t row_bytes = s.hidden * 2;
  for (const auto tokens : d.plan().token_counts) {
    const std::int64_t rows = tokens * k;
    const auto id =
        identity("permute", rows, row_bytes, 0,
                 2.0 * static_cast<double>(rows * row_bytes) + 4.0 * static_cast<double>(rows), 0);
    if (!fits(d, id, id.bytes)) continue;
    std::vector<std::int32_t> index(sz(rows));
    for (std::int64_t i = 0; i < rows; ++i) {
      index[sz(i)] = static_cast<std::int32_t>(kernels::fill_hash(kSeedW, u64(i)) % u64(tokens));
    }
    const std::size_t src_floats = sz(tokens * row_bytes) / sizeof(float);
    const auto src = be.alloc(sz(tokens * row_bytes));
    const auto idx = be.alloc(index.size() * sizeof(std::int32_t));
    const auto dst = be.alloc(sz(rows * row_bytes));
    be.fill(*src, src_floats, Precision::kFp32, kSeedX);
    be.upload_ints(*idx, index);
    Case c;
    c.identity = id;
    c.run = [&, tokens, rows, row_bytes] { be.gather(*src, tokens, *idx, rows, row_bytes, *dst); };
    c.check = [&, rows, row_bytes] {
      const std::size_t per_row = sz(row_bytes) / sizeof(float);
      const auto got = be.download(*dst, sz(rows) * per_row, Precision::kFp32);
      CheckResult r;
      for (std::size_t i = 0; i < sz(rows); ++i) {
        for (std::size_t j = 0; j < per_row; ++j) {
          r.compare(got[i * per_row + j], fill_value(kSeedX, sz(index[i]) * per_row + j), 0);
        }
      }
      return r;
    };
    d.measure(std::move(c));
  }
}

// Combine: each token the weighted sum of its k expert rows (fp32, the model's width).
void sweep_combine(Driver& d) {
  Backend& be = d.backend();
  const auto& s = d.plan().shapes;
  const std::int64_t k = std::max<std::int64_t>(s.top_k, 1), width = s.hidden;
  for (const auto tokens : d.plan().token_counts) {
    const std::int64_t rows = tokens * k;
    const auto id = identity("combine", tokens, width, k,
                             static_cast<double>((rows + tokens) * width) * sizeof(float),
                             2.0 * static_cast<double>(rows * width));
    if (!fits(d, id, id.bytes)) continue;
    // Choice j of token t sits in slot j * tokens + t (experts' rows grouped by choice).
    kernels::PermutePlan plan;
    plan.slot.resize(sz(rows));
    for (std::int64_t t = 0; t < tokens; ++t) {
      for (std::int64_t j = 0; j < k; ++j) {
        plan.slot[sz(t * k + j)] = static_cast<std::int32_t>(j * tokens + t);
      }
    }
    plan.source.assign(sz(rows), 0);
    const auto weights_host = host_fill(sz(rows), kSeedW);
    const auto expert_rows = be.alloc(sz(rows * width) * sizeof(float));
    const auto slot = be.alloc(plan.slot.size() * sizeof(std::int32_t));
    const auto weights = be.alloc(weights_host.size() * sizeof(float));
    const auto out = be.alloc(sz(tokens * width) * sizeof(float));
    be.fill(*expert_rows, sz(rows * width), Precision::kFp32, kSeedX);
    be.upload_ints(*slot, plan.slot);
    be.upload(*weights, weights_host, Precision::kFp32);
    Case c;
    c.identity = id;
    c.run = [&, tokens, k, width] {
      be.combine(*expert_rows, width, *slot, *weights, tokens, k, *out);
    };
    c.check = [&, tokens, k, width, rows] {
      const auto got = be.download(*out, sz(tokens * width), Precision::kFp32);
      std::vector<float> want(sz(tokens * width));
      kernels::combine_cpu(host_fill(sz(rows * width), kSeedX), width, plan, weights_host, k, want);
      CheckResult r;
      for (std::size_t i = 0; i < want.size(); ++i) {
        r.compare(got[i], want[i], kFp32Reduction * (1 + std::abs(want[i])));
      }
      return r;
    };
    d.measure(std::move(c));
  }
}

// LSH-MoE's hashing: the rotation (an fp32 GEMM to L x width dimensions), then each hash's
// signed argmax. The check compares the codes with the reference on the device's projections.
void sweep_lsh(Driver& d) {
  Backend& be = d.backend();
  const auto& s = d.plan().shapes;
  if (s.lsh_hashes <= 0) return;
  const std::int64_t width = s.hidden, hashes = s.lsh_hashes, dims = width;
  for (const auto tokens : d.plan().token_counts) {
    const std::int64_t cols = hashes * dims;
    const auto id = identity(
        "lsh", tokens, width, hashes,
        static_cast<double>(tokens * width + width * cols + 2 * tokens * cols) * sizeof(float),
        2.0 * static_cast<double>(tokens * width) * static_cast<double>(cols));
    if (!fits(d, id, id.bytes)) continue;
    const auto x = be.alloc(sz(tokens * width) * sizeof(float));
    const auto rotation = be.alloc(sz(width * cols) * sizeof(float));
    const auto projected = be.alloc(sz(tokens * cols) * sizeof(float));
    const auto codes = be.alloc(sz(tokens * hashes) * sizeof(std::int32_t));
    be.fill(*x, sz(tokens * width), Precision::kFp32, kSeedX);
    be.fill(*rotation, sz(width * cols), Precision::kFp32, kSeedW);
    Case c;
    c.identity = id;
    c.run = [&, tokens, width, cols, hashes, dims] {
      be.gemm(Precision::kFp32, tokens, cols, width, *x, *rotation, *projected);
      be.lsh_codes(*projected, tokens, hashes, dims, *codes);
    };
    c.check = [&, tokens, cols, hashes, dims] {
      const auto p = be.download(*projected, sz(tokens * cols), Precision::kFp32);
      const auto want = kernels::cross_polytope_codes_cpu(p, tokens, hashes, dims);
      const auto got = be.download_ints(*codes, want.size());
      CheckResult r;
      for (std::size_t i = 0; i < want.size(); ++i) r.compare(got[i], want[i], 0);
      return r;
    };
    d.measure(std::move(c));
  }
}

}  // namespace

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp16:
      return "fp16";
    case Precision::kFp8:
      return "fp8";
    case Precision::kFp32:
      break;
  }
  return "fp32";
}

double gemm_bytes(const Backend& backend, Precision p, std::int64_t m, std::int64_t n,
                  std::int64_t k) {
  const Precision out = p == Precision::kFp8 ? Precision::kBf16 : p;
  return static_cast<double>(m * k + k * n) * static_cast<double>(backend.element_bytes(p)) +
         static_cast<double>(m * n) * static_cast<double>(backend.element_bytes(out));
}

const std::vector<OpEntry>& op_table() {
  static const std::vector<OpEntry> table = {
      {"launch", "an empty kernel: the fixed cost of one launch", sweep_launch},
      {"copy", "device-to-device copy: memory bandwidth by bytes moved", sweep_copy},
      {"h2d", "host-to-device copy from pinned memory", sweep_h2d},
      {"gemm", "the model's GEMMs over rows, per precision", sweep_gemm},
      {"layer_norm", "layer norm over tokens x hidden (fp32)", sweep_layer_norm},
      {"gelu", "GeLU over tokens x FFN width (fp32)", sweep_gelu},
      {"softmax", "causal softmax of attention scores (fp32)", sweep_softmax},
      {"attention", "attention with materialised scores: batched GEMMs and softmax (fp32)",
       sweep_attention},
      {"gate", "softmax and top-k over the experts (group-limited where the model is)", sweep_gate},
      {"permute", "dispatch gather of each token's k rows into expert order (bf16 rows)",
       sweep_permute},
      {"combine", "weighted sum of each token's k expert outputs (fp32)", sweep_combine},
      {"lsh", "cross-polytope hashing: rotation GEMM and signed argmax (fp32)", sweep_lsh},
  };
  return table;
}

}  // namespace moesim::calibrate
