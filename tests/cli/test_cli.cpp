// Runs the moesim binary as a user would and checks exit codes, messages and files.
#include "cli_fixture.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace {

using namespace moesim_cli_test;

TEST_F(Cli, VersionNamesTheFeatures) {
  const auto r = run("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out,
              MatchesRegex("moesim [0-9.]+ \\(CUDA (on|off), NCCL (on|off), MPI (on|off)\\)\n"));
}

TEST_F(Cli, DefaultRunWritesResolvedConfigTimelineAndUsage) {
  const auto r = run("run -q --trace");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("experiment synthetic-demo: 8 ranks, 128 ops"));
  for (const char* file : {"resolved.yaml", "timeline.csv", "streams.csv", "trace.json"}) {
    EXPECT_TRUE(fs::exists(work_ / "out/synthetic-demo" / file)) << file;
  }
  EXPECT_THAT(slurp(work_ / "out/synthetic-demo/resolved.yaml"), HasSubstr("compute: 400 us"));
}

// --dag on the default (synthetic) run writes its program too: one row per op, each
// exchange after the compute it waits for.
TEST_F(Cli, DefaultRunDumpsItsDagWhenAsked) {
  const auto r = run("run -q --dag");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("dag.csv"));
  const auto dag = slurp(work_ / "out/synthetic-demo/dag.csv");
  EXPECT_EQ(std::count(dag.begin(), dag.end(), '\n'), 1 + 128);  // header and 128 ops
  EXPECT_THAT(
      dag, ::testing::StartsWith("rank,stream,name,category,duration_ps,work,gang,prerequisites\n"
                                 "0,compute,L0.compute.c0,compute,"));
  EXPECT_THAT(dag, HasSubstr("\n0,comm,L0.exchange.c0,comm,150000000,,r0/L0.exchange.c0,"
                             "L0.compute.c0\n"));
}

// Two runs' DAGs differ where their programs do: ZeRO-1 changes each rank's gradient
// reductions, its optimizer step and adds the gathers after it; every other row is the same.
TEST_F(Cli, TwoRunsDagsDifferOnlyInTheOpsThatChanged) {
  const auto model = (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
  ASSERT_EQ(run("run -q '" + model + "' --dag --out a").exit_code, 0);
  ASSERT_EQ(run("run -q '" + model + "' --dag --out b --set training.zero=1").exit_code, 0);
  const auto rows = [&](const char* dir) {
    std::istringstream in(slurp(work_ / dir / "dag_cdac.csv"));
    std::multiset<std::string> out;
    for (std::string line; std::getline(in, line);) out.insert(line);
    return out;
  };
  const auto a = rows("a"), b = rows("b");
  const auto names = [](const std::multiset<std::string>& lines) {
    std::multiset<std::string> out;
    for (const auto& l : lines) {
      const auto second = l.find(',', l.find(',') + 1);
      out.insert(l.substr(second + 1, l.find(',', second + 1) - second - 1));
    }
    return out;
  };
  std::multiset<std::string> only_a, only_b;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(only_a, only_a.end()));
  std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::inserter(only_b, only_b.end()));
  constexpr int kRanks = 8;
  std::multiset<std::string> changed;
  for (int r = 0; r < kRanks; ++r) changed.insert({"grad.dense0", "optimizer"});
  EXPECT_EQ(names(only_a), changed);
  for (int r = 0; r < kRanks; ++r) changed.insert("weights.dense0");
  EXPECT_EQ(names(only_b), changed);
  EXPECT_GT(a.size(), 10 * only_a.size());
}

TEST_F(Cli, ConfigErrorIsOneLineExitTwoAndWritesNothing) {
  const auto file = write("bad.yaml", "name: bad\nsynthetic:\n  ranks: 4\n  compute: 150\n");
  const auto r = run("run -q bad.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "moesim: error: bad.yaml:4:12: synthetic.compute: \"150\" has no unit; expected a time "
            "such as \"1.5 us\" (units: s, ms, us, \xC2\xB5s, ns, ps)\n");
  EXPECT_FALSE(fs::exists(work_ / "out")) << "nothing may be written for a rejected config";
}

TEST_F(Cli, BadOverrideNamesTheOverride) {
  const auto r = run("run -q --set synthetic.rank=4");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              StartsWith("moesim: error: --set synthetic.rank=4: synthetic.rank: unknown key "
                         "(did you mean 'ranks'?)"));
}

