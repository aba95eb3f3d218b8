#include "replay.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "model/emitter.hpp"

namespace moesim::validate {

namespace {

using cost::OpKind;
using kernels::Precision;

constexpr int kComputeLane = 0;
constexpr int kCommLane = 1;
constexpr std::size_t kFloatBytes = 4;  // the communicators exchange fp32 elements
// Scratch buffers, by role.
enum Slot { kA, kB, kC, kD, kSend, kRecv, kSlots };

std::size_t floats(double bytes) {
  return static_cast<std::size_t>(std::ceil(std::max(bytes, 0.0) / kFloatBytes));
}

std::shared_ptr<const model::TrafficMatrix> transpose(const model::TrafficMatrix& m) {
  auto t = std::make_shared<model::TrafficMatrix>(m);
  const auto n = static_cast<std::size_t>(m.n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) t->bytes[j * n + i] = m.bytes[i * n + j];
  }
  return t;
}

Precision precision_of(cost::Dtype d, const kernels::Backend& backend) {
  switch (d) {
    case cost::Dtype::kFp32:
      return Precision::kFp32;
    case cost::Dtype::kFp16:
      return Precision::kFp16;
    case cost::Dtype::kFp8:
      if (backend.supports(Precision::kFp8)) return Precision::kFp8;
      break;
    case cost::Dtype::kBf16:
      break;
  }
  return backend.supports(Precision::kBf16) ? Precision::kBf16 : Precision::kFp32;
}

}  // namespace

std::vector<Step> steps_of(const model::Program& program, bool backward) {
  std::vector<int> step_of(program.nodes.size(), -1);
  std::vector<Step> steps;
  std::vector<int> order(program.order);
  if (backward) std::reverse(order.begin(), order.end());
  for (const int id : order) {
    const auto& n = program.node(id);
    if (!model::Emitter::emitted(n, backward)) continue;
    Step s;
    s.name = n.name + (backward ? ".backward" : "");
    s.category = n.category;
    s.lane = n.collective ? kCommLane : kComputeLane;
    if (n.collective) {
      auto c = *n.collective;
      if (backward) {
        c.kind = model::backward_kind(c.kind);
        if (c.matrix) c.matrix = transpose(*c.matrix);
      }
      s.collective = std::move(c);
    } else {
      s.kernels = backward ? n.backward : n.forward;
    }
    step_of[static_cast<std::size_t>(id)] = static_cast<int>(steps.size());
    steps.push_back(std::move(s));
  }
  // Dependencies: forward, a node waits for its deps; backward, the reverse.
  for (const int id : program.order) {
    const int self = step_of[static_cast<std::size_t>(id)];
    for (const int dep : program.node(id).deps) {
      const int other = step_of[static_cast<std::size_t>(dep)];
      if (self < 0 || other < 0) continue;
      const int waiter = backward ? other : self;
      const int waited = backward ? self : other;
      steps[static_cast<std::size_t>(waiter)].deps.push_back(waited);
    }
  }
  return steps;
}

Replayer::Replayer(kernels::Backend& backend, kernels::Communicator& comm, GroupMembers members)
    : backend_(backend), comm_(comm), members_(std::move(members)), scratch_(kSlots) {
  const int world = comm_.info().size;
  for (const auto g :
       {model::Group::kEp, model::Group::kTp, model::Group::kDenseDp, model::Group::kExpertDp}) {
    const auto ranks = members_(g);
    const auto size = static_cast<int>(ranks.size());
    if (world == 1) {
      if (size > 1) local_exchanges_ = true;
    } else if (size != 1 && size != world) {
      throw Error(fmt::format(
          "validate: a group of {} of the {} ranks cannot be replayed (collectives run over the "
          "whole world or one rank); give the experiment a layout whose tensor-, expert- and "
          "data-parallel groups are each 1 or all ranks",
          size, world));
    }
  }
}

kernels::Buffer& Replayer::scratch(int which, std::size_t bytes) {
  auto& b = scratch_[static_cast<std::size_t>(which)];
  bytes = std::max<std::size_t>(bytes, kFloatBytes);
  if (!b || b->bytes() < bytes) {
    b.reset();
    b = backend_.alloc(bytes);
    backend_.fill(*b, bytes / kFloatBytes, Precision::kFp32, static_cast<std::uint64_t>(which));
  }
  return *b;
}

