#pragma once
// From the collective sweeps to a network overlay for a cluster file: per link class the ranks
// crossed (nvlink, pcie, network), a latency and an achieved bandwidth fitted to
//     t(S) = a + S x busbw_factor(op) / B
// by least squares in relative error (weights 1 / t^2) over the send/recv sizes (else those of
// all-to-all, all-gather, reduce-scatter, all-reduce, the first measured), with every
// collective's residual against that line. The
// overlay sets the class's links to bandwidth B at efficiency 1, and a latency per traversal
// of (a - NCCL's per-message cost that the simulator adds itself) / 2: a GPU-to-GPU path
// crosses two links of its class (GPU to NVSwitch to GPU; NIC to leaf to NIC), and the PCIe
// hops on the way to a NIC are folded into the NIC's latency.
#include <optional>
#include <string>
#include <vector>

#include "measurement.hpp"

namespace moesim::calibrate {

struct LinkFit {
  std::string link;  // nvlink, pcie or network
  int ranks = 0;
  std::string basis;  // the op the line was fitted to
  int points = 0;
  double latency_s = 0;      // a
  double bandwidth_Bps = 0;  // B
  double per_traversal_latency_s = 0;
  double median_abs_error = 0, max_abs_error = 0;  // relative, over the basis op's points
};

struct CollectiveResidual {
  Measurement measured;
  double predicted_s = 0;  // a + S busbw_factor / B of its link class
};

struct NetworkFit {
  std::vector<LinkFit> links;
  std::vector<CollectiveResidual> residuals;
};

// Nothing to fit (an empty result) without collective measurements.
NetworkFit fit_network(const std::vector<Measurement>& measurements);

// The overlay as a cluster-file fragment, with a header saying what it is and how to use it.
std::string overlay_yaml(const NetworkFit& fit, const std::string& header);

}  // namespace moesim::calibrate
