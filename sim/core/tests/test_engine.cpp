#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "core/engine.hpp"
#include "core/error.hpp"

namespace moesim::core {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// Durations by op id, in microseconds.
struct Durations {
  std::map<OpId, Time::Rep> us;
  CostFunction cost() const {
    return [this](const OpGraph&, OpId op) { return Time::us(us.at(op)); };
  }
};

std::map<OpId, Span> by_op(const Timeline& t) {
  std::map<OpId, Span> m;
  for (OpId op = 0; op < t.size(); ++op) m.emplace(op, t.span(op));
  return m;
}

Timeline run(OpGraph& g, const Durations& d) {
  g.finalize();
  DurationRunner runner(d.cost());
  Engine engine(g, runner);
  return engine.run();
}

TEST(Engine, OneStreamRunsItsOpsInOrderOneAtATime) {
  OpGraph g;
  const auto s = g.add_stream(0, "compute");
  const auto a = g.add_op(s, "a"), b = g.add_op(s, "b"), c = g.add_op(s, "c");
  Durations d{{{a, 5}, {b, 3}, {c, 2}}};
  const auto spans = by_op(run(g, d));
  EXPECT_EQ(spans.at(a).start, Time::us(0));
  EXPECT_EQ(spans.at(b).start, Time::us(5));
  EXPECT_EQ(spans.at(c).start, Time::us(8));
  EXPECT_EQ(spans.at(c).end, Time::us(10));
}

TEST(Engine, StreamsOfOneRankRunConcurrently) {
  OpGraph g;
  const auto compute = g.add_stream(0, "compute");
  const auto comm = g.add_stream(0, "comm");
  const auto a = g.add_op(compute, "gemm"), b = g.add_op(comm, "a2a");
  Durations d{{{a, 5}, {b, 7}}};
  const auto timeline = run(g, d);
  const auto spans = by_op(timeline);
  EXPECT_EQ(spans.at(a).start, Time::zero());
  EXPECT_EQ(spans.at(b).start, Time::zero());
  EXPECT_EQ(timeline.end(), Time::us(7)) << "overlapped, not 12 us";
}

TEST(Engine, CrossStreamDependencyWaitsLikeACudaEvent) {
  OpGraph g;
  const auto compute = g.add_stream(0, "compute");
  const auto comm = g.add_stream(0, "comm");
  const auto permute = g.add_op(compute, "permute");
  const auto other = g.add_op(compute, "attention");
  const auto dispatch = g.add_op(comm, "dispatch");
  const auto expert = g.add_op(compute, "expert");
  g.add_dependency(dispatch, permute);
  g.add_dependency(expert, dispatch);
  Durations d{{{permute, 2}, {other, 10}, {dispatch, 4}, {expert, 3}}};
  const auto spans = by_op(run(g, d));
  EXPECT_EQ(spans.at(dispatch).start, Time::us(2)) << "starts when permute ends";
  EXPECT_EQ(spans.at(dispatch).end, Time::us(6)) << "hidden behind attention";
  EXPECT_EQ(spans.at(expert).start, Time::us(12)) << "after attention (stream) and dispatch";
}

TEST(Engine, CrossRankDependency) {
  OpGraph g;
  const auto s0 = g.add_stream(0, "comm");
  const auto s1 = g.add_stream(1, "comm");
  const auto send = g.add_op(s0, "send");
  const auto recv = g.add_op(s1, "recv");
  g.add_dependency(recv, send);
  Durations d{{{send, 4}, {recv, 1}}};
  const auto spans = by_op(run(g, d));
  EXPECT_EQ(spans.at(recv).start, Time::us(4));
  EXPECT_EQ(spans.at(recv).rank, 1u);
}

TEST(Engine, GangMembersStartTogetherWhenTheLastIsReady) {
  OpGraph g;
  std::vector<OpId> members;
  Durations d;
  for (RankId r = 0; r < 3; ++r) {
    const auto compute = g.add_stream(r, "compute");
    const auto comm = g.add_stream(r, "comm");
    const auto work = g.add_op(compute, "work");
    const auto a2a = g.add_op(comm, "a2a");
    g.add_dependency(a2a, work);
    d.us[work] = 10 * (r + 1);  // rank 2 is the straggler
    d.us[a2a] = 5;
    members.push_back(a2a);
  }
  g.add_gang(members);
  const auto spans = by_op(run(g, d));
  for (const auto m : members) {
    EXPECT_EQ(spans.at(m).start, Time::us(30));
    EXPECT_EQ(spans.at(m).end, Time::us(35));
  }
}

TEST(Engine, ZeroDurationOpsFinishAtTheirStart) {
  OpGraph g;
  const auto s = g.add_stream(0, "s");
  const auto a = g.add_op(s, "a"), b = g.add_op(s, "b");
  Durations d{{{a, 0}, {b, 0}}};
  const auto t = run(g, d);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.end(), Time::zero());
}

