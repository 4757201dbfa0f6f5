// Field selectors as the API server parses and applies them.
#include "kube/field_selector.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmscale::kube {
namespace {

TEST(FieldSelectorTest, ParsesOperatorsAndChecksSupportedLabels) {
  auto s = parse_field_selector("metadata.name=a, reason!=x,type==Warning", {"reason", "type"});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  EXPECT_FALSE((*s)[1].equal);
  EXPECT_EQ((*s)[2].value, "Warning");
  EXPECT_TRUE(parse_field_selector("  ", {})->empty());
  auto unknown = parse_field_selector("spec.x=y", {"reason"});
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "field label not supported: spec.x");
  auto garbled = parse_field_selector("a=b,nonsense", {"a"});
  ASSERT_FALSE(garbled);
  EXPECT_EQ(garbled.error().message,
            "invalid selector: 'a=b,nonsense'; can't understand 'nonsense'");
}

TEST(FieldSelectorTest, MatchesStringsIntegersAndAbsentFields) {
  core::Json event = core::Json::parse(
      R"({"metadata":{"name":"e1"},"involvedObject":{"kind":"HorizontalPodAutoscaler"},"count":3})");
  auto kind = parse_field_selector("involvedObject.kind=HorizontalPodAutoscaler,count=3",
                                   {"involvedObject.kind", "count"});
  EXPECT_TRUE(matches(*kind, event));
  auto absent = parse_field_selector("reason!=x", {"reason"});
  EXPECT_TRUE(matches(*absent, event));  // "" != "x"
  auto other = parse_field_selector("metadata.name=e2", {});
  EXPECT_FALSE(matches(*other, event));
}

}  // namespace
}  // namespace llmscale::kube
