#pragma once
// `moesim predict [--model M] [--cluster C] [--profile P] [--implementation I] [--schedules a,b]
// [--train|--infer] [--trace]`:
// the schedules side by side on one cluster, with the breakdown that explains the difference,
// and a breakdown figure drawn by plots/breakdown.py. With no arguments: the embedded default
// (GPT3-XL with 64 fine-grained experts on BigMac's 4x8 A40 cluster).
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace moesim::cli {

struct PredictOptions {
  std::string model = "gpt3_xl_moe64";
  std::string cluster = "bigmac_4x8_a40_ib100";
  std::string profile = "a40";
  std::string implementation = "megatron";
  std::string schedules = "cdac,dcca,lsh,scmoe,dcca+scmoe";
  bool infer = false;
  std::vector<std::string> overrides;
  std::string out = "out/predict";
  bool figure = true;
  bool trace = false;  // a Chrome/Perfetto trace per schedule, with link counter tracks
  bool progress = true;
  int jobs = 1;  // schedules simulated at once
};

void predict(const PredictOptions& options, std::ostream& out, std::ostream& err);

}  // namespace moesim::cli
