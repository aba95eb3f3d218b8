// Every op of every backend against the CPU reference, on fresh random inputs, every output
// element checked. The host backend runs everywhere; the CUDA one skips, saying why, where no
// GPU is usable (and is then run on a GPU machine).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend.hpp"
#include "dense.hpp"
#include "device.hpp"
#include "fill.hpp"
#include "gating.hpp"
#include "lsh.hpp"
#include "permute.hpp"

namespace moesim::kernels {
namespace {

std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float scale = 1) {
  std::normal_distribution<float> d(0, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected,
                  float tolerance, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], tolerance * (1 + std::fabs(expected[i])))
        << what << " element " << i;
  }
}

class Backends : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda") {
      const auto devices = cuda_devices();
      if (devices.count == 0) GTEST_SKIP() << devices.reason;
      backend_ = make_cuda_backend(0);
    } else {
      backend_ = make_host_backend();
    }
  }
  std::unique_ptr<Buffer> put(const std::vector<float>& v, Precision p = Precision::kFp32) {
    auto b = backend_->alloc(v.size() * backend_->element_bytes(p));
    backend_->upload(*b, v, p);
    return b;
  }
  std::unique_ptr<Buffer> put_ints(const std::vector<std::int32_t>& v) {
    auto b = backend_->alloc(v.size() * sizeof(std::int32_t));
    backend_->upload_ints(*b, v);
    return b;
  }
  std::unique_ptr<Backend> backend_;
  std::mt19937 rng_{2026};
};

TEST_P(Backends, GemmMatchesTheBlasInEachPrecision) {
  const std::int64_t m = 67, n = 45, k = 129;
  const auto a = random_floats(m * k, rng_), b = random_floats(k * n, rng_);
  std::vector<float> expected(m * n);
  gemm_cpu(m, n, k, a, b, expected);
  for (const auto p : {Precision::kFp32, Precision::kBf16, Precision::kFp16}) {
    if (!backend_->supports(p)) continue;
    // Inputs rounded to 8 (bf16) or 11 (fp16) significant bits, fp32 accumulation.
    const float tolerance = p == Precision::kFp32 ? 1e-4f : p == Precision::kBf16 ? 0.1f : 0.02f;
    auto da = put(a, p), db = put(b, p);
    auto dc = backend_->alloc(m * n * backend_->element_bytes(p));
    backend_->gemm(p, m, n, k, *da, *db, *dc);
    expect_close(backend_->download(*dc, m * n, p), expected, tolerance, "gemm");
  }
}

TEST_P(Backends, GateMatchesItsReference) {
  GateShape s{300, 64, 8, 8, 4};
  const auto logits = random_floats(s.tokens * s.experts, rng_, 2);
  const auto expected = gate_topk_cpu(logits, s);
  auto dl = put(logits);
  auto de = backend_->alloc(s.tokens * s.k * sizeof(std::int32_t));
  auto dw = backend_->alloc(s.tokens * s.k * sizeof(float));
  backend_->gate(*dl, s, *de, *dw);
  EXPECT_EQ(backend_->download_ints(*de, s.tokens * s.k), expected.experts);
  expect_close(backend_->download(*dw, s.tokens * s.k, Precision::kFp32), expected.weights, 1e-5f,
               "gate weights");
}

TEST_P(Backends, PermuteAndCombineMatchTheirReferences) {
  const std::int64_t tokens = 200, k = 2, experts = 8, width = 96;
  std::vector<std::int32_t> choice(tokens * k);
  for (auto& e : choice) e = static_cast<std::int32_t>(rng_() % experts);
  const auto plan = permute_plan_cpu(choice, tokens, k, experts, 40);
  const auto x = random_floats(tokens * width, rng_);
  // Gather: padding slots read row 0 here (the reference's -1 means "zeros", written apart).
  std::vector<std::int32_t> from(plan.source);
  for (auto& f : from) f = std::max(f, 0);
  auto dx = put(x);
  auto index = put_ints(from);
  auto rows = backend_->alloc(from.size() * width * sizeof(float));
  backend_->gather(*dx, tokens, *index, static_cast<std::int64_t>(from.size()),
                   width * static_cast<std::int64_t>(sizeof(float)), *rows);
  const auto gathered = backend_->download(*rows, from.size() * width, Precision::kFp32);
  for (std::size_t s = 0; s < from.size(); ++s) {
    for (std::int64_t c = 0; c < width; ++c) {
      ASSERT_EQ(gathered[s * width + c], x[from[s] * width + c]) << "slot " << s;
    }
  }
  const auto weights = random_floats(tokens * k, rng_);
  std::vector<float> expected(tokens * width);
  combine_cpu(gathered, width, plan, weights, k, expected);
  auto slot = put_ints(plan.slot);
  auto w = put(weights);
  auto out = backend_->alloc(tokens * width * sizeof(float));
  backend_->combine(*rows, width, *slot, *w, tokens, k, *out);
  expect_close(backend_->download(*out, tokens * width, Precision::kFp32), expected, 1e-5f,
               "combine");
}

TEST_P(Backends, LshCodesMatchTheirReference) {
  const std::int64_t tokens = 500, hashes = 6, dims = 16;
  const auto projected = random_floats(tokens * hashes * dims, rng_);
  auto dp = put(projected);
  auto codes = backend_->alloc(tokens * hashes * sizeof(std::int32_t));
  backend_->lsh_codes(*dp, tokens, hashes, dims, *codes);
  EXPECT_EQ(backend_->download_ints(*codes, tokens * hashes),
            cross_polytope_codes_cpu(projected, tokens, hashes, dims));
}

