// The flow model against closed forms and against a from-scratch max-min oracle.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "net/alpha_beta.hpp"
#include "net/flow_model.hpp"
#include "topologies/routing.hpp"

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
  std::vector<std::uint64_t> done;
  m.complete_until(core::Time::ms(1), done);
  ASSERT_EQ(done, std::vector<std::uint64_t>{7});
  // 2 hops x 1 us + 2 us overhead + 1 MB / 10 GB/s = 104 us.
  const auto expected = core::Time::us(104);
  std::printf("  one transfer: expected %.3f us\n", expected.microseconds());
  EXPECT_EQ(m.next_completion(), std::nullopt);
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
FlowModel::Stats match_oracle(FlowModel::Options options) {
  std::mt19937_64 rng(11);
  FlowModel::Stats total;
  for (int trial = 0; trial < 20; ++trial) {
    // A random small graph: GPUs on a few switches with random capacities, switches joined.
    Cluster c("random");
    const int switches = 2 + static_cast<int>(rng() % 3), gpus = 6 + static_cast<int>(rng() % 6);
    std::vector<topo::DeviceId> sw;
    for (int s = 0; s < switches; ++s)
      sw.push_back(c.add_device({DeviceKind::kSwitch, "s" + std::to_string(s), -1, s}));
    for (int s = 1; s < switches; ++s) {
      c.add_duplex(sw[s - 1], sw[s], LinkKind::kNetwork, 1e9 * static_cast<double>(1 + rng() % 20),
                   1.0, core::Time::zero());
    }
    for (int g = 0; g < gpus; ++g) {
      const auto d = c.add_device({DeviceKind::kGpu, "g" + std::to_string(g), 0, g});
      c.add_duplex(d, sw[rng() % switches], LinkKind::kNetwork,
                   1e9 * static_cast<double>(1 + rng() % 20), 1.0, core::Time::zero());
    }
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

TEST(FlowModel, FallbackFromScratchAlsoMatchesTheOracle) {
  const auto stats = match_oracle({.updates_per_changed_link = 0});
  EXPECT_EQ(stats.fallbacks, stats.reallocations) << "a zero budget falls back every time";
  EXPECT_GT(stats.fallbacks, 0u);
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

}  // namespace
}  // namespace moesim::net
