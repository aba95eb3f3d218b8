#pragma once
// A collective as data: transfers between ranks (and local delays, such as the re-layout copies
// of a hierarchical all-to-all) with the prerequisites each must wait for. Collective algorithms
// build one; run_transfers() and the collective runner play it on a network model.
#include <cstdint>
#include <span>
#include <vector>

#include "core/huge_page_allocator.hpp"
#include "core/time.hpp"

namespace moesim::net {

class TransferGraph {
 public:
  using Id = std::uint32_t;
  struct Node {
    std::int32_t src;  // participant index; for a delay, the rank it runs on
    std::int32_t dst;  // participant index; -1 for a delay
    double bytes;      // transfer size
    core::Time delay;  // a delay's duration; a transfer's issue offset (see add_transfer)
  };

  // A transfer starts `issue` after its prerequisites are done: the sender's cost of issuing it
  // (a p2p message's GPU-side cost, serialised over the messages a rank sends).
  Id add_transfer(int src, int dst, double bytes, core::Time issue = core::Time::zero());
  Id add_delay(int rank, core::Time duration);
  void depend(Id node, Id prerequisite);  // `node` starts after `prerequisite` finishes
  void reserve(std::size_t nodes, std::size_t dependencies);

  // Builds the successor lists; call once, after the last node and dependency.
  void seal();
  std::size_t size() const { return records_.size(); }
  const Node& node(Id id) const { return records_[id].node; }
  bool is_delay(Id id) const { return records_[id].node.dst < 0; }
  std::uint32_t waits(Id id) const { return waits_[id]; }
  // The nodes waiting for `id` (after seal()).
  std::span<const Id> successors(Id id) const {
    const Record& r = records_[id];
    const auto count = r.successors & kCountMask;
    return {count < 2 ? &r.successor : succ_.data() + r.successor, count};
  }
  // Whether `id` has one successor and is all it waits for: finishing `id` starts it, with no
  // waits counter to read (after seal()).
  bool frees_successor(Id id) const { return (records_[id].successors & kFreesFlag) != 0; }
  // Once `id` is done: calls `ready(s)` for each successor `s` that waits for nothing more,
  // counting down `waits` (by node: the prerequisites each still waits for; a run's copy of
  // waits()). A successor that `id` frees is started without reading its counter.
  template <class Waits, class Ready>
  void release(Id id, Waits& waits, Ready&& ready) const {
    const auto next = successors(id);
    if (frees_successor(id)) {
      ready(next.front());
      return;
    }
    for (const auto s : next) {
      if (--waits[s] == 0) ready(s);
    }
  }

 private:
  // What finishing a node reads, in one place: the node, and its successor itself when it has
  // only one (every send of a windowed all-to-all but the last few, a ring step), else where its
  // successors start in succ_. A run touches its graph at random (each rank's next transfers),
  // and those reads were three cache misses per finish in different arrays.
  struct alignas(32) Record {
    Node node;
    std::uint32_t successor = 0;   // the only successor, or an offset into succ_ (successors > 1)
    std::uint32_t successors = 0;  // how many (kCountMask), and kFreesFlag
  };
  static constexpr std::uint32_t kFreesFlag = 1u << 31;
  static constexpr std::uint32_t kCountMask = kFreesFlag - 1;
  static_assert(sizeof(Record) == 32);
  // A large graph is tens to hundreds of MiB, and a run touches it at random: on huge pages the
  // touches do not also miss the TLB.
  core::HugePageVector<Record> records_;
  core::HugePageVector<std::uint32_t> waits_;
  std::vector<std::pair<Id, Id>> edges_;  // (node, prerequisite), until seal()
  core::HugePageVector<Id> succ_;         // successors of the nodes with more than one
};

}  // namespace moesim::net
