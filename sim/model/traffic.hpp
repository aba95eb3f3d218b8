#pragma once
// Who sends how many rows to whom in each MoE layer: the routing of each expert-parallel group,
// and the byte matrices of its exchanges, per dispatch mode. Deduplicating a token's rows (per
// rank or per node) needs which experts each token picked, where the routing gives only counts:
// a member's token picks expert e with probability p_e = rows_e / tokens, independently of its
// other picks (exact for balanced routing up to sampling without replacement, within 1% at
// 256 experts and top-8); under node-limited routing it first picks nodes, node v with
// probability s_v = min(1, limit x v's share of the rows), then experts there with p_e / s_v. A
// matrix is built once per (group, layer, path, row size) and interned by its bytes, so that every
// member's program, and every layer and group with the same routing (all of them, when routing is
// balanced), share one.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "layout.hpp"
#include "program.hpp"
#include "routing.hpp"
#include "topologies/cluster.hpp"

namespace moesim::model {

// The rows one expert-parallel group's members route to every expert: by member, by expert.
using GroupRows = std::vector<ExpertCounts>;

class Traffic {
 public:
  // `paths`: routed paths per block (DGMoE's two gates draw their routing separately);
  // `node_limit`: each token's experts on at most this many nodes (0: any); the cluster says
  // which node and rail each rank is on.
  Traffic(const ModelConfig& model, const RankLayout& layout, const RoutingModel& routing,
          int paths, const topo::Cluster& cluster, std::int64_t node_limit = 0);

  // The rows each member of EP group `group` routes to each expert in routed path `path` of MoE
  // layer `moe_layer`, for `tokens` tokens each with top-`k`, capacity applied. Kept for the
  // group last asked about: ranks are built one group at a time.
  const GroupRows& rows(int group, int moe_layer, int path, std::int64_t tokens, std::int64_t k);
  // Those rows dispatched at `row_bytes` each. per_expert: member i sends member j the rows of
  // j's experts. per_rank: a token once to each member any of its experts is on. per_node: a
  // token once to each node (to the member on the sender's rail there), which forwards it to
  // the members of its node that need it; members of one node exchange directly.
  std::shared_ptr<const TrafficMatrix> dispatch(int group, int moe_layer, int path,
                                                std::int64_t tokens, std::int64_t k,
                                                double row_bytes,
                                                DispatchMode mode = DispatchMode::kPerExpert);
  // What flows back the other way (the combine, and every exchange's backward).
  std::shared_ptr<const TrafficMatrix> transpose(const TrafficMatrix& matrix);

 private:
  std::shared_ptr<const TrafficMatrix> intern(int n, std::vector<double> bytes);

  const ModelConfig& model_;
  const RankLayout& layout_;
  const RoutingModel& routing_;
  int paths_;
  const topo::Cluster& cluster_;
  std::int64_t node_limit_;
  int group_ = -1;  // the group the caches below are for
  std::map<std::tuple<int, int, std::int64_t, std::int64_t>, GroupRows> rows_;
  std::map<std::tuple<int, int, std::int64_t, std::int64_t, double, int>,
           std::shared_ptr<const TrafficMatrix>>
      dispatch_;
  std::unordered_map<std::string, std::shared_ptr<const TrafficMatrix>> by_bytes_;
  std::vector<std::shared_ptr<const TrafficMatrix>> transposes_;  // by id; null: not yet
};

}  // namespace moesim::model