// A cluster key set through the experiment (--set cluster.<key> or cluster_set) is named as the
// user wrote it, with its prefix, not as the bare key it becomes in the cluster file.
TEST_F(Cli, BadClusterOverrideNamesItWithItsPrefix) {
  const auto r = run("predict -q --no-figure --set cluster.nodes=0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, StartsWith("moesim: error: cluster.nodes=0: nodes: \"0\" must be at least 1"));
  write("exp.yaml", "name: e\nbase: " MOESIM_SOURCE_DIR
                    "/experiments/models/gpt3_xl_moe64.yaml\n"
                    "cluster: bigmac_4x8_a40_ib100\nprofile: a40\ncluster_set: [nodez=2]\n");
  const auto file = run("run -q exp.yaml");
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_THAT(file.err, StartsWith("moesim: error: cluster.nodez=2: nodez: unknown key"));
}

// Values that are each valid but do not fit together are found after reading; the error still
// says where the key was written: the file's line, the --set, or the preset it came from.
TEST_F(Cli, ErrorsFoundWhenBuildingNameWhereTheKeyWasWritten) {
  write("exp.yaml",
        "name: e\nbase: gpt3_medium_moe64\ncluster: bigmac_4x8_a40_ib100\nprofile: a40\n"
        "model:\n  moe: {blocks: [1, 3, 3]}\n");
  const auto file = run("run -q exp.yaml --out o");
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_EQ(file.err,
            "moesim: error: exp.yaml:6:17: model.moe.blocks: block 3 is listed twice: 1, 3, 3\n");
  const auto set = run("run -q exp.yaml --set parallel.ep=7 --set model.moe.blocks=[1] --out o");
  EXPECT_EQ(set.err,
            "moesim: error: --set parallel.ep=7: parallel.ep: 7 does not divide "
            "model.moe.experts 64\n");
  const auto preset =
      run("predict -q --no-figure --set model.layers=2 --set parallel.ep=8 "
          "--set model.global_batch=60");
  EXPECT_EQ(preset.err,
            "moesim: error: --set model.global_batch=60: model.global_batch: 60 is not a "
            "multiple of micro_batch 1 x ep 8 x dp 1 = 8\n");
  // A schedule's own key: where it sits in the experiment's list of schedules.
  write("schedules.yaml",
        "name: e\nbase: gpt3_medium_moe64\ncluster: bigmac_4x8_a40_ib100\nprofile: a40\n"
        "schedules:\n  - {name: cdac}\n  - name: wide\n    top_k: 65\n");
  const auto schedule = run("run -q schedules.yaml --out o");
  EXPECT_EQ(schedule.err,
            "moesim: error: schedules.yaml:8:12: schedules[1].top_k: schedule 'wide' sends each "
            "token to 65 distinct experts, but model.moe.experts is 64\n");
  // A hierarchical exchange over ranks that do not fill nodes evenly: with tp 3 first, an
  // expert-parallel group is every third GPU, 3 on each of the first two nodes of 8, 2 on the
  // third.
  write("uneven.yaml",
        "name: e\nbase: gpt3_medium_moe64\ncluster: bigmac_4x8_a40_ib100\nprofile: a40\n"
        "parallel: {tp: 3, ep: 8, dp: 1, sp: false}\n"
        "model: {layers: 2, heads: 12, hidden: 1152, ffn: 3072, moe: {expert_ffn: 384}}\n"
        "schedules:\n  - {name: cdac}\n  - name: h\n    all_to_all: hierarchical\n");
  const auto uneven = run("run -q uneven.yaml --out o");
  EXPECT_EQ(uneven.err,
            "moesim: error: uneven.yaml:10:17: schedules[1].all_to_all: schedule 'h' is "
            "hierarchical, which needs every expert-parallel group to fill whole nodes, node by "
            "node (check parallel.order)\n");
  EXPECT_FALSE(fs::exists(work_ / "o"));
}

