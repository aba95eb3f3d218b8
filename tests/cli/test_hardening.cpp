// Hostile but fair input: each class of problem the hardening work closed, checked by its
// message, not only by its failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli_fixture.hpp"

namespace {

using namespace moesim_cli_test;

const std::string kSmall = "'" MOESIM_SOURCE_DIR "/tests/golden/moe_small.yaml'";

// Products of counts that overflowed int64 (a world that wrapped to 0 or 8 ranks) are refused
// with the product, before anything is built: exit 2, no internal error.
TEST_F(Cli, HugeCountsAreRefusedNamingTheirKey) {
  auto r = run("predict --no-figure -q --schedules cdac --set parallel.dp=2305843009213693953");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("parallel: tp 1 x ep 32 x dp 2305843009213693953 = 7.38e+19 "
                               "ranks, more than the cluster's 32 GPUs"));
  r = run("predict --no-figure -q --schedules cdac --set model.hidden=4294967296");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("model.hidden: 4294967296 is beyond the largest width"));
  r = run("predict --no-figure -q --schedules cdac --set model.seq_len=256000000000000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("model.seq_len: micro_batch 1 x model.seq_len 256000000000000"));
  EXPECT_THAT(r.err, Not(HasSubstr("internal error")));
}

// Work that cannot fit is refused up front with the estimate and how to raise the limit.
TEST_F(Cli, StudiesTooLargeAreRefusedBeforeBuildingWithTheEstimate) {
  auto r = run("predict --no-figure -q --schedules cdac --set model.layers=100000000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("limits.ops: this study would build at least 8.96e+10 ops (32 "
                               "ranks x 100000000 blocks"));
  EXPECT_THAT(r.err, HasSubstr("--set limits.ops=89600000000"));
  r =
      run("predict --no-figure -q --infer --schedules cdac "
          "--set inference.generate=300000000000000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("(prefill + inference.generate decode steps)"));
  // Raised deliberately, a study past the default runs.
  r = run("run -q " + kSmall + " --set model.layers=40 --set limits.ops=1000 --out o");
  EXPECT_EQ(r.exit_code, 2);
  r = run("run -q " + kSmall + " --set model.layers=40 --set limits.ops=100000000 --out o");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// A second run into a folder replaces it whole: the first run's traces do not stay.
TEST_F(Cli, ARunReplacesItsFolderWhole) {
  ASSERT_EQ(run("run -q --dag " + kSmall + " --out o").exit_code, 0);
  ASSERT_TRUE(fs::exists(work_ / "o/dag_cdac.csv"));
  const auto r = run("run -q " + kSmall + " --out o");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(work_ / "o/dag_cdac.csv"));
  EXPECT_TRUE(fs::exists(work_ / "o/summary.csv"));
  for (const auto& e : fs::directory_iterator(work_)) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".partial"))) << e.path();
  }
  // A folder that is not a run's is never replaced.
  fs::create_directories(work_ / "notes");
  write("notes/mine.txt", "keep me");
  const auto refused = run("run -q " + kSmall + " --out notes");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("is not a moesim output folder"));
  EXPECT_EQ(slurp(work_ / "notes/mine.txt"), "keep me");
}

