#pragma once
// The routes of a collective's transfers, kept per (transfer graph, GPUs) pair.
//
// A training step calls the same collective on the same GPUs once per layer and direction, so
// the runner asks for the same routes again and again (at 2,048 GPUs in bench_model, 56 M
// transfers over 162 distinct pairs of graph and GPU list). When routing does not depend on the
// transfer (no ECMP), a book holds the route of every node of a graph on one GPU list, laid out
// in node order, and a transfer reads its route from there instead of asking the router.
// Books stop being made once they hold `max_links` links in all; calls beyond that are routed
// as their transfers start, as without a book.
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "core/huge_page_allocator.hpp"
#include "topologies/routing.hpp"
#include "transfer_graph.hpp"

namespace moesim::net {

class RouteBook {
 public:
  static constexpr std::uint32_t kNoBook = std::numeric_limits<std::uint32_t>::max();

  RouteBook(const topo::Router& router, std::size_t max_links);

  // The book for graph `graph_index` (`graph`) played on `gpus` (cluster GPU by participant),
  // made on first request; kNoBook where routes depend on the transfer or the bound is reached.
  std::uint32_t book(std::uint32_t graph_index, const TransferGraph& graph,
                     const std::vector<int>& gpus);
  // The route of node `id` in book `book` (empty for a delay).
  std::span<const topo::LinkId> route(std::uint32_t book, TransferGraph::Id id) const {
    const auto* offsets = &offsets_[books_[book]];
    return {links_.data() + offsets[id], offsets[id + 1] - offsets[id]};
  }
  std::size_t links() const { return links_.size(); }

 private:
  const topo::Router& router_;
  std::size_t max_links_;
  std::map<std::pair<std::uint32_t, std::vector<int>>, std::uint32_t> index_;
  std::vector<std::size_t> books_;  // by book: where its node offsets start in offsets_
  // Tens of MiB, read where each transfer starts: on huge pages, so that the reads do not also
  // miss the TLB.
  core::HugePageVector<std::uint32_t> offsets_;  // per book, node count + 1 offsets into links_
  core::HugePageVector<topo::LinkId> links_;
};

}  // namespace moesim::net
