#include "network_model.hpp"

#include "config/error.hpp"

#include <array>

#include "alpha_beta.hpp"
#include "core/error.hpp"
#include "flow_model.hpp"

namespace moesim::net {

namespace {
constexpr std::array kModels{
    ModelInfo{"alpha-beta",
              "t = overhead + sum of hop latencies + bytes / min link capacity; no contention"},
    ModelInfo{"flow",
              "transfers share each link max-min fairly, rates re-solved at every start and "
              "finish; t = data time + hop latencies + overhead"},
};
}  // namespace

std::span<const ModelInfo> network_models() {
  return kModels;
}

std::unique_ptr<NetworkModel> make_network_model(std::string_view name,
                                                 const topo::Cluster& cluster,
                                                 const NetworkParams& params) {
  if (name == "alpha-beta") return std::make_unique<AlphaBetaModel>(cluster, params);
  if (name == "flow") return std::make_unique<FlowModel>(cluster, params);
  std::string known;
  for (const auto& m : kModels) known += (known.empty() ? "" : ", ") + std::string(m.name);
  throw config::ConfigError("unknown network model '" + std::string(name) + "'; known: " + known);
}

}  // namespace moesim::net
