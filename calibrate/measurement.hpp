#pragma once
// One measured case of the harness: which op, on what shape, how long (median and spread over
// the repetitions), and whether its results were right. calibration.csv holds one per line;
// the fits read them back from it, so a recorded file can be fitted again without a device.
//
// Shape columns by op (unused ones are 0):
//   gemm            m, n, k (C[m,n] = A[m,k] B[k,n]); dtype bf16, fp16, fp8 or fp32
//   copy            bytes = read + written (2 x the buffer)
//   h2d             bytes = copied from host memory to the device
//   launch          an empty kernel
//   layer_norm      m rows, n columns;  gelu  m elements;  softmax  m rows, n columns
//   attention       batch, m heads, n sequence length, k head dim (scores materialised)
//   gate            m tokens, n experts, k top-k, batch groups (limit in `ranks`)
//   permute         m rows gathered, n bytes per row
//   combine         m tokens, n width, k top-k
//   lsh             m tokens, n width, k hash functions (rotation GEMM + signed argmax)
//   all_to_all, all_reduce, all_gather, reduce_scatter, send_recv
//                   bytes per rank as nccl-tests prints them, over `ranks` ranks and `link`
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace moesim::calibrate {

// Median and spread of repeated timings, in seconds.
struct Timing {
  double median = 0, p10 = 0, p90 = 0, min = 0;
  int reps = 0;
};
// Throws std::invalid_argument on an empty sample.
Timing summarise(std::vector<double> seconds);

struct Measurement {
  std::string op;
  std::string dtype = "fp32";
  std::int64_t batch = 1, m = 0, n = 0, k = 0;
  double bytes = 0;  // moved (memory ops) or per rank (collectives)
  double flops = 0;
  int ranks = 1;
  std::string link;  // collectives: nvlink, pcie or network
  Timing time;
  std::int64_t checked = 0;  // output elements compared with the reference
  std::int64_t wrong = 0;    // of them, outside the error bound
  double max_error = 0;      // largest |device - reference| / bound among those checked
};

bool is_collective(const std::string& op);

// calibration.csv: a header line, then one measurement per line, in the order given.
void write_csv(const std::vector<Measurement>& measurements, std::ostream& out);
// Reads what write_csv() wrote. Throws moesim::Error naming the file, line and column.
std::vector<Measurement> read_csv(const std::filesystem::path& path);

}  // namespace moesim::calibrate
