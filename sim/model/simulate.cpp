#include "simulate.hpp"

#include <optional>

#include "net/flow_model.hpp"
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
  // Recording every transfer costs memory: only when a trace asks for the links.
  std::optional<net::RecordingModel> recorder;
  if (options.link_tracks > 0) {
    net::RecordingModel::Rates rates;
    if (auto* flow = dynamic_cast<net::FlowModel*>(model.get())) {
      rates = [flow] { return flow->rates(); };
    }
    recorder.emplace(*model, cluster.links().size(), std::move(rates));
  }
  net::NetworkModel& played = recorder ? static_cast<net::NetworkModel&>(*recorder) : *model;
  net::CollectiveRunner runner(workload->graphs, workload->calls, workload->work, router, played);
  core::Engine engine(workload->graph, runner);
  if (progress) engine.set_progress(progress, progress_every);
  auto timeline = engine.run();
  const auto transfers = runner.transfers_started();
  Simulation sim{std::move(workload), std::move(timeline), transfers, {}};
  if (recorder) sim.link_loads = recorder->busiest_links(cluster, options.link_tracks);
  return sim;
}

}  // namespace moesim::model
