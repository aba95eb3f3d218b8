// What `predict` says when schedules are compared: how far --schedules and --set reach into a
// schedule, which schedules change the model against the baseline, and which settings change
// nothing.
#include "cli_fixture.hpp"

namespace moesim_cli_test {
namespace {

std::string small_model() {
  return (fs::path(MOESIM_SOURCE_DIR) / "tests/golden/moe_small.yaml").string();
}

// The time_ms cell of a schedule's row in summary.csv.
std::string time_of(const std::string& summary, const std::string& schedule) {
  std::istringstream in(summary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("," + schedule + ",") == std::string::npos) continue;
    // experiment,point,schedule,mode,implementation,gpus,time_ms,...
    std::istringstream cells(line);
    std::string cell;
    for (int i = 0; i <= 6 && std::getline(cells, cell, ','); ++i) {
    }
    return cell;
  }
  return "";
}

TEST_F(Cli, SchedulesTakeTheirFractionsInTheirNames) {
  const auto r = run("predict -q --no-figure --model '" + small_model() +
                     "' --schedules cdac,dcca,dcca0.5,lsh,lsh0.1 --out p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = slurp(work_ / "p/summary.csv");
  EXPECT_NE(time_of(summary, "dcca"), time_of(summary, "dcca0.5"));
  EXPECT_NE(time_of(summary, "lsh"), time_of(summary, "lsh0.1"));
  const auto resolved = slurp(work_ / "p/resolved.yaml");
  EXPECT_THAT(resolved, HasSubstr("dcca: 0.5"));
  EXPECT_THAT(resolved, HasSubstr("rate: 0.1"));

  const auto bad =
      run("predict -q --no-figure --model '" + small_model() + "' --schedules cdac,dcca1.5");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("'dcca1.5' in 'dcca1.5': expected dcca or dcca<f> with f a "
                                 "fraction in (0, 1]"));
  // Values that parse but cannot be built, counts beyond any double, parts given twice or
  // without their number: each refused before anything runs.
  const auto error_of = [this](const std::string& schedules) {
    return run("predict -q --no-figure --model '" + small_model() + "' --schedules " + schedules)
        .err;
  };
  EXPECT_THAT(error_of("cdac,dcca1e-17"),
              HasSubstr("schedules[1].dcca: r = 1e-17 exchanges r*h = 2.56e-15 of model.hidden "
                        "256: less than one element; expected r of at least 1/h = 0.00391"));
  EXPECT_THAT(error_of("cdac,top9223372036854775807"),
              HasSubstr("sends each token to 9223372036854775807 distinct experts"));
  EXPECT_THAT(error_of("cdac,dcca0.5+dcca"),
              HasSubstr("'dcca0.5+dcca' gives dcca twice; a part may appear once in a name"));
  EXPECT_THAT(error_of("cdac,pipe"), HasSubstr("'pipe' in 'pipe': expected pipe<N>"));
}

TEST_F(Cli, PredictSetsAScheduleKeyByItsPlaceInTheList) {
  const auto set = run("predict -q --no-figure --model '" + small_model() +
                       "' --schedules cdac,lsh --set 'schedules[1].lsh.rate=0.1' --out set");
  ASSERT_EQ(set.exit_code, 0) << set.err;
  const auto named = run("predict -q --no-figure --model '" + small_model() +
                         "' --schedules cdac,lsh0.1 --out named");
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(time_of(slurp(work_ / "set/summary.csv"), "lsh"),
            time_of(slurp(work_ / "named/summary.csv"), "lsh0.1"));

  const auto range = run("predict -q --no-figure --model '" + small_model() +
                         "' --schedules cdac,lsh --set 'schedules[1].lsh.rate=2'");
  EXPECT_EQ(range.exit_code, 2);
  EXPECT_THAT(range.err, HasSubstr("--set schedules[1].lsh.rate=2: schedules[1].lsh.rate"));
  const auto missing = run("predict -q --no-figure --model '" + small_model() +
                           "' --schedules cdac --set 'schedules[1].dcca=0.5'");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err,
              HasSubstr("'schedules' has 1 item(s), numbered from 0: there is no [1]"));
  const auto whole =
      run("predict -q --no-figure --model '" + small_model() + "' --set 'schedules=[]'");
  EXPECT_EQ(whole.exit_code, 2);
  EXPECT_THAT(whole.err, HasSubstr("predict takes its list of schedules from --schedules"));
}

