#include "collectives.hpp"

#include <fmt/format.h>

#include <array>
#include <iterator>
#include <numeric>
#include <stdexcept>

#include "config/enum_name.hpp"
#include "nccl_collectives.hpp"

namespace moesim::net {

namespace {

using Id = TransferGraph::Id;
constexpr Id kNone = 0xFFFFFFFFu;

int mod(int a, int n) {
  return ((a % n) + n) % n;
}

// Rank `src` sends to each destination in `order` (skipping empty messages), with at most
// `window` in flight; every send also waits for `after` (if any). Returns the ids by position.
// NCCL issues a rank's p2p operations in batches of at most 8 peers
// (NCCL_MAX_DEV_WORK_P2P_PER_BATCH, src/include/device.h).
constexpr std::size_t kP2pBatch = 8;

std::vector<Id> windowed_sends(TransferGraph& g, int src, const std::vector<int>& order,
                               const std::vector<double>& bytes, int window,
                               const std::vector<Id>& after, const MessageCost& cost = {}) {
  std::vector<Id> sent;
  // With a cost per message, a batch's messages start once the rank has paid for all of them.
  std::vector<core::Time> issue(order.size(), core::Time::zero());
  if (cost) {
    core::Time paid = core::Time::zero();
    std::size_t batch = 0, in_batch = 0;
    std::vector<std::size_t> members;
    for (std::size_t k = 0; k <= order.size(); ++k) {
      if (k == order.size() || (bytes[k] > 0 && in_batch == kP2pBatch)) {
        for (const auto m : members) issue[m] = paid;
        members.clear();
        in_batch = 0;
        ++batch;
        if (k == order.size()) break;
      }
      if (bytes[k] <= 0) continue;
      paid += cost(src, order[k]);
      members.push_back(k);
      ++in_batch;
    }
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (bytes[k] <= 0) continue;
    const Id id = g.add_transfer(src, order[k], bytes[k], issue[k]);
    for (const auto a : after) g.depend(id, a);
    if (window > 0 && sent.size() >= static_cast<std::size_t>(window)) {
      g.depend(id, sent[sent.size() - static_cast<std::size_t>(window)]);
    }
    sent.push_back(id);
  }
  return sent;
}

// The order a rank sends to its peers in. Over whole nodes (`per_node` > 1), NCCL's node-aware
// p2p schedule (ncclP2pSchedule, src/init.cc): by node delta, then local delta, so that in each
// round every rank's peer is as near as every other rank's (and messages that cost the same are
// issued together); otherwise r+1, r+2, ...
std::vector<int> peer_order(int r, int n, int per_node) {
  std::vector<int> order;
  order.reserve(static_cast<std::size_t>(n - 1));
  if (per_node > 1 && n % per_node == 0 && per_node < n) {
    const int nodes = n / per_node, node = r / per_node, local = r % per_node;
    for (int nd = 0; nd < nodes; ++nd) {
      for (int ld = 0; ld < per_node; ++ld) {
        if (nd == 0 && ld == 0) continue;
        order.push_back(mod(node + nd, nodes) * per_node + mod(local + ld, per_node));
      }
    }
  } else {
    for (int d = 1; d < n; ++d) order.push_back(mod(r + d, n));
  }
  return order;
}

TransferGraph direct(int n, const ByteMatrix& bytes, int window, const MessageCost& cost,
                     int per_node) {
  TransferGraph g;
  g.reserve(static_cast<std::size_t>(n) * static_cast<std::size_t>(n - 1),
            static_cast<std::size_t>(n) * static_cast<std::size_t>(n - 1));
  std::vector<double> size(static_cast<std::size_t>(n - 1));
  for (int r = 0; r < n; ++r) {
    const auto order = peer_order(r, n, per_node);
    for (std::size_t k = 0; k < order.size(); ++k) size[k] = bytes(r, order[k]);
    windowed_sends(g, r, order, size, window, {}, cost);
  }
  return g;
}

TransferGraph pairwise(int n, const ByteMatrix& bytes) {
  TransferGraph g;
  std::vector<Id> previous(static_cast<std::size_t>(n), kNone), current(previous.size());
  for (int d = 1; d < n; ++d) {
    for (int r = 0; r < n; ++r) {
      // A zero-byte message still marks the round: NCCL-style pairwise exchanges synchronise.
      const Id id = g.add_transfer(r, mod(r + d, n), bytes(r, mod(r + d, n)));
      if (previous[r] != kNone) {
        g.depend(id, previous[r]);                                              // own previous send
        g.depend(id, previous[static_cast<std::size_t>(mod(r - (d - 1), n))]);  // previous receive
      }
      current[static_cast<std::size_t>(r)] = id;
    }
    previous = current;
  }
  return g;
}

TransferGraph hierarchical(int n, const ByteMatrix& bytes, const AllToAllOptions& o) {
  const int g_local = o.gpus_per_node;
  if (g_local <= 0 || n % g_local != 0) {
    throw std::invalid_argument("hierarchical all-to-all: participants must fill whole nodes");
  }
  const int nodes = n / g_local;
  const auto rank = [&](int node, int local) { return node * g_local + local; };
  TransferGraph g;
  // Phase 1, inside each node: (a, i) -> (a, j) everything bound for rail j.
  std::vector<std::vector<Id>> received(static_cast<std::size_t>(n));
  std::vector<double> held(static_cast<std::size_t>(n), 0);
  for (int a = 0; a < nodes; ++a) {
    for (int i = 0; i < g_local; ++i) {
      std::vector<int> order;
      std::vector<double> size;
      for (int k = 1; k < g_local; ++k) {
        const int j = mod(i + k, g_local);
        double sum = 0;
        for (int b = 0; b < nodes; ++b) sum += bytes(rank(a, i), rank(b, j));
        order.push_back(rank(a, j));
        size.push_back(sum);
      }
      const auto sent = windowed_sends(g, rank(a, i), order, size, o.window, {});
      std::size_t s = 0;
      for (std::size_t k = 0; k < order.size(); ++k) {
        if (size[k] <= 0) continue;
        received[static_cast<std::size_t>(order[k])].push_back(sent[s++]);
        held[static_cast<std::size_t>(order[k])] += size[k];
      }
      for (int b = 0; b < nodes; ++b)
        held[static_cast<std::size_t>(rank(a, i))] += bytes(rank(a, i), rank(b, i));
    }
  }
  // Re-layout, then phase 2 along each rail: (a, j) -> (b, j) everything bound for (b, j).
  std::vector<std::vector<Id>> received2(static_cast<std::size_t>(n));
  std::vector<double> held2(static_cast<std::size_t>(n), 0);
  for (int a = 0; a < nodes; ++a) {
    for (int j = 0; j < g_local; ++j) {
      const int p = rank(a, j);
      std::vector<Id> after = received[static_cast<std::size_t>(p)];
      if (o.relayout_bandwidth > 0) {
        const Id copy = g.add_delay(
            p, core::Time::from_seconds(held[static_cast<std::size_t>(p)] / o.relayout_bandwidth));
        for (const auto r : after) g.depend(copy, r);
        after = {copy};
      }
      std::vector<int> order;
      std::vector<double> size;
      for (int k = 1; k < nodes; ++k) {
        const int b = mod(a + k, nodes);
        double sum = 0;
        for (int i = 0; i < g_local; ++i) sum += bytes(rank(a, i), rank(b, j));
        order.push_back(rank(b, j));
        size.push_back(sum);
      }
      const auto sent = windowed_sends(g, p, order, size, o.window, after);
      std::size_t s = 0;
      for (std::size_t k = 0; k < order.size(); ++k) {
        if (size[k] <= 0) continue;
        received2[static_cast<std::size_t>(order[k])].push_back(sent[s++]);
        held2[static_cast<std::size_t>(order[k])] += size[k];
      }
    }
  }
  if (o.relayout_bandwidth > 0) {
    for (int p = 0; p < n; ++p) {
      const Id copy = g.add_delay(
          p, core::Time::from_seconds(held2[static_cast<std::size_t>(p)] / o.relayout_bandwidth));
      for (const auto r : received2[static_cast<std::size_t>(p)]) g.depend(copy, r);
    }
  }
  return g;
}

// Ring steps among `members` (participant ids, in ring order); the first step of each member
// waits for its entry in `last` (kNone: nothing), which is updated to its last step.
void ring_on(TransferGraph& g, const std::vector<int>& members, double chunk, int steps,
             std::vector<Id>& last) {
  const int m = static_cast<int>(members.size());
  if (m < 2) return;
  std::vector<Id> previous(static_cast<std::size_t>(m)), current(previous.size());
  for (int i = 0; i < m; ++i)
    previous[static_cast<std::size_t>(i)] =
        last[static_cast<std::size_t>(members[static_cast<std::size_t>(i)])];
  for (int k = 0; k < steps; ++k) {
    for (int i = 0; i < m; ++i) {
      const auto me = static_cast<std::size_t>(i);
      const Id id =
          g.add_transfer(members[me], members[static_cast<std::size_t>(mod(i + 1, m))], chunk);
      for (const auto p : {previous[me], previous[static_cast<std::size_t>(mod(i - 1, m))]}) {
        if (p != kNone) g.depend(id, p);
      }
      current[me] = id;
    }
    previous = current;
  }
  for (int i = 0; i < m; ++i)
    last[static_cast<std::size_t>(members[static_cast<std::size_t>(i)])] =
        previous[static_cast<std::size_t>(i)];
}

// Steps around the ring of all n participants.
TransferGraph ring(int n, double chunk, int steps) {
  TransferGraph g;
  std::vector<int> members(static_cast<std::size_t>(n));
  std::iota(members.begin(), members.end(), 0);
  std::vector<Id> last(members.size(), kNone);
  ring_on(g, members, chunk, steps, last);
  return g;
}

// Rings of `steps` steps of `chunk` inside each node (participants node-major, `per_node` to a
// node), or along each rail (the GPUs with the same index in their node).
void node_rings(TransferGraph& g, int n, int per_node, double chunk, int steps,
                std::vector<Id>& last) {
  std::vector<int> members;
  for (int a = 0; a < n / per_node; ++a) {
    members.clear();
    for (int i = 0; i < per_node; ++i) members.push_back(a * per_node + i);
    ring_on(g, members, chunk, steps, last);
  }
}
void rail_rings(TransferGraph& g, int n, int per_node, double chunk, int steps,
                std::vector<Id>& last) {
  std::vector<int> members;
  for (int i = 0; i < per_node; ++i) {
    members.clear();
    for (int a = 0; a < n / per_node; ++a) members.push_back(a * per_node + i);
    ring_on(g, members, chunk, steps, last);
  }
}

// 2-D collectives over whole nodes: the phases inside nodes move a node's array S in shards of
// S/g, the phases along rails a node's shard in pieces of S/n. All-reduce: reduce-scatter inside
// each node, ring all-reduce of the node's shard along each rail, all-gather inside each node.
// Reduce-scatter: the first two, the rail phase a reduce-scatter; all-gather: the mirror. Same
// bytes per GPU on the network as a flat ring, 1/g of them.
enum class Phases { kAllReduce, kReduceScatter, kAllGather };
TransferGraph two_level(int n, double bytes, int per_node, Phases phases) {
  if (per_node <= 0 || n % per_node != 0) {
    throw std::invalid_argument("hierarchical collective: participants must fill whole nodes");
  }
  const int nodes = n / per_node;
  TransferGraph g;
  std::vector<Id> last(static_cast<std::size_t>(n), kNone);
  const double shard = bytes / per_node;
  if (phases != Phases::kAllGather) node_rings(g, n, per_node, shard, per_node - 1, last);
  const int rail_steps = phases == Phases::kAllReduce ? 2 * (nodes - 1) : nodes - 1;
  rail_rings(g, n, per_node, shard / nodes, rail_steps, last);
  if (phases != Phases::kReduceScatter) node_rings(g, n, per_node, shard, per_node - 1, last);
  g.seal();
  return g;
}

// Whether `per_node` makes a 2-D collective of n participants: more than one node, each with
// more than one participant.
bool two_dimensional(int n, int per_node) {
  return per_node > 1 && per_node < n;
}

}  // namespace

TransferGraph all_to_all(int n, const ByteMatrix& bytes, const AllToAllOptions& options) {
  if (n < 1) throw std::invalid_argument("all-to-all needs at least 1 participant");
  TransferGraph g;
  if (n == 1) {  // one rank keeps what it has: nothing crosses a link (EP = 1)
    g.seal();
    return g;
  }
  switch (options.algorithm) {
    case AllToAllAlgorithm::kDirect:
      g = direct(n, bytes, options.window, options.message_cost, options.gpus_per_node);
      break;
    case AllToAllAlgorithm::kPairwise:
      g = pairwise(n, bytes);
      break;
    case AllToAllAlgorithm::kHierarchical:
      g = hierarchical(n, bytes, options);
      break;
  }
  g.seal();
  return g;
}

TransferGraph all_reduce(int n, double bytes, AllReduceAlgorithm algorithm, int gpus_per_node) {
  if (n < 1) throw std::invalid_argument("all-reduce needs at least 1 participant");
  if (n == 1) {  // a single replica's gradients are already the sum
    TransferGraph g;
    g.seal();
    return g;
  }
  if (algorithm == AllReduceAlgorithm::kHierarchical) {
    return two_level(n, bytes, gpus_per_node, Phases::kAllReduce);
  }
  if (algorithm == AllReduceAlgorithm::kRing) {
    auto g = ring(n, bytes / n, 2 * (n - 1));
    g.seal();
    return g;
  }
  // Binary tree rooted at 0, not pipelined: children before parents on the way up.
  TransferGraph g;
  const auto parent = [](int r) { return (r - 1) / 2; };
  std::vector<Id> up(static_cast<std::size_t>(n), kNone), down(static_cast<std::size_t>(n), kNone);
  for (int r = n - 1; r >= 1; --r) {
    up[static_cast<std::size_t>(r)] = g.add_transfer(r, parent(r), bytes);
    for (const int c : {2 * r + 1, 2 * r + 2}) {
      if (c < n) g.depend(up[static_cast<std::size_t>(r)], up[static_cast<std::size_t>(c)]);
    }
  }
  for (int r = 1; r < n; ++r) {
    down[static_cast<std::size_t>(r)] = g.add_transfer(parent(r), r, bytes);
    if (parent(r) == 0) {
      for (const int c : {1, 2}) {
        if (c < n) g.depend(down[static_cast<std::size_t>(r)], up[static_cast<std::size_t>(c)]);
      }
    } else {
      g.depend(down[static_cast<std::size_t>(r)], down[static_cast<std::size_t>(parent(r))]);
    }
  }
  g.seal();
  return g;
}

TransferGraph all_gather(int n, double bytes, int gpus_per_node) {
  if (two_dimensional(n, gpus_per_node)) {
    return two_level(n, bytes, gpus_per_node, Phases::kAllGather);
  }
  auto g = ring(n, bytes / n, n - 1);
  g.seal();
  return g;
}

TransferGraph reduce_scatter(int n, double bytes, int gpus_per_node) {
  if (two_dimensional(n, gpus_per_node)) {
    return two_level(n, bytes, gpus_per_node, Phases::kReduceScatter);
  }
  auto g = ring(n, bytes / n, n - 1);
  g.seal();
  return g;
}

TransferGraph send_recv(double bytes) {
  TransferGraph g;
  g.add_transfer(0, 1, bytes);
  g.seal();
  return g;
}

namespace {

// The algorithms of each collective, by the names `moesim collective --algo` takes.
MessageCost p2p_costs(const CollectiveRequest& r) {
  if (r.nodes.empty()) return {};
  return [nodes = r.nodes, cpu = r.comm.cpu](int a, int b) {
    return nccl_p2p_message_cost(
        nodes[static_cast<std::size_t>(a)] != nodes[static_cast<std::size_t>(b)], cpu);
  };
}
TransferGraph direct_a2a(const CollectiveRequest& r) {
  AllToAllOptions o;
  o.window = r.window;
  o.message_cost = p2p_costs(r);
  o.gpus_per_node = r.gpus_per_node;
  return all_to_all(r.n, r.matrix, o);
}
TransferGraph pairwise_a2a(const CollectiveRequest& r) {
  AllToAllOptions o;
  o.algorithm = AllToAllAlgorithm::kPairwise;
  o.window = r.window;
  return all_to_all(r.n, r.matrix, o);
}
TransferGraph hierarchical_a2a(const CollectiveRequest& r) {
  AllToAllOptions o;
  o.algorithm = AllToAllAlgorithm::kHierarchical;
  o.window = r.window;
  o.gpus_per_node = r.gpus_per_node;
  o.relayout_bandwidth = r.relayout_bandwidth;
  return all_to_all(r.n, r.matrix, o);
}
constexpr std::array kAllToAll{
    AlgorithmInfo{"direct",
                  "NCCL's grouped send/recv: every peer in flight, each message's issue cost on "
                  "its sender",
                  direct_a2a},
    AlgorithmInfo{"pairwise", "round d: send to r+d, receive from r-d, rounds in lockstep",
                  pairwise_a2a},
    AlgorithmInfo{"hierarchical",
                  "2-D: exchange inside each node by destination rail, then along each rail",
                  hierarchical_a2a}};

TransferGraph nccl_build(const CollectiveRequest& r, std::optional<NcclAlgorithm> a) {
  const auto plan = nccl_plan(r, a);
  if (!plan) {
    throw std::invalid_argument(fmt::format(
        "{} is not available here (NCCL offers it only on {})",
        a ? config::enum_name(*a) : "no NCCL algorithm",
        a == NcclAlgorithm::kNvls            ? "NVSwitch nodes with NVLink SHARP, and across nodes "
                                               "with in-network reduction"
        : a == NcclAlgorithm::kNvlsTree      ? "several NVSwitch nodes with NVLink SHARP"
        : a == NcclAlgorithm::kPat           ? "one GPU per node"
        : a == NcclAlgorithm::kCollNetDirect ? "NVSwitch nodes on a network with SHARP"
                                             : "this communicator"));
  }
  return nccl_graph(r, *plan);
}
template <NcclAlgorithm A>
TransferGraph nccl_one(const CollectiveRequest& r) {
  return nccl_build(r, A);
}
TransferGraph nccl_auto(const CollectiveRequest& r) {
  return nccl_build(r, std::nullopt);
}
constexpr AlgorithmInfo kAuto{"auto", "NCCL's tuner: the cheapest algorithm and protocol",
                              nccl_auto, AlgorithmInfo::Nccl::kAuto};
template <NcclAlgorithm A>
constexpr AlgorithmInfo nccl_algorithm(std::string_view name, std::string_view description) {
  return {name, description, nccl_one<A>, AlgorithmInfo::Nccl::kOne, A};
}

constexpr std::array kAllReduce{
    kAuto,
    nccl_algorithm<NcclAlgorithm::kRing>("ring", "NCCL's rings, one per rail over whole nodes"),
    nccl_algorithm<NcclAlgorithm::kTree>(
        "tree", "a chain in each node, NCCL's double binary tree between nodes"),
    nccl_algorithm<NcclAlgorithm::kNvls>("nvls", "NVLink SHARP: the NVSwitch reduces"),
    nccl_algorithm<NcclAlgorithm::kNvlsTree>("nvls_tree",
                                             "NVLS in each node, trees along the rails"),
    nccl_algorithm<NcclAlgorithm::kCollNetDirect>("collnet_direct",
                                                  "NVLS in each node, the switches reduce"),
    AlgorithmInfo{"hierarchical",
                  "reduce-scatter inside nodes, all-reduce along rails, all-gather inside nodes",
                  [](const CollectiveRequest& r) {
                    return all_reduce(r.n, r.bytes, AllReduceAlgorithm::kHierarchical,
                                      r.gpus_per_node);
                  }}};

constexpr std::array kAllGather{
    kAuto, nccl_algorithm<NcclAlgorithm::kRing>("ring", "NCCL's rings"),
    nccl_algorithm<NcclAlgorithm::kNvls>("nvls", "NVLink SHARP: the NVSwitch multicasts"),
    nccl_algorithm<NcclAlgorithm::kPat>("pat", "NCCL's PAT (one GPU per node)"),
    AlgorithmInfo{
        "hierarchical", "2-D: along each rail, then inside each node",
        [](const CollectiveRequest& r) { return all_gather(r.n, r.bytes, r.gpus_per_node); }}};

constexpr std::array kReduceScatter{
    kAuto, nccl_algorithm<NcclAlgorithm::kRing>("ring", "NCCL's rings"),
    nccl_algorithm<NcclAlgorithm::kNvls>("nvls", "NVLink SHARP: the NVSwitch reduces"),
    nccl_algorithm<NcclAlgorithm::kPat>("pat", "NCCL's PAT (one GPU per node)"),
    AlgorithmInfo{
        "hierarchical", "2-D: inside each node, then along each rail",
        [](const CollectiveRequest& r) { return reduce_scatter(r.n, r.bytes, r.gpus_per_node); }}};

constexpr std::array kSendRecv{
    AlgorithmInfo{"direct", "participant 0 sends S to participant 1",
                  [](const CollectiveRequest& r) { return send_recv(r.bytes); }}};

double all_reduce_busbw(int n) {
  return 2.0 * (n - 1) / n;
}
double ring_busbw(int n) {
  return static_cast<double>(n - 1) / n;
}
double point_to_point_busbw(int) {
  return 1;
}

// In CollectiveKind order.
constexpr std::array<CollectiveInfo, 5> kCollectives{{
    {CollectiveKind::kAllToAll, "all_to_all", ring_busbw, kAllToAll},
    {CollectiveKind::kAllReduce, "all_reduce", all_reduce_busbw, kAllReduce},
    {CollectiveKind::kAllGather, "all_gather", ring_busbw, kAllGather},
    {CollectiveKind::kReduceScatter, "reduce_scatter", ring_busbw, kReduceScatter},
    {CollectiveKind::kSendRecv, "send_recv", point_to_point_busbw, kSendRecv},
}};

template <class Range, class Name>
std::string listed(const Range& items, Name name) {
  std::string out;
  const auto n = std::size(items);
  std::size_t i = 0;
  for (const auto& item : items) {
    out += i == 0 ? "" : i + 1 == n ? " or " : ", ";
    out += name(item);
    ++i;
  }
  return out;
}

}  // namespace

std::span<const CollectiveInfo> collectives() {
  return kCollectives;
}

const CollectiveInfo& collective(CollectiveKind kind) {
  return kCollectives[static_cast<std::size_t>(kind)];
}

std::string_view name(CollectiveKind kind) {
  return collective(kind).name;
}

const CollectiveInfo* find_collective(std::string_view name) {
  for (const auto& c : kCollectives) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const AlgorithmInfo* find_algorithm(const CollectiveInfo& c, std::string_view name) {
  for (const auto& a : c.algorithms) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::string collective_names() {
  return listed(kCollectives, [](const CollectiveInfo& c) { return std::string(c.name); });
}

std::string algorithm_names(const CollectiveInfo& c) {
  return listed(c.algorithms, [](const AlgorithmInfo& a) { return std::string(a.name); });
}

std::string_view name(AllToAllAlgorithm a) {
  return kAllToAll[static_cast<std::size_t>(a)].name;
}

std::string plan_name(const AlgorithmInfo& a, const CollectiveRequest& r) {
  if (a.nccl == AlgorithmInfo::Nccl::kNone) return std::string(a.name);
  const auto plan =
      nccl_plan(r, a.nccl == AlgorithmInfo::Nccl::kOne ? std::optional<NcclAlgorithm>(a.algorithm)
                                                       : std::nullopt);
  if (!plan) {
    a.build(r);  // throws, saying why
    return std::string(a.name);
  }
  return fmt::format("{}/{}", config::enum_name(plan->estimate.algorithm),
                     config::enum_name(plan->estimate.protocol));
}

double busbw_factor(CollectiveKind kind, int n) {
  return collective(kind).busbw_factor(n);
}

}  // namespace moesim::net
