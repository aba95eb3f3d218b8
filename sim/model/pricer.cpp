#include "pricer.hpp"

#include <fmt/format.h>

namespace moesim::model {

core::Time Pricer::price(const std::vector<cost::Work>& works, std::string* detail) {
  core::Time total = core::Time::zero();
  for (const auto& wk : works) {
    std::string key = fmt::format(
        "{}|{}|{}|{}|{},{},{},{}|{},{},{},{},{},{},{}", static_cast<int>(wk.kind),
        static_cast<int>(wk.dtype), wk.flops, wk.bytes, wk.gemm.m, wk.gemm.n, wk.gemm.k,
        wk.gemm.batch, wk.attention.batch, wk.attention.heads, wk.attention.kv_heads,
        wk.attention.seq_q, wk.attention.seq_kv, wk.attention.head_dim, wk.attention.flash_version);
    for (const auto g : wk.groups) key += fmt::format(",{}", g);
    auto it = cache_.find(key);
    if (it == cache_.end()) it = cache_.emplace(key, cost_.estimate(wk)).first;
    const cost::Estimate& e = it->second;
    total += e.time;
    if (detail) {
      if (!detail->empty()) *detail += "; ";
      *detail += fmt::format("{} {:.4g} GFLOP {:.4g} MB via {}", cost::name(wk.kind),
                             wk.flops / 1e9, wk.bytes / 1e6, cost::name(e.rule));
    }
  }
  return total;
}

}  // namespace moesim::model
