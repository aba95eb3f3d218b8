#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "config/document.hpp"
#include "config/error.hpp"
#include "cost/profile.hpp"

namespace moesim::cost {
namespace {

using ::testing::HasSubstr;

constexpr const char* kGood = R"(name: test
provenance:
  kind: derived
  sources: ["a test"]
compute:
  peak: {bf16: 100 TFLOP/s}
  efficiency:
    - {size: 1 GFLOP, fraction: 0.5}
    - {size: 100 GFLOP, fraction: 0.8}
memory:
  bandwidth: 1 TB/s
  efficiency: [{size: 1 MB, fraction: 0.7}]
)";

std::string error_of(const std::string& text) {
  try {
    read_profile(config::Document::from_string(text, "p.yaml"));
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << text;
  return {};
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(Profile, EveryShippedProfileLoadsAndSaysWhereItsNumbersComeFrom) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(MOESIM_SOURCE_DIR "/calibrate/profiles")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const auto p = load_profile(entry.path().string());
    EXPECT_EQ(p.provenance.kind, ProvenanceKind::kDerived);
    EXPECT_GE(p.provenance.sources.size(), 2u);
    EXPECT_TRUE(p.compute.peak.bf16 || p.compute.peak.fp16);
    ++count;
  }
  EXPECT_EQ(count, 8) << "V100, A30, A40, A100, A800, H100, H800, H200";
}

TEST(Profile, GoodProfileReads) {
  const auto p = read_profile(config::Document::from_string(kGood, "p.yaml"));
  EXPECT_EQ(p.launch_overhead, core::Time::us(3)) << "default";
  EXPECT_FALSE(p.compute.peak.fp8.has_value());
}

TEST(Profile, MissingField) {
  EXPECT_EQ(error_of(replace(kGood, "  bandwidth: 1 TB/s\n", "")),
            "p.yaml:11:3: memory: missing required key 'bandwidth' (peak device-memory bandwidth)");
}

TEST(Profile, WrongUnit) {
  EXPECT_THAT(error_of(replace(kGood, "bandwidth: 1 TB/s", "bandwidth: 1 TFLOP/s")),
              HasSubstr("p.yaml:11:14: memory.bandwidth: \"1 TFLOP/s\" is a FLOP rate"));
}

TEST(Profile, NegativeTableTime) {
  EXPECT_THAT(error_of(std::string(kGood) + "tables:\n  memory: [{bytes: 1 MiB, time: -2 us}]\n"),
              HasSubstr("tables.memory[0].time: \"-2 us\" must be positive"));
}

TEST(Profile, NonMonotoneTable) {
  EXPECT_EQ(error_of(std::string(kGood) + "tables:\n  memory:\n    - {bytes: 2 MiB, time: 9 us}\n"
                                          "    - {bytes: 1 MiB, time: 10 us}\n"),
            "p.yaml:15:28: tables.memory[0].time: 9 us is less than 10 us of entry [1], which is "
            "smaller; memory-bound kernel time must not decrease as size grows");
  EXPECT_THAT(
      error_of(std::string(kGood) + "tables:\n  gemm:\n    - {m: 64, n: 8, k: 8, time: 9 us}\n"
                                    "    - {m: 32, n: 8, k: 8, time: 10 us}\n"
                                    "    - {m: 128, n: 16, k: 8, time: 1 us}\n"),
      HasSubstr("tables.gemm[0].time: 9 us is less than 10 us of entry [1]"));
}

TEST(Profile, DuplicateTablePoint) {
  EXPECT_THAT(error_of(std::string(kGood) +
                       "tables:\n  attention:\n"
                       "    - {batch: 1, heads: 8, seq: 512, head_dim: 64, time: 9 us}\n"
                       "    - {batch: 1, heads: 8, seq: 512, head_dim: 64, time: 9 us}\n"),
              HasSubstr("tables.attention[1]: duplicates entry [0]"));
}

TEST(Profile, EfficiencyCurves) {
  EXPECT_THAT(error_of(replace(kGood, "{size: 100 GFLOP, fraction: 0.8}",
                               "{size: 0.5 GFLOP, fraction: 0.8}")),
              HasSubstr("compute.efficiency[1].size: sizes must increase"));
  EXPECT_THAT(error_of(replace(kGood, "fraction: 0.8", "fraction: 1.2")),
              HasSubstr("compute.efficiency[1].fraction: \"1.2\" must be between 0 and 1"));
  EXPECT_THAT(error_of(replace(kGood, "fraction: 0.7", "fraction: 0")),
              HasSubstr("memory.efficiency[0].fraction: \"0\" must be positive"));
  EXPECT_THAT(error_of(replace(kGood, "  efficiency: [{size: 1 MB, fraction: 0.7}]\n",
                               "  efficiency: []\n")),
              HasSubstr("memory.efficiency: needs at least one point"));
}

TEST(Profile, ProvenanceMustBeComplete) {
  EXPECT_THAT(error_of(replace(kGood, "  sources: [\"a test\"]\n", "")),
              HasSubstr("provenance.sources: a derived profile must list the published figures"));
  EXPECT_THAT(error_of(replace(kGood, "kind: derived", "kind: measured")),
              HasSubstr("provenance.device: a measured profile must record its device"));
  EXPECT_THAT(error_of(replace(kGood, "kind: derived", "kind: guessed")),
              HasSubstr("\"guessed\" is not one of: derived, measured"));
}

TEST(Profile, NeedsAPeak) {
  EXPECT_THAT(error_of(replace(kGood, "peak: {bf16: 100 TFLOP/s}", "peak: {}")),
              HasSubstr("compute.peak: needs at least one of bf16, fp16, fp32, fp8"));
}

}  // namespace
}  // namespace moesim::cost
