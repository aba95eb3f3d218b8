#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/document.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"
#include "config/writer.hpp"

namespace moesim::config {

enum class Algorithm { kRing, kTree };
constexpr auto enum_names(Algorithm) {
  return std::array{std::pair{std::string_view("ring"), Algorithm::kRing},
                    std::pair{std::string_view("tree"), Algorithm::kTree}};
}

namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

struct Link {
  Bandwidth bandwidth;
  core::Time latency = core::Time::ns(500);
  template <class V>
  void fields(V& v) {
    v.field("bandwidth", bandwidth, "per direction", Check::positive().required());
    v.field("latency", latency, "per hop", Check::non_negative());
  }
};

struct Cluster {
  std::string name = "demo";
  std::int64_t gpus = 8;
  double efficiency = 0.9;
  bool pxn = false;
  Bytes memory{80LL << 30};
  Algorithm algorithm = Algorithm::kRing;
  std::vector<std::int64_t> groups{2, 4};
  Link link{Bandwidth{1e9}};
  template <class V>
  void fields(V& v) {
    v.field("name", name, "a label");
    v.field("gpus", gpus, "GPUs", Check::at_least(1));
    v.field("efficiency", efficiency, "fraction of peak", Check::between(0, 1));
    v.field("pxn", pxn, "PXN routing");
    v.field("memory", memory, "per GPU", Check::positive());
    v.field("algorithm", algorithm, "all-reduce algorithm");
    v.field("groups", groups, "group sizes", Check::at_least(1));
    v.field("link", link, "the link");
  }
};

Cluster read_text(const std::string& yaml) {
  return read_document<Cluster>(Document::from_string(yaml, "cluster.yaml"));
}

std::string error_of(const std::string& yaml) {
  try {
    read_text(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "accepted:\n" << yaml;
  return {};
}

TEST(Reader, ReadsEveryTypeAndKeepsDefaults) {
  const auto c = read_text(
      "gpus: 16\nefficiency: 0.75\npxn: true\nmemory: 48 GiB\nalgorithm: tree\n"
      "groups: [1, 2, 3]\nlink:\n  bandwidth: 100 Gb/s\n");
  EXPECT_EQ(c.name, "demo");
  EXPECT_EQ(c.gpus, 16);
  EXPECT_DOUBLE_EQ(c.efficiency, 0.75);
  EXPECT_TRUE(c.pxn);
  EXPECT_EQ(c.memory.count, 48LL << 30);
  EXPECT_EQ(c.algorithm, Algorithm::kTree);
  EXPECT_EQ(c.groups, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(c.link.bandwidth.bytes_per_second, 12.5e9);
  EXPECT_EQ(c.link.latency, core::Time::ns(500)) << "default kept";
}

TEST(Reader, UnknownKeyNamesFileLineColumnPathAndSuggestion) {
  EXPECT_EQ(error_of("gpus: 8\nlink:\n  bandwidth: 1 GB/s\n  latencey: 1 us\n"),
            "cluster.yaml:4:3: link.latencey: unknown key (did you mean 'latency'?); expected one "
            "of: bandwidth, latency");
}

TEST(Reader, UnknownKeyIsReportedBeforeBadValues) {
  EXPECT_THAT(error_of("gpus: many\ngpu_count: 3\n"), HasSubstr("gpu_count: unknown key"));
}

TEST(Reader, UnknownKeyFarFromAnyNameGetsNoSuggestion) {
  const auto message = error_of("zzzzzz: 1\n");
  EXPECT_THAT(message, HasSubstr("cluster.yaml:1:1: zzzzzz: unknown key; expected one of: name,"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("did you mean")));
}

TEST(Reader, MissingRequiredKey) {
  EXPECT_EQ(error_of("link:\n  latency: 1 us\n"),
            "cluster.yaml:2:3: link: missing required key 'bandwidth' (per direction)");
}

TEST(Reader, WrongTypes) {
  EXPECT_EQ(error_of("gpus: eight\n"), "cluster.yaml:1:7: gpus: \"eight\" is not an integer");
  EXPECT_EQ(error_of("gpus: 8.5\n"), "cluster.yaml:1:7: gpus: \"8.5\" is not an integer");
  EXPECT_EQ(error_of("efficiency: high\n"),
            "cluster.yaml:1:13: efficiency: \"high\" is not a number");
  EXPECT_EQ(error_of("pxn: maybe\n"), "cluster.yaml:1:6: pxn: \"maybe\" is not true or false");
  EXPECT_EQ(error_of("link: 5\n"),
            "cluster.yaml:1:7: link: expected a section of keys (a YAML map)");
  EXPECT_EQ(error_of("groups: 3\n"), "cluster.yaml:1:9: groups: expected a list");
  EXPECT_EQ(error_of("name: [a, b]\n"), "cluster.yaml:1:7: name: a list; expected a string");
  // yaml-cpp places an empty value where the parser stood: the start of the next line.
  EXPECT_EQ(error_of("gpus:\n"), "cluster.yaml:2:1: gpus: an empty value; expected an integer");
}

TEST(Reader, EnumValueGetsSuggestion) {
  EXPECT_EQ(error_of("algorithm: rnig\n"),
            "cluster.yaml:1:12: algorithm: \"rnig\" is not one of: ring, tree (did you mean "
            "'ring'?)");
}

TEST(Reader, WrongOrMissingUnits) {
  EXPECT_THAT(error_of("memory: 48\n"),
              AllOf(HasSubstr("cluster.yaml:1:9: memory: \"48\" has no unit"),
                    HasSubstr("expected a size such as \"48 GiB\"")));
  EXPECT_THAT(
      error_of("link:\n  bandwidth: 100 Gbps\n"),
      AllOf(HasSubstr("cluster.yaml:2:14: link.bandwidth:"), HasSubstr("unknown unit 'Gbps'")));
  EXPECT_THAT(error_of("link:\n  bandwidth: 1 us\n"), HasSubstr("is a time (unit 'us')"));
}

TEST(Reader, ZeroNegativeAndOutOfRangeValues) {
  EXPECT_EQ(error_of("gpus: 0\n"), "cluster.yaml:1:7: gpus: \"0\" must be at least 1");
  EXPECT_EQ(error_of("memory: 0 GiB\n"), "cluster.yaml:1:9: memory: \"0 GiB\" must be positive");
  EXPECT_EQ(error_of("link:\n  bandwidth: -1 GB/s\n"),
            "cluster.yaml:2:14: link.bandwidth: \"-1 GB/s\" must be positive");
  EXPECT_EQ(error_of("link:\n  bandwidth: 1 GB/s\n  latency: -2 ns\n"),
            "cluster.yaml:3:12: link.latency: \"-2 ns\" must not be negative");
  EXPECT_EQ(error_of("efficiency: 1.5\n"),
            "cluster.yaml:1:13: efficiency: \"1.5\" must be between 0 and 1");
  EXPECT_EQ(error_of("efficiency: .nan\n"),
            "cluster.yaml:1:13: efficiency: \".nan\" is not a number");
  EXPECT_EQ(error_of("groups: [1, 0]\n"), "cluster.yaml:1:13: groups[1]: \"0\" must be at least 1");
  EXPECT_EQ(error_of("gpus: 99999999999999999999\n"),
            "cluster.yaml:1:7: gpus: \"99999999999999999999\" is out of range");
}

TEST(Reader, DuplicateKey) {
  EXPECT_EQ(error_of("gpus: 2\ngpus: 3\n"), "cluster.yaml:2:1: gpus: duplicate key");
}

TEST(Reader, ResolvedOutputReadsBackToTheSameValues) {
  const auto original = read_text("gpus: 3\nmemory: 1001 B\nlink:\n  bandwidth: 12.345 Gb/s\n");
  const std::string text = to_yaml(original, "resolved");
  const auto again = read_text(text);
  EXPECT_EQ(to_yaml(again, "resolved"), text);
  EXPECT_EQ(again.memory, original.memory);
  EXPECT_EQ(again.link.bandwidth, original.link.bandwidth);
  EXPECT_THAT(text, AllOf(HasSubstr("algorithm: ring"), HasSubstr("latency: 500 ns  # per hop")));
}

}  // namespace
}  // namespace moesim::config
