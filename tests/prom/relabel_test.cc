// Relabeling: every action with Prometheus' semantics (cases after prometheus/model/relabel's
// tests), template expansion, validation messages and config decoding with field paths.
#include "prom/scrape/relabel.h"

#include <gtest/gtest.h>

namespace llmscale::prom {
namespace {

std::string relabel(const Labels& input, std::vector<RelabelConfig> configs) {
  auto rules = RelabelRules::compile(std::move(configs));
  if (!rules) return "error: " + rules.error().message;
  auto out = rules->apply(input);
  return out ? out->to_string() : "dropped";
}

RelabelConfig cfg(RelabelAction action) {
  RelabelConfig c;
  c.action = action;
  return c;
}

const Labels kABC{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}};

TEST(RelabelTest, ReplaceWithGroupsAndSeparator) {
  auto c = cfg(RelabelAction::kReplace);
  c.source_labels = {"a"};
  c.regex = "f(.*)";
  c.target_label = "d";
  c.replacement = "ch${1}-ch${1}";
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz", d="choo-choo"})");

  c.source_labels = {"a", "b"};
  c.regex = "f(.*);(.*)r";
  c.target_label = "a";
  c.replacement = "b${1}${2}m";  // "f(.*);(.*)r" on "foo;bar": ${1}=oo, ${2}=ba
  EXPECT_EQ(relabel(kABC, {c}), R"({a="boobam", b="bar", c="baz"})");

  // Regex is anchored: "o" does not match "foo", nothing changes.
  c = cfg(RelabelAction::kReplace);
  c.source_labels = {"a"};
  c.regex = "o";
  c.target_label = "a";
  c.replacement = "x";
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz"})");
}

TEST(RelabelTest, ReplaceDefaultsCopyTheJoinedValue) {
  auto c = cfg(RelabelAction::kReplace);
  c.source_labels = {"a", "c"};
  c.target_label = "joined";
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz", joined="foo;baz"})");
  // Missing source labels join as "".
  c.source_labels = {"missing"};
  c.target_label = "m";
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz"})");
}

TEST(RelabelTest, ReplaceEmptyResultOrInvalidTargetDeletesTheTarget) {
  auto c = cfg(RelabelAction::kReplace);
  c.source_labels = {"a"};
  c.regex = "(f).*";
  c.target_label = "b";
  c.replacement = "$2";  // no group 2: empty
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", c="baz"})");
  c.target_label = "${1}_x";  // "f_x" is valid
  c.replacement = "y";
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz", f_x="y"})");
  // The expanded target "9x" is not a label name: nothing is set.
  c.regex = "(.*)";
  c.source_labels = {"a"};
  c.target_label = "${1}";
  EXPECT_EQ(relabel(Labels{{"a", "9x"}}, {c}), R"({a="9x"})");
  // Validation already rejects targets that can never be label names.
  c.target_label = "${1}-";
  EXPECT_EQ(relabel(Labels{{"a", "1"}}, {c}),
            "error: [0]: \"${1}-\" is invalid 'target_label' for replace action");
}

TEST(RelabelTest, TemplateExpansionFollowsGo) {
  auto c = cfg(RelabelAction::kReplace);
  c.source_labels = {"a"};
  c.regex = "(?P<first>f)(?P<rest>.*)";
  c.target_label = "t";
  c.replacement = "$$${first}|${rest}|$1x|${1}x|$first|${missing}|$";
  // "$$" is "$"; "$1x" names group "1x" (none); "$first" takes the longest word "first".
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz", t="$f|oo||fx|f||$"})");
}

TEST(RelabelTest, KeepAndDrop) {
  auto keep = cfg(RelabelAction::kKeep);
  keep.source_labels = {"a"};
  keep.regex = "f.*";
  EXPECT_EQ(relabel(kABC, {keep}), R"({a="foo", b="bar", c="baz"})");
  keep.regex = "f";
  EXPECT_EQ(relabel(kABC, {keep}), "dropped");
  auto drop = cfg(RelabelAction::kDrop);
  drop.source_labels = {"a", "b"};
  drop.regex = "foo;bar";
  EXPECT_EQ(relabel(kABC, {drop}), "dropped");
  drop.regex = "foo";
  EXPECT_EQ(relabel(kABC, {drop}), R"({a="foo", b="bar", c="baz"})");
  // An absent label matches "" (keep series without a pod label: regex "").
  keep.source_labels = {"pod"};
  keep.regex = "";
  EXPECT_EQ(relabel(kABC, {keep}), R"({a="foo", b="bar", c="baz"})");
}