// A user's files, outside the source tree, inherit presets by name: an experiment a model
// preset, a cluster a node and a network.
TEST_F(Cli, UserFilesInheritPresetsByName) {
  write("mine.yaml",
        "base: [nodes/pcie_a40, networks/rdma100]\nnodes: 2\nnetwork: {kind: single_switch}\n");
  write("exp.yaml",
        "name: mine\nbase: gpt3_medium_moe64\ncluster: mine.yaml\nprofile: a40\n"
        "parallel: {ep: 16}\nmodel: {layers: 2}\n");
  const auto r = run("run -q exp.yaml --out o");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto resolved = slurp(work_ / "o" / "resolved.yaml");
  EXPECT_THAT(resolved, HasSubstr("hidden: 1024")) << "GPT3-Medium's width, from the preset";
  EXPECT_THAT(resolved, HasSubstr("layers: 2")) << "the file's own value wins";
  const auto topo = run("topo show mine.yaml");
  EXPECT_EQ(topo.exit_code, 0) << topo.err;
  EXPECT_THAT(topo.out, HasSubstr("16 GPUs (2 nodes x 8)"));
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").exit_code, 2);
  EXPECT_EQ(run("run missing.yaml").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  EXPECT_EQ(run("run --help").exit_code, 0);
}

// Counts and sizes on the command line: a bad one is named, exits 2 and prints no table.
TEST_F(Cli, CollectiveChecksItsCountsAndSizesBeforePrinting) {
  const std::string node = "'" MOESIM_SOURCE_DIR "/topologies/presets/nodes/dgx_h100.yaml'";
  const auto negative = run("collective " + node + " --sizes 1MiB,-1MiB");
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(negative.out, "");
  EXPECT_EQ(negative.err, "moesim: error: --sizes -1MiB: expected a size that is not negative\n");
  const auto unitless = run("collective " + node + " --sizes 1");
  EXPECT_EQ(unitless.exit_code, 2);
  EXPECT_EQ(unitless.out, "");
  EXPECT_THAT(unitless.err, HasSubstr("moesim: error: --sizes 1: \"1\" has no unit"));
  const auto window = run("collective " + node + " --window -1");
  EXPECT_EQ(window.exit_code, 2);
  EXPECT_THAT(window.err, HasSubstr("--window: -1 is not a whole number of at least 0"));
  const auto jobs = run("sweep '" MOESIM_SOURCE_DIR "/experiments/what_if.yaml' -j 1.5");
  EXPECT_EQ(jobs.exit_code, 2);
  EXPECT_THAT(jobs.err, HasSubstr("--jobs: 1.5 is not a whole number of at least 1"));
  const auto overhead = run("collective " + node + " --overhead -3us");
  EXPECT_EQ(overhead.exit_code, 2);
  EXPECT_EQ(overhead.err, "moesim: error: --overhead -3us: expected a time that is not negative\n");
  const auto one = run("collective " + node + " --set node.gpus=1");
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_EQ(one.out, "");
  EXPECT_EQ(one.err,
            "moesim: error: collective: cluster 'dgx-h100' has 1 GPU; a collective needs at "
            "least 2\n");
  // Nothing to move takes no time; nccl-tests prints 0 GB/s for it, not a division by zero.
  const auto empty = run("collective " + node + " --sizes 0B");
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_THAT(empty.out,
              HasSubstr("              0         0.00          0.00          0.00  direct\n"));
}

// NCCL's rings over whole nodes cross on every rail, so a reduce-scatter over two DGX H100 nodes
// uses all eight NICs as the 2-D form does; the tuner's choice is printed.
TEST_F(Cli, CollectiveReduceScatterRunsNcclsRingsOverEveryRail) {
  const std::string cluster = "'" MOESIM_SOURCE_DIR "/topologies/presets/dgx_h100_rail_ib400.yaml'";
  const auto time_us = [&](const std::string& algo, const std::string& chosen) {
    const auto r = run("collective " + cluster +
                       " --set nodes=2 --op reduce_scatter --sizes 256MiB --algo " + algo);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("algorithm " + algo));
    EXPECT_THAT(r.out, HasSubstr("  " + chosen + "\n"));
    const auto row = r.out.substr(r.out.rfind("268435456"));
    return std::stod(row.substr(row.find_first_not_of(' ', 9)));
  };
  const double ring = time_us("ring", "ring/Simple");
  // One ring's crossing carries (n-1)/n of 256 MiB over 8 rails of 48 GB/s: 0.66 ms and up.
  EXPECT_GT(ring, 256.0 * 1048576 * 15 / 16 / (8 * 48e9) * 1e6);
  EXPECT_LT(ring, time_us("hierarchical", "hierarchical"));
  EXPECT_EQ(time_us("auto", "ring/Simple"), ring);
  const auto bad = run("collective " + cluster + " --op all_gather --algo tree");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "moesim: error: --algo tree: expected auto, ring, nvls, pat or hierarchical for "
            "all_gather\n");
  const auto nvls = run("collective " + cluster + " --set nodes=2 --op all_gather --algo pat");
  EXPECT_EQ(nvls.exit_code, 2);
  EXPECT_THAT(nvls.err, HasSubstr("--algo pat: pat is not available here (NCCL offers it only "
                                  "on one GPU per node)"));
}