TEST_F(Cli, TopNIsHonouredByEveryStructureAndModelChangesAreMarked) {
  const auto r = run("predict -q --no-figure --model '" + small_model() +
                     "' --schedules cdac,scmoe,scmoe+top2,dgmoe+top2,2d --out p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = slurp(work_ / "p/summary.csv");
  EXPECT_NE(time_of(summary, "scmoe"), time_of(summary, "scmoe+top2"));
  // ScMoE's top-1 routing and shared expert are a different model; the 2-D exchange is not.
  EXPECT_THAT(r.out, HasSubstr("scmoe*"));
  EXPECT_THAT(r.out, HasSubstr("* changes the model against cdac"));
  EXPECT_THAT(r.out,
              HasSubstr("  scmoe: 1 routed expert(s) per token (2); 1 shared expert(s) (0)"));
  EXPECT_THAT(r.out, HasSubstr("  scmoe+top2: 1 shared expert(s) (0)"));
  EXPECT_THAT(r.out, HasSubstr("  dgmoe+top2: 4 routed expert(s) per token (2)"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("  2d:")));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("2d*")));
}

TEST_F(Cli, SettingsThatChangeNothingAreSaidOnce) {
  // moe_small is MoE every second block: a shortcut position matters there ...
  const auto mixed = run("predict --no-figure --model '" + small_model() +
                         "' --schedules scmoe+pos1,scmoe+pos3 --out mixed");
  ASSERT_EQ(mixed.exit_code, 0) << mixed.err;
  EXPECT_THAT(mixed.err, ::testing::Not(HasSubstr("shortcut position")));
  // ... but not where every block is a MoE block.
  const auto all_moe = run("predict --no-figure --model '" + small_model() +
                           "' --set model.moe.every=1 --set model.moe.first=0"
                           " --schedules cdac,scmoe+pos1,scmoe+pos3,cdac+pos3 --out all");
  ASSERT_EQ(all_moe.exit_code, 0) << all_moe.err;
  EXPECT_THAT(all_moe.err, HasSubstr("note: schedule scmoe+pos3: the shortcut position changes "
                                     "nothing on tiny-moe: every MoE block follows a MoE block"));
  EXPECT_THAT(all_moe.err, HasSubstr("note: schedule cdac+pos3: the shortcut position (3) "
                                     "changes nothing: its blocks have no shortcut"));
  // Zipf skew under capacity padding; fewer ranks than the cluster's GPUs, said once.
  const auto padded = run("predict --no-figure --model '" + small_model() +
                          "' --set model.moe.capacity_factor=1.0 --schedules cdac,dcca --out pad");
  ASSERT_EQ(padded.exit_code, 0) << padded.err;
  EXPECT_THAT(padded.err, HasSubstr("note: routing.kind zipf changes nothing: "
                                    "model.moe.capacity_factor 1 pads and caps every expert"));
  const std::string fewer = "note: the study uses 8 of the cluster's 32 GPUs";
  const auto at = padded.err.find(fewer);
  ASSERT_NE(at, std::string::npos) << padded.err;
  EXPECT_EQ(padded.err.find(fewer, at + 1), std::string::npos) << "said more than once";
}

TEST_F(Cli, DroplessIsNullOnTheCommandLine) {
  const auto padded = run("predict -q --no-figure --model '" + small_model() +
                          "' --set model.moe.capacity_factor=1.0 --schedules cdac --out pad");
  const auto dropless = run("predict -q --no-figure --model '" + small_model() +
                            "' --set model.moe.capacity_factor=1.0"
                            " --set model.moe.capacity_factor=null --schedules cdac --out free");
  const auto plain =
      run("predict -q --no-figure --model '" + small_model() + "' --schedules cdac --out plain");
  ASSERT_EQ(dropless.exit_code, 0) << dropless.err;
  ASSERT_EQ(padded.exit_code, 0) << padded.err;
  EXPECT_EQ(time_of(slurp(work_ / "free/summary.csv"), "cdac"),
            time_of(slurp(work_ / "plain/summary.csv"), "cdac"));
  EXPECT_NE(time_of(slurp(work_ / "pad/summary.csv"), "cdac"),
            time_of(slurp(work_ / "plain/summary.csv"), "cdac"));
}