// Outputs never overwrite inputs; names stay inside out/.
TEST_F(Cli, OutputsNeverOverwriteInputsAndNamesStayInsideOut) {
  const auto cluster = (work_ / "c.yaml").string();
  write("c.yaml", "base: " MOESIM_SOURCE_DIR "/topologies/presets/bigmac_4x8_a40_ib100.yaml\n");
  const auto before = slurp(cluster);
  auto r = run("topo show c.yaml --dot c.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--dot c.yaml: that is the input file"));
  EXPECT_EQ(slurp(cluster), before);
  const auto profile = (work_ / "p.yaml").string();
  fs::copy_file(MOESIM_SOURCE_DIR "/calibrate/profiles/a40.yaml", profile);
  r = run("profile p.yaml --sweep ./p.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("that is the input file"));
  r = run("run -q " + kSmall + " --set name=../../x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("name: '../../x' would not name a folder inside out/"));
}

// A comma or a quote in a schedule name stays in its column (RFC 4180).
TEST_F(Cli, SummaryCsvQuotesNamesWithCommas) {
  write("e.yaml", std::string("base: ") + MOESIM_SOURCE_DIR +
                      "/tests/golden/moe_small.yaml\nname: e\ncluster: bigmac_4x8_a40_ib100\n"
                      "profile: a40\nschedules:\n"
                      "  - {name: 'a,\"b\"'}\n  - {name: cdac}\n");
  const auto r = run("run -q e.yaml --out o");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto csv = slurp(work_ / "o/summary.csv");
  EXPECT_THAT(csv, HasSubstr("\ne,\"a,\"\"b\"\"\",\"a,\"\"b\"\"\",train,fused_ideal,8,"));
}

// resolved.yaml reruns as the run ran, wherever it was written, though the experiment named
// its files relative to itself.
TEST_F(Cli, ResolvedYamlRerunsWithRelativePaths) {
  fs::create_directories(work_ / "exp");
  write("exp/e.yaml", std::string("base: ") + MOESIM_SOURCE_DIR +
                          "/tests/golden/moe_small.yaml\nname: e\ncluster: c.yaml\n"
                          "profile: a40\n");
  write("exp/c.yaml", "base: " MOESIM_SOURCE_DIR "/topologies/presets/bigmac_4x8_a40_ib100.yaml\n");
  ASSERT_EQ(run("run -q exp/e.yaml --out first").exit_code, 0);
  const auto again = run("run -q first/resolved.yaml --out second");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(slurp(work_ / "first/summary.csv"), slurp(work_ / "second/summary.csv"));
}

// Messages that named the wrong thing now say what is wrong, where; configuration problems exit 2.
TEST_F(Cli, BadTextAndBadValuesAreNamedForWhatTheyAre) {
  write("tab.yaml", "name: x\nmodel:\n\tlayers: 2\n");
  auto r = run("run -q tab.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("tab.yaml:3:1: a tab in the indentation: YAML indents with spaces"));
  write("deep.yaml", "name: x\nmodel: " + std::string(1000, '[') + std::string(1000, ']') + "\n");
  r = run("run -q deep.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("deep.yaml:2: lists or maps nested 1000 deep"));
  write("nul.yaml", std::string("name: x\0y\n", 10));
  r = run("run -q nul.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("nul.yaml:1:8: a NUL byte: not a text file"));
  r = run("run -q " + kSmall + " --set 'schedules=[{name: a, lsh: {rate: 0}}]'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("schedules[0].lsh.rate: \"0\" must be"));
  r = run("run -q " + kSmall + " --set 'schedules=[{name: a, dcca: 0}]'");
  EXPECT_EQ(r.exit_code, 2);
  r = run("collective bigmac_4x8_a40_ib100 --model quantum");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown network model 'quantum'; known: alpha-beta, flow"));
  r = run("run -q --set synthetic.ranks=100000000 --set synthetic.layers=1000000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("synthetic: ranks 100000000 x layers 1000000"));
  r = run("run -q --trace '" MOESIM_SOURCE_DIR "/experiments/scmoe_overlap.yaml'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--trace: a sweep writes one summary.csv"));
}

// An unknown or missing command says which exist.
TEST_F(Cli, AnUnknownCommandListsTheCommands) {
  auto r = run("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'frobnicate' is not a command; the commands: run, sweep"));
  r = run("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("a command is required; the commands: run,"));
}

// A preset name given with its extension is found; what was tried is listed once each.
TEST_F(Cli, MissingFilesListWhatWasTriedOnce) {
  auto r = run("topo show nowhere.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, Not(HasSubstr(".yaml.yaml")));
  r = run("topo show bigmac_4x8_a40_ib100.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
