#pragma once
// MPI for sweeps, used only when moesim was launched by mpirun (and built with MPI): then the
// session initialises MPI and finalises it when it ends. Otherwise it is one rank of one.
#include <vector>

namespace moesim::cli {

class MpiSession {
 public:
  // `use_mpi` false: one rank of one even under mpirun (for commands that sweep repeatedly).
  explicit MpiSession(bool use_mpi = true);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  // Element-wise sum over ranks, into rank 0's `values` (the others' are left as they were).
  void sum_to_root(std::vector<double>& values) const;
  // Ends every rank (MPI_Abort) with `code`: for a failure one rank cannot recover from while
  // the others may wait for it. Without MPI it does nothing.
  void abort(int code) const;

 private:
  bool active_ = false;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace moesim::cli
