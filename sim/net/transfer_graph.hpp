#pragma once
// A collective as data: transfers between ranks (and local delays, such as the re-layout copies
// of a hierarchical all-to-all) with the prerequisites each must wait for. Collective algorithms
// build one; run_transfer_graph() plays it on a network model.
#include <cstdint>
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
    core::Time delay;  // a delay's duration
  };

  Id add_transfer(int src, int dst, double bytes);
  Id add_delay(int rank, core::Time duration);
  void depend(Id node, Id prerequisite);  // `node` starts after `prerequisite` finishes
  void reserve(std::size_t nodes, std::size_t dependencies);

  // Builds the successor lists; call once, after the last node and dependency.
  void seal();
  std::size_t size() const { return nodes_.size(); }
  const Node& node(Id id) const { return nodes_[id]; }
  bool is_delay(Id id) const { return nodes_[id].dst < 0; }
  std::uint32_t waits(Id id) const { return waits_[id]; }
  const Id* successors_begin(Id id) const { return succ_.data() + succ_offset_[id]; }
  const Id* successors_end(Id id) const { return succ_.data() + succ_offset_[id + 1]; }

 private:
  // A large graph is tens to hundreds of MiB, and a run touches it at random (each rank's next
  // transfers): on huge pages the touches do not also miss the TLB.
  core::HugePageVector<Node> nodes_;
  core::HugePageVector<std::uint32_t> waits_;
  std::vector<std::pair<Id, Id>> edges_;  // (node, prerequisite), until seal()
  core::HugePageVector<std::uint32_t> succ_offset_;
  core::HugePageVector<Id> succ_;
};

}  // namespace moesim::net
