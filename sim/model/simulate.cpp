#include "simulate.hpp"

#include "net/network_model.hpp"
#include "net/run_transfers.hpp"
#include "topologies/routing.hpp"

namespace moesim::model {

ExchangeEstimator idle_exchange_estimator(const topo::Cluster& cluster, const topo::Router& router,
                                          const NetworkConfig& network) {
  net::NetworkParams params;
  params.message_overhead = network.message_overhead;
  return [&cluster, &router, params, model_name = network.model](const net::TransferGraph& graph,
                                                                 const std::vector<int>& gpus) {
    auto model = net::make_network_model(model_name, cluster, params);
    return net::run_transfers(graph, gpus, router, *model).end;
  };
}

Simulation simulate(const Study& study, const topo::Cluster& cluster, const cost::CostModel& cost,
                    const NetworkConfig& network, const BuildOptions& options,
                    const core::ProgressCallback& progress, std::uint64_t progress_every) {
  const topo::Router router(cluster, {.ecmp = network.ecmp, .pxn = network.pxn});
  net::NetworkParams params;
  params.message_overhead = network.message_overhead;
  const auto estimate = idle_exchange_estimator(cluster, router, network);
  auto workload =
      std::make_unique<Workload>(build_workload(study, cluster, cost, estimate, options));
  auto model = net::make_network_model(network.model, cluster, params);
  net::CollectiveRunner runner(workload->graphs, workload->calls, workload->work, router, *model);
  core::Engine engine(workload->graph, runner);
  if (progress) engine.set_progress(progress, progress_every);
  auto timeline = engine.run();
  const auto transfers = runner.transfers_started();
  return Simulation{std::move(workload), std::move(timeline), transfers};
}

}  // namespace moesim::model
