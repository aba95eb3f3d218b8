#pragma once
// A document holding only a `model:` section, read alone (the model targets share it).
#include "model/config.hpp"

namespace moesim::fuzz {

struct ModelFile {
  moesim::model::ModelConfig model;
  template <class V>
  void fields(V& v) {
    v.field("model", model, "the model");
  }
};

}  // namespace moesim::fuzz
