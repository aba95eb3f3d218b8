// Routing traces (issue 5: "a routing trace file (tokens per source rank and expert, per
// layer)"): read strictly, kept exactly where they match the model, scaled where they do not,
// and followed by the workload's exchanges.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>

#include "config/error.hpp"
#include "model/routing.hpp"

namespace moesim::model {
namespace {

using ::testing::HasSubstr;

// A trace file in the test's temporary folder, removed with the test.
class Trace : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_.string();
  }
  RoutingModel model(const std::string& text, std::int64_t experts) {
    RoutingConfig c;
    c.kind = RoutingKind::kTrace;
    c.trace = write(text);
    return RoutingModel(c, experts);
  }
  std::string error_of(const std::string& text, std::int64_t experts = 4) {
    try {
      model(text, experts);
    } catch (const config::ConfigError& e) {
      return e.what();
    }
    return "no error";
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_ =
      std::filesystem::path(::testing::TempDir()) /
      (std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".csv");
};

std::int64_t sum(const ExpertCounts& c) {
  return std::accumulate(c.begin(), c.end(), std::int64_t{0});
}

TEST_F(Trace, CountsThatMatchTheModelAreKeptExactly) {
  // Rank 0 has 10 tokens with top-2: 20 rows. Rank 1 the same, another split.
  const auto r = model(
      "layer,source,expert,tokens\n"
      "# rank 0\n"
      "0,0,0,7\n0,0,1,3\n0,0,2,10\n"
      "0,1,3,10\r\n0,1,1,10\n",
      4);
  EXPECT_EQ(r.route(0, 0, 10, 2), (ExpertCounts{7, 3, 10, 0}));
  EXPECT_EQ(r.route(0, 1, 10, 2), (ExpertCounts{0, 10, 0, 10}));
}

TEST_F(Trace, OtherTokenCountsGetTheSameSplitScaled) {
  const auto r = model("0,0,0,60\n0,0,1,30\n0,0,2,10\n", 4);
  // A decode step: 1 token, top-2 -> 2 rows, none above 1 per expert.
  const auto decode = r.route(0, 0, 1, 2);
  EXPECT_EQ(sum(decode), 2);
  EXPECT_EQ(decode, (ExpertCounts{1, 1, 0, 0}));
  // Ten times the trace's batch: the same proportions, but expert 0 would get 600 rows of 500
  // tokens; it takes each token once, and the other 500 rows split 30:10.
  EXPECT_EQ(r.route(0, 0, 500, 2), (ExpertCounts{500, 375, 125, 0}));
  // Top-2 with one expert in the trace cannot be placed.
  const auto one = model("0,0,0,8\n", 4);
  EXPECT_THAT([&] { one.route(0, 0, 4, 2); },
              ::testing::ThrowsMessage<config::ConfigError>(HasSubstr(
                  "MoE layer 0, source rank 0: its tokens go to too few experts for 4 tokens x "
                  "top-2 with each expert taking a token at most once")));
}

TEST_F(Trace, BadFilesAreNamedWithTheirLine) {
  EXPECT_EQ(error_of("layer,expert,source,tokens\n0,0,0,1\n"),
            path_.string() +
                ":1: header 'layer,expert,source,tokens': expected 'layer,source,expert,tokens' "
                "(in that order)");
  EXPECT_EQ(error_of("0,0,0,1\n0,0,4,1\n"),
            path_.string() +
                ":2: '0,0,4,1': expected layer,source,expert,tokens (four integers) with 0 <= "
                "layer, source < 2^31, 0 <= expert < 4 and 0 <= tokens <= 2^40");
  EXPECT_THAT(error_of("0,0,0,1,9\n"), HasSubstr(":1: '0,0,0,1,9': expected layer,source,expert"));
  // Counts that would overflow: a layer beyond int, tokens beyond 2^40, a sum beyond it.
  EXPECT_THAT(error_of("4294967296,0,0,1\n"), HasSubstr(":1: '4294967296,0,0,1': expected"));
  EXPECT_THAT(error_of("0,0,0,9223372036854775807\n"), HasSubstr("0 <= tokens <= 2^40"));
  EXPECT_THAT(error_of("0,0,0,1099511627776\n0,0,0,1\n"),
              HasSubstr(":2: layer 0, source 0, expert 0: the rows so far route 1099511627777 "
                        "tokens, beyond 2^40"));
  EXPECT_THAT(error_of("0,0,0,-1\n"), HasSubstr(": expected layer,source,expert,tokens"));
  EXPECT_THAT(error_of("0,0,0,x\n"), HasSubstr(": expected layer,source,expert,tokens"));
  RoutingConfig missing;
  missing.kind = RoutingKind::kTrace;
  missing.trace = (std::filesystem::path(::testing::TempDir()) / "no_such_trace.csv").string();
  EXPECT_THROW(RoutingModel(missing, 4), config::ConfigError);
}

TEST_F(Trace, ARankTheTraceLeavesOutIsNamed) {
  const auto r = model("0,0,0,2\n0,0,1,2\n0,1,0,0\n", 4);
  EXPECT_EQ(sum(r.route(0, 0, 2, 2)), 4);
  try {
    r.route(0, 1, 2, 2);  // listed, but with no tokens
    FAIL() << "expected a ConfigError";
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "routing.trace: '" + path_.string() +
                                         "' routes no tokens for MoE layer 0 and source rank 1");
  }
  EXPECT_THROW(r.route(1, 0, 2, 2), config::ConfigError);  // no layer 1
}

}  // namespace
}  // namespace moesim::model
