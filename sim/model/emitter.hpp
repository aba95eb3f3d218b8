#pragma once
// The simulator's executor of programs: turns each node into an op of the workload's op graph,
// a compute op priced by the cost model or one member of a collective call that the network
// model plays. Members of one call are matched by the order in which each rank issues
// collectives on a group; a call's transfer graph comes from the catalogue (exchanges.hpp).
//
// A program's backward is the program mirrored: reverse issue order, reversed dependencies,
// each node's backward kernels (nodes without them are left out), all-gather <-> reduce-scatter,
// all-to-all matrices transposed. With activation recomputation, each block's forward (full) or
// its attention core (selective) runs again just before the block's backward.
//
// Where the implementation costs host time, each rank has a host stream: every op is preceded
// by its issue there (launch cost per kernel; none under CUDA graphs), so the GPU starves when
// the host falls behind; a node that reads a result on the host (a dispatcher's counts) is
// issued only once that result is done, plus the synchronisation's round trip.
#include <array>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "exchanges.hpp"
#include "layout.hpp"
#include "pricer.hpp"
#include "program.hpp"
#include "traffic.hpp"
#include "workload.hpp"

namespace moesim::model {

class Emitter {
 public:
  Emitter(Workload& workload, const RankLayout& layout, GraphCatalogue& graphs, Traffic& traffic,
          Pricer& pricer, const HostImplementation& host, const BuildOptions& options);

  // Called with each op a program emits, right after it is added.
  using OnEmit = std::function<void(core::OpId op, const Node& node)>;
  // The ops of one pass over `p` on `rank`, each op's name followed by `suffix`.
  void program(const Program& p, int rank, bool backward, const std::string& suffix,
               const OnEmit& on_emit = {}, Recompute recompute = Recompute::kNone);
  // Whether a node has an op in that direction.
  static bool emitted(const Node& n, bool backward) {
    return !backward || (n.collective ? n.mirrored : !n.backward.empty());
  }

  core::OpId collective(int rank, Stream stream, Category c, const std::string& name,
                        const Collective& collective, core::Time host_extra = core::Time::zero());
  core::OpId kernels(int rank, Stream stream, Category c, const std::string& name,
                     const std::vector<cost::Work>& works);
  void depend(core::OpId op, core::OpId on) { w_.graph.add_dependency(op, on); }

  // Gangs every call's members and finalizes the graph; throws if a call lacks a member.
  void finish();

 private:
  core::OpId node(const Node& n, int rank, bool backward, const std::string& suffix,
                  core::Time host_extra);
  // An op on a GPU stream, after its issue on the host stream (where modelled): `launches`
  // kernels or calls, and `host_extra` more host time before them.
  core::OpId add_op(int rank, Stream stream, Category c, const std::string& name,
                    std::size_t launches, core::Time host_extra = core::Time::zero());
  // Emits the recomputed forward of the nodes of `block` that `recompute` selects.
  void recompute_block(const Program& p, int block, Recompute recompute, int rank,
                       const std::string& suffix, const OnEmit& on_emit);
  // Which group of `kind` rank belongs to, and its place in it.
  std::pair<int, int> group_of(Group kind, int rank) const;
  std::vector<int> group_gpus(Group kind, int group) const;

  Workload& w_;
  const RankLayout& layout_;
  GraphCatalogue& graphs_;
  Traffic& traffic_;
  Pricer& pricer_;
  const HostImplementation& host_;
  BuildOptions options_;
  core::OpId last_issue_ = core::kNoId;  // the host op of the op added last
  std::vector<core::StreamId> streams_;  // rank * kStreamCount + stream
  // Per rank and group kind: collectives issued so far (matches members' calls up).
  std::vector<std::array<std::uint32_t, kGroupCount>> sequence_;
  std::map<std::tuple<int, int, std::uint32_t>, std::uint32_t> pending_calls_;  // -> call
  std::vector<std::vector<core::OpId>> call_members_;
};

}  // namespace moesim::model
