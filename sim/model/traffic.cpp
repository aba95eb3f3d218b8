#include "traffic.hpp"

namespace moesim::model {

Traffic::Traffic(const ModelConfig& model, const RankLayout& layout, const RoutingModel& routing,
                 int paths)
    : model_(model), layout_(layout), routing_(routing), paths_(paths) {}

const GroupRows& Traffic::rows(int group, int moe_layer, int path, std::int64_t tokens,
                               std::int64_t k) {
  if (group != group_) {
    rows_.clear();
    dispatch_.clear();
    group_ = group;
  }
  const auto key = std::make_tuple(moe_layer, path, tokens, k);
  auto it = rows_.find(key);
  if (it != rows_.end()) return it->second;
  GroupRows rows;
  // DGMoE's two gates see different representations: each gets its own routing draw.
  const int layer_id = moe_layer * paths_ + path;
  for (const int r : layout_.ep_group(group)) {
    rows.push_back(apply_capacity(routing_.route(layer_id, r, tokens, k), tokens, k,
                                  model_.moe.capacity_factor));
  }
  return rows_.emplace(key, std::move(rows)).first->second;
}

std::shared_ptr<const TrafficMatrix> Traffic::dispatch(int group, int moe_layer, int path,
                                                       std::int64_t tokens, std::int64_t k,
                                                       double row_bytes) {
  const auto& rows = this->rows(group, moe_layer, path, tokens, k);
  const auto key = std::make_tuple(moe_layer, path, tokens, k, row_bytes);
  if (const auto it = dispatch_.find(key); it != dispatch_.end()) return it->second;
  const int n = static_cast<int>(rows.size());
  const auto local = model_.moe.experts / n;
  std::vector<double> bytes(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      double sent = 0;
      for (std::int64_t e = 0; e < local; ++e) {
        sent += static_cast<double>(
            rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j * local + e)]);
      }
      bytes[static_cast<std::size_t>(i * n + j)] = sent * row_bytes;
    }
  }
  auto matrix = intern(n, std::move(bytes));
  dispatch_.emplace(key, matrix);
  return matrix;
}

std::shared_ptr<const TrafficMatrix> Traffic::transpose(const TrafficMatrix& m) {
  auto& known = transposes_[m.id];
  if (known) return known;
  std::vector<double> bytes(m.bytes.size());
  for (int i = 0; i < m.n; ++i) {
    for (int j = 0; j < m.n; ++j) bytes[static_cast<std::size_t>(j * m.n + i)] = m.at(i, j);
  }
  auto t = intern(m.n, std::move(bytes));
  transposes_[m.id] = t;  // `known` may have moved with the vector
  return t;
}

std::shared_ptr<const TrafficMatrix> Traffic::intern(int n, std::vector<double> bytes) {
  std::string key(reinterpret_cast<const char*>(bytes.data()), bytes.size() * sizeof(double));
  const auto found = by_bytes_.find(key);
  if (found != by_bytes_.end()) return found->second;
  auto m = std::make_shared<TrafficMatrix>();
  m->n = n;
  m->bytes = std::move(bytes);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) m->payload += a == b ? 0 : m->at(a, b);
  }
  m->id = static_cast<std::uint32_t>(transposes_.size());
  transposes_.emplace_back();
  by_bytes_.emplace(std::move(key), m);
  return m;
}

}  // namespace moesim::model
