#pragma once
// The device executor of a MoE program (sim/model/program.hpp): the same nodes the simulator
// prices, run with real kernels on a device backend and real collectives on a communicator
// (kernels/). Compute runs on lane 0, every collective on lane 1, with the program's
// cross-stream dependencies as waits between the lanes, so that what the program overlaps
// overlaps on the device. Every node is timed between two marks of its lane.
//
// What runs for each kernel the program names (cost::Work):
//   gemm, grouped_gemm, batched_gemm   cuBLAS (the BLAS on the host) at the kernel's shapes: one
//                                      GEMM per expert of a grouped GEMM, a batch as its rows
//                                      stacked; the model's dtype (fp8 where the device has it,
//                                      else bf16)
//   dense lsh_hash                     its projection GEMM, then the cross-polytope codes kernel
//   gating                             the gating kernel (softmax over the experts, top-k)
//   permute                            the row gather, over a scattered permutation
//   attention (seq_q = seq_kv)         scores, softmax and weighted sum as separate kernels (no
//                                      fused attention is available to the backends)
//   attention otherwise, its backward  GEMMs of the same FLOPs over the scores' shape
//   every other memory-bound kernel    a device copy that reads and writes the kernel's bytes
//                                      (norms, activations, casts, LSH's segmented mean and
//                                      compensation, ...)
// Collectives: all-to-all with this rank's row of the program's byte matrix, all-reduce,
// all-gather, reduce-scatter of the program's size, over the whole world or (a group of one)
// not at all; a program whose groups are other subsets of the ranks is refused. With one process
// and a larger group, the exchange degenerates to a local copy of what this rank would send.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend.hpp"
#include "comm.hpp"
#include "model/program.hpp"

namespace moesim::validate {

// One node as the replay issues it.
struct Step {
  std::string name;
  model::Category category = model::Category::kOther;
  int lane = 0;  // 0 compute, 1 communication
  std::vector<cost::Work> kernels;
  std::optional<model::Collective> collective;
  std::vector<int> deps;  // steps (earlier in the list) on the other lane it waits for
};

// A program's steps in issue order: its forward, or (backward) the mirror the simulator plays:
// nodes in reverse, their backward kernels, all-gather and reduce-scatter swapped, all-to-all
// matrices transposed, dependencies reversed. Nodes with nothing to run are left out.
std::vector<Step> steps_of(const model::Program& program, bool backward);

// The ranks of a group that `rank` belongs to (model::RankLayout).
using GroupMembers = std::function<std::vector<int>(model::Group)>;

struct ReplayTiming {
  std::vector<double> step_seconds;  // by step
  double whole_seconds = 0;          // first issue to last completion on this rank
};

class Replayer {
 public:
  // `members` gives this rank's groups. Throws moesim::Error where a group is neither the world
  // nor this rank alone (and more than one process runs).
  Replayer(kernels::Backend& backend, kernels::Communicator& comm, GroupMembers members);

  // Runs the steps once, every rank together (a barrier first), and times them.
  ReplayTiming run(const std::vector<Step>& steps);
  // Whether the exchanges degenerated to local copies (one process, larger groups).
  bool local_exchanges() const { return local_exchanges_; }

 private:
  struct Buffers;
  void kernel(const cost::Work& w);
  void collective(const model::Collective& c);
  void gemm(std::int64_t m, std::int64_t n, std::int64_t k, cost::Dtype dtype);
  void flop_equivalent_gemms(const cost::Work& w);
  kernels::Buffer& scratch(int which, std::size_t bytes);
  const kernels::Buffer& permutation(std::int64_t rows);

  kernels::Backend& backend_;
  kernels::Communicator& comm_;
  GroupMembers members_;
  bool local_exchanges_ = false;
  std::vector<std::unique_ptr<kernels::Buffer>> scratch_;
  std::map<std::int64_t, std::unique_ptr<kernels::Buffer>> permutations_;  // by row count
};

}  // namespace moesim::validate
