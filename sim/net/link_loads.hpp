#pragma once
// What each link carried over a run, for traces: a network model that records the transfers of
// the model it wraps (routes, bytes, and each link's throughput over time), changing nothing it
// decides. Where the wrapped model reports its transfers' rates (the flow model's max-min
// shares), a link's throughput is the sum of the rates crossing it, sampled whenever the model
// re-allocates; otherwise each transfer's bytes are spread evenly over its lifetime.
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "network_model.hpp"

namespace moesim::net {

struct LinkLoad {
  topo::LinkId link = 0;
  std::string name;                                  // "from -> to"
  double capacity = 0;                               // bytes per second
  double bytes = 0;                                  // carried over the run
  std::vector<std::pair<core::Time, double>> steps;  // from each time on: bytes per second
};

class RecordingModel final : public NetworkModel {
 public:
  // The rates (bytes per second) of the transfers in their data phase, by tag; empty: none.
  using Rates = std::function<std::vector<std::pair<std::uint64_t, double>>()>;
  RecordingModel(NetworkModel& inner, std::size_t links, Rates rates = {});

  void start(core::Time now, std::span<const topo::LinkId> route, double bytes,
             std::uint64_t tag) override;
  std::optional<core::Time> next_completion() override;
  void complete_until(core::Time t, std::vector<std::uint64_t>& finished) override;
  std::size_t in_flight() const override { return inner_.in_flight(); }

  // The `most` links that carried the most bytes (ties: lower id first), busiest first.
  std::vector<LinkLoad> busiest_links(const topo::Cluster& cluster, std::size_t most) const;

 private:
  struct Record {
    std::uint32_t route_begin = 0, route_end = 0;  // in links_
    double bytes = 0;
    core::Time start, end;
  };
  // The links' throughput now, from the model's rates, appended where it changed.
  void sample();

  NetworkModel& inner_;
  Rates rates_;
  std::vector<topo::LinkId> links_;  // every record's route, one after another
  std::vector<Record> records_;
  std::unordered_map<std::uint64_t, std::uint32_t> open_;  // tag -> record in flight
  core::Time now_;
  bool changed_ = false;            // a start or completion since the last sample
  std::vector<double> level_;       // by link: bytes per second at the last sample
  std::vector<topo::LinkId> busy_;  // links with a non-zero level at the last sample
  std::vector<std::vector<std::pair<core::Time, double>>> series_;  // by link
};

}  // namespace moesim::net
