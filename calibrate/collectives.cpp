#include "collectives.hpp"

#include <fmt/format.h>

#include <array>
#include <ostream>
#include <stdexcept>

#include "fill.hpp"

namespace moesim::calibrate {

namespace {

using kernels::Buffer;
using kernels::fill_value;
using kernels::Precision;

constexpr std::uint64_t kSeedBase = 100;  // rank r's send buffer holds fill_value(kSeedBase + r, i)

std::uint64_t seed_of(int rank) {
  return kSeedBase + static_cast<std::uint64_t>(rank);
}

// One collective: its buffers' element counts (send, receive) for `count` elements in total
// per rank as nccl-tests counts them, how to run it, and what rank r must receive.
struct CollectiveOp {
  std::string_view name;
  std::size_t (*send_count)(std::size_t total, int ranks);
  std::size_t (*recv_count)(std::size_t total, int ranks);
  void (*run)(kernels::Communicator&, const Buffer&, Buffer&, std::size_t total);
  // The value element i of rank r's receive buffer must hold.
  double (*expected)(std::size_t i, std::size_t total, int rank, int ranks);
};

std::size_t whole(std::size_t total, int) {
  return total;
}
std::size_t share(std::size_t total, int ranks) {
  return total / static_cast<std::size_t>(ranks);
}

double sum_over(std::size_t i, int ranks) {
  double s = 0;
  for (int r = 0; r < ranks; ++r) s += fill_value(seed_of(r), i);
  return s;
}

const std::array<CollectiveOp, 5> kOps = {{
    {"all_to_all", whole, whole,
     [](kernels::Communicator& c, const Buffer& s, Buffer& r, std::size_t total) {
       c.all_to_all(s, r, total / static_cast<std::size_t>(c.info().size));
     },
     [](std::size_t i, std::size_t total, int rank, int ranks) {
       // Block p of my receive buffer is peer p's block `rank`.
       const std::size_t block = total / static_cast<std::size_t>(ranks);
       const auto peer = static_cast<int>(i / block);
       return static_cast<double>(
           fill_value(seed_of(peer), static_cast<std::size_t>(rank) * block + i % block));
     }},
    {"all_reduce", whole, whole,
     [](kernels::Communicator& c, const Buffer& s, Buffer& r, std::size_t total) {
       c.all_reduce(s, r, total);
     },
     [](std::size_t i, std::size_t, int, int ranks) { return sum_over(i, ranks); }},
    {"all_gather", share, whole,
     [](kernels::Communicator& c, const Buffer& s, Buffer& r, std::size_t total) {
       c.all_gather(s, r, total / static_cast<std::size_t>(c.info().size));
     },
     [](std::size_t i, std::size_t total, int, int ranks) {
       const std::size_t block = total / static_cast<std::size_t>(ranks);
       return static_cast<double>(fill_value(seed_of(static_cast<int>(i / block)), i % block));
     }},
    {"reduce_scatter", whole, share,
     [](kernels::Communicator& c, const Buffer& s, Buffer& r, std::size_t total) {
       c.reduce_scatter(s, r, total / static_cast<std::size_t>(c.info().size));
     },
     [](std::size_t i, std::size_t total, int rank, int ranks) {
       const std::size_t block = total / static_cast<std::size_t>(ranks);
       return sum_over(static_cast<std::size_t>(rank) * block + i, ranks);
     }},
    {"send_recv", whole, whole,
     [](kernels::Communicator& c, const Buffer& s, Buffer& r, std::size_t total) {
       c.send_recv(s, r, total);
     },
     [](std::size_t i, std::size_t, int rank, int ranks) {
       return static_cast<double>(fill_value(seed_of((rank + ranks - 1) % ranks), i));
     }},
}};

}  // namespace

double bus_factor(std::string_view op, int ranks) {
  const double n = ranks;
  if (op == "all_reduce") return 2 * (n - 1) / n;
  if (op == "all_gather" || op == "reduce_scatter" || op == "all_to_all") return (n - 1) / n;
  if (op == "send_recv") return 1;
  throw std::invalid_argument("bus_factor: not a collective: " + std::string(op));
}

void sweep_collectives(Driver& driver, kernels::Communicator& comm, const std::string& link,
                       std::ostream* table) {
  kernels::Backend& be = driver.backend();
  const int ranks = comm.info().size;
  const int rank = comm.info().rank;
  for (const auto& op : kOps) {
    if (table != nullptr) {
      *table << fmt::format("# {} over {} ranks ({}, {})\n", op.name, ranks, comm.info().library,
                            link);
      *table << fmt::format("# {:>12} {:>12} {:>6} {:>11} {:>9} {:>9} {:>7}\n", "size", "count",
                            "type", "time(us)", "algbw", "busbw", "#wrong");
      *table << fmt::format("# {:>12} {:>12} {:>6} {:>11} {:>9} {:>9} {:>7}\n", "(B)", "(elements)",
                            "", "", "(GB/s)", "(GB/s)", "");
    }
    for (const std::size_t size : driver.plan().collective_bytes) {
      // Whole elements, split evenly over the ranks.
      const std::size_t unit = sizeof(float) * static_cast<std::size_t>(ranks);
      const std::size_t total = size / unit * static_cast<std::size_t>(ranks);
      if (total == 0) continue;
      Measurement id;
      id.op = std::string(op.name);
      id.bytes = static_cast<double>(total * sizeof(float));
      id.ranks = ranks;
      id.link = link;
      const std::size_t send = op.send_count(total, ranks), recv = op.recv_count(total, ranks);
      const auto send_buffer = be.alloc(send * sizeof(float));
      const auto recv_buffer = be.alloc(recv * sizeof(float));
      be.fill(*send_buffer, send, Precision::kFp32, seed_of(rank));
      Case c;
      c.identity = id;
      const std::function<void()> run = [&] { op.run(comm, *send_buffer, *recv_buffer, total); };
      c.run = run;
      c.timer = [&, run](int warmup, int reps) { return comm.time(be, run, warmup, reps); };
      c.check = [&] {
        be.synchronize();
        const auto got = be.download(*recv_buffer, recv, Precision::kFp32);
        CheckResult mine;
        for (std::size_t i = 0; i < recv; ++i) {
          mine.compare(got[i], op.expected(i, total, rank, ranks), 0);
        }
        // Every rank's elements, as nccl-tests counts #wrong.
        CheckResult all;
        all.checked = comm.sum_over_ranks(mine.checked);
        all.wrong = comm.sum_over_ranks(mine.wrong);
        all.max_error = comm.max_over_ranks(mine.max_error);
        return all;
      };
      const Measurement& m = driver.measure(std::move(c));
      if (table != nullptr) {
        const double algbw = m.bytes / m.time.median / 1e9;
        *table << fmt::format("  {:>12} {:>12} {:>6} {:>11.2f} {:>9.2f} {:>9.2f} {:>7}\n",
                              static_cast<std::size_t>(m.bytes), total, "float",
                              m.time.median * 1e6, algbw, algbw * bus_factor(op.name, ranks),
                              m.wrong);
      }
    }
  }
}

}  // namespace moesim::calibrate