TEST_P(Backends, NormsActivationsSoftmaxAndAttentionMatchTheirReferences) {
  const std::int64_t rows = 64, cols = 200;
  const auto x = random_floats(rows * cols, rng_);
  auto dx = put(x);
  auto out = backend_->alloc(rows * cols * sizeof(float));
  std::vector<float> expected(rows * cols);
  layer_norm_cpu(x, rows, cols, expected);
  backend_->layer_norm(*dx, rows, cols, *out);
  expect_close(backend_->download(*out, rows * cols, Precision::kFp32), expected, 1e-4f, "norm");
  gelu_cpu(x, expected);
  backend_->gelu(*dx, rows * cols, *out);
  expect_close(backend_->download(*out, rows * cols, Precision::kFp32), expected, 1e-5f, "gelu");
  expected = x;
  softmax_rows_cpu(expected, rows, cols, true);
  backend_->softmax_rows(*dx, rows, cols, true);
  expect_close(backend_->download(*dx, rows * cols, Precision::kFp32), expected, 1e-5f, "softmax");

  const std::int64_t batch = 2, heads = 3, seq = 40, head_dim = 16;
  const auto n = batch * heads * seq * head_dim;
  const auto q = random_floats(n, rng_), kk = random_floats(n, rng_), v = random_floats(n, rng_);
  std::vector<float> o(n);
  attention_cpu(q, kk, v, batch, heads, seq, head_dim, true, o);
  auto dq = put(q), dk = put(kk), dv = put(v);
  auto dout = backend_->alloc(n * sizeof(float));
  backend_->attention(*dq, *dk, *dv, batch, heads, seq, head_dim, true, *dout);
  expect_close(backend_->download(*dout, n, Precision::kFp32), o, 1e-4f, "attention");
}

TEST_P(Backends, FillsWhatTheHostRecomputes) {
  const std::size_t n = 1000;
  std::vector<float> expected(n);
  for (std::size_t i = 0; i < n; ++i) expected[i] = fill_value(7, i);
  for (const auto p : {Precision::kFp32, Precision::kBf16, Precision::kFp16, Precision::kFp8}) {
    if (!backend_->supports(p)) continue;
    auto b = backend_->alloc(n * backend_->element_bytes(p));
    backend_->fill(*b, n, p, 7);
    // Multiples of 1/8 in [-1, 1]: exact in every precision.
    expect_close(backend_->download(*b, n, p), expected, 0, "fill");
  }
  // Different seeds, different data; values spread over the whole set.
  int distinct_from_seed_8 = 0;
  for (std::size_t i = 0; i < n; ++i) distinct_from_seed_8 += fill_value(8, i) != expected[i];
  EXPECT_GT(distinct_from_seed_8, 800);
}

// FP8 takes B transposed ([n, k]) and writes bf16: with exact inputs the result is the exact
// product rounded to bf16.
TEST_P(Backends, Fp8GemmTakesBTransposedWhereTheGpuHasIt) {
  if (!backend_->supports(Precision::kFp8)) GTEST_SKIP() << "no FP8 GEMMs on this device";
  const std::int64_t m = 64, n = 48, k = 128;  // cuBLASLt's FP8 wants multiples of 16
  auto a = backend_->alloc(m * k), bt = backend_->alloc(n * k);
  auto c = backend_->alloc(m * n * backend_->element_bytes(Precision::kBf16));
  backend_->fill(*a, m * k, Precision::kFp8, 1);
  backend_->fill(*bt, n * k, Precision::kFp8, 2);
  backend_->gemm(Precision::kFp8, m, n, k, *a, *bt, *c);
  const auto got = backend_->download(*c, m * n, Precision::kBf16);
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double exact = 0;
      for (std::int64_t x = 0; x < k; ++x) {
        exact += fill_value(1, i * k + x) * static_cast<double>(fill_value(2, j * k + x));
      }
      ASSERT_NEAR(got[i * n + j], exact, std::abs(exact) / 256) << i << "," << j;
    }
  }
}

TEST_P(Backends, TimesGraphReplays) {
  auto from = backend_->alloc(1 << 20), to = backend_->alloc(1 << 20);
  backend_->fill(*from, (1 << 20) / sizeof(float), Precision::kFp32, 3);
  const auto times =
      backend_->time([&] { backend_->copy(*from, *to, 1 << 20); }, 1, 4, Launch::kGraph);
  ASSERT_EQ(times.size(), 4u);
  for (const auto t : times) EXPECT_GT(t, 0);
  const auto copied = backend_->download(*to, 16, Precision::kFp32);
  for (std::size_t i = 0; i < copied.size(); ++i) EXPECT_EQ(copied[i], fill_value(3, i));
}

TEST_P(Backends, TimesWhatItRunsAndSaysWhatItIs) {
  const auto times = backend_->time([&] { backend_->nothing(); }, 2, 5);
  ASSERT_EQ(times.size(), 5u);
  for (const auto t : times) EXPECT_GE(t, 0);
  EXPECT_EQ(backend_->info().backend, GetParam());
  EXPECT_FALSE(backend_->info().device.empty());
  EXPECT_GT(backend_->upload_seconds(1 << 20), 0);
}

INSTANTIATE_TEST_SUITE_P(Each, Backends, ::testing::Values("host", "cuda"),
                         [](const auto& test) { return test.param; });

}  // namespace
}  // namespace moesim::kernels
