#pragma once
// Prices compute nodes: a node's kernels through the cost model, each distinct kernel shape
// priced once (a model's layers repeat the same few shapes on every rank).
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.hpp"
#include "cost/cost_model.hpp"

namespace moesim::model {

class Pricer {
 public:
  explicit Pricer(const cost::CostModel& cost) : cost_(cost) {}
  // The kernels one after another; `detail` (if given) gets each kernel's FLOPs, bytes and rule.
  core::Time price(const std::vector<cost::Work>& works, std::string* detail = nullptr);
  const cost::CostModel& cost() const { return cost_; }

 private:
  const cost::CostModel& cost_;
  std::unordered_map<std::string, cost::Estimate> cache_;  // by kernel shape
};

}  // namespace moesim::model
