#include "route_book.hpp"

#include <limits>
#include <stdexcept>

namespace moesim::net {

RouteBook::RouteBook(const topo::Router& router, std::size_t max_links)
    : router_(router), max_links_(max_links) {}

std::uint32_t RouteBook::book(std::uint32_t graph_index, const TransferGraph& graph,
                              const std::vector<int>& gpus) {
  if (!router_.options().routes_by_pair()) return kNoBook;  // a route depends on the transfer
  auto key = std::pair(graph_index, gpus);
  if (const auto it = index_.find(key); it != index_.end()) return it->second;
  if (links_.size() >= max_links_) return kNoBook;
  const auto id = static_cast<std::uint32_t>(books_.size());
  books_.push_back(offsets_.size());
  offsets_.push_back(static_cast<std::uint32_t>(links_.size()));
  std::vector<topo::LinkId> route;
  for (TransferGraph::Id n = 0; n < graph.size(); ++n) {
    if (!graph.is_delay(n)) {
      const auto& node = graph.node(n);
      route.clear();
      router_.route(gpus[static_cast<std::size_t>(node.src)],
                    gpus[static_cast<std::size_t>(node.dst)], 0, route);
      links_.insert(links_.end(), route.begin(), route.end());
    }
    if (links_.size() > std::numeric_limits<std::uint32_t>::max()) {  // offsets are 32-bit
      throw std::length_error("RouteBook: a graph's routes pass 2^32 links");
    }
    offsets_.push_back(static_cast<std::uint32_t>(links_.size()));
  }
  index_.emplace(std::move(key), id);
  return id;
}

}  // namespace moesim::net
