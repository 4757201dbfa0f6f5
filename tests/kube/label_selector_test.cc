// Label selectors: string syntax, metav1.LabelSelector conversion, matching, upstream errors.
#include "kube/label_selector.h"

#include <gtest/gtest.h>

namespace llmscale::kube {
namespace {

std::string roundtrip(const std::string& text) {
  auto s = Selector::parse(text);
  return s ? s->to_string() : "error: " + s.error().message;
}

TEST(SelectorParseTest, ParsesAndPrintsSortedByKey) {
  EXPECT_EQ(roundtrip("app=x,tier in (b,a),!canary"), "app=x,!canary,tier in (a,b)");
  EXPECT_EQ(roundtrip("x in (foo,,baz),y,z notin ()"), "x in (,baz,foo),y,z notin ()");
  EXPECT_EQ(roundtrip(" a == b , c != d "), "a==b,c!=d");
  EXPECT_EQ(roundtrip("gen>3,age<10"), "age<10,gen>3");
  EXPECT_EQ(roundtrip("app.kubernetes.io/name=dcgm"), "app.kubernetes.io/name=dcgm");
  EXPECT_EQ(roundtrip("a="), "a=");
  EXPECT_EQ(roundtrip(""), "");
  EXPECT_EQ(roundtrip("x in (in)"), "x in (in)");
}

TEST(SelectorParseTest, ReportsUpstreamErrors) {
  EXPECT_EQ(roundtrip("x=a b"), "error: found 'b', expected: ',' or 'end of string'");
  EXPECT_EQ(roundtrip("x in a"), "error: unable to parse requirement: found 'a' expected: '('");
  EXPECT_EQ(roundtrip("=a"), "error: found '=', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(roundtrip("a,"), "error: found '', expected: identifier after ','");
  EXPECT_EQ(roundtrip("a=b=c"), "error: found '=', expected: ',' or 'end of string'");
  EXPECT_EQ(roundtrip("x>a"),
            "error: unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', "
            "'Lt' operators, the value must be an integer");
  EXPECT_EQ(roundtrip("-a=b"),
            "error: unable to parse requirement: <nil>: Invalid value: \"-a\": name part must "
            "consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
            "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
            "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  EXPECT_EQ(roundtrip("a=b c"), "error: found 'c', expected: ',' or 'end of string'");
  EXPECT_EQ(roundtrip("a in (b"),
            "error: unable to parse requirement: found '', expected: ',' or ')'");
  EXPECT_EQ(
      roundtrip("a !! b"),
      "error: unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt");
}

TEST(SelectorMatchTest, MatchesLikeUpstream) {
  auto s = *Selector::parse("app=x,tier in (a,b),!canary");
  EXPECT_TRUE(s.matches({{"app", "x"}, {"tier", "a"}}));
  EXPECT_FALSE(s.matches({{"app", "x"}, {"tier", "c"}}));
  EXPECT_FALSE(s.matches({{"app", "x"}, {"tier", "a"}, {"canary", ""}}));
  EXPECT_FALSE(s.matches({{"tier", "a"}}));
  auto notin = *Selector::parse("env notin (prod),n>2");
  EXPECT_TRUE(notin.matches({{"n", "3"}}));
  EXPECT_FALSE(notin.matches({{"n", "2"}}));
  EXPECT_FALSE(notin.matches({{"n", "x"}}));
  EXPECT_FALSE(notin.matches({{"env", "prod"}, {"n", "9"}}));
  EXPECT_TRUE(Selector::everything().matches({}));
  EXPECT_FALSE(Selector::nothing().matches({}));
}

TEST(LabelSelectorTest, ConvertsMetav1Selectors) {
  LabelSelector ls;
  ls.match_labels = {{"app", "gemma-server"}};
  ls.match_expressions = {{"tier", "In", {"b", "a"}}, {"canary", "DoesNotExist", {}}};
  auto s = to_selector(ls);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->to_string(), "app=gemma-server,!canary,tier in (a,b)");
  EXPECT_TRUE(to_selector(std::nullopt)->is_nothing());
  EXPECT_TRUE(to_selector(LabelSelector{})->empty());
  ls.match_expressions = {{"tier", "Has", {"a"}}};
  EXPECT_EQ(to_selector(ls).error().message, "\"Has\" is not a valid label selector operator");
  ls.match_expressions = {{"tier", "In", {}}};
  EXPECT_EQ(to_selector(ls).error().message,
            "values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
}

TEST(LabelSelectorTest, PrintsGoDebugFormForMetricDescriptions) {
  LabelSelector ls;
  ls.match_labels = {{"queue", "worker_tasks"}};
  EXPECT_EQ(go_debug_string(ls),
            "&LabelSelector{MatchLabels:map[string]string{queue: worker_tasks,},MatchExpressions:[]"
            "LabelSelectorRequirement{},}");
  EXPECT_EQ(go_debug_string(std::nullopt), "nil");
}

}  // namespace
}  // namespace llmscale::kube
