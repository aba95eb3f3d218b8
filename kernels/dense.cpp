#include "dense.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace moesim::kernels {

namespace {
constexpr float kGeluCoefficient = 0.044715f;
constexpr float kSqrtTwoOverPi = 0.7978845608028654f;

blasint as_blas(std::int64_t v) {
  return static_cast<blasint>(v);
}
}  // namespace

void gemm_cpu(std::int64_t m, std::int64_t n, std::int64_t k, std::span<const float> a,
              std::span<const float> b, std::span<float> c) {
  if (static_cast<std::int64_t>(a.size()) != m * k ||
      static_cast<std::int64_t>(b.size()) != k * n ||
      static_cast<std::int64_t>(c.size()) != m * n) {
    throw std::invalid_argument("gemm: operand sizes do not match m, n, k");
  }
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_blas(m), as_blas(n), as_blas(k), 1.0f,
              a.data(), as_blas(k), b.data(), as_blas(n), 0.0f, c.data(), as_blas(n));
}

void softmax_rows_cpu(std::span<float> x, std::int64_t rows, std::int64_t cols, bool causal) {
  if (static_cast<std::int64_t>(x.size()) != rows * cols) {
    throw std::invalid_argument("softmax: not rows x cols");
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = x.data() + r * cols;
    const std::int64_t used = causal ? (r % cols) + 1 : cols;
    const float top = *std::max_element(row, row + used);
    double sum = 0;
    for (std::int64_t c = 0; c < used; ++c) {
      row[c] = std::exp(row[c] - top);
      sum += row[c];
    }
    for (std::int64_t c = 0; c < used; ++c) row[c] = static_cast<float>(row[c] / sum);
    std::fill(row + used, row + cols, 0.0f);
  }
}

void layer_norm_cpu(std::span<const float> x, std::int64_t rows, std::int64_t cols,
                    std::span<float> out) {
  if (static_cast<std::int64_t>(x.size()) != rows * cols || out.size() != x.size()) {
    throw std::invalid_argument("layer_norm: not rows x cols");
  }
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* row = x.data() + r * cols;
    double mean = 0, var = 0;
    for (std::int64_t c = 0; c < cols; ++c) mean += row[c];
    mean /= static_cast<double>(cols);
    for (std::int64_t c = 0; c < cols; ++c) var += (row[c] - mean) * (row[c] - mean);
    var /= static_cast<double>(cols);
    const double inv = 1.0 / std::sqrt(var + kLayerNormEpsilon);
    for (std::int64_t c = 0; c < cols; ++c) {
      out[static_cast<std::size_t>(r * cols + c)] = static_cast<float>((row[c] - mean) * inv);
    }
  }
}

void gelu_cpu(std::span<const float> x, std::span<float> out) {
  if (out.size() != x.size()) throw std::invalid_argument("gelu: sizes differ");
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float v = x[i];
    out[i] = 0.5f * v * (1.0f + std::tanh(kSqrtTwoOverPi * (v + kGeluCoefficient * v * v * v)));
  }
}

void attention_cpu(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                   std::int64_t batch, std::int64_t heads, std::int64_t seq, std::int64_t head_dim,
                   bool causal, std::span<float> out) {
  const auto per_head = seq * head_dim;
  const auto total = batch * heads * per_head;
  if (static_cast<std::int64_t>(q.size()) != total || k.size() != q.size() ||
      v.size() != q.size() || out.size() != q.size()) {
    throw std::invalid_argument("attention: q, k, v, out are not batch x heads x seq x head_dim");
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> scores(static_cast<std::size_t>(seq * seq));
  for (std::int64_t h = 0; h < batch * heads; ++h) {
    const auto off = static_cast<std::size_t>(h * per_head);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, as_blas(seq), as_blas(seq),
                as_blas(head_dim), scale, q.data() + off, as_blas(head_dim), k.data() + off,
                as_blas(head_dim), 0.0f, scores.data(), as_blas(seq));
    softmax_rows_cpu(scores, seq, seq, causal);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_blas(seq), as_blas(head_dim),
                as_blas(seq), 1.0f, scores.data(), as_blas(seq), v.data() + off, as_blas(head_dim),
                0.0f, out.data() + off, as_blas(head_dim));
  }
}

void expert_ffn_cpu(std::span<const float> x, std::span<const std::int64_t> rows,
                    std::int64_t width, std::int64_t inner, std::span<const float> w1,
                    std::span<const float> w2, std::span<float> out) {
  std::int64_t total = 0;
  for (const auto r : rows) total += r;
  const auto experts = static_cast<std::int64_t>(rows.size());
  if (static_cast<std::int64_t>(x.size()) != total * width || out.size() != x.size() ||
      static_cast<std::int64_t>(w1.size()) != experts * width * inner ||
      static_cast<std::int64_t>(w2.size()) != experts * inner * width) {
    throw std::invalid_argument("expert_ffn: sizes do not match the rows, width and inner");
  }
  std::int64_t at = 0;
  for (std::int64_t e = 0; e < experts; ++e) {
    const auto m = rows[static_cast<std::size_t>(e)];
    std::vector<float> hidden(static_cast<std::size_t>(m * inner));
    gemm_cpu(m, inner, width,
             x.subspan(static_cast<std::size_t>(at * width), static_cast<std::size_t>(m * width)),
             w1.subspan(static_cast<std::size_t>(e * width * inner),
                        static_cast<std::size_t>(width * inner)),
             hidden);
    gelu_cpu(hidden, hidden);
    gemm_cpu(
        m, width, inner, hidden,
        w2.subspan(static_cast<std::size_t>(e * inner * width),
                   static_cast<std::size_t>(inner * width)),
        out.subspan(static_cast<std::size_t>(at * width), static_cast<std::size_t>(m * width)));
    at += m;
  }
}

}  // namespace moesim::kernels