TEST_F(Cli, EcmpTakesAModeAndNamesTheModesOnABadOne) {
  const std::string cluster = "'" MOESIM_SOURCE_DIR "/topologies/presets/dgx_h100_rail_ib400.yaml'";
  // Without PXN (on by default), which keeps traffic between rails off the spines.
  const auto off = run("topo show " + cluster + " --ecmp off --no-pxn");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_THAT(off.out, HasSubstr("-[network]-> spine0 -[network]-> rail7.leaf0"));
  const auto spread =
      run("topo show " + cluster + " --no-pxn");  // per pair: rank 0 -> 31 hashes elsewhere
  ASSERT_EQ(spread.exit_code, 0) << spread.err;
  EXPECT_THAT(spread.out, ::testing::Not(HasSubstr("spine0 -[network]-> rail7.leaf0")));
  EXPECT_THAT(spread.out, HasSubstr("sample routes (ECMP per_pair, PXN off):"));
  const auto defaults = run("topo show " + cluster);
  ASSERT_EQ(defaults.exit_code, 0) << defaults.err;
  EXPECT_THAT(defaults.out, HasSubstr("sample routes (ECMP per_pair, PXN on):"));
  EXPECT_THAT(defaults.out, ::testing::Not(HasSubstr("spine")));  // PXN keeps to the rails
  const auto bad = run("collective " + cluster + " --ecmp yes");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "moesim: error: --ecmp yes: expected one of per_pair, per_flow, off\n");
  const auto yaml = run("run -q --set network.ecmp=yes");
  EXPECT_EQ(yaml.exit_code, 2);
  EXPECT_THAT(yaml.err, HasSubstr("per_pair"));
}

TEST_F(Cli, ClusterAndProfileCommandsTakePresetNamesAsPredictDoes) {
  const auto by_name = run("topo show dgx_h100_rail_ib400");
  ASSERT_EQ(by_name.exit_code, 0) << by_name.err;
  const auto by_file =
      run("topo show '" MOESIM_SOURCE_DIR "/topologies/presets/dgx_h100_rail_ib400.yaml'");
  ASSERT_EQ(by_file.exit_code, 0) << by_file.err;
  EXPECT_EQ(by_name.out, by_file.out);
  const auto collective = run("collective scmoe_2x8_a800_eth --sizes 1MiB");
  ASSERT_EQ(collective.exit_code, 0) << collective.err;
  EXPECT_THAT(collective.out, HasSubstr("scmoe-2x8-a800-eth100 (16 GPUs)"));
  const auto profile = run("profile h100_sxm");
  ASSERT_EQ(profile.exit_code, 0) << profile.err;
  EXPECT_THAT(profile.out, StartsWith("profile H100-SXM5-80GB"));
  const auto missing = run("topo show no_such_cluster");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, StartsWith("moesim: error: cluster: 'no_such_cluster' is neither a "
                                      "file nor a preset name; tried:"));
  EXPECT_THAT(missing.err, HasSubstr("topologies/presets/no_such_cluster.yaml"));
  const auto no_profile = run("profile no_such_gpu");
  EXPECT_EQ(no_profile.exit_code, 2);
  EXPECT_THAT(no_profile.err, HasSubstr("calibrate/profiles/no_such_gpu.yaml"));
}

TEST_F(Cli, SameInputsGiveByteIdenticalOutputs) {
  ASSERT_EQ(run("run -q --set synthetic.skew=0.7 --out a").exit_code, 0);
  ASSERT_EQ(run("run -q --set synthetic.skew=0.7 --out b --trace").exit_code, 0);
  for (const char* file : {"resolved.yaml", "timeline.csv", "streams.csv"}) {
    EXPECT_EQ(slurp(work_ / "a" / file), slurp(work_ / "b" / file)) << file;
  }
}

