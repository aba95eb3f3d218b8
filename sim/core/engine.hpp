#pragma once
// The discrete-event engine: runs an OpGraph to completion and records a Timeline.
//
// An op becomes ready when its prerequisites and the op before it on its stream have finished; a
// gang becomes ready when all its members are. Ready work is handed to an ActivityRunner, which
// decides when each op finishes: a fixed duration from a cost callback (DurationRunner), or later
// through timers (a network model sharing links among transfers). Events are ordered by
// (time, sequence), so a run is deterministic. If work remains when no event is left, run()
// throws DeadlockError naming the ops that wait on each other.
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "event_queue.hpp"
#include "huge_page_allocator.hpp"
#include "ids.hpp"
#include "op_graph.hpp"
#include "time.hpp"
#include "timeline.hpp"

namespace moesim::core {

class Engine;

// Decides how long started ops take. start() receives one op, or every member of a gang; it must
// eventually call engine.finish_at() for each of them, now or from on_timer().
class ActivityRunner {
 public:
  virtual ~ActivityRunner() = default;
  virtual void start(Engine& engine, std::span<const OpId> ops) = 0;
  // A timer scheduled with Engine::schedule_timer() fired.
  virtual void on_timer(Engine& engine, std::uint64_t tag);
};

// The duration of one op. Must be non-negative.
using CostFunction = std::function<Time(const OpGraph&, OpId)>;

// Each op takes the time its cost callback says, from the moment it starts.
class DurationRunner final : public ActivityRunner {
 public:
  explicit DurationRunner(CostFunction cost) : cost_(std::move(cost)) {}
  void start(Engine& engine, std::span<const OpId> ops) override;

 private:
  CostFunction cost_;
};

struct Progress {
  std::size_t ops_finished;
  std::size_t ops_total;
  Time now;
};
using ProgressCallback = std::function<void(const Progress&)>;

class Engine {
 public:
  using TimerHandle = EventQueue<std::uint64_t>::Handle;

  // The graph must be finalized and outlive the engine.
  Engine(const OpGraph& graph, ActivityRunner& runner);

  // Runs to completion. Throws DeadlockError when ops remain that can never start or finish.
  Timeline run();

  // Reports progress every `every_events` events (and at the end).
  void set_progress(ProgressCallback callback, std::uint64_t every_events);

  // --- for runners ----------------------------------------------------------------------------
  Time now() const { return now_; }
  const OpGraph& graph() const { return graph_; }
  // Finishes a started op at `when` (>= now). Throws std::logic_error on misuse.
  void finish_at(OpId op, Time when);
  TimerHandle schedule_timer(Time when, std::uint64_t tag);
  bool cancel_timer(TimerHandle handle) { return queue_.cancel(handle); }

  // --- statistics -----------------------------------------------------------------------------
  std::uint64_t events_processed() const { return events_processed_; }

 private:
  enum class OpState : std::uint8_t { kWaiting, kRunning, kFinishing, kFinished };
  // Event payload: an op that finishes, or a runner's timer (top bit set).
  static constexpr std::uint64_t kTimerBit = std::uint64_t{1} << 63;

  void release(OpId op);
  void start(std::span<const OpId> ops);
  void finish(OpId op);
  [[noreturn]] void report_deadlock() const;

  const OpGraph& graph_;
  ActivityRunner& runner_;
  EventQueue<std::uint64_t> queue_;
  // Everything the event loop reads or writes for one op, in one 24-byte record: the loop
  // touches about 2,000 ops at once, scattered over arrays of 10 million, so each extra array
  // would cost a cache miss per op. The graph's fields are copied in when the engine is built.
  struct OpRecord {
    std::uint32_t waits;  // unfinished prerequisites (+1 for the stream predecessor)
    OpState state;
    GangId gang;
    OpId next_on_stream;
    std::uint32_t first_successor;  // into graph().successor_items()
    std::uint32_t successor_count;
  };
  HugePageVector<OpRecord> ops_;
  const OpId* successor_items_;
  std::vector<std::uint32_t> gang_ready_;
  Timeline timeline_;
  Time now_ = Time::zero();
  std::size_t finished_ = 0;
  std::uint64_t events_processed_ = 0;
  ProgressCallback progress_;
  std::uint64_t progress_every_ = 0;
};

}  // namespace moesim::core
