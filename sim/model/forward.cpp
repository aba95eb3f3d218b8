#include "forward.hpp"

#include "limits.hpp"

#include "attention.hpp"
#include "check.hpp"

namespace moesim::model {

ProgramBuilder::ProgramBuilder(const Study& study, const topo::Cluster& cluster,
                               const cost::CostModel& cost, const ExchangeEstimator& estimate)
    : study_(study),
      layout_((check_sizes(study, static_cast<std::int64_t>(cluster.gpus().size())),
               RankLayout(study.model, study.parallel, static_cast<int>(cluster.gpus().size()),
                          cluster.gpus_per_node()))),
      routing_(study.routing, study.model.moe.experts),
      shape_(moe_shape(study.model, study.schedule)),
      pricer_(cost),
      traffic_(study.model, layout_, routing_, shape_.paths, cluster, study.routing.node_limit),
      graphs_(cluster, cost, study.window, shape_.algorithm),
      moe_(study.model, study.parallel, shape_, layout_, traffic_),
      shortcuts_(layout_, graphs_, pricer_, estimate) {
  check_built(study, shape_, layout_, cluster);
}

Program ProgramBuilder::forward(int rank, std::int64_t batch, std::int64_t seq_q,
                                std::int64_t seq_kv, std::int64_t tokens) {
  const auto& model = study_.model;
  const auto tp = study_.parallel.tp;
  const auto full = tokens > 0 ? tokens : batch * seq_q;
  // A decode step may hold fewer tokens than tensor-parallel ranks: no sequence split then.
  const LayerContext c{model, study_.implementation, tp,
                       tp > 1 && study_.parallel.sp && full % tp == 0, study_.mode == Mode::kTrain};
  Program p;
  embedding(p, c, full);
  std::vector<ShortcutPath> shortcut_paths;
  std::vector<std::size_t> block_start, attention_end;
  int moe_layer = 0;
  for (int b = 0; b < model.layers; ++b) {
    p.block = b;
    block_start.push_back(p.order.size());
    attention_block(p, c, b, batch, seq_q, seq_kv, full);
    attention_end.push_back(p.order.size());
    if (!model.is_moe_block(b)) {
      mlp_block(p, c, b, full);
      continue;
    }
    for (auto& path : moe_.lay_out(p, c, rank, b, moe_layer, full, block_start, attention_end)) {
      shortcut_paths.push_back(std::move(path));
    }
    ++moe_layer;
  }
  p.block = -1;
  shortcuts_.place(p, rank, shortcut_paths);
  head(p, c, full, batch);
  return p;
}

}  // namespace moesim::model
