#include "engine.hpp"

#include <stdexcept>
#include <string>

#include "error.hpp"

namespace moesim::core {

void ActivityRunner::on_timer(Engine&, std::uint64_t) {
  throw std::logic_error("ActivityRunner: a timer fired but this runner schedules none");
}

void DurationRunner::start(Engine& engine, std::span<const OpId> ops) {
  for (const OpId op : ops) {
    const Time duration = cost_(engine.graph(), op);
    if (duration < Time::zero()) {
      throw std::logic_error("cost callback returned a negative duration for " +
                             engine.graph().describe(op));
    }
    engine.finish_at(op, engine.now() + duration);
  }
}

Engine::Engine(const OpGraph& graph, ActivityRunner& runner)
    : graph_(graph), runner_(runner), timeline_(graph) {
  if (!graph.finalized()) throw std::logic_error("Engine: the op graph must be finalized first");
  const auto n = graph.op_count();
  const auto& waits = graph.initial_waits();
  ops_.resize(n);
  for (OpId op = 0; op < n; ++op) {
    const auto successors = graph.successors(op);
    ops_[op] = OpRecord{waits[op],
                        OpState::kWaiting,
                        graph.op_gang(op),
                        graph.next_on_stream(op),
                        graph.first_successor(op),
                        static_cast<std::uint32_t>(successors.size())};
  }
  successor_items_ = graph.successor_items();
  gang_ready_.assign(graph.gang_count(), 0);
}

void Engine::set_progress(ProgressCallback callback, std::uint64_t every_events) {
  progress_ = std::move(callback);
  progress_every_ = every_events == 0 ? 1 : every_events;
}

void Engine::finish_at(OpId op, Time when) {
  if (op >= ops_.size() || ops_[op].state != OpState::kRunning) {
    throw std::logic_error("Engine::finish_at: " + graph_.describe(op) + " is not running");
  }
  if (when < now_) throw std::logic_error("Engine::finish_at: time in the past");
  ops_[op].state = OpState::kFinishing;
  queue_.push(when, op);
}

Engine::TimerHandle Engine::schedule_timer(Time when, std::uint64_t tag) {
  if (when < now_) throw std::logic_error("Engine::schedule_timer: time in the past");
  if (tag & kTimerBit) throw std::logic_error("Engine::schedule_timer: tag uses the top bit");
  return queue_.push_cancellable(when, tag | kTimerBit);
}

void Engine::start(std::span<const OpId> ops) {
  for (const OpId op : ops) {
    ops_[op].state = OpState::kRunning;
    timeline_.set_start(op, now_);
  }
  runner_.start(*this, ops);
}

void Engine::release(OpId op) {
  const GangId gang = ops_[op].gang;
  if (gang == kNoId) {
    start(std::span<const OpId>(&op, 1));
    return;
  }
  const auto members = graph_.gang_members(gang);
  if (++gang_ready_[gang] == members.size()) start(members);
}

void Engine::finish(OpId op) {
  OpRecord& record = ops_[op];
  record.state = OpState::kFinished;
  timeline_.set_end(op, now_);
  ++finished_;
  const OpId* successor = successor_items_ + record.first_successor;
  const OpId* const last = successor + record.successor_count;
  const OpId next_on_stream = record.next_on_stream;
  for (; successor != last; ++successor) {
    if (--ops_[*successor].waits == 0) release(*successor);
  }
  if (next_on_stream != kNoId && --ops_[next_on_stream].waits == 0) release(next_on_stream);
}

Timeline Engine::run() {
  if (events_processed_ != 0 || finished_ != 0) throw std::logic_error("Engine::run: ran already");
  const auto n = graph_.op_count();
  for (OpId op = 0; op < n; ++op) {
    if (ops_[op].waits == 0) release(op);
  }
  while (!queue_.empty()) {
    const auto event = queue_.pop();
    now_ = event.time;
    ++events_processed_;
    if (event.payload & kTimerBit) {
      runner_.on_timer(*this, event.payload & ~kTimerBit);
    } else {
      finish(static_cast<OpId>(event.payload));
    }
    if (progress_ && events_processed_ % progress_every_ == 0) {
      progress_(Progress{finished_, n, now_});
    }
  }
  if (progress_) progress_(Progress{finished_, n, now_});
  if (finished_ != n) report_deadlock();
  return std::move(timeline_);
}

void Engine::report_deadlock() const {
  const auto n = graph_.op_count();
  std::size_t never_started = 0, never_finished = 0;
  OpId first_waiting = kNoId;
  for (OpId op = 0; op < n; ++op) {
    if (ops_[op].state == OpState::kWaiting) {
      ++never_started;
      if (first_waiting == kNoId) first_waiting = op;
    } else if (ops_[op].state != OpState::kFinished) {
      ++never_finished;
    }
  }
  std::string message = "deadlock at t = " + std::to_string(now_.count()) + " ps: ";
  message += std::to_string(never_started) + " of " + std::to_string(n) +
             " ops can never start and " + std::to_string(never_finished) +
             " started but never finished. ";
  if (first_waiting == kNoId) {
    for (OpId op = 0; op < n; ++op) {
      if (ops_[op].state != OpState::kFinished) {
        message += graph_.describe(op) +
                   " started at t = " + std::to_string(timeline_.start_of(op).count()) +
                   " ps, but its runner never finished it";
        break;
      }
    }
    throw DeadlockError(message);
  }
  // Every waiting op waits for some unfinished op: a prerequisite, its stream predecessor, or a
  // gang member that is not ready. Follow those waits until one repeats or reaches a running op.
  std::vector<std::uint32_t> seen_at(n, kNoId);
  std::vector<OpId> chain;
  std::vector<std::string> reasons;
  OpId op = first_waiting;
  while (seen_at[op] == kNoId && ops_[op].state == OpState::kWaiting) {
    seen_at[op] = static_cast<std::uint32_t>(chain.size());
    chain.push_back(op);
    OpId blocker = kNoId;
    std::string reason;
    for (const OpId p : graph_.prerequisites(op)) {
      if (ops_[p].state != OpState::kFinished) {
        blocker = p;
        reason = "waits for";
        break;
      }
    }
    const OpId previous = graph_.previous_on_stream(op);
    if (blocker == kNoId && previous != kNoId && ops_[previous].state != OpState::kFinished) {
      blocker = previous;
      reason = "runs after (same stream)";
    }
    if (blocker == kNoId) {  // ready, so held by its gang
      for (const OpId member : graph_.gang_members(graph_.op_gang(op))) {
        if (ops_[member].waits != 0) {
          blocker = member;
          reason = "waits for its gang member";
          break;
        }
      }
    }
    if (blocker == kNoId) {
      throw std::logic_error("Engine: " + graph_.describe(op) + " is stuck for no known reason");
    }
    reasons.push_back(reason);
    op = blocker;
  }
  const bool cycle = ops_[op].state == OpState::kWaiting;
  const std::size_t begin = cycle ? seen_at[op] : 0;
  message += cycle ? "Waiting cycle: " : "Waiting chain: ";
  message += graph_.describe(chain[begin]);
  for (std::size_t i = begin; i < chain.size(); ++i) {
    const OpId next = i + 1 < chain.size() ? chain[i + 1] : op;
    if (i > begin) message += ", which";
    message += " " + reasons[i] + " " + graph_.describe(next);
  }
  if (!cycle) message += ", which started but whose runner never finished it";
  throw DeadlockError(message);
}

}  // namespace moesim::core
