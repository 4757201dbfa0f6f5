// Configuration text -> JSON: YAML 1.1 scalar resolution as kubectl applies it, errors with lines.
#include "core/json.h"

#include <pthread.h>

#include <functional>

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

namespace llmscale::core {
namespace {

std::string nested_arrays(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

// Runs `body` on a thread whose stack is `bytes` (half the default 8 MiB), so a walker that
// recursed deeper than the bound allows would overflow here first.
void on_small_stack(std::size_t bytes, std::function<void()> body) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, bytes);
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, &body), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

// Issue 11 item 4: 100000 nested arrays used to crash every client (the vector's initializer
// list copied the parsed tree, and nlohmann's copy recurses once per level).
TEST(JsonLimitsTest, RefusesDeepJsonBeforeAnyWalk) {
  auto deep = parse_documents(nested_arrays(100'000));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().message, "json: exceeded max depth of 1000 at byte 1000");
  auto unbalanced = parse_json("{\"a\": " + std::string(200'000, '['));
  ASSERT_FALSE(unbalanced);
  EXPECT_EQ(unbalanced.error().message, "json: exceeded max depth of 1000 at byte 1005");
  // Brackets inside strings do not count.
  auto quoted = parse_json("[\"" + std::string(5000, '[') + "\\\"[\"]");
  ASSERT_TRUE(quoted) << quoted.error().message;
  EXPECT_EQ((*quoted)[0].get<std::string>().size(), 5002u);
  EXPECT_FALSE(parse_json(nested_arrays(kMaxJsonDepth + 1)));
  JsonLimits shallow;
  shallow.max_depth = 2;
  EXPECT_TRUE(parse_json("[[1]]", shallow));
  EXPECT_FALSE(parse_json("[[[1]]]", shallow));
}

TEST(JsonLimitsTest, RefusesDeepYamlBeforeAnyWalk) {
  // Flow sequences under a key (the text does not open with '[', so it is YAML).
  std::string deep = "a: " + nested_arrays(100'000) + "\n";
  auto refused = parse_documents(deep);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "yaml: line 1: exceeded max depth of 1000");
  std::string block;
  for (int i = 0; i < kMaxJsonDepth + 1; ++i) block += std::string(2 * i, ' ') + "k:\n";
  EXPECT_FALSE(parse_documents(block));
}

// Every recursive walker of a parsed document (nlohmann's copy, dump, comparison, destruction;
// the YAML reader; the size count) at the bound, on half the default stack.
TEST(JsonLimitsTest, EveryWalkerIsSafeAtTheBound) {
  on_small_stack(4u << 20, [] {
    auto json = parse_json(nested_arrays(kMaxJsonDepth));
    ASSERT_TRUE(json) << json.error().message;
    Json copy = *json;
    EXPECT_EQ(copy, *json);
    EXPECT_EQ(to_compact_json(copy), nested_arrays(kMaxJsonDepth));
    EXPECT_EQ(to_pretty_json(copy).size() > 2 * kMaxJsonDepth, true);
    EXPECT_EQ(compact_json_size(copy), 2u * kMaxJsonDepth);
    auto yaml = parse_documents("a: " + nested_arrays(kMaxJsonDepth - 1) + "\n");
    ASSERT_TRUE(yaml) << yaml.error().message;
    std::string block;
    for (int i = 0; i < kMaxJsonDepth; ++i) block += std::string(2 * i, ' ') + "k:\n";
    auto blocks = parse_documents(block);
    ASSERT_TRUE(blocks) << blocks.error().message;
    EXPECT_EQ(to_compact_json((*blocks)[0]).size(), 6u * (kMaxJsonDepth - 1) + 10);
  });
}

// Issue 11 item 10: duplicate keys in JSON are refused as the API server's strict decoding
// (sigs.k8s.io/json) refuses them, with the field's path.
TEST(JsonLimitsTest, RefusesDuplicateKeysInJson) {
  auto dup =
      parse_documents(R"({"spec": {"minReplicas": 1, "maxReplicas": 3, "minReplicas": -3}})");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "json: duplicate field \"spec.minReplicas\"");
  auto in_list = parse_json(R"({"m": [{"a": 1}, {"b": 1, "b": 2}]})");
  ASSERT_FALSE(in_list);
  EXPECT_EQ(in_list.error().message, "json: duplicate field \"m[1].b\"");
  // The same key in sibling objects is fine; Go's plain decoder keeps the last one.
  EXPECT_TRUE(parse_json(R"([{"a": 1}, {"a": 2}, [[{"a": {"a": 3}}]]])"));
  JsonLimits lenient;
  lenient.reject_duplicate_keys = false;
  auto last = parse_json(R"({"a": 1, "a": 2})", lenient);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->size(), 1u);
}

// The duplicate check is a hash set per object, so it adds little to nlohmann's ordered_map
// (whose own insertion scans the object's keys).
TEST(JsonLimitsTest, ChecksEveryKeyOfALargeObject) {
  std::string text = "{";
  for (int i = 0; i < 2000; ++i) text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":1";
  text += "}";
  auto many = parse_json(text);
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_EQ(many->size(), 2000u);
  text.insert(text.size() - 1, ",\"k1999\":2");
  EXPECT_EQ(parse_json(text).error().message, "json: duplicate field \"k1999\"");
}

TEST(JsonLimitsTest, CountsCompactSizeWithoutWriting) {
  auto doc = parse_json(R"({"a": [1, 2.5, "xy", null, true, {}], "bb": {"c": []}})");
  ASSERT_TRUE(doc);
  EXPECT_EQ(compact_json_size(*doc), to_compact_json(*doc).size());
}

// Issue 11 item 5: go-yaml v3's allowedAliasRatio. A 405-byte bomb expanding to ~1.1 million
// values was accepted (and copied) up to a fixed 4 million-node limit; now it is refused at
// ~400 thousand aliased decodes, before the aliased values are copied.
TEST(JsonLimitsTest, RefusesAliasBombsByGoYamlsRatio) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'f'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 16; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  ASSERT_LT(bomb.size(), 500u);
  auto exploded = parse_documents(bomb);
  ASSERT_FALSE(exploded);
  EXPECT_EQ(exploded.error().message, "yaml: document contains excessive aliasing");

  // Small documents may be nearly all aliases (99%), as in go-yaml.
  std::string fine = "base: &b {a: 1, b: 2, c: 3}\nl: [";
  for (int i = 0; i < 300; ++i) fine += std::string(i ? ", " : "") + "*b";
  fine += "]\n";
  auto ok = parse_document(fine);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)["l"].size(), 300u);

  // One long scalar repeated by aliases: go-yaml shares the string, we would copy it.
  std::string wide = "s: &s " + std::string(1 << 20, 'x') + "\nl: [";
  for (int i = 0; i < 40; ++i) wide += std::string(i ? ", " : "") + "*s";
  wide += "]\n";
  auto copied = parse_documents(wide);
  ASSERT_FALSE(copied);
  EXPECT_EQ(copied.error().message,
            "yaml: document contains excessive aliasing (aliases copy more than 16 MiB)");
}

// Go (Kubernetes, Prometheus) and Python (FastAPI servers: vLLM, SGLang) write the same string
// differently: Go is HTML-safe, Python leaves <, >, & and U+2028 as they are.
TEST(JsonString, GoAndPythonEscapes) {
  const std::string text = "a\"b\\c\n\t\b\f\x01<p>&\xE2\x80\xA8\xff";
  std::string go, go_old, python;
  append_go_json_string(go, text);
  append_go_json_string(go_old, text, GoJsonEscapes::kBeforeGo122);
  append_python_json_string(python, text);
  EXPECT_EQ(go, R"("a\"b\\c\n\t\b\f\u0001\u003cp\u003e\u0026\u2028\ufffd")");
  EXPECT_EQ(go_old, R"("a\"b\\c\n\t\u0008\u000c\u0001\u003cp\u003e\u0026\u2028\ufffd")");
  EXPECT_EQ(python, "\"a\\\"b\\\\c\\n\\t\\b\\f\\u0001<p>&\xE2\x80\xA8\\ufffd\"");
}

}  // namespace
}  // namespace llmscale::core
