#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/engine.hpp"
#include "core/error.hpp"
#include "report/chrome_trace.hpp"
#include "report/dag_csv.hpp"
#include "report/interrupts.hpp"
#include "report/output_dir.hpp"
#include "report/stream_summary.hpp"
#include "report/text_table.hpp"
#include "report/timeline_csv.hpp"

namespace moesim::report {
namespace {

using ::testing::HasSubstr;

struct Fixture {
  core::OpGraph graph;
  core::Timeline timeline{graph};
  Fixture() {
    const auto compute = graph.add_stream(0, "compute");
    const auto comm = graph.add_stream(0, "comm");
    const auto a = graph.add_op(compute, "gemm, fused", {"compute", "expert"});
    const auto b = graph.add_op(comm, "a2a \"dispatch\"", {"comm"});
    graph.set_args(b, {{"bytes", "1048576"}});
    graph.add_dependency(b, a);
    graph.finalize();
    core::DurationRunner runner(
        [](const core::OpGraph&, core::OpId op) { return core::Time::ps(1'500'000 + op); });
    core::Engine engine(graph, runner);
    timeline = engine.run();
  }
};

TEST(Report, TimelineCsvQuotesAndUsesIntegerPicoseconds) {
  Fixture f;
  EXPECT_EQ(timeline_csv(f.graph, f.timeline),
            "op,rank,stream,name,labels,start_ps,end_ps\n"
            "0,0,compute,\"gemm, fused\",compute;expert,0,1500000\n"
            "1,0,comm,\"a2a \"\"dispatch\"\"\",comm,1500000,3000001\n");
}

TEST(Report, DagCsvQuotesNamesAndListsPrerequisites) {
  Fixture f;
  EXPECT_EQ(dag_csv(f.graph,
                    [&f](core::OpId op) {
                      return DagRow{op_labels_text(f.graph, op), op == 0 ? 1500000 : 0,
                                    op == 0 ? "gemm 1 GFLOP" : "a2a, 2 MB"};
                    }),
            "rank,stream,name,category,duration_ps,work,gang,prerequisites\n"
            "0,compute,\"gemm, fused\",compute;expert,1500000,gemm 1 GFLOP,,\n"
            "0,comm,\"a2a \"\"dispatch\"\"\",comm,0,\"a2a, 2 MB\",,\"gemm, fused\"\n");
}

// Rows name ops, never op ids: an op added to one run changes its own row and those of the ops
// that wait for it, not every row after it, so two runs' dumps diff line by line.
TEST(Report, DagCsvNamesOpsSoThatAnAddedOpChangesOnlyItsNeighbours) {
  const auto dump = [](bool extra) {
    core::OpGraph g;
    const auto s0 = g.add_stream(0, "compute"), s1 = g.add_stream(1, "compute");
    const auto c0 = g.add_stream(0, "comm"), c1 = g.add_stream(1, "comm");
    const auto a = g.add_op(s0, "step", {"x"});
    auto last = a;
    if (extra) {
      last = g.add_op(s0, "step", {"x"});  // the same name again on rank 0: "step#2"
      g.add_dependency(last, a);
    }
    const auto b = g.add_op(s1, "late", {"x"});
    g.add_dependency(b, last);  // another rank's op: r0/...
    const auto x0 = g.add_op(c0, "swap", {"x"}), x1 = g.add_op(c1, "swap", {"x"});
    g.add_gang({x0, x1});
    g.finalize();
    return dag_csv(g, [](core::OpId) { return DagRow{"x", 1, ""}; });
  };
  EXPECT_EQ(dump(false),
            "rank,stream,name,category,duration_ps,work,gang,prerequisites\n"
            "0,compute,step,x,1,,,\n"
            "1,compute,late,x,1,,,r0/step\n"
            "0,comm,swap,x,1,,r0/swap,\n"
            "1,comm,swap,x,1,,r0/swap,\n");
  EXPECT_EQ(dump(true),
            "rank,stream,name,category,duration_ps,work,gang,prerequisites\n"
            "0,compute,step,x,1,,,\n"
            "0,compute,step#2,x,1,,,step\n"
            "1,compute,late,x,1,,,r0/step#2\n"
            "0,comm,swap,x,1,,r0/swap,\n"
            "1,comm,swap,x,1,,r0/swap,\n");
}

TEST(Report, StreamUsage) {
  Fixture f;
  const auto usage = stream_usage(f.graph, f.timeline);
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[0].busy, core::Time::ps(1'500'000));
  EXPECT_EQ(usage[0].idle, core::Time::ps(1'500'001));
  EXPECT_EQ(stream_usage_csv(usage, f.timeline.end()),
            "rank,stream,ops,busy_ms,idle_ms,busy_share\n"
            "0,compute,1,0.001500,0.001500,0.5000\n"
            "0,comm,1,0.001500,0.001500,0.5000\n");
}

TEST(Report, ChromeTraceHasTracksAndEscapedNames) {
  Fixture f;
  const auto json = chrome_trace_json(f.graph, f.timeline);
  EXPECT_THAT(json, HasSubstr(R"("name":"process_name","pid":0,"args":{"name":"rank 0"})"));
  EXPECT_THAT(json, HasSubstr(R"("name":"a2a \"dispatch\"")"));
  EXPECT_THAT(json, HasSubstr(R"("ts":1.500000,"dur":1.500001)"));
  EXPECT_THAT(json, HasSubstr(R"("bytes":"1048576")"));
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t entries(const std::filesystem::path& folder) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(folder),
                                                std::filesystem::directory_iterator()));
}