TEST_F(Cli, ResolvedConfigReproducesTheRun) {
  ASSERT_EQ(run("run -q --set synthetic.ranks=3 --set synthetic.chunks=4 --out a").exit_code, 0);
  ASSERT_EQ(run("run -q a/resolved.yaml --out b").exit_code, 0);
  EXPECT_EQ(slurp(work_ / "a/timeline.csv"), slurp(work_ / "b/timeline.csv"));
}

// Golden outputs: regenerate with scripts/update-golden and read the diff in review.
TEST_F(Cli, GoldenSyntheticSmall) {
  const fs::path golden = fs::path(MOESIM_SOURCE_DIR) / "tests/golden/synthetic_small";
  ASSERT_EQ(run("run -q '" + (golden.string() + ".yaml") + "' --out got").exit_code, 0);
  for (const char* file : {"timeline.csv", "streams.csv"}) {
    EXPECT_EQ(slurp(work_ / "got" / file), slurp(golden / file)) << file << " differs from golden";
  }
}

TEST_F(Cli, GoldenMoeSmall) {
  const fs::path golden = fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small";
  ASSERT_EQ(run("run -q '" + (golden.string() + ".yaml") + "' --out got --dag").exit_code, 0);
  for (const char* file : {"summary.csv", "breakdown_cdac.csv", "breakdown_dcca+scmoe.csv",
                           "breakdown_lsh+pipe2.csv"}) {
    EXPECT_EQ(slurp(work_ / "got" / file), slurp(golden / file)) << file << " differs from golden";
  }
  // The op DAG dump is deterministic too, so two runs can be diffed.
  ASSERT_EQ(run("run -q '" + (golden.string() + ".yaml") + "' --out again --dag").exit_code, 0);
  EXPECT_EQ(slurp(work_ / "got/dag_cdac.csv"), slurp(work_ / "again/dag_cdac.csv"));
  EXPECT_NE(slurp(work_ / "got/dag_cdac.csv").find("L1.moe.dispatch"), std::string::npos);
}

TEST_F(Cli, PredictComparesSchedulesAndRejectsUnknownOnes) {
  const auto model = (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
  const auto ok = run("predict -q --no-figure --model '" + model +
                      "' --schedules cdac,dcca,scmoe+pipe2 --out p");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  const auto summary = slurp(work_ / "p/summary.csv");
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 4) << summary;
  EXPECT_NE(ok.out.find("where each saving against cdac comes from"), std::string::npos);
  const auto bad = run("predict -q --no-figure --model '" + model + "' --schedules cdac,dcaa");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown part 'dcaa'"), std::string::npos) << bad.err;
  EXPECT_EQ(run("predict -q --no-figure --model no_such_model").exit_code, 2);
}

