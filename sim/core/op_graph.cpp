#include "op_graph.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>

#include "error.hpp"

namespace moesim::core {

namespace {

std::string join_label_key(std::span<const std::uint32_t> ids) {
  std::string key;
  for (const auto id : ids) {
    key += std::to_string(id);
    key += ',';
  }
  return key;
}

// Compressed rows: for each of `n` rows, the items grouped by the row chosen by `row_of`.
template <class RowOf, class ItemOf>
void build_rows(std::size_t n, const std::vector<std::pair<OpId, OpId>>& edges, RowOf row_of,
                ItemOf item_of, std::vector<std::uint32_t>& offsets, std::vector<OpId>& items) {
  offsets.assign(n + 1, 0);
  for (const auto& e : edges) ++offsets[row_of(e) + 1];
  for (std::size_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  items.resize(edges.size());
  std::vector<std::uint32_t> cursor(offsets.begin(), offsets.end() - 1);
  for (const auto& e : edges) items[cursor[row_of(e)]++] = item_of(e);
}

}  // namespace

void OpGraph::require_building() const {
  if (finalized_) throw std::logic_error("OpGraph: the graph is finalized and cannot change");
}

void OpGraph::reserve(std::size_t ops, std::size_t dependencies) {
  op_stream_.reserve(ops);
  op_name_.reserve(ops);
  op_label_set_.reserve(ops);
  op_args_.reserve(ops);
  op_prev_on_stream_.reserve(ops);
  op_next_on_stream_.reserve(ops);
  edges_.reserve(dependencies);
}

StreamId OpGraph::add_stream(RankId rank, std::string_view name) {
  require_building();
  const auto id = static_cast<StreamId>(streams_.size());
  streams_.push_back(StreamInfo{rank, strings_.intern(name)});
  stream_last_op_.push_back(kNoId);
  rank_count_ = std::max(rank_count_, rank + 1);
  return id;
}

OpId OpGraph::add_op(StreamId stream, std::string_view name,
                     std::span<const std::string_view> labels) {
  require_building();
  if (stream >= streams_.size()) {
    throw GraphError("op '" + std::string(name) + "' is placed on stream #" +
                     std::to_string(stream) + ", which does not exist (the graph has " +
                     std::to_string(streams_.size()) + " streams)");
  }
  const auto id = static_cast<OpId>(op_stream_.size());
  op_stream_.push_back(stream);
  op_name_.push_back(strings_.intern(name));

  std::vector<std::uint32_t> label_ids;
  label_ids.reserve(labels.size());
  for (const auto label : labels) label_ids.push_back(strings_.intern(label));
  const auto set_id = label_set_keys_.intern(join_label_key(label_ids));
  if (set_id + 1 == label_set_offsets_.size()) {  // a new set
    label_set_items_.insert(label_set_items_.end(), label_ids.begin(), label_ids.end());
    label_set_offsets_.push_back(static_cast<std::uint32_t>(label_set_items_.size()));
  }
  op_label_set_.push_back(set_id);
  op_args_.push_back(kNoId);

  const OpId previous = stream_last_op_[stream];
  op_prev_on_stream_.push_back(previous);
  op_next_on_stream_.push_back(kNoId);
  if (previous != kNoId) op_next_on_stream_[previous] = id;
  stream_last_op_[stream] = id;
  return id;
}

void OpGraph::add_dependency(OpId op, OpId prerequisite) {
  require_building();
  edges_.emplace_back(op, prerequisite);
}

void OpGraph::set_args(OpId op, std::vector<OpArg> args) {
  require_building();
  if (op >= op_count()) throw std::out_of_range("OpGraph::set_args: no such op");
  if (op_args_[op] == kNoId) {
    op_args_[op] = static_cast<std::uint32_t>(args_.size());
    args_.push_back(std::move(args));
  } else {
    args_[op_args_[op]] = std::move(args);
  }
}

GangId OpGraph::add_gang(std::span<const OpId> members) {
  require_building();
  const auto id = static_cast<GangId>(gang_offsets_.size() - 1);
  gang_items_.insert(gang_items_.end(), members.begin(), members.end());
  gang_offsets_.push_back(static_cast<std::uint32_t>(gang_items_.size()));
  return id;
}

std::span<const std::uint32_t> OpGraph::op_labels(OpId op) const {
  const auto set = op_label_set_[op];
  return {label_set_items_.data() + label_set_offsets_[set],
          label_set_offsets_[set + 1] - label_set_offsets_[set]};
}

bool OpGraph::has_label(OpId op, std::string_view wanted) const {
  for (const auto id : op_labels(op)) {
    if (strings_.at(id) == wanted) return true;
  }
  return false;
}

std::span<const OpArg> OpGraph::op_args(OpId op) const {
  if (op_args_[op] == kNoId) return {};
  return args_[op_args_[op]];
}

std::span<const OpId> OpGraph::gang_members(GangId gang) const {
  return {gang_items_.data() + gang_offsets_[gang], gang_offsets_[gang + 1] - gang_offsets_[gang]};
}

std::span<const OpId> OpGraph::prerequisites(OpId op) const {
  return {prereq_items_.data() + prereq_offsets_[op],
          prereq_offsets_[op + 1] - prereq_offsets_[op]};
}

std::string OpGraph::describe(OpId op) const {
  if (op >= op_count()) return "op #" + std::to_string(op) + " (no such op)";
  return "'" + std::string(op_name(op)) + "' (rank " + std::to_string(op_rank(op)) + ", stream " +
         std::string(stream_name(op_stream(op))) + ")";
}

void OpGraph::check_dependencies() const {
  const auto n = op_count();
  for (const auto& [op, prerequisite] : edges_) {
    if (op >= n && prerequisite >= n) {
      throw GraphError("dependency between op #" + std::to_string(op) + " and op #" +
                       std::to_string(prerequisite) + ": neither exists (the graph has " +
                       std::to_string(n) + " ops)");
    }
    if (op >= n) {
      throw GraphError("dangling dependency: op #" + std::to_string(op) +
                       " (which does not exist; the graph has " + std::to_string(n) +
                       " ops) is to wait for " + describe(prerequisite));
    }
    if (prerequisite >= n) {
      throw GraphError("dangling dependency: " + describe(op) + " waits for op #" +
                       std::to_string(prerequisite) + ", which does not exist (the graph has " +
                       std::to_string(n) + " ops)");
    }
  }
}

void OpGraph::check_gangs() const {
  std::vector<GangId> gang_of(op_count(), kNoId);
  for (GangId g = 0; g < gang_count(); ++g) {
    const auto members = gang_members(g);
    if (members.empty()) throw GraphError("gang #" + std::to_string(g) + " has no members");
    std::unordered_set<StreamId> streams;
    for (const auto op : members) {
      if (op >= op_count()) {
        throw GraphError("gang #" + std::to_string(g) + " names op #" + std::to_string(op) +
                         ", which does not exist (the graph has " + std::to_string(op_count()) +
                         " ops)");
      }
      if (gang_of[op] != kNoId) {
        throw GraphError(describe(op) + " is in two gangs (#" + std::to_string(gang_of[op]) +
                         " and #" + std::to_string(g) + "); an op starts with one gang at most");
      }
      gang_of[op] = g;
      if (!streams.insert(op_stream(op)).second) {
        throw GraphError("gang #" + std::to_string(g) + " has two ops on one stream (" +
                         describe(op) + " and another): they could never run together");
      }
    }
  }
}

void OpGraph::count_initial_waits() {
  const auto n = op_count();
  initial_waits_.resize(n);
  for (OpId op = 0; op < n; ++op) {
    initial_waits_[op] = static_cast<std::uint32_t>(prerequisites(op).size()) +
                         (op_prev_on_stream_[op] != kNoId ? 1u : 0u);
  }
}

void OpGraph::check_acyclic() const {
  // Kahn's algorithm over explicit dependencies plus stream order.
  const auto n = op_count();
  std::vector<std::uint32_t> waiting = initial_waits_;
  std::vector<OpId> ready;
  for (OpId op = 0; op < n; ++op) {
    if (waiting[op] == 0) ready.push_back(op);
  }
  std::size_t done = 0;
  while (!ready.empty()) {
    const OpId op = ready.back();
    ready.pop_back();
    ++done;
    for (const OpId next : successors(op)) {
      if (--waiting[next] == 0) ready.push_back(next);
    }
    const OpId next = next_on_stream(op);
    if (next != kNoId && --waiting[next] == 0) ready.push_back(next);
  }
  if (done == n) return;

  // Every op left waits for another op left: walk back along such waits until one repeats.
  OpId start = 0;
  while (waiting[start] == 0) ++start;
  std::vector<std::uint32_t> seen_at(n, kNoId);
  std::vector<std::pair<OpId, bool>> path;  // (op, reached through stream order)
  OpId op = start;
  bool via_stream = false;
  while (seen_at[op] == kNoId) {
    seen_at[op] = static_cast<std::uint32_t>(path.size());
    path.emplace_back(op, via_stream);
    OpId blocker = kNoId;
    for (const OpId p : prerequisites(op)) {
      if (waiting[p] != 0) {
        blocker = p;
        via_stream = false;
        break;
      }
    }
    if (blocker == kNoId) {
      blocker = op_prev_on_stream_[op];
      via_stream = true;
    }
    op = blocker;
  }
  const auto relation = [](bool stream_order) {
    return stream_order ? "runs after (same stream)" : "waits for";
  };
  std::string message = "dependency cycle: " + describe(path[seen_at[op]].first);
  for (std::size_t i = seen_at[op] + 1; i <= path.size(); ++i) {
    const bool stream_order = i < path.size() ? path[i].second : via_stream;
    const OpId next = i < path.size() ? path[i].first : op;
    if (i > seen_at[op] + 1) message += ", which";
    message += std::string(" ") + relation(stream_order) + " " + describe(next);
  }
  throw GraphError(message);
}

void OpGraph::build_adjacency(std::vector<std::uint32_t>& succ_offsets) {
  const auto n = op_count();
  // Stable grouping keeps the order in which dependencies were added.
  build_rows(
      n, edges_, [](const auto& e) { return e.first; }, [](const auto& e) { return e.second; },
      prereq_offsets_, prereq_items_);
  build_rows(
      n, edges_, [](const auto& e) { return e.second; }, [](const auto& e) { return e.first; },
      succ_offsets, succ_items_);
}

void OpGraph::build_links(const std::vector<std::uint32_t>& succ_offsets) {
  const auto n = op_count();
  links_.resize(n);
  for (OpId op = 0; op < n; ++op) {
    links_[op] = OpLinks{succ_offsets[op], succ_offsets[op + 1] - succ_offsets[op],
                         op_next_on_stream_[op], kNoId};
  }
  for (GangId g = 0; g < gang_count(); ++g) {
    // A member that does not exist is reported by check_gangs(); it has no link to mark.
    for (const OpId op : gang_members(g)) {
      if (op < n) links_[op].gang = g;
    }
  }
  op_next_on_stream_ = {};  // links_ holds it now
}

void OpGraph::finalize() {
  require_building();
  check_dependencies();
  std::vector<std::uint32_t> succ_offsets;
  build_adjacency(succ_offsets);
  build_links(succ_offsets);
  finalized_ = true;  // the checks below read through the finalized accessors
  try {
    count_initial_waits();
    check_gangs();
    check_acyclic();
  } catch (...) {
    finalized_ = false;
    throw;
  }
}

}  // namespace moesim::core