// A scattered permutation of `rows` rows (a stride coprime with rows), uploaded once per row
// count: the first (warm-up) replay pays for it.
const kernels::Buffer& Replayer::permutation(std::int64_t rows) {
  auto& slot = permutations_[rows];
  if (!slot) {
    std::vector<std::int32_t> index(static_cast<std::size_t>(rows));
    constexpr std::int64_t kStride = 7919;  // a prime: coprime with any count it does not divide
    const std::int64_t stride = rows % kStride == 0 ? 1 : kStride;
    for (std::int64_t i = 0; i < rows; ++i) {
      index[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i * stride % rows);
    }
    slot = backend_.alloc(index.size() * sizeof(std::int32_t));
    backend_.upload_ints(*slot, index);
  }
  return *slot;
}

void Replayer::gemm(std::int64_t m, std::int64_t n, std::int64_t k, cost::Dtype dtype) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  const auto p = precision_of(dtype, backend_);
  // Room for any precision's elements (fp8's result is bf16; fp32 at most 4 bytes).
  const auto size = [](std::int64_t rows, std::int64_t cols) {
    return static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) * kFloatBytes;
  };
  auto& a = scratch(kA, size(m, k));
  auto& b = scratch(kB, size(k, n));
  auto& c = scratch(kC, size(m, n));
  backend_.gemm(p, m, n, k, a, b, c);
}

// GEMMs of the kernel's FLOPs over its scores' shape: rows = batch x heads x seq_q, columns =
// seq_kv, depth = head_dim; as many as make up the FLOPs (at least one).
void Replayer::flop_equivalent_gemms(const cost::Work& w) {
  const auto& s = w.attention;
  const std::int64_t m = s.batch * s.heads * s.seq_q, n = s.seq_kv, k = s.head_dim;
  const double one = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (one <= 0) return;
  const auto count = std::max<long>(1, std::lround(w.flops / one));
  for (long i = 0; i < count; ++i) gemm(m, n, k, w.dtype);
}

void Replayer::kernel(const cost::Work& w) {
  switch (w.kind) {
    case OpKind::kGemm:
      gemm(w.gemm.m, w.gemm.n, w.gemm.k, w.dtype);
      return;
    case OpKind::kBatchedGemm:
      gemm(w.gemm.m * w.gemm.batch, w.gemm.n, w.gemm.k, w.dtype);
      return;
    case OpKind::kGroupedGemm:
      for (const auto rows : w.groups) gemm(rows, w.gemm.n, w.gemm.k, w.dtype);
      return;
    case OpKind::kLshHash:
      if (w.gemm.m > 0) {  // the projection, then the signed argmax per hash
        gemm(w.gemm.m, w.gemm.n, w.gemm.k, w.dtype);
        const std::int64_t dims = w.gemm.k, hashes = w.gemm.n / std::max<std::int64_t>(dims, 1);
        const auto rows = static_cast<std::size_t>(w.gemm.m);
        backend_.lsh_codes(scratch(kC, rows * static_cast<std::size_t>(w.gemm.n) * kFloatBytes),
                           w.gemm.m, hashes, dims,
                           scratch(kD, rows * static_cast<std::size_t>(hashes) * kFloatBytes));
        return;
      }
      break;  // structured: memory-bound stand-in below
    case OpKind::kGating:
      if (w.row.rows > 0 && w.row.k >= 1 && w.row.k <= w.row.width) {
        const auto logits = static_cast<std::size_t>(w.row.rows * w.row.width);
        const auto chosen = static_cast<std::size_t>(w.row.rows * w.row.k);
        backend_.gate(scratch(kA, logits * kFloatBytes),
                      kernels::GateShape{w.row.rows, w.row.width, w.row.k, 1, 0},
                      scratch(kB, chosen * kFloatBytes), scratch(kC, chosen * kFloatBytes));
        return;
      }
      break;
    case OpKind::kPermute:
      if (w.row.rows > 0 && w.row.width > 0) {
        const auto row_bytes =
            w.row.width * static_cast<std::int64_t>(cost::bytes_per_element(w.dtype));
        const auto bytes = static_cast<std::size_t>(w.row.rows * row_bytes);
        backend_.gather(scratch(kA, bytes), w.row.rows, permutation(w.row.rows), w.row.rows,
                        row_bytes, scratch(kB, bytes));
        return;
      }
      break;
    case OpKind::kAttention: {
      const auto& s = w.attention;
      if (s.seq_q == s.seq_kv && s.seq_q > 0) {
        const auto bytes =
            static_cast<std::size_t>(s.batch * s.heads * s.seq_q * s.head_dim) * kFloatBytes;
        backend_.attention(scratch(kA, bytes), scratch(kB, bytes), scratch(kC, bytes), s.batch,
                           s.heads, s.seq_q, s.head_dim, s.causal, scratch(kD, bytes));
        return;
      }
      flop_equivalent_gemms(w);
      return;
    }
    case OpKind::kAttentionBackward:
      flop_equivalent_gemms(w);
      return;
    default:
      break;
  }
  // Memory-bound: a copy that reads half the kernel's bytes and writes the other half.
  const auto half = static_cast<std::size_t>(w.bytes / 2);
  if (half == 0) {
    backend_.nothing();
    return;
  }
  backend_.copy(scratch(kA, half), scratch(kB, half), half);
}

