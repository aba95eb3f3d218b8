#include "transfer_graph.hpp"

#include <stdexcept>

namespace moesim::net {

TransferGraph::Id TransferGraph::add_transfer(int src, int dst, double bytes, core::Time issue) {
  records_.push_back(Record{Node{src, dst, bytes, issue}});
  waits_.push_back(0);
  return static_cast<Id>(records_.size() - 1);
}

TransferGraph::Id TransferGraph::add_delay(int rank, core::Time duration) {
  records_.push_back(Record{Node{rank, -1, 0, duration}});
  waits_.push_back(0);
  return static_cast<Id>(records_.size() - 1);
}

void TransferGraph::depend(Id node, Id prerequisite) {
  if (prerequisite >= node) {
    throw std::logic_error("TransferGraph: a prerequisite must be added before its dependant");
  }
  edges_.emplace_back(node, prerequisite);
  ++waits_[node];
}

void TransferGraph::reserve(std::size_t nodes, std::size_t dependencies) {
  records_.reserve(nodes);
  waits_.reserve(nodes);
  edges_.reserve(dependencies);
}

void TransferGraph::seal() {
  for (const auto& [node, pre] : edges_) {
    if (++records_[pre].successors == kFreesFlag) {
      throw std::length_error("TransferGraph: a node with 2^31 successors");
    }
  }
  std::size_t listed = 0;  // successors of the nodes with more than one
  for (auto& r : records_) {
    if (r.successors > 1) {
      r.successor = static_cast<std::uint32_t>(listed);
      listed += r.successors;
    }
  }
  succ_.resize(listed);
  std::vector<std::uint32_t> placed(records_.size(), 0);
  for (const auto& [node, pre] : edges_) {  // in the order the dependencies were added
    Record& r = records_[pre];
    if (r.successors == 1) {
      r.successor = node;
    } else {
      succ_[r.successor + placed[pre]++] = node;
    }
  }
  for (auto& r : records_) {
    if (r.successors == 1 && waits_[r.successor] == 1) r.successors |= kFreesFlag;
  }
  edges_.clear();
  edges_.shrink_to_fit();
}

}  // namespace moesim::net
