#pragma once
// Network models behind one narrow interface: transfers start on a route and the model says
// when each finishes. Models are registered by name with the one-line statement of their
// equations, which `moesim --help`-style listings print.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"
#include "topologies/cluster.hpp"

namespace moesim::net {

struct NetworkParams {
  // Software/protocol cost of each message (NCCL's per-operation overhead), added once per
  // transfer on top of the route's latency.
  core::Time message_overhead = core::Time::zero();
};

class NetworkModel {
 public:
  virtual ~NetworkModel() = default;
  // Starts moving `bytes` along `route` at `now`. `tag` comes back when it completes.
  virtual void start(core::Time now, std::span<const topo::LinkId> route, double bytes,
                     std::uint64_t tag) = 0;
  // When the next transfer completes, if any is in flight.
  virtual std::optional<core::Time> next_completion() = 0;
  // Advances to `t` (<= next_completion()) and appends the tags of transfers complete by then.
  virtual void complete_until(core::Time t, std::vector<std::uint64_t>& finished) = 0;
  virtual std::size_t in_flight() const = 0;
};

struct ModelInfo {
  std::string_view name;
  std::string_view equation;
};
std::span<const ModelInfo> network_models();

// Throws moesim::Error for an unknown name, listing the known ones.
std::unique_ptr<NetworkModel> make_network_model(std::string_view name,
                                                 const topo::Cluster& cluster,
                                                 const NetworkParams& params);

}  // namespace moesim::net
