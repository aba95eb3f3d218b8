#pragma once
// NCCL's all-reduce, all-gather and reduce-scatter algorithms as transfer graphs for the network
// model. NCCL pipelines a collective in small chunks on every channel at once, so what decides
// its time beyond its latency is the bytes each link carries; the graph carries exactly those,
// all at once, after a delay of NCCL's latency for the algorithm and protocol on each
// participant:
// - ring: one ring per rail over whole nodes (each GPU of a node starts one, so the node's
//   NICs share the crossings), each edge 2(n-1)/n of S (all-reduce) or (n-1)/n (gathers) over
//   the rings;
// - tree: a chain through each node's GPUs both ways, and between nodes NCCL's double binary
//   tree, whose load on each node's NICs (S each way) a ring of the nodes carries;
// - nvls: the NVSwitch reduces and multicasts: each GPU sends and receives S(1 + 1/n);
// - nvls_tree: NVLS inside the nodes, trees of S/g along each rail between them;
// - collnet_direct: NVLS inside, the network switches reduce S/g per rail;
// - pat: (one GPU per node) the ring's bytes with PAT's logarithmic latency.
// The protocol's and algorithm's efficiency (NCCL's model bandwidth against the bytes' physical
// bound on the links) scales the bytes put on the wire, so that alone on the cluster the graph
// takes NCCL's modelled time, and shares links with everything else in flight.
#include <optional>

#include "collectives.hpp"
#include "nccl.hpp"
#include "transfer_graph.hpp"

namespace moesim::net {

struct NcclPlan {
  NcclEstimate estimate;   // the tuner's, with every channel
  double launched = 1;     // the fraction of it the channels and threads launched give
  double wire_factor = 1;  // bytes on the wire per byte of the algorithm's ideal traffic
};

// NCCL's choice for the request (its algorithm or protocol when given); nothing when the
// algorithm is not available on the communicator.
std::optional<NcclPlan> nccl_plan(const CollectiveRequest& request,
                                  std::optional<NcclAlgorithm> algorithm);

// The plan's graph. Throws std::invalid_argument for a layout the algorithm cannot take.
TransferGraph nccl_graph(const CollectiveRequest& request, const NcclPlan& plan);

}  // namespace moesim::net