// Schedules simulated at once give what one at a time gives, byte for byte, in the same order;
// progress then comes once per schedule as each ends.
TEST_F(Cli, SchedulesRunAtOnceGiveTheSameResults) {
  const auto model = (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
  const std::string args = "--no-figure --model '" + model +
                           "' --schedules cdac,dcca,lsh,scmoe+pipe2 --set training.zero=1";
  const auto one = run("predict -q " + args + " --out one");
  const auto four = run("predict -j 4 " + args + " --out four");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  ASSERT_EQ(four.exit_code, 0) << four.err;
  const auto without_dir = [](std::string text, const std::string& dir) {
    for (auto at = text.find(dir); at != std::string::npos; at = text.find(dir)) {
      text.replace(at, dir.size(), "DIR");
    }
    return text;
  };
  EXPECT_EQ(without_dir(one.out, "one/"), without_dir(four.out, "four/"));
  for (const auto* file : {"summary.csv", "breakdown_cdac.csv", "breakdown_scmoe+pipe2.csv"}) {
    EXPECT_EQ(slurp(work_ / "one" / file), slurp(work_ / "four" / file)) << file;
  }
  EXPECT_THAT(four.err, HasSubstr("[moesim] 4 schedules, 4 at a time\n"));
  EXPECT_THAT(four.err, HasSubstr("[moesim] 4/4 "));
  EXPECT_THAT(four.err, ::testing::Not(HasSubstr("ops (")));  // no op-by-op lines
  // `run` takes -j for a study's schedules too.
  const auto study = run("run -j 3 -q '" + model + "' --out study");
  ASSERT_EQ(study.exit_code, 0) << study.err;
  const auto again = run("run -q '" + model + "' --out again");
  EXPECT_EQ(slurp(work_ / "study/summary.csv"), slurp(work_ / "again/summary.csv"));
}

// The savings table's residual column is a difference of sums: rounding used to print -0.000.
TEST_F(Cli, PredictPrintsNoNegativeZero) {
  const auto r = run("predict -q --no-figure --infer --out p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("where each saving against cdac comes from"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("-0.000")));
}

// A schedule whose weights and optimizer states alone exceed the GPU's memory is flagged (a
// 3M-word vocabulary: 6.1 G LM-head parameters on every rank, 104 GiB at 2 + 4 (Megatron's fp32
// gradients) + 12 bytes each, against the A40's 48 GB); the default fits and says what it
// counted. A profile without a capacity
// says there is nothing to check against.
TEST_F(Cli, PredictFlagsSchedulesThatDoNotFitInDeviceMemory) {
  const std::string small = "predict -q --no-figure --schedules cdac,dcca --set model.layers=2 ";
  const auto fits = run(small + "--out a");
  ASSERT_EQ(fits.exit_code, 0) << fits.err;
  EXPECT_THAT(fits.out, HasSubstr("mem [GiB]"));
  EXPECT_THAT(fits.out, HasSubstr("The A40 has 44.70 GiB."));
  EXPECT_THAT(fits.out, ::testing::Not(HasSubstr("does not fit")));
  const auto big = run(small + "--set model.vocab=3000000 --out b");
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_THAT(big.out, HasSubstr("warning: cdac does not fit: 103.70 GiB per GPU (weights 11.52, "
                                 "gradients 23.05, optimizer 69.14)"));
  EXPECT_THAT(big.out, HasSubstr("warning: dcca does not fit"));
  EXPECT_THAT(big.out, HasSubstr("tensor parallelism, or a higher training.zero stage, would"));
  // Schedules run at once say it in the line each prints as it ends, as a sweep's points do.
  const auto at_once =
      run("predict --no-figure --schedules cdac,dcca --set model.layers=2 "
          "--set model.vocab=3000000 -j 2 --out e");
  ASSERT_EQ(at_once.exit_code, 0) << at_once.err;
  EXPECT_THAT(at_once.err, HasSubstr(" s); does not fit: 103.70 GiB per GPU\n"));
  EXPECT_THAT(fits.err, ::testing::Not(HasSubstr("does not fit")));
  // Adam's states sharded over the 32 ranks (ZeRO-1): 69.14 / 32 GiB of them per GPU.
  const auto sharded = run(small + "--set model.vocab=3000000 --set training.zero=1 --out d");
  ASSERT_EQ(sharded.exit_code, 0) << sharded.err;
  EXPECT_THAT(sharded.out, HasSubstr("the states sharded over data parallelism (ZeRO-1)"));
  EXPECT_THAT(sharded.out, ::testing::Not(HasSubstr("does not fit")));
  std::string profile = slurp(fs::path(MOESIM_SOURCE_DIR) / "calibrate/profiles/a40.yaml");
  const auto at = profile.find("  capacity:");
  ASSERT_NE(at, std::string::npos);
  profile.erase(at, profile.find('\n', at) + 1 - at);
  write("nocap.yaml", profile);
  const auto unknown = run(small + "--set model.vocab=3000000 --profile nocap.yaml --out c");
  ASSERT_EQ(unknown.exit_code, 0) << unknown.err;
  EXPECT_THAT(unknown.out,
              HasSubstr("The A40 profile gives no memory.capacity to check it against"));
  EXPECT_THAT(unknown.out, ::testing::Not(HasSubstr("does not fit")));
}

// Schedule lists that used to run as something else (pipe0 as an exchange-free 11x "speedup",
// the last of two structures, a duplicate overwriting the other's files) are errors, with
// nothing written.
TEST_F(Cli, PredictRejectsSchedulesThatCannotBeMeant) {
  const auto model = (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
  const auto error_of = [&](const std::string& schedules) {
    const auto r = run("predict -q --no-figure --model '" + model + "' --schedules '" + schedules +
                       "' --out bad");
    EXPECT_EQ(r.exit_code, 2) << schedules;
    EXPECT_FALSE(fs::exists(work_ / "bad")) << schedules;
    return r.err;
  };
  EXPECT_EQ(error_of("cdac,pipe0"),
            "moesim: error: --schedules: 'pipe0' in 'pipe0': expected pipe<N> with N a whole "
            "number of at least 1\n");
  EXPECT_THAT(error_of("cdac,top0"), HasSubstr("expected top<N>"));
  EXPECT_THAT(error_of("cdac,pipe99999999999999999999"), HasSubstr("expected pipe<N>"));
  EXPECT_EQ(error_of("cdac,scmoe+scmoe2"),
            "moesim: error: --schedules: 'scmoe+scmoe2' gives two block structures, scmoe and "
            "scmoe2; a schedule has one\n");
  EXPECT_EQ(error_of("cdac,cdac"),
            "moesim: error: schedules: 'cdac' is named twice; each schedule needs its own name\n");
  EXPECT_THAT(error_of("cdac,,dcca"), HasSubstr("an empty name"));
  EXPECT_THAT(error_of("cdac,per_node+2d"),
              HasSubstr("per_node dispatch forwards inside each node itself"));
  // In an experiment file: two names that make the same file name.
  const auto clash = run("run -q '" + model + "' --set 'schedules=[{name: a/b}, {name: a_b}]'");
  EXPECT_EQ(clash.exit_code, 2);
  EXPECT_THAT(clash.err, HasSubstr("'a/b' and 'a_b' would both write breakdown_a_b.csv"));
  // predict's --set reaches the schedules --schedules made, and no further.
  const auto beyond = run("predict -q --no-figure --model '" + model +
                          "' --schedules cdac --set 'schedules[1].dcca=0.5' --out bad");
  EXPECT_EQ(beyond.exit_code, 2);
  EXPECT_THAT(beyond.err, HasSubstr("'schedules' has 1 item(s), numbered from 0: there is no [1]"));
  EXPECT_FALSE(fs::exists(work_ / "bad"));
}

// --set reaches into lists: one schedule of an experiment file changed, the others as they were.
TEST_F(Cli, SetChangesOneScheduleOfAnExperimentFile) {
  const auto file = (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
  ASSERT_EQ(run("run -q '" + file + "' --out a").exit_code, 0);
  const auto changed = run("run -q '" + file + "' --out b --set 'schedules[1].dcca=0.5'");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(slurp(work_ / "a/breakdown_cdac.csv"), slurp(work_ / "b/breakdown_cdac.csv"));
  EXPECT_NE(slurp(work_ / "a/breakdown_dcca+scmoe.csv"),
            slurp(work_ / "b/breakdown_dcca+scmoe.csv"));
  EXPECT_THAT(slurp(work_ / "b/resolved.yaml"), HasSubstr("dcca: 0.5"));
  const auto missing = run("run -q '" + file + "' --out c --set 'schedules[3].dcca=0.5'");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err,
              HasSubstr("'schedules' has 3 item(s), numbered from 0: there is no [3]"));
  EXPECT_FALSE(fs::exists(work_ / "c"));
}

}  // namespace

namespace {

constexpr const char* kSmallSweep = R"(name: grid
model: {layers: 2, hidden: 256, heads: 4, vocab: 1000, seq_len: 128,
        moe: {experts: 8, top_k: 2, expert_ffn: 64}}
parallel: {ep: 8}
cluster: nodes/pcie_a30
profile: a30
schedules: [{name: cdac}, {name: dcca, dcca: 0.25}]
sweep:
  points:
    - {label: small, set: [model.hidden=256]}
    - {label: wide, set: [model.hidden=512]}
  axes:
    - {key: model.moe.top_k, values: [1, 2], label: "top{}"}
    - {key: cluster.node.nics_per_node, values: [1, 2]}
)";

}  // namespace

TEST_F(Cli, SweepRunsEveryPointOfTheGridInOrder) {
  const auto file = write("grid.yaml", kSmallSweep);
  const auto r = run("sweep -q " + file.string() + " --out out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("8 points, 16 simulations"));
  const auto csv = slurp(work_ / "out" / "summary.csv");
  EXPECT_THAT(csv, StartsWith("experiment,point,schedule,mode,implementation,case,model.moe.top_k,"
                              "cluster.node.nics_per_node,gpus,time_ms,speedup"));
  // Points first, then the axes, the first varying slowest; every schedule of each.
  const auto first =
      csv.find("grid,small/top1/nics_per_node=1/cdac,cdac,train,megatron,small,1,1,8,");
  const auto second = csv.find("grid,small/top1/nics_per_node=1/dcca,dcca");
  const auto last = csv.find("grid,wide/top2/nics_per_node=2/dcca,dcca,train,megatron,wide,2,2,8,");
  EXPECT_NE(first, std::string::npos) << csv;
  EXPECT_LT(first, second);
  EXPECT_NE(last, std::string::npos) << csv;
  EXPECT_LT(second, last);
  // Parallel points write the same bytes, and `run` on a file with a sweep is the same sweep.
  ASSERT_EQ(run("sweep -q -j 3 " + file.string() + " --out par").exit_code, 0);
  EXPECT_EQ(slurp(work_ / "par" / "summary.csv"), csv);
  ASSERT_EQ(run("run -q " + file.string() + " --out via_run").exit_code, 0);
  EXPECT_EQ(slurp(work_ / "via_run" / "summary.csv"), csv);
}

// Each simulation's progress line says when its memory floor exceeds the GPU's (a 10M-word
// vocabulary: 2.56 G parameters per rank at hidden 256, 18 bytes each with Megatron's fp32
// gradients: 42.9 GiB against the A30's 24060 MiB).
TEST_F(Cli, SweepProgressFlagsPointsThatDoNotFit) {
  const auto file = write("grid.yaml", kSmallSweep);
  const auto fits = run("sweep " + file.string() + " --out a");
  ASSERT_EQ(fits.exit_code, 0) << fits.err;
  EXPECT_THAT(fits.err, ::testing::Not(HasSubstr("does not fit")));
  const auto big = run("sweep " + file.string() + " --set model.vocab=10000000 --out b");
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_THAT(big.err, HasSubstr("small/top1/nics_per_node=1 cdac: "));
  EXPECT_THAT(big.err, HasSubstr(" s); does not fit: 42.93 GiB per GPU\n"));
}

TEST_F(Cli, SweepRejectsDuplicateLabelsAndEmptyAxesBeforeRunning) {
  auto text = std::string(kSmallSweep);
  text.replace(text.find("label: wide"), 11, "label: small");
  const auto dup = run("sweep -q " + write("dup.yaml", text).string() + " --out out");
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_THAT(dup.err, HasSubstr("two points are labelled 'small/top1/nics_per_node=1'"));
  EXPECT_FALSE(fs::exists(work_ / "out"));
  auto empty = std::string(kSmallSweep);
  empty.replace(empty.find("values: [1, 2], label"), 14, "values: []");
  const auto none = run("sweep -q " + write("none.yaml", empty).string() + " --out out");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("model.moe.top_k: no values"));
}

// A point (or a schedule) that cannot be built stops the run before any point runs, and the
// error names it: a grid should not fail an hour in.
TEST_F(Cli, EveryPointAndScheduleIsCheckedBeforeAnyRuns) {
  auto text = std::string(kSmallSweep);
  text.replace(text.find("values: [1, 2], label"), 14, "values: [1, 9]");  // 8 experts
  const auto sweep = run("sweep " + write("wide.yaml", text).string() + " --out out");
  EXPECT_EQ(sweep.exit_code, 2);
  EXPECT_THAT(sweep.err, HasSubstr("sweep point 3 ('small/top9/nics_per_node=1'): "));
  EXPECT_THAT(sweep.err, HasSubstr("model.moe.top_k: schedule 'cdac' sends each token to 9 "
                                   "distinct experts"));
  EXPECT_THAT(sweep.err, ::testing::Not(HasSubstr("[moesim] 1/")));  // nothing ran
  EXPECT_FALSE(fs::exists(work_ / "out"));
  const auto model = (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
  const auto predict = run("predict --no-figure --model '" + model +
                           "' --schedules cdac,dcca,top17 --out p");  // 16 experts
  EXPECT_EQ(predict.exit_code, 2);
  EXPECT_THAT(predict.err, HasSubstr("--schedules cdac,dcca,top17: schedules[2].top_k: schedule "
                                     "'top17' sends each token to 17 distinct experts"));
  EXPECT_THAT(predict.err, ::testing::Not(HasSubstr("building")));  // not even the first
}
