// The three patch types as the API server applies them.
#include "apiserver/patch.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmscale::apiserver {
namespace {

using core::Json;

Json parse(const char* text) {
  return Json::parse(text);
}

TEST(PatchTest, ContentTypes) {
  EXPECT_EQ(*patch_type("application/merge-patch+json"), PatchType::kMerge);
  EXPECT_EQ(*patch_type("application/json-patch+json; charset=utf-8"), PatchType::kJson);
  EXPECT_EQ(*patch_type("application/strategic-merge-patch+json"), PatchType::kStrategic);
  EXPECT_EQ(*patch_type("application/apply-patch+yaml"), PatchType::kApply);
  auto bad = patch_type("text/plain");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 415);
  EXPECT_EQ(bad.error().message,
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json-patch+json, application/merge-patch+json, "
            "application/apply-patch+yaml, application/strategic-merge-patch+json");
}

TEST(PatchTest, MergePatchReplacesListsAndDeletesNulls) {
  Json object = parse(R"({"spec":{"a":1,"b":{"c":2},"list":[1,2]}})");
  auto out = apply_merge_patch(object, parse(R"({"spec":{"a":null,"b":{"d":3},"list":[9]}})"));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, parse(R"({"spec":{"b":{"c":2,"d":3},"list":[9]}})"));
}

TEST(PatchTest, JsonPatchOperationsAndFailures) {
  Json object = parse(R"({"spec":{"replicas":1}})");
  auto out = apply_json_patch(object, parse(R"([{"op":"replace","path":"/spec/replicas","value":3},
                        {"op":"add","path":"/spec/paused","value":true}])"));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, parse(R"({"spec":{"replicas":3,"paused":true}})"));
  auto failed =
      apply_json_patch(object, parse(R"([{"op":"test","path":"/spec/replicas","value":2}])"));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, 422);
  auto not_a_list = apply_json_patch(object, parse(R"({"op":"add"})"));
  ASSERT_FALSE(not_a_list);
  EXPECT_EQ(not_a_list.error().code, 400);
}

TEST(PatchTest, StrategicMergesContainersByName) {
  Json object = parse(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"a","image":"a:1","env":[{"name":"X","value":"1"}]},
      {"name":"b","image":"b:1"}]}}}})");
  auto out = apply_strategic_merge_patch(object, parse(R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
      "containers":[{"name":"a","image":"a:2","env":[{"name":"Y","value":"2"}]},
                    {"name":"b","$patch":"delete"}]}}}})"));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, parse(R"({"spec":{"template":{"spec":{"containers":[
      {"name":"a","image":"a:2","env":[{"name":"X","value":"1"},{"name":"Y","value":"2"}]}]}}}})"));
}

TEST(PatchTest, StrategicReplacesAtomicListsAndMergesConditionsByType) {
  Json object = parse(R"({"spec":{"metrics":[{"type":"Pods"},{"type":"External"}]},
      "status":{"conditions":[{"type":"AbleToScale","status":"True"},
                              {"type":"ScalingActive","status":"True"}]}})");
  auto out = apply_strategic_merge_patch(object, parse(R"({"spec":{"metrics":[{"type":"Object"}]},
      "status":{"conditions":[{"type":"ScalingActive","status":"False"}]}})"));
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["spec"]["metrics"], parse(R"([{"type":"Object"}])"));
  EXPECT_EQ((*out)["status"]["conditions"], parse(R"([{"type":"AbleToScale","status":"True"},
                      {"type":"ScalingActive","status":"False"}])"));
}

TEST(PatchTest, StrategicDirectives) {
  Json object = parse(R"({"a":{"x":1,"y":2},"finalizers":["f1","f2"],"b":{"k":1}})");
  auto out = apply_strategic_merge_patch(
      object, parse(R"({"a":{"$patch":"replace","z":3},"$deleteFromPrimitiveList/finalizers":["f1"],
                        "b":{"$patch":"delete"}})"));
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, parse(R"({"a":{"z":3},"finalizers":["f2"]})"));
}

}  // namespace
}  // namespace llmscale::apiserver