void Replayer::collective(const model::Collective& c) {
  const auto ranks = members_(c.group);
  if (ranks.size() <= 1) return;
  const int world = comm_.info().size;
  const int me = comm_.info().rank;
  if (c.kind == net::CollectiveKind::kAllToAll && c.matrix) {
    const auto& m = *c.matrix;
    const auto index = static_cast<int>(
        std::find(ranks.begin(), ranks.end(), world == 1 ? ranks.front() : me) - ranks.begin());
    if (world == 1) {  // degenerate: copy what this rank sends to the others
      double bytes = 0;
      for (int j = 0; j < m.n; ++j) bytes += j == index ? 0.0 : m.at(index, j);
      const auto n = static_cast<std::size_t>(bytes);
      if (n > 0) backend_.copy(scratch(kSend, n), scratch(kRecv, n), n);
      return;
    }
    std::vector<std::size_t> send(static_cast<std::size_t>(world), 0), recv(send);
    for (int j = 0; j < m.n; ++j) {
      const auto peer = static_cast<std::size_t>(ranks[static_cast<std::size_t>(j)]);
      send[peer] = floats(m.at(index, j));
      recv[peer] = floats(m.at(j, index));
    }
    std::size_t sent = 0, received = 0;
    for (std::size_t p = 0; p < send.size(); ++p) {
      sent += send[p];
      received += recv[p];
    }
    comm_.all_to_allv(scratch(kSend, sent * kFloatBytes), send,
                      scratch(kRecv, received * kFloatBytes), recv);
    return;
  }
  const auto total = floats(c.bytes);
  if (world == 1) {
    const auto n = total * kFloatBytes;
    if (n > 0) backend_.copy(scratch(kSend, n), scratch(kRecv, n), n);
    return;
  }
  const auto w = static_cast<std::size_t>(world);
  const auto block = std::max<std::size_t>(1, (total + w - 1) / w);
  switch (c.kind) {
    case net::CollectiveKind::kAllGather:
      comm_.all_gather(scratch(kSend, block * kFloatBytes), scratch(kRecv, w * block * kFloatBytes),
                       block);
      return;
    case net::CollectiveKind::kReduceScatter:
      comm_.reduce_scatter(scratch(kSend, w * block * kFloatBytes),
                           scratch(kRecv, block * kFloatBytes), block);
      return;
    default:
      comm_.all_reduce(scratch(kSend, total * kFloatBytes), scratch(kRecv, total * kFloatBytes),
                       total);
      return;
  }
}

ReplayTiming Replayer::run(const std::vector<Step>& steps) {
  backend_.synchronize();
  backend_.clear_marks();
  comm_.barrier();
  backend_.use_lane(kComputeLane);
  const int start = backend_.mark();
  std::vector<int> begin(steps.size()), end(steps.size());
  int last_comm = -1;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& s = steps[i];
    backend_.use_lane(s.lane);
    for (const int d : s.deps) backend_.wait_for(end[static_cast<std::size_t>(d)]);
    begin[i] = backend_.mark();
    if (s.collective) {
      collective(*s.collective);
    } else {
      for (const auto& w : s.kernels) kernel(w);
    }
    end[i] = backend_.mark();
    if (s.lane == kCommLane) last_comm = end[i];
  }
  backend_.use_lane(kComputeLane);
  if (last_comm >= 0) backend_.wait_for(last_comm);
  const int stop = backend_.mark();
  backend_.synchronize();
  ReplayTiming t;
  t.step_seconds.reserve(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    t.step_seconds.push_back(backend_.seconds_between(begin[i], end[i]));
  }
  t.whole_seconds = backend_.seconds_between(start, stop);
  return t;
}

}  // namespace moesim::validate
