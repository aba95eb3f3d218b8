#include "transfer_graph.hpp"

#include <stdexcept>

namespace moesim::net {

TransferGraph::Id TransferGraph::add_transfer(int src, int dst, double bytes) {
  nodes_.push_back(Node{src, dst, bytes, core::Time::zero()});
  waits_.push_back(0);
  return static_cast<Id>(nodes_.size() - 1);
}

TransferGraph::Id TransferGraph::add_delay(int rank, core::Time duration) {
  nodes_.push_back(Node{rank, -1, 0, duration});
  waits_.push_back(0);
  return static_cast<Id>(nodes_.size() - 1);
}

void TransferGraph::depend(Id node, Id prerequisite) {
  if (prerequisite >= node) {
    throw std::logic_error("TransferGraph: a prerequisite must be added before its dependant");
  }
  edges_.emplace_back(node, prerequisite);
  ++waits_[node];
}

void TransferGraph::reserve(std::size_t nodes, std::size_t dependencies) {
  nodes_.reserve(nodes);
  waits_.reserve(nodes);
  edges_.reserve(dependencies);
}

void TransferGraph::seal() {
  succ_offset_.assign(nodes_.size() + 1, 0);
  for (const auto& [node, pre] : edges_) ++succ_offset_[pre + 1];
  for (std::size_t i = 0; i < nodes_.size(); ++i) succ_offset_[i + 1] += succ_offset_[i];
  succ_.resize(edges_.size());
  std::vector<std::uint32_t> cursor(succ_offset_.begin(), succ_offset_.end() - 1);
  for (const auto& [node, pre] : edges_) succ_[cursor[pre]++] = node;
  edges_.clear();
  edges_.shrink_to_fit();
}

}  // namespace moesim::net