TEST(RelabelTest, KeepEqualAndDropEqual) {
  Labels l{{"a", "1"}, {"b", "1"}, {"c", "2"}};
  auto ke = cfg(RelabelAction::kKeepEqual);
  ke.source_labels = {"a"};
  ke.target_label = "b";
  EXPECT_EQ(relabel(l, {ke}), R"({a="1", b="1", c="2"})");
  ke.target_label = "c";
  EXPECT_EQ(relabel(l, {ke}), "dropped");
  auto de = cfg(RelabelAction::kDropEqual);
  de.source_labels = {"a"};
  de.target_label = "b";
  EXPECT_EQ(relabel(l, {de}), "dropped");
}

TEST(RelabelTest, HashModMatchesPrometheus) {
  auto c = cfg(RelabelAction::kHashMod);
  c.source_labels = {"c"};
  c.target_label = "d";
  c.modulus = 1000;
  EXPECT_EQ(relabel(kABC, {c}), R"({a="foo", b="bar", c="baz", d="976"})");
  unsigned char digest[16];
  md5_digest("", digest);
  EXPECT_EQ(digest[0], 0xd4);
  EXPECT_EQ(digest[15], 0x7e);
}

TEST(RelabelTest, LabelMapDropKeep) {
  Labels l{{"__meta_pod", "p"}, {"__meta_ns", "n"}, {"job", "j"}};
  auto map = cfg(RelabelAction::kLabelMap);
  map.regex = "__meta_(.+)";
  EXPECT_EQ(relabel(l, {map}), R"({__meta_ns="n", __meta_pod="p", job="j", ns="n", pod="p"})");
  auto drop = cfg(RelabelAction::kLabelDrop);
  drop.regex = "__meta_.*";
  EXPECT_EQ(relabel(l, {map, drop}), R"({job="j", ns="n", pod="p"})");
  auto keep = cfg(RelabelAction::kLabelKeep);
  keep.regex = "job|pod";
  EXPECT_EQ(relabel(l, {map, keep}), R"({job="j", pod="p"})");
}

TEST(RelabelTest, LowercaseUppercase) {
  Labels l{{"a", "MiXeD"}};
  auto lower = cfg(RelabelAction::kLowercase);
  lower.source_labels = {"a"};
  lower.target_label = "lo";
  auto upper = cfg(RelabelAction::kUppercase);
  upper.source_labels = {"a"};
  upper.target_label = "up";
  EXPECT_EQ(relabel(l, {lower, upper}), R"({a="MiXeD", lo="mixed", up="MIXED"})");
}

TEST(RelabelTest, RulesRunInOrderOnTheirPredecessorsOutput) {
  auto r1 = cfg(RelabelAction::kReplace);
  r1.source_labels = {"a"};
  r1.target_label = "x";
  auto r2 = cfg(RelabelAction::kKeep);
  r2.source_labels = {"x"};
  r2.regex = "foo";
  EXPECT_EQ(relabel(kABC, {r1, r2}), R"({a="foo", b="bar", c="baz", x="foo"})");
}

TEST(RelabelTest, ValidationMessagesAreUpstreams) {
  auto hm = cfg(RelabelAction::kHashMod);
  hm.target_label = "x";
  EXPECT_EQ(relabel(kABC, {hm}),
            "error: [0]: relabel configuration for hashmod requires non-zero modulus");
  auto rep = cfg(RelabelAction::kReplace);
  EXPECT_EQ(relabel(kABC, {rep}),
            "error: [0]: relabel configuration for replace action requires 'target_label' value");
  rep.target_label = "1bad";
  EXPECT_EQ(relabel(kABC, {rep}),
            "error: [0]: \"1bad\" is invalid 'target_label' for replace action");
  auto lower = cfg(RelabelAction::kLowercase);
  lower.target_label = "x";
  lower.replacement = "y";
  EXPECT_EQ(relabel(kABC, {lower}),
            "error: [0]: 'replacement' can not be set for lowercase action");
  auto ld = cfg(RelabelAction::kLabelDrop);
  ld.source_labels = {"a"};
  EXPECT_EQ(relabel(kABC, {ld}),
            "error: [0]: labeldrop action requires only 'regex', and no other fields");
  auto ke = cfg(RelabelAction::kKeepEqual);
  ke.target_label = "a";
  ke.regex = "x";
  EXPECT_EQ(relabel(kABC, {ke}),
            "error: [0]: keepequal action requires only 'source_labels' and `target_label`, and "
            "no other fields");
  auto bad = cfg(RelabelAction::kKeep);
  bad.regex = "(";
  EXPECT_EQ(relabel(kABC, {bad}).substr(0, 34), "error: [0]: error parsing regexp: ");
}

