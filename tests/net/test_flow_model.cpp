// The flow model against closed forms and against a from-scratch max-min oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "net/alpha_beta.hpp"
#include "net/flow_model.hpp"
#include "net/link_loads.hpp"
#include "topologies/routing.hpp"
#include "topologies/series.hpp"

namespace moesim::net {
namespace {

using topo::Cluster;
using topo::DeviceKind;
using topo::LinkKind;

// Progressive filling from scratch over every transfer: the reference max-min allocation.
std::map<std::uint64_t, double> oracle(
    const Cluster& c, const std::map<std::uint64_t, std::vector<topo::LinkId>>& routes) {
  std::vector<double> residual;
  for (const auto& l : c.links()) residual.push_back(l.capacity());
  std::vector<int> unfrozen(residual.size(), 0);
  for (const auto& [tag, route] : routes) {
    for (const auto l : route) ++unfrozen[l];
  }
  std::map<std::uint64_t, double> rate;
  while (rate.size() < routes.size()) {
    double best = 1e300;
    std::size_t link = 0;
    for (std::size_t l = 0; l < residual.size(); ++l) {
      if (unfrozen[l] > 0 && residual[l] / unfrozen[l] < best) {
        best = residual[l] / unfrozen[l];
        link = l;
      }
    }
    for (const auto& [tag, route] : routes) {
      if (rate.count(tag)) continue;
      if (std::find(route.begin(), route.end(), link) == route.end()) continue;
      rate[tag] = best;
      for (const auto l : route) {
        residual[l] -= best;
        --unfrozen[l];
      }
    }
  }
  return rate;
}

Cluster star(int gpus, double bandwidth, core::Time latency) {
  Cluster c("star");
  const auto sw = c.add_device({DeviceKind::kSwitch, "sw", -1, 0});
  for (int g = 0; g < gpus; ++g) {
    const auto d = c.add_device({DeviceKind::kGpu, "g" + std::to_string(g), 0, g});
    c.add_duplex(d, sw, LinkKind::kNetwork, bandwidth, 1.0, latency);
  }
  return c;
}

TEST(FlowModel, OneTransferIsLatencyPlusSizeOverBandwidth) {
  const auto c = star(2, 10e9, core::Time::us(1));
  topo::Router router(c, {});
  FlowModel m(c, {core::Time::us(2)});
  m.start(core::Time::zero(), router.route(0, 1), 1e6, 7);
  // 2 hops x 1 us + 2 us overhead + 1 MB / 10 GB/s = 104 us.
  const auto expected = core::Time::us(104);
  std::vector<std::uint64_t> done;
  m.complete_until(expected - core::Time::ps(1), done);
  EXPECT_TRUE(done.empty()) << "delivered before its last byte and its latency";
  const auto simulated = m.next_completion();
  ASSERT_TRUE(simulated);
  std::printf("  one transfer: expected %.3f us, simulated %.3f us\n", expected.microseconds(),
              simulated->microseconds());
  EXPECT_EQ(*simulated, expected);
  m.complete_until(expected, done);
  ASSERT_EQ(done, std::vector<std::uint64_t>{7});
  EXPECT_EQ(m.next_completion(), std::nullopt);
}

TEST(FlowModel, ARouteLongerThanItsRecordsTakeIsAClearErrorThatLeavesTheModelAsItWas) {
  const auto c = star(2, 10e9, core::Time::zero());
  topo::Router router(c, {});
  FlowModel m(c, {});
  const std::vector<topo::LinkId> endless(256, router.route(0, 1).front());
  EXPECT_THROW(m.start(core::Time::zero(), endless, 1e6, 1), std::invalid_argument);
  EXPECT_EQ(m.in_flight(), 0u);
  m.start(core::Time::zero(), router.route(0, 1), 1e6, 2);  // still usable
  std::vector<std::uint64_t> done;
  m.complete_until(core::Time::ms(1), done);
  EXPECT_EQ(done, std::vector<std::uint64_t>{2});
}

TEST(FlowModel, TwoTransfersShareALinkEqually) {
  const auto c = star(3, 10e9, core::Time::zero());
  topo::Router router(c, {});
  FlowModel m(c, {});
  m.start(core::Time::zero(), router.route(0, 2), 1e6, 1);
  m.start(core::Time::zero(), router.route(1, 2), 1e6, 2);  // both into GPU 2's link
  const auto rates = m.rates();
  ASSERT_EQ(rates.size(), 2u);
  EXPECT_DOUBLE_EQ(rates[0].second, 5e9);
  EXPECT_DOUBLE_EQ(rates[1].second, 5e9);
  const auto t = m.next_completion();
  std::printf("  two sharing: expected 200.000 us, simulated %.3f us\n", t->microseconds());
  EXPECT_EQ(*t, core::Time::us(200));
}

TEST(FlowModel, FreedBandwidthGoesToTheSurvivor) {
  const auto c = star(3, 10e9, core::Time::zero());
  topo::Router router(c, {});
  FlowModel m(c, {});
  m.start(core::Time::zero(), router.route(0, 2), 0.5e6, 1);
  m.start(core::Time::zero(), router.route(1, 2), 1.5e6, 2);
  std::vector<std::uint64_t> done;
  m.complete_until(core::Time::us(100), done);  // 1 finishes at 100 us (0.5 MB at 5 GB/s)
  EXPECT_EQ(done, std::vector<std::uint64_t>{1});
  m.complete_until(core::Time::ms(1), done);
  // 2 sent 0.5 MB by 100 us, then 1 MB alone at 10 GB/s: 200 us.
  EXPECT_EQ(done, (std::vector<std::uint64_t>{1, 2}));
}

// Random small graphs, transfers arriving and leaving; after every step the model's rates must
// equal progressive filling from scratch. Run with the incremental re-levelling and with the
// fallback forced on every reallocation, so both paths are held to the oracle.
// Switches in a line, each link between them a random capacity.
std::vector<topo::DeviceId> switch_line(Cluster& c, int switches, std::mt19937_64& rng) {
  std::vector<topo::DeviceId> sw;
  for (int s = 0; s < switches; ++s)
    sw.push_back(c.add_device({DeviceKind::kSwitch, "s" + std::to_string(s), -1, s}));
  for (int s = 1; s < switches; ++s) {
    c.add_duplex(sw[s - 1], sw[s], LinkKind::kNetwork, 1e9 * static_cast<double>(1 + rng() % 20),
                 1.0, core::Time::zero());
  }
  return sw;
}

// A random small graph: GPUs on a few switches in a line, every link a random capacity.
Cluster random_cluster(std::mt19937_64& rng) {
  Cluster c("random");
  const int switches = 2 + static_cast<int>(rng() % 3), gpus = 6 + static_cast<int>(rng() % 6);
  const auto sw = switch_line(c, switches, rng);
  for (int g = 0; g < gpus; ++g) {
    const auto d = c.add_device({DeviceKind::kGpu, "g" + std::to_string(g), 0, g});
    c.add_duplex(d, sw[rng() % switches], LinkKind::kNetwork,
                 1e9 * static_cast<double>(1 + rng() % 20), 1.0, core::Time::zero());
  }
  return c;
}

// The same, with every GPU behind a NIC of its own (a device with two neighbours, so the links
// on either side are in series) and random capacities on both sides of it.
Cluster random_cluster_with_nics(std::mt19937_64& rng) {
  Cluster c("random-nics");
  const int switches = 1 + static_cast<int>(rng() % 3), gpus = 4 + static_cast<int>(rng() % 6);
  const auto sw = switch_line(c, switches, rng);
  for (int g = 0; g < gpus; ++g) {
    const auto d = c.add_device({DeviceKind::kGpu, "g" + std::to_string(g), 0, g});
    const auto nic = c.add_device({DeviceKind::kNic, "nic" + std::to_string(g), 0, g});
    c.add_duplex(d, nic, LinkKind::kPcie, 1e9 * static_cast<double>(1 + rng() % 20), 1.0,
                 core::Time::zero());
    c.add_duplex(nic, sw[rng() % switches], LinkKind::kNetwork,
                 1e9 * static_cast<double>(1 + rng() % 20), 1.0, core::Time::zero());
  }
  return c;
}

using MakeCluster = Cluster (*)(std::mt19937_64&);

FlowModel::Stats match_oracle(FlowModel::Options options, MakeCluster make = random_cluster) {
  std::mt19937_64 rng(11);
  FlowModel::Stats total;
  for (int trial = 0; trial < 20; ++trial) {
    const auto c = make(rng);
    const int gpus = static_cast<int>(c.gpus().size());
    topo::Router router(c, {});
    FlowModel m(c, {}, options);
    std::map<std::uint64_t, std::vector<topo::LinkId>> active;
    std::uint64_t next_tag = 0;
    core::Time now = core::Time::zero();
    for (int step = 0; step < 200; ++step) {
      if (rng() % 3 != 0 || active.empty()) {
        const int a = static_cast<int>(rng() % gpus);
        int b = static_cast<int>(rng() % gpus);
        if (a == b) b = (b + 1) % gpus;
        const auto route = router.route(a, b);
        m.start(now, route, 1e5 * static_cast<double>(1 + rng() % 100), next_tag);
        active[next_tag++] = route;
      } else {
        const auto t = m.next_completion();
        EXPECT_TRUE(t.has_value());
        if (!t) return total;
        now = *t;
        std::vector<std::uint64_t> done;
        m.complete_until(now, done);
        for (const auto tag : done) active.erase(tag);
      }
      const auto expected = oracle(c, active);
      const auto got = m.rates();
      EXPECT_EQ(got.size(), expected.size());
      if (got.size() != expected.size()) return total;
      for (const auto& [tag, rate] : got) {
        EXPECT_NEAR(rate, expected.at(tag), expected.at(tag) * 1e-7)
            << "trial " << trial << " step " << step << " transfer " << tag;
        if (std::abs(rate - expected.at(tag)) > expected.at(tag) * 1e-7) return total;
      }
    }
    total.reallocations += m.stats().reallocations;
    total.link_updates += m.stats().link_updates;
    total.propagations += m.stats().propagations;
    total.fallbacks += m.stats().fallbacks;
  }
  return total;
}

TEST(FlowModel, MatchesTheMaxMinOracleUnderRandomArrivalsAndDepartures) {
  const auto stats = match_oracle({});
  EXPECT_GT(stats.propagations, 0u) << "the trials must exercise levels moving along routes";
  std::printf("  %llu reallocations: %llu links re-levelled, %llu propagations, %llu fallbacks\n",
              static_cast<unsigned long long>(stats.reallocations),
              static_cast<unsigned long long>(stats.link_updates),
              static_cast<unsigned long long>(stats.propagations),
              static_cast<unsigned long long>(stats.fallbacks));
}

TEST(FlowModel, MatchesTheOracleWithLinksInSeriesLeftOut) {
  // The oracle shares every link of every route; the model leaves out the links in series with
  // one of less capacity. Both must give the same rates.
  std::mt19937_64 rng(11);
  const auto sample = random_cluster_with_nics(rng);
  const auto series = topo::series_bottlenecks(sample);
  int left_out = 0;
  for (topo::LinkId l = 0; l < series.size(); ++l) left_out += series[l] != l;
  EXPECT_GE(left_out, static_cast<int>(2 * sample.gpus().size())) << "one per NIC and direction";
  EXPECT_GT(match_oracle({}, random_cluster_with_nics).propagations, 0u);
  const auto scratch = match_oracle({.updates_per_changed_link = 0}, random_cluster_with_nics);
  EXPECT_EQ(scratch.fallbacks, scratch.reallocations);
}

TEST(FlowModel, ARouteThatEndsInsideASeriesIsAClearErrorThatLeavesTheModelAsItWas) {
  // g0 - nic0 - sw - g1: a route from g0 that stops at the NIC would load one of the NIC's links
  // without the other, which the model, sharing only the lesser of the two, cannot represent.
  Cluster c("nic");
  const auto sw = c.add_device({DeviceKind::kSwitch, "sw", -1, 0});
  const auto g0 = c.add_device({DeviceKind::kGpu, "g0", 0, 0});
  const auto nic = c.add_device({DeviceKind::kNic, "nic0", 0, 0});
  const auto g1 = c.add_device({DeviceKind::kGpu, "g1", 0, 1});
  c.add_duplex(g0, nic, LinkKind::kPcie, 20e9, 1.0, core::Time::zero());
  c.add_duplex(nic, sw, LinkKind::kNetwork, 10e9, 1.0, core::Time::zero());
  c.add_duplex(g1, sw, LinkKind::kNetwork, 10e9, 1.0, core::Time::zero());
  topo::Router router(c, {});
  FlowModel m(c, {});
  const auto whole = router.route(0, 1);
  ASSERT_EQ(whole.size(), 3u);
  const std::vector<topo::LinkId> partial{whole.front()};  // g0 -> nic0 only
  try {
    m.start(core::Time::us(1), partial, 1e6, 1);
    ADD_FAILURE() << "a route ending at the NIC must be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("in series"), std::string::npos) << e.what();
  }
  EXPECT_EQ(m.in_flight(), 0u);
  m.start(core::Time::zero(), whole, 1e6, 2);  // still usable, from its own present
  m.start(core::Time::zero(), router.route(1, 0), 1e6, 3);
  const auto rates = m.rates();
  ASSERT_EQ(rates.size(), 2u);
  EXPECT_DOUBLE_EQ(rates[0].second, 10e9);  // the NIC's port, not its 20 GB/s PCIe link
  EXPECT_DOUBLE_EQ(rates[1].second, 10e9);
  std::vector<std::uint64_t> done;
  m.complete_until(core::Time::ms(1), done);
  EXPECT_EQ(done, (std::vector<std::uint64_t>{2, 3}));  // 100 us each
}

TEST(FlowModel, FallbackFromScratchAlsoMatchesTheOracle) {
  const auto stats = match_oracle({.updates_per_changed_link = 0});
  EXPECT_EQ(stats.fallbacks, stats.reallocations) << "a zero budget falls back every time";
  EXPECT_GT(stats.fallbacks, 0u);
}

// Finishing times against a plain reference: transfers arrive at random times; between events
// every transfer in flight sends at the oracle's max-min rate and its bytes left are counted
// down; the next event is the earliest arrival or finish (rounded up to a picosecond, as the
// model does). The model keeps finishing times on per-link clocks instead, so this holds its
// bookkeeping (charges, moves between bottlenecks, re-timings) to the definition.
TEST(FlowModel, FinishTimesMatchAReferenceThatCountsDownEveryTransfer) {
  std::mt19937_64 rng(23);
  double worst_ps = 0;
  std::size_t finished = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const auto c = random_cluster(rng);
    const int gpus = static_cast<int>(c.gpus().size());
    topo::Router router(c, {});
    struct Arrival {
      core::Time at;
      std::vector<topo::LinkId> route;
      double bytes;
    };
    std::vector<Arrival> arrivals;
    for (int i = 0; i < 60; ++i) {
      const int a = static_cast<int>(rng() % gpus);
      const int b = (a + 1 + static_cast<int>(rng() % (gpus - 1))) % gpus;
      arrivals.push_back({core::Time::ns(static_cast<core::Time::Rep>(rng() % 400'000)),
                          router.route(a, b), 1e4 * static_cast<double>(1 + rng() % 1000)});
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const Arrival& x, const Arrival& y) { return x.at < y.at; });

    // The model.
    std::map<std::uint64_t, core::Time> model_done;
    FlowModel m(c, {});
    std::vector<std::uint64_t> done;
    const auto drain_until = [&](core::Time t) {
      for (auto next = m.next_completion(); next && *next <= t; next = m.next_completion()) {
        done.clear();
        m.complete_until(*next, done);
        for (const auto tag : done) model_done[tag] = *next;
      }
    };
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      drain_until(arrivals[i].at);
      m.complete_until(arrivals[i].at, done);
      m.start(arrivals[i].at, arrivals[i].route, arrivals[i].bytes, i);
    }
    drain_until(core::Time::max());

    // The reference.
    std::map<std::uint64_t, core::Time> reference_done;
    std::map<std::uint64_t, double> left;
    std::map<std::uint64_t, std::vector<topo::LinkId>> routes;
    core::Time now = core::Time::zero();
    std::size_t next_arrival = 0;
    while (next_arrival < arrivals.size() || !left.empty()) {
      const auto rate = oracle(c, routes);
      auto t = next_arrival < arrivals.size() ? arrivals[next_arrival].at : core::Time::max();
      std::map<std::uint64_t, core::Time> due;
      for (const auto& [tag, bytes] : left) {
        due[tag] = now + core::Time::ps(
                             static_cast<core::Time::Rep>(std::ceil(bytes / rate.at(tag) * 1e12)));
        t = std::min(t, due[tag]);
      }
      for (auto& [tag, bytes] : left) bytes -= rate.at(tag) * (t - now).seconds();
      now = t;
      for (const auto& [tag, when] : due) {
        if (when != now) continue;
        reference_done[tag] = now;
        left.erase(tag);
        routes.erase(tag);
      }
      while (next_arrival < arrivals.size() && arrivals[next_arrival].at == now) {
        left[next_arrival] = arrivals[next_arrival].bytes;
        routes[next_arrival] = arrivals[next_arrival].route;
        ++next_arrival;
      }
    }

    ASSERT_EQ(model_done.size(), arrivals.size()) << "trial " << trial;
    ASSERT_EQ(reference_done.size(), arrivals.size()) << "trial " << trial;
    for (const auto& [tag, when] : reference_done) {
      const double off = std::abs(static_cast<double>((model_done.at(tag) - when).count()));
      worst_ps = std::max(worst_ps, off);
      // Both round each finish up to a picosecond, at different steps: a few ps apart at most.
      EXPECT_LE(off, 100.0) << "trial " << trial << " transfer " << tag << ": model "
                            << model_done.at(tag).microseconds() << " us, reference "
                            << when.microseconds() << " us";
      ++finished;
    }
  }
  std::printf("  %zu transfers: finish times within %.0f ps of the reference\n", finished,
              worst_ps);
}

TEST(AlphaBeta, IgnoresContention) {
  const auto c = star(3, 10e9, core::Time::us(1));
  topo::Router router(c, {});
  AlphaBetaModel m(c, {});
  m.start(core::Time::zero(), router.route(0, 2), 1e6, 1);
  m.start(core::Time::zero(), router.route(1, 2), 1e6, 2);
  EXPECT_EQ(m.next_completion(), core::Time::us(102));
  std::vector<std::uint64_t> done;
  m.complete_until(core::Time::us(102), done);
  EXPECT_EQ(done.size(), 2u);
}

// A recorded run: the links' throughput follows the flow model's shares (a link shared by two
// transfers full, then the survivor alone), and the times the model decides are unchanged.
TEST(LinkLoads, RecordedThroughputFollowsTheSharesAndChangesNothing) {
  const auto c = star(3, 10e9, core::Time::zero());
  topo::Router router(c, {});
  FlowModel plain(c, {});
  FlowModel inner(c, {});
  RecordingModel recorded(inner, c.links().size(), [&inner] { return inner.rates(); });
  for (NetworkModel* m :
       {static_cast<NetworkModel*>(&plain), static_cast<NetworkModel*>(&recorded)}) {
    m->start(core::Time::zero(), router.route(0, 2), 0.5e6, 1);
    m->start(core::Time::zero(), router.route(1, 2), 1.5e6, 2);
  }
  std::vector<std::uint64_t> a, b;
  while (const auto t = plain.next_completion()) {
    EXPECT_EQ(recorded.next_completion(), t);
    plain.complete_until(*t, a);
    recorded.complete_until(*t, b);
  }
  EXPECT_EQ(recorded.next_completion(), std::nullopt);
  EXPECT_EQ(a, b);
  const auto loads = recorded.busiest_links(c, 2);
  ASSERT_EQ(loads.size(), 2u);
  // Into GPU 2: both transfers, 2 MB; full until 100 us, then GPU 1's alone, also at 10 GB/s.
  EXPECT_EQ(loads[0].name, "sw -> g2");
  EXPECT_DOUBLE_EQ(loads[0].bytes, 2e6);
  ASSERT_FALSE(loads[0].steps.empty());
  EXPECT_EQ(loads[0].steps.front(), (std::pair{core::Time::zero(), 10e9}));
  EXPECT_EQ(loads[0].steps.back(), (std::pair{core::Time::us(200), 0.0}));
  // GPU 1's uplink: 5 GB/s while shared, 10 after 100 us, idle at 200 us.
  EXPECT_EQ(loads[1].name, "g1 -> sw");
  EXPECT_EQ(
      loads[1].steps,
      (std::vector<std::pair<core::Time, double>>{
          {core::Time::zero(), 5e9}, {core::Time::us(100), 10e9}, {core::Time::us(200), 0.0}}));
}

}  // namespace
}  // namespace moesim::net
