#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/document.hpp"
#include "config/error.hpp"
#include "config/reader.hpp"

namespace moesim::config {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Inner {
  std::int64_t ranks = 1;
  core::Time compute = core::Time::us(1);
  template <class V>
  void fields(V& v) {
    v.field("ranks", ranks, "ranks", Check::at_least(1));
    v.field("compute", compute, "compute", Check::positive());
  }
};
struct Outer {
  std::string name = "x";
  Inner inner;
  template <class V>
  void fields(V& v) {
    v.field("name", name, "name");
    v.field("inner", inner, "inner");
  }
};

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(Document, OverridesReplaceValuesAndCreateSections) {
  auto doc = Document::from_string("name: a\ninner:\n  ranks: 2\n", "e.yaml");
  doc.apply_override("inner.ranks=16");
  doc.apply_override("inner.compute=3 us");
  const auto c = read_document<Outer>(doc);
  EXPECT_EQ(c.inner.ranks, 16);
  EXPECT_EQ(c.inner.compute, core::Time::us(3));

  auto empty = Document::from_string("", "<defaults>");
  empty.apply_override("inner.ranks=4");
  EXPECT_EQ(read_document<Outer>(empty).inner.ranks, 4);
}

TEST(Document, LaterOverrideWins) {
  auto doc = Document::from_string("", "e.yaml");
  doc.apply_override("inner.ranks=2");
  doc.apply_override("inner.ranks=3");
  EXPECT_EQ(read_document<Outer>(doc).inner.ranks, 3);
}

TEST(Document, ErrorsInOverriddenValuesPointAtTheOverride) {
  auto doc = Document::from_string("inner:\n  ranks: 2\n", "e.yaml");
  doc.apply_override("inner.ranks=zero");
  EXPECT_EQ(error_of([&] { read_document<Outer>(doc); }),
            "--set inner.ranks=zero: inner.ranks: \"zero\" is not an integer");
  auto typo = Document::from_string("", "e.yaml");
  typo.apply_override("inner.rank=2");
  EXPECT_THAT(error_of([&] { read_document<Outer>(typo); }),
              AllOf(StartsWith("--set inner.rank=2: inner.rank: unknown key"),
                    HasSubstr("did you mean 'ranks'?")));
}

TEST(Document, MalformedOverrides) {
  auto doc = Document::from_string("name: a\n", "e.yaml");
  EXPECT_THAT(error_of([&] { doc.apply_override("inner.ranks"); }), HasSubstr("no '='"));
  EXPECT_THAT(error_of([&] { doc.apply_override("=3"); }), HasSubstr("no key before '='"));
  EXPECT_THAT(error_of([&] { doc.apply_override("inner.ranks="); }), HasSubstr("no value"));
  EXPECT_THAT(error_of([&] { doc.apply_override("inner..ranks=1"); }), HasSubstr("empty key"));
  EXPECT_THAT(error_of([&] { doc.apply_override("name.first=1"); }),
              HasSubstr("'name' is a value, not a section"));
  EXPECT_THAT(error_of([&] { doc.apply_override("inner.ranks=[1"); }), HasSubstr("not valid YAML"));
}

struct WithList {
  std::vector<Inner> items;
  template <class V>
  void fields(V& v) {
    v.field("items", items, "items");
  }
};

TEST(Document, OverridesIndexListItemsThatExist) {
  const std::string yaml = "items:\n  - {ranks: 2}\n  - {ranks: 3}\n";
  auto doc = Document::from_string(yaml, "e.yaml");
  doc.apply_override("items[1].ranks=16");
  doc.apply_override("items[0]={ranks: 5, compute: 2 us}");
  const auto c = read_document<WithList>(doc);
  ASSERT_EQ(c.items.size(), 2u);
  EXPECT_EQ(c.items[0].ranks, 5);
  EXPECT_EQ(c.items[0].compute, core::Time::us(2));
  EXPECT_EQ(c.items[1].ranks, 16);

  auto bad_value = Document::from_string(yaml, "e.yaml");
  bad_value.apply_override("items[1].ranks=0");
  EXPECT_EQ(error_of([&] { read_document<WithList>(bad_value); }),
            "--set items[1].ranks=0: items[1].ranks: \"0\" must be at least 1");

  auto doc2 = Document::from_string(yaml, "e.yaml");
  EXPECT_THAT(error_of([&] { doc2.apply_override("items[2].ranks=1"); }),
              HasSubstr("'items' has 2 item(s), numbered from 0: there is no [2]"));
  EXPECT_THAT(error_of([&] { doc2.apply_override("items.ranks=1"); }),
              HasSubstr("'items' is a value, not a section"));
  EXPECT_THAT(error_of([&] { doc2.apply_override("missing[0].ranks=1"); }),
              HasSubstr("'missing' is not a list"));
  EXPECT_THAT(error_of([&] { doc2.apply_override("items[0][0]=1"); }),
              HasSubstr("'items[0]' is not a list"));
  EXPECT_THAT(error_of([&] { doc2.apply_override("items[0].ranks.x=1"); }),
              HasSubstr("'items[0].ranks' is a value, not a section"));
  for (const auto* malformed : {"items[x].ranks=1", "items[1.ranks=1", "items[1]x.ranks=1",
                                "items[-1].ranks=1", "[1].ranks=1"}) {
    EXPECT_THAT(error_of([&] { doc2.apply_override(malformed); }),
                AllOf(StartsWith(std::string("--set ") + malformed), HasSubstr("list indices")))
        << malformed;
  }
  // Nothing above changed the document.
  EXPECT_EQ(read_document<WithList>(doc2).items[0].ranks, 2);
  EXPECT_EQ(read_document<WithList>(doc2).items[1].ranks, 3);
}

TEST(Document, FileErrors) {
  EXPECT_THAT(error_of([] { Document::load_file("/nonexistent/e.yaml"); }),
              AllOf(HasSubstr("cannot open '/nonexistent/e.yaml'"), HasSubstr("No such file")));
  const auto path = std::filesystem::temp_directory_path() / "moesim_test_bad.yaml";
  { std::ofstream(path) << "name: a\ninner: [1, 2\n"; }
  EXPECT_THAT(error_of([&] { Document::load_file(path.string()); }),
              AllOf(HasSubstr(path.string() + ":"), HasSubstr("invalid YAML")));
  { std::ofstream(path) << "- a\n- b\n"; }
  EXPECT_THAT(error_of([&] { Document::load_file(path.string()); }),
              HasSubstr("must be a map of keys"));
  // An empty file (or /dev/null) would run on defaults alone: refused, naming the file.
  for (const char* text : {"", "# nothing yet\n\n"}) {
    { std::ofstream(path) << text; }
    EXPECT_EQ(error_of([&] { Document::load_file(path.string()); }),
              path.string() + ": the file holds no keys (it is empty or only comments)");
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace moesim::config

namespace moesim::config {
namespace {
TEST(Document, LocatesKeyPathsForLaterErrors) {
  const auto doc = Document::from_string(
      "name: a\ntables:\n  gemm:\n    - {m: 1}\n    - {m: 2, time: 3 us}\n", "p.yaml");
  EXPECT_EQ(doc.locate("tables.gemm[1].time"), "p.yaml:5:20");
  EXPECT_EQ(doc.locate("tables.gemm[1]"), "p.yaml:5:7");
  EXPECT_EQ(doc.locate("tables.missing"), "p.yaml:3:3") << "deepest existing part";
  EXPECT_EQ(std::string(doc.error_at("tables.gemm[1].time", "too slow").what()),
            "p.yaml:5:20: tables.gemm[1].time: too slow");
  EXPECT_FALSE(doc.root()["tables"]["missing"].IsDefined()) << "locate() must not insert keys";
}

struct WithOptional {
  std::optional<FlopRate> fp8;
  std::optional<std::int64_t> count;
  template <class V>
  void fields(V& v) {
    v.field("fp8", fp8, "only where the GPU has it", Check::positive());
    v.field("count", count, "optional count");
  }
};

TEST(Document, OptionalFieldsAreAbsentOrChecked) {
  const auto absent = read_document<WithOptional>(Document::from_string("", "o.yaml"));
  EXPECT_FALSE(absent.fp8.has_value());
  const auto present =
      read_document<WithOptional>(Document::from_string("fp8: 1979 TFLOP/s\n", "o.yaml"));
  ASSERT_TRUE(present.fp8.has_value());
  EXPECT_DOUBLE_EQ(present.fp8->flops_per_second, 1979e12);
  EXPECT_THROW(read_document<WithOptional>(Document::from_string("fp8: 0 TFLOP/s\n", "o.yaml")),
               ConfigError);
}
}  // namespace
}  // namespace moesim::config

namespace moesim::config {
namespace {
TEST(Document, BaseFilesAreInheritedAndErrorsNameTheirFile) {
  const auto dir = std::filesystem::temp_directory_path() / "moesim_test_base";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "parts");
  std::ofstream(dir / "parts" / "grand.yaml") << "name: grand\ninner:\n  ranks: 3\n  compute: 9\n";
  std::ofstream(dir / "parent.yaml") << "base: parts/grand.yaml\nname: parent\n";
  std::ofstream(dir / "child.yaml") << "base: [parent.yaml]\ninner:\n  ranks: 5\n";
  const auto doc = Document::load_file((dir / "child.yaml").string());
  EXPECT_EQ(doc.root()["name"].Scalar(), "parent") << "parent over grandparent";
  EXPECT_EQ(doc.root()["inner"]["ranks"].Scalar(), "5") << "child over both";
  EXPECT_FALSE(doc.root()["base"].IsDefined());
  try {
    read_document<Outer>(doc);
    FAIL() << "compute has no unit";
  } catch (const ConfigError& e) {
    EXPECT_THAT(std::string(e.what()),
                StartsWith((dir / "parts" / "grand.yaml").string() + ":4:12: inner.compute:"));
  }
  std::ofstream(dir / "self.yaml") << "base: self.yaml\n";
  EXPECT_THROW(Document::load_file((dir / "self.yaml").string()), ConfigError);
  // Two files inheriting each other used to recurse until the stack overflowed.
  std::ofstream(dir / "a.yaml") << "base: parts/b.yaml\nname: a\n";
  std::ofstream(dir / "parts" / "b.yaml") << "base: ../a.yaml\nname: b\n";
  const auto a = std::filesystem::weakly_canonical(dir / "a.yaml").string();
  const auto b = std::filesystem::weakly_canonical(dir / "parts" / "b.yaml").string();
  try {
    Document::load_file((dir / "a.yaml").string());
    FAIL() << "expected a ConfigError for the cycle";
  } catch (const ConfigError& e) {
    EXPECT_THAT(std::string(e.what()),
                ::testing::HasSubstr("base: the files inherit each other in a cycle: " + a +
                                     " -> " + b + " -> " + a));
  }
  // Two bases that share a grandparent are not a cycle.
  std::ofstream(dir / "left.yaml") << "base: parts/grand.yaml\nname: left\n";
  std::ofstream(dir / "right.yaml") << "base: parts/grand.yaml\nname: right\n";
  std::ofstream(dir / "both.yaml") << "base: [left.yaml, right.yaml]\n";
  EXPECT_EQ(Document::load_file((dir / "both.yaml").string()).root()["name"].Scalar(), "right");
  std::filesystem::remove_all(dir);
}

// A base that is no file beside the including one is looked up by name in the folder of
// presets given; one found nowhere is an error at its line, naming the paths tried.
TEST(Document, BasesFallBackToPresetNamesAndMissingOnesAreLocated) {
  const auto dir = std::filesystem::temp_directory_path() / "moesim_test_base_presets";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "presets" / "nodes");
  std::filesystem::create_directories(dir / "work");
  std::ofstream(dir / "presets" / "nodes" / "big.yaml") << "name: big\nranks: 8\n";
  std::ofstream(dir / "work" / "nodes.yaml") << "name: beside\n";
  std::ofstream(dir / "work" / "mine.yaml") << "base: [nodes/big, nodes.yaml]\nranks: 4\n";
  const auto doc = Document::load_file((dir / "work" / "mine.yaml").string(), dir / "presets");
  EXPECT_EQ(doc.root()["name"].Scalar(), "beside") << "the file beside wins";
  EXPECT_EQ(doc.root()["ranks"].Scalar(), "4");
  std::ofstream(dir / "work" / "only.yaml") << "base: nodes/big\n";
  EXPECT_EQ(Document::load_file((dir / "work" / "only.yaml").string(), dir / "presets")
                .root()["name"]
                .Scalar(),
            "big");
  try {
    Document::load_file((dir / "work" / "only.yaml").string());
    FAIL() << "without a folder of presets, nodes/big is no file";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "work" / "only.yaml").string() +
                                         ":1:7: base: 'nodes/big' is not a file; tried:\n  " +
                                         (dir / "work" / "nodes/big").string());
  }
  std::ofstream(dir / "work" / "typo.yaml") << "name: t\nbase: [nodes.yaml, nodes/bgi]\n";
  try {
    Document::load_file((dir / "work" / "typo.yaml").string(), dir / "presets");
    FAIL() << "nodes/bgi is neither a file nor a preset";
  } catch (const ConfigError& e) {
    EXPECT_THAT(std::string(e.what()),
                StartsWith((dir / "work" / "typo.yaml").string() +
                           ":2:20: base: 'nodes/bgi' is neither a file nor a preset name; tried:"));
    EXPECT_THAT(std::string(e.what()),
                ::testing::HasSubstr((dir / "presets" / "nodes/bgi.yaml").string()));
  }
  std::ofstream(dir / "work" / "map.yaml") << "base: [{file: x}]\n";
  EXPECT_THROW(Document::load_file((dir / "work" / "map.yaml").string()), ConfigError);
  std::filesystem::remove_all(dir);
}
}  // namespace
}  // namespace moesim::config