TEST(RelabelDecodeTest, PrometheusYaml) {
  auto configs = parse_relabel_configs(R"(
- source_labels: [__name__]
  regex: 'vllm:(num_requests_.*|kv_cache_usage_perc)'
  action: keep
- action: LabelDrop
  regex: engine
- source_labels: [code]
  regex: 200
  target_label: ok
  replacement: "yes"
- source_labels: [pod]
  target_label: shard
  modulus: 4
  action: hashmod
)",
                                       RelabelFieldNames::kPrometheus);
  ASSERT_TRUE(configs.has_value()) << configs.error().message;
  ASSERT_EQ(configs->size(), 4u);
  EXPECT_EQ((*configs)[1].action, RelabelAction::kLabelDrop);
  EXPECT_EQ((*configs)[2].regex, "200");
  EXPECT_EQ((*configs)[3].modulus, 4u);
  auto rules = RelabelRules::compile(*configs);
  ASSERT_TRUE(rules.has_value());
  auto out = rules->apply(Labels{
      {"__name__", "vllm:num_requests_waiting"}, {"engine", "0"}, {"code", "200"}, {"pod", "p-0"}});
  ASSERT_TRUE(out.has_value());
  EXPECT_FALSE(out->has("engine"));
  EXPECT_EQ(out->get("ok"), "yes");
  EXPECT_FALSE(rules->apply(Labels{{"__name__", "vllm:other"}}).has_value());
}

TEST(RelabelDecodeTest, PodMonitoringCamelCase) {
  auto configs = parse_relabel_configs(R"([
    {"sourceLabels": ["__name__"], "regex": "tgi_.*", "action": "keep"},
    {"sourceLabels": ["model"], "targetLabel": "model_name", "action": "replace"}
  ])",
                                       RelabelFieldNames::kPodMonitoring);
  ASSERT_TRUE(configs.has_value()) << configs.error().message;
  EXPECT_EQ((*configs)[1].target_label, "model_name");
}

TEST(RelabelDecodeTest, ErrorsNameTheField) {
  auto err = [](std::string_view text, RelabelFieldNames names = RelabelFieldNames::kPrometheus) {
    auto r = parse_relabel_configs(text, names);
    return r ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(err("- action: explode\n"),
            "metric_relabel_configs[0].action: unknown relabel action \"explode\"");
  EXPECT_EQ(err("- action: keep\n- action: hashmod\n  target_label: x\n"),
            "metric_relabel_configs[1]: relabel configuration for hashmod requires non-zero "
            "modulus");
  EXPECT_EQ(err("- source_labels: [1a]\n"),
            "metric_relabel_configs[0].source_labels[0]: \"1a\" is not a valid label name");
  EXPECT_EQ(err("- sourceLabels: [a]\n"),
            "strict decoding error: unknown field \"metric_relabel_configs[0].sourceLabels\"");
  EXPECT_EQ(err("- source_labels: [a]\n", RelabelFieldNames::kPodMonitoring),
            "strict decoding error: unknown field \"metricRelabeling[0].source_labels\"");
  EXPECT_EQ(err("- modulus: -1\n  action: hashmod\n  target_label: x\n"),
            "metric_relabel_configs[0].modulus: must not be negative");
  EXPECT_EQ(err("- action: ''\n"),
            "metric_relabel_configs[0].action: relabel action cannot be empty");
  EXPECT_EQ(err("{}"), "metric_relabel_configs: expected a list, got an object");
}

}  // namespace
}  // namespace llmscale::prom