TEST_F(Cli, InferenceReportsServingMetrics) {
  const auto r = run("predict -q --no-figure --infer --model '" + small_model() +
                     "' --schedules cdac,dcca --set inference.prompt=64 --set inference.generate=8"
                     " --set model.micro_batch=4 --set inference.range_ratio=0.5 --out p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("serving: 32 requests"));
  EXPECT_THAT(r.out, HasSubstr("TTFT [ms]"));
  const auto summary = slurp(work_ / "p/summary.csv");
  EXPECT_THAT(summary, HasSubstr(",host_ms,ttft_ms,tpot_ms,e2e_mean_ms,e2e_p90_ms,"
                                 "prefill_tokens_per_s,decode_tokens_per_s,"));
  // Training leaves the serving columns empty.
  const auto train =
      run("predict -q --no-figure --model '" + small_model() + "' --schedules cdac --out t");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  EXPECT_THAT(train.out, ::testing::Not(HasSubstr("TTFT")));
  // Without a decode step, no time per output token nor decode throughput: empty, not 0.
  const auto prefill = run("predict -q --no-figure --infer --model '" + small_model() +
                           "' --schedules cdac --set inference.generate=0 --out prefill");
  ASSERT_EQ(prefill.exit_code, 0) << prefill.err;
  EXPECT_THAT(prefill.out, HasSubstr("          -      "));  // TPOT
  EXPECT_THAT(prefill.out, HasSubstr("             -\n"));   // decode tok/s, last column
  const auto bad = run("predict -q --no-figure --infer --model '" + small_model() +
                       "' --set inference.range_ratio=1.5");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("inference.range_ratio"));
}

// A Hugging Face config.json as --model: it runs, says what it read, and its resolved.yaml
// reproduces the run without the file.
TEST_F(Cli, PredictTakesAHuggingFaceConfig) {
  const auto config =
      (fs::path(MOESIM_SOURCE_DIR) / "tests/data/hf/olmoe_1b_7b_0924.json").string();
  const auto r = run("predict --no-figure --model '" + config +
                     "' --set model.layers=2 --set model.seq_len=256 --schedules cdac --out p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("(olmoe):\n  used:\n    model_type -> the architecture (olmoe)"));
  EXPECT_THAT(r.out, HasSubstr("olmoe_1b_7b_0924 on 8 ranks"));
  const auto resolved = slurp(work_ / "p/resolved.yaml");
  EXPECT_THAT(resolved, ::testing::Not(HasSubstr("hf_config")));
  EXPECT_THAT(resolved, HasSubstr("hidden: 2048"));
  const auto again = run("run -q '" + (work_ / "p/resolved.yaml").string() + "' --out again");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(time_of(slurp(work_ / "again/summary.csv"), "cdac"),
            time_of(slurp(work_ / "p/summary.csv"), "cdac"));
}

// predict --trace, as run --trace: a trace per schedule with the busiest links as counter tracks,
// and the same results as without it.
TEST_F(Cli, PredictTracesEachScheduleWithItsLinks) {
  const auto traced = run("predict -q --no-figure --trace --model '" + small_model() +
                          "' --schedules cdac,dcca --out traced");
  ASSERT_EQ(traced.exit_code, 0) << traced.err;
  const auto plain = run("predict -q --no-figure --model '" + small_model() +
                         "' --schedules cdac,dcca --out plain");
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(slurp(work_ / "traced/summary.csv"), slurp(work_ / "plain/summary.csv"));
  const auto trace = slurp(work_ / "traced/trace_dcca.json");
  EXPECT_THAT(trace, HasSubstr(R"("args":{"name":"links"})"));
  EXPECT_THAT(trace, HasSubstr(R"("ph":"C","name":"n0.)"));
  EXPECT_THAT(trace, HasSubstr(R"( GB/s]","pid":8,"ts":)"));  // after the 8 ranks
  EXPECT_THAT(trace, HasSubstr(R"("args":{"utilisation":100.000})"));
  EXPECT_TRUE(fs::exists(work_ / "traced/trace_cdac.json"));
  EXPECT_FALSE(fs::exists(work_ / "plain/trace_cdac.json"));
}

}  // namespace
}  // namespace moesim_cli_test