TEST(Engine, CrossedGangsDeadlockAndTheCycleIsNamed) {
  // Rank 0 issues X then Y on its comm stream, rank 1 issues Y then X: neither gang can start.
  OpGraph g;
  const auto s0 = g.add_stream(0, "comm");
  const auto s1 = g.add_stream(1, "comm");
  const auto x0 = g.add_op(s0, "allreduce.x"), y0 = g.add_op(s0, "allreduce.y");
  const auto y1 = g.add_op(s1, "allreduce.y"), x1 = g.add_op(s1, "allreduce.x");
  g.add_gang({x0, x1});
  g.add_gang({y0, y1});
  g.finalize();  // statically acyclic: only the gangs make it wait forever
  Durations d{{{x0, 1}, {y0, 1}, {x1, 1}, {y1, 1}}};
  DurationRunner runner(d.cost());
  Engine engine(g, runner);
  try {
    engine.run();
    FAIL() << "expected a deadlock";
  } catch (const DeadlockError& e) {
    EXPECT_THAT(std::string(e.what()),
                AllOf(HasSubstr("4 of 4 ops can never start"), HasSubstr("Waiting cycle"),
                      HasSubstr("'allreduce.x' (rank 0, stream comm) waits for its gang member "
                                "'allreduce.x' (rank 1, stream comm)"),
                      HasSubstr("runs after (same stream) 'allreduce.y' (rank 1, stream comm)")));
  }
}

// A runner that forgets its ops: the engine must say which op was left running.
class ForgetfulRunner final : public ActivityRunner {
 public:
  void start(Engine& engine, std::span<const OpId> ops) override {
    for (const auto op : ops) {
      if (engine.graph().op_name(op) != "lost") engine.finish_at(op, engine.now() + Time::us(1));
    }
  }
};

TEST(Engine, OpThatNeverFinishesIsReported) {
  OpGraph g;
  const auto s = g.add_stream(0, "comm");
  g.add_op(s, "ok");
  g.add_op(s, "lost");
  g.add_op(s, "after");
  g.finalize();
  ForgetfulRunner runner;
  Engine engine(g, runner);
  try {
    engine.run();
    FAIL() << "expected a deadlock";
  } catch (const DeadlockError& e) {
    EXPECT_THAT(std::string(e.what()),
                AllOf(HasSubstr("1 of 3 ops can never start and 1 started but never finished"),
                      HasSubstr("'after' (rank 0, stream comm) runs after (same stream) 'lost'"),
                      HasSubstr("whose runner never finished it")));
  }
}

// A runner that finishes each op through a timer, the way a network model will.
class TimerRunner final : public ActivityRunner {
 public:
  void start(Engine& engine, std::span<const OpId> ops) override {
    for (const auto op : ops) {
      const auto doomed = engine.schedule_timer(engine.now() + Time::us(1), 1000 + op);
      EXPECT_TRUE(engine.cancel_timer(doomed));
      engine.schedule_timer(engine.now() + Time::us(2), op);
    }
  }
  void on_timer(Engine& engine, std::uint64_t tag) override {
    ASSERT_LT(tag, 1000u) << "a cancelled timer fired";
    engine.finish_at(static_cast<OpId>(tag), engine.now());
  }
};

TEST(Engine, RunnersCanFinishOpsFromTimersAndCancelThem) {
  OpGraph g;
  const auto s = g.add_stream(0, "comm");
  g.add_op(s, "a");
  g.add_op(s, "b");
  g.finalize();
  TimerRunner runner;
  Engine engine(g, runner);
  const auto t = engine.run();
  EXPECT_EQ(t.end(), Time::us(4));
  EXPECT_EQ(engine.events_processed(), 4u) << "two timers and two finishes";
}

std::string dump(const OpGraph& g, const Timeline& t) {
  std::ostringstream out;
  for (OpId op = 0; op < t.size(); ++op) {
    const auto s = t.span(op);
    out << g.describe(s.op) << ' ' << s.start.count() << ' ' << s.end.count() << '\n';
  }
  return out.str();
}

TEST(Engine, SameInputsGiveIdenticalTimelines) {
  // Many equal durations make many ties: the order must still be the same every time.
  OpGraph g;
  std::vector<OpId> gang;
  for (RankId r = 0; r < 16; ++r) {
    const auto compute = g.add_stream(r, "compute");
    const auto comm = g.add_stream(r, "comm");
    for (int layer = 0; layer < 8; ++layer) {
      const auto c = g.add_op(compute, "layer" + std::to_string(layer));
      const auto x = g.add_op(comm, "exchange" + std::to_string(layer));
      g.add_dependency(x, c);
      if (r > 0) g.add_dependency(x, c - 16 * 1);  // some cross-rank edges
    }
  }
  g.finalize();
  DurationRunner runner([](const OpGraph&, OpId op) { return Time::us(1 + op % 3); });
  Engine first(g, runner), second(g, runner);
  const auto a = dump(g, first.run());
  const auto b = dump(g, second.run());
  EXPECT_EQ(a, b);
  EXPECT_EQ(first.events_processed(), g.op_count());
}

TEST(Engine, ReportsProgress) {
  OpGraph g;
  const auto s = g.add_stream(0, "s");
  for (int i = 0; i < 10; ++i) g.add_op(s, "op");
  g.finalize();
  DurationRunner runner([](const OpGraph&, OpId) { return Time::us(1); });
  Engine engine(g, runner);
  std::vector<std::size_t> seen;
  engine.set_progress([&](const Progress& p) { seen.push_back(p.ops_finished); }, 4);
  engine.run();
  EXPECT_EQ(seen, (std::vector<std::size_t>{4, 8, 10}));
}

}  // namespace
}  // namespace moesim::core
