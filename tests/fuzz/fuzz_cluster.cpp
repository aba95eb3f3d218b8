// A cluster file: read, built into a graph, routed.
#include "config/document.hpp"
#include "fuzz_common.hpp"
#include "topologies/build.hpp"
#include "topologies/routing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return moesim::fuzz::expect_only_user_errors([&] {
    const auto doc = moesim::config::Document::from_string(moesim::fuzz::text(data, size), "fuzz");
    const auto cluster = moesim::topo::load_cluster(doc);
    const moesim::topo::Router router(cluster, {});
    (void)router;
  });
}