TEST(Report, OutputDirWritesWholeFilesAndLeavesNoTemporaries) {
  const auto root = std::filesystem::temp_directory_path() / "moesim_test_output_dir";
  std::filesystem::remove_all(root);
  {
    OutputDir dir(root / "nested");
    dir.write("a.csv", "x\n");
    EXPECT_EQ(dir.write("a.csv", "y\n"), root / "nested" / "a.csv");  // replaced whole
    EXPECT_FALSE(std::filesystem::exists(root / "nested"));  // nothing there until committed
    dir.commit();
  }
  EXPECT_EQ(read_text(root / "nested" / "a.csv"), "y\n");
  EXPECT_EQ(entries(root / "nested"), 2u);  // and the marker
  EXPECT_EQ(entries(root), 1u);             // no staging folder left beside it
  std::filesystem::remove_all(root);
}

// A second run into the same folder replaces it whole: no file of the first run stays; a run
// that fails before committing leaves the first run's folder as it was and no staging folder.
TEST(Report, OutputDirReplacesAnEarlierRunWholeOrNotAtAll) {
  const auto root = std::filesystem::temp_directory_path() / "moesim_test_output_replace";
  std::filesystem::remove_all(root);
  {
    OutputDir first(root / "run");
    first.write("trace.json", "{}");
    first.write("summary.csv", "1\n");
    first.commit();
  }
  {
    OutputDir failed(root / "run");
    failed.write("summary.csv", "broken\n");
  }  // destroyed without commit: an error or interruption before the end
  EXPECT_EQ(read_text(root / "run" / "summary.csv"), "1\n");
  EXPECT_EQ(entries(root), 1u);
  {
    OutputDir second(root / "run");
    second.write("summary.csv", "2\n");
    second.commit();
  }
  EXPECT_EQ(read_text(root / "run" / "summary.csv"), "2\n");
  EXPECT_FALSE(std::filesystem::exists(root / "run" / "trace.json"));
  EXPECT_EQ(entries(root), 1u);
  std::filesystem::remove_all(root);
}

// A folder that holds other things than a moesim run is never replaced.
TEST(Report, OutputDirRefusesAFolderItDidNotWrite) {
  const auto root = std::filesystem::temp_directory_path() / "moesim_test_output_foreign";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "mine");
  std::ofstream(root / "mine" / "thesis.tex") << "x";
  try {
    OutputDir dir(root / "mine");
    FAIL() << "a foreign folder was accepted";
  } catch (const moesim::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is not a moesim output folder"));
  }
  EXPECT_TRUE(std::filesystem::exists(root / "mine" / "thesis.tex"));
  std::filesystem::remove_all(root);
}

// SIGINT while a run's folder is being written: the staging folder is removed, the previous
// run's folder stays, the process ends with 128 + SIGINT. In a child process.
TEST(Report, AnInterruptedRunLeavesNoUnfinishedFolder) {
  const auto root = std::filesystem::temp_directory_path() / "moesim_test_interrupt";
  std::filesystem::remove_all(root);
  {
    OutputDir first(root / "run");
    first.write("summary.csv", "1\n");
    first.commit();
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const InterruptGuard guard;
    OutputDir dir(root / "run");
    dir.write("summary.csv", "2\n");
    raise(SIGINT);
    pause();  // the guard's thread ends the process
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGINT);
  EXPECT_EQ(read_text(root / "run" / "summary.csv"), "1\n");
  EXPECT_EQ(entries(root), 1u);
  std::filesystem::remove_all(root);
}

TEST(Report, WriteFileCreatesItsFolderAndReplacesWhole) {
  const auto root = std::filesystem::temp_directory_path() / "moesim_test_write_file";
  std::filesystem::remove_all(root);
  write_file(root / "sub" / "f.csv", "a\n");
  write_file(root / "sub" / "f.csv", "b\n");
  EXPECT_EQ(read_text(root / "sub" / "f.csv"), "b\n");
  EXPECT_EQ(entries(root / "sub"), 1u);
  std::filesystem::remove_all(root);
}

TEST(Report, OutputDirOverAFileIsAnError) {
  const auto file = std::filesystem::temp_directory_path() / "moesim_test_not_a_dir";
  std::ofstream(file) << "x";
  EXPECT_THROW(OutputDir{file}, moesim::Error);
  std::filesystem::remove(file);
}

// A cell wider than its column's minimum widens the column for every row, so the columns after
// it stay in line; short cells keep the minimum; lines end without spaces.
TEST(TextTable, ColumnsWidenToTheirWidestCell) {
  TextTable t(
      {{"name", 6, TextTable::Align::kLeft}, {"ms", 5}, {"note", 0, TextTable::Align::kLeft}});
  t.add_row({"a", "1.5", ""});
  t.add_row({"b", "123456.5", "x"});
  EXPECT_EQ(t.render(),
            "name         ms note\n"
            "a           1.5\n"
            "b      123456.5 x\n");
  EXPECT_THROW(t.add_row({"too", "few"}), std::logic_error);
}

}  // namespace
}  // namespace moesim::report
