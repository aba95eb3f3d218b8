#include "program.hpp"

namespace moesim::model {

std::string_view name(Category c) {
  static constexpr std::array<std::string_view, kCategoryCount> kNames = {
      "attention", "dense_mlp",    "expert_ffn",  "gate", "projections", "lsh",
      "other",     "a2a_dispatch", "a2a_combine", "tp",   "dp",          "host"};
  return kNames[static_cast<std::size_t>(c)];
}

bool is_communication(Category c) {
  return c == Category::kA2aDispatch || c == Category::kA2aCombine || c == Category::kTp ||
         c == Category::kDp;
}

bool is_host(Category c) {
  return c == Category::kHost;
}

std::string_view name(Stream s) {
  static constexpr std::array<std::string_view, kStreamCount> kNames = {"compute", "ep", "tp", "dp",
                                                                        "host"};
  return kNames[static_cast<std::size_t>(s)];
}

Node compute(Category c, std::string name, std::vector<cost::Work> forward,
             std::vector<cost::Work> backward) {
  Node n;
  n.category = c;
  n.name = std::move(name);
  n.forward = std::move(forward);
  n.backward = std::move(backward);
  return n;
}

net::CollectiveKind backward_kind(net::CollectiveKind forward) {
  switch (forward) {
    case net::CollectiveKind::kAllGather:
      return net::CollectiveKind::kReduceScatter;
    case net::CollectiveKind::kReduceScatter:
      return net::CollectiveKind::kAllGather;
    default:
      return forward;
  }
}

}  // namespace moesim::model
