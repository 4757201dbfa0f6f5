// Configuration text -> JSON: YAML 1.1 scalar resolution as kubectl applies it, errors with lines.
#include "core/json.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmscale::core {
namespace {

Json one(const std::string& text) {
  auto doc = parse_document(text);
  EXPECT_TRUE(doc.has_value()) << (doc ? "" : doc.error().message);
  return doc ? *doc : Json();
}

TEST(ManifestTest, ResolvesScalarsLikeGoYamlV2) {
  Json j = one(R"(
a: yes
b: off
c: "on"
d: 0x1F
e: 1_000
f: 010
g: 1.5
h: 1e3
i: ~
j: 100m
k: '5'
l: .5
m: -7
big: 9223372036854775808
o: 2024-01-01T00:00:00Z
)");
  EXPECT_EQ(j["a"], true);
  EXPECT_EQ(j["b"], false);
  EXPECT_EQ(j["c"], "on");
  EXPECT_EQ(j["d"], 31);
  EXPECT_EQ(j["e"], 1000);
  EXPECT_EQ(j["f"], 8);
  EXPECT_EQ(j["g"], 1.5);
  EXPECT_EQ(j["h"], 1000.0);
  EXPECT_TRUE(j["i"].is_null());
  EXPECT_EQ(j["j"], "100m");
  EXPECT_EQ(j["k"], "5");
  EXPECT_EQ(j["l"], 0.5);
  EXPECT_EQ(j["m"], -7);
  EXPECT_TRUE(j["big"].is_number_unsigned());
  EXPECT_EQ(j["o"], "2024-01-01T00:00:00Z");
}

TEST(ManifestTest, KeepsKeyOrder) {
  Json j = one("zeta: 1\nalpha: 2\nmid: 3\n");
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"zeta", "alpha", "mid"}));
}

TEST(ManifestTest, SplitsDocumentsAndSkipsEmptyOnes) {
  auto docs = parse_documents("---\na: 1\n---\n---\nb: 2\n");
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[1]["b"], 2);
}

TEST(ManifestTest, ReadsJson) {
  Json j = one(R"({"kind": "X", "n": 1.0, "s": "100m"})");
  EXPECT_EQ(j["kind"], "X");
  EXPECT_TRUE(j["n"].is_number_float());
}

TEST(ManifestTest, ReportsSyntaxErrorsWithTheLine) {
  auto bad = parse_documents("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("yaml: line"), std::string::npos) << bad.error().message;
  auto dup = parse_documents("a: 1\nb: 2\na: 3\n");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "yaml: line 3: key \"a\" already set in map");
  auto json_bad = parse_documents("{\"a\": }");
  ASSERT_FALSE(json_bad);
  EXPECT_NE(json_bad.error().message.find("json"), std::string::npos);
}

TEST(ManifestTest, FormatsFloatsLikeGoEncodingJson) {
  EXPECT_EQ(go_format_float(0.5), "0.5");
  EXPECT_EQ(go_format_float(1000.0), "1000");
  EXPECT_EQ(go_format_float(1e21), "1e+21");
  EXPECT_EQ(go_format_float(1e-7), "1e-7");
  EXPECT_EQ(go_format_float(-2.25), "-2.25");
}

}  // namespace
}  // namespace llmscale::core

namespace llmscale::core {
namespace {

// go-yaml v2 resolves the plain key `n` to false, and kubectl then sees the key "false".
TEST(ManifestTest, ResolvesKeysToo) {
  auto doc = parse_document("n: 1\ny: 2\n");
  ASSERT_TRUE(doc);
  EXPECT_TRUE(doc->contains("false"));
  EXPECT_TRUE(doc->contains("true"));
}

}  // namespace
}  // namespace llmscale::core

namespace llmscale::core {
namespace {

TEST(ManifestTest, ExpandsAnchorsAliasesAndMergeKeys) {
  auto doc = parse_document(R"(
base: &base {a: 1, b: 2}
copy: *base
merged:
  <<: *base
  b: 3
list: [&x hello, *x]
)");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ((*doc)["copy"]["b"], 2);
  EXPECT_EQ((*doc)["merged"]["a"], 1);
  EXPECT_EQ((*doc)["merged"]["b"], 3);
  EXPECT_EQ((*doc)["list"][1], "hello");
}

TEST(ManifestTest, RefusesAliasBombsAndBadInput) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  auto exploded = parse_documents(bomb);
  ASSERT_FALSE(exploded);
  EXPECT_EQ(exploded.error().message, "yaml: document contains excessive aliasing");
  EXPECT_FALSE(parse_documents(",i").has_value());
  EXPECT_FALSE(parse_documents(",").has_value());
  EXPECT_FALSE(parse_documents("a: \xff\n").has_value());
  EXPECT_EQ(parse_documents("a: *nope\n").error().message,
            "yaml: line 1: unknown anchor 'nope' referenced");
  auto explicit_tags = parse_document("a: !!str 5\nb: ! 6\nc: !!int \"7\"\n");
  ASSERT_TRUE(explicit_tags);
  EXPECT_EQ((*explicit_tags)["a"], "5");
  EXPECT_EQ((*explicit_tags)["b"], "6");
  EXPECT_EQ((*explicit_tags)["c"], 7);
}

}  // namespace
TEST(ManifestTest, RecordsSourceLinesByJsonPointer) {
  std::vector<SourceLines> lines;
  auto docs = parse_documents(R"(a: 1
b:
  - x: 1
    y/z: 2
  - 3
---
c: {d: 4}
)",
                              &lines);
  ASSERT_TRUE(docs.has_value()) << docs.error().message;
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("/a"), 1);
  EXPECT_EQ(lines[0].at("/b"), 2);
  EXPECT_EQ(lines[0].at("/b/0"), 3);
  EXPECT_EQ(lines[0].at("/b/0/y~1z"), 4);
  EXPECT_EQ(lines[0].at("/b/1"), 5);
  EXPECT_EQ(source_line(lines[0], "/b/0/x/deeper"), 3);
  EXPECT_EQ(lines[1].at("/c/d"), 7);
  std::vector<SourceLines> json_lines;
  ASSERT_TRUE(parse_documents(R"({"a": 1})", &json_lines).has_value());
  ASSERT_EQ(json_lines.size(), 1u);
  EXPECT_EQ(source_line(json_lines[0], "/a"), 0);
}

}  // namespace llmscale::core
