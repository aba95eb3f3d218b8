#include "implementation.hpp"

#include "config/reader.hpp"

namespace moesim::model {

Implementation read_implementation(const config::Document& document) {
  auto implementation = config::read_document<Implementation>(document);
  if (implementation.sources.empty()) {
    throw document.error_at("sources",
                            "an implementation preset must say where its choices were read");
  }
  return implementation;
}

}  // namespace moesim::model
