#pragma once
// The op DAG of a run: ops on streams of ranks, with dependencies inside and across ranks.
//
// Vocabulary: a *rank* owns *streams*; a stream runs its ops one at a time in the order they were
// added (like a CUDA stream). An op may depend on ops of any stream or rank (like waiting on a
// CUDA event). A *gang* is a set of ops on different streams that start together once all of them
// are ready (a collective that every participant must reach). The graph knows nothing of what the
// ops do: names, labels and free-form args are for reports.
//
// Build with add_stream / add_op / add_dependency / add_gang, then finalize(), which checks for
// dangling dependencies, cycles and inconsistent gangs and throws GraphError naming the ops.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ids.hpp"
#include "string_pool.hpp"

namespace moesim::core {

struct OpArg {
  std::string key;
  std::string value;
};

struct StreamInfo {
  RankId rank;
  std::uint32_t name;  // id in the graph's string pool
};

class OpGraph {
 public:
  // --- building -------------------------------------------------------------------------------
  StreamId add_stream(RankId rank, std::string_view name);
  OpId add_op(StreamId stream, std::string_view name, std::span<const std::string_view> labels);
  OpId add_op(StreamId stream, std::string_view name,
              std::initializer_list<std::string_view> labels = {}) {
    return add_op(stream, name, std::span<const std::string_view>(labels.begin(), labels.size()));
  }
  // `op` starts only after `prerequisite` has finished. Ids are checked by finalize().
  void add_dependency(OpId op, OpId prerequisite);
  void set_args(OpId op, std::vector<OpArg> args);
  GangId add_gang(std::span<const OpId> members);
  GangId add_gang(std::initializer_list<OpId> members) {
    return add_gang(std::span<const OpId>(members.begin(), members.size()));
  }
  void reserve(std::size_t ops, std::size_t dependencies);
  // Validates and freezes the graph. Throws GraphError.
  void finalize();
  bool finalized() const { return finalized_; }

  // --- queries --------------------------------------------------------------------------------
  std::size_t op_count() const { return op_stream_.size(); }
  std::size_t stream_count() const { return streams_.size(); }
  std::size_t gang_count() const { return gang_offsets_.size() - 1; }
  std::size_t dependency_count() const { return edges_.size(); }
  RankId rank_count() const { return rank_count_; }

  StreamId op_stream(OpId op) const { return op_stream_[op]; }
  RankId op_rank(OpId op) const { return streams_[op_stream_[op]].rank; }
  std::string_view op_name(OpId op) const { return strings_.at(op_name_[op]); }
  std::span<const std::uint32_t> op_labels(OpId op) const;  // ids; see label()
  std::string_view label(std::uint32_t id) const { return strings_.at(id); }
  bool has_label(OpId op, std::string_view label) const;
  std::span<const OpArg> op_args(OpId op) const;
  GangId op_gang(OpId op) const { return finalized_ ? links_[op].gang : kNoId; }
  std::span<const OpId> gang_members(GangId gang) const;
  OpId previous_on_stream(OpId op) const { return op_prev_on_stream_[op]; }
  OpId next_on_stream(OpId op) const {
    return finalized_ ? links_[op].next_on_stream : op_next_on_stream_[op];
  }
  const StreamInfo& stream(StreamId id) const { return streams_[id]; }
  std::string_view stream_name(StreamId id) const { return strings_.at(streams_[id].name); }

  // After finalize(): the ops `op` waits for, and the ops waiting for `op` (stream order excluded).
  std::span<const OpId> prerequisites(OpId op) const;
  std::span<const OpId> successors(OpId op) const {
    return {succ_items_.data() + links_[op].first_successor, links_[op].successor_count};
  }
  // All successor lists back to back; successors(op) starts at first_successor(op).
  const OpId* successor_items() const { return succ_items_.data(); }
  std::uint32_t first_successor(OpId op) const { return links_[op].first_successor; }
  // After finalize(): per op, how many ops it waits for at the start (prerequisites, plus one
  // for its predecessor on the stream).
  const std::vector<std::uint32_t>& initial_waits() const { return initial_waits_; }

  // "'name' (rank 3, stream compute)": how errors and reports refer to an op.
  std::string describe(OpId op) const;

 private:
  void require_building() const;
  void check_dependencies() const;
  void check_gangs() const;
  void check_acyclic() const;
  void count_initial_waits();
  void build_adjacency(std::vector<std::uint32_t>& succ_offsets);
  void build_links(const std::vector<std::uint32_t>& succ_offsets);

  StringPool strings_;
  std::vector<StreamInfo> streams_;
  std::vector<OpId> stream_last_op_;
  RankId rank_count_ = 0;

  std::vector<StreamId> op_stream_;
  std::vector<std::uint32_t> op_name_;
  std::vector<std::uint32_t> op_label_set_;
  std::vector<std::uint32_t> op_args_;  // index into args_, or kNoId
  std::vector<OpId> op_prev_on_stream_;
  std::vector<OpId> op_next_on_stream_;  // while building; links_ after finalize()

  // What the engine reads when an op finishes, packed so that it is one cache access.
  struct OpLinks {
    std::uint32_t first_successor;  // index into succ_items_
    std::uint32_t successor_count;
    OpId next_on_stream;
    GangId gang;
  };
  std::vector<OpLinks> links_;

  // Label sets are interned: ops of the same kind share one entry.
  std::vector<std::uint32_t> label_set_offsets_{0};
  std::vector<std::uint32_t> label_set_items_;
  StringPool label_set_keys_;

  std::vector<std::vector<OpArg>> args_;

  std::vector<std::uint32_t> gang_offsets_{0};
  std::vector<OpId> gang_items_;

  std::vector<std::pair<OpId, OpId>> edges_;  // (op, prerequisite)
  std::vector<std::uint32_t> prereq_offsets_;
  std::vector<OpId> prereq_items_, succ_items_;
  std::vector<std::uint32_t> initial_waits_;
  bool finalized_ = false;
};

}  // namespace moesim::core
