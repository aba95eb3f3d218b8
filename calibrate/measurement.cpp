#include "measurement.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ostream>
#include <stdexcept>

#include "core/error.hpp"
#include "report/csv_reader.hpp"

namespace moesim::calibrate {

namespace {

// The nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  const auto rank = static_cast<std::size_t>(std::clamp(std::ceil(q * n) - 1, 0.0, n - 1));
  return sorted[rank];
}

constexpr std::array kCollectives = {"all_to_all", "all_reduce", "all_gather", "reduce_scatter",
                                     "send_recv"};

}  // namespace

Timing summarise(std::vector<double> seconds) {
  if (seconds.empty()) throw std::invalid_argument("summarise: no timings");
  std::sort(seconds.begin(), seconds.end());
  const std::size_t n = seconds.size();
  const double median = n % 2 == 1 ? seconds[n / 2] : 0.5 * (seconds[n / 2 - 1] + seconds[n / 2]);
  return Timing{median, percentile(seconds, 0.1), percentile(seconds, 0.9), seconds.front(),
                static_cast<int>(n)};
}

bool is_collective(const std::string& op) {
  return std::find(kCollectives.begin(), kCollectives.end(), op) != kCollectives.end();
}

void write_csv(const std::vector<Measurement>& measurements, std::ostream& out) {
  out << "op,dtype,batch,m,n,k,bytes,flops,ranks,link,reps,median_s,p10_s,p90_s,min_s,checked,"
         "wrong,max_error\n";
  for (const auto& r : measurements) {
    out << fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{:.6e},{:.6e},{:.6e},{:.6e},{},{},{:.4g}\n", r.op,
        r.dtype, r.batch, r.m, r.n, r.k, r.bytes, r.flops, r.ranks, r.link, r.time.reps,
        r.time.median, r.time.p10, r.time.p90, r.time.min, r.checked, r.wrong, r.max_error);
  }
}

std::vector<Measurement> read_csv(const std::filesystem::path& path) {
  std::vector<Measurement> out;
  try {
    io::CSVReader<18> in(path.string());
    in.read_header(io::ignore_no_column, "op", "dtype", "batch", "m", "n", "k", "bytes", "flops",
                   "ranks", "link", "reps", "median_s", "p10_s", "p90_s", "min_s", "checked",
                   "wrong", "max_error");
    Measurement r;
    while (in.read_row(r.op, r.dtype, r.batch, r.m, r.n, r.k, r.bytes, r.flops, r.ranks, r.link,
                       r.time.reps, r.time.median, r.time.p10, r.time.p90, r.time.min, r.checked,
                       r.wrong, r.max_error)) {
      out.push_back(r);
    }
  } catch (const io::error::base& e) {
    throw Error(fmt::format("{}: {}", path.string(), e.what()));
  }
  return out;
}

}  // namespace moesim::calibrate
