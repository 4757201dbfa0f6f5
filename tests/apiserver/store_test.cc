// Store: resourceVersions, optimistic concurrency, generation, history and its expiry.
#include "apiserver/store.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmscale::apiserver {
namespace {

using core::Json;

const GroupResource kHpas{"autoscaling", "horizontalpodautoscalers"};

Json hpa(const std::string& name, int max_replicas) {
  return Json{{"apiVersion", "autoscaling/v2"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", name}, {"namespace", "default"}}},
              {"spec", {{"maxReplicas", max_replicas}}}};
}

class StoreTest : public ::testing::Test {
 protected:
  core::SimulatedClock clock_;
  Store store_{clock_, 4};
};

TEST_F(StoreTest, CreateFillsServerFields) {
  auto created = store_.create(kHpas, hpa("a", 3));
  ASSERT_TRUE(created);
  const Json& meta = (**created)["metadata"];
  EXPECT_EQ(meta["resourceVersion"], "1");
  EXPECT_EQ(meta["generation"], 1);
  EXPECT_EQ(meta["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(meta["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(store_.resource_version(), 1u);
}

TEST_F(StoreTest, CreateRefusesDuplicatesAndClientVersions) {
  ASSERT_TRUE(store_.create(kHpas, hpa("a", 3)));
  auto again = store_.create(kHpas, hpa("a", 3));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, 409);
  EXPECT_EQ(again.error().message, "horizontalpodautoscalers.autoscaling \"a\" already exists");
  Json with_version = hpa("b", 3);
  with_version["metadata"]["resourceVersion"] = "7";
  auto refused = store_.create(kHpas, with_version);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 400);
}

TEST_F(StoreTest, StaleUpdateIsAConflict) {
  auto created = store_.create(kHpas, hpa("a", 3));
  Json first = **created;
  first["spec"]["maxReplicas"] = 4;
  auto updated = store_.update(kHpas, first);
  ASSERT_TRUE(updated);
  EXPECT_EQ((**updated)["metadata"]["resourceVersion"], "2");
  EXPECT_EQ((**updated)["metadata"]["generation"], 2);
  // The same stale version again.
  first["spec"]["maxReplicas"] = 5;
  auto stale = store_.update(kHpas, first);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, 409);
  EXPECT_EQ(stale.error().reason, "Conflict");
  EXPECT_EQ(stale.error().message,
            "Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling \"a\": the "
            "object has been modified; please apply your changes to the latest version and try "
            "again");
}

TEST_F(StoreTest, StatusChangesKeepGenerationAndNoOpsKeepVersion) {
  auto created = store_.create(kHpas, hpa("a", 3));
  Json object = **created;
  object["status"] = {{"desiredReplicas", 2}};
  auto updated = store_.update(kHpas, object);
  ASSERT_TRUE(updated);
  EXPECT_EQ((**updated)["metadata"]["generation"], 1);
  EXPECT_EQ((**updated)["metadata"]["resourceVersion"], "2");
  auto again = store_.update(kHpas, **updated);
  ASSERT_TRUE(again);
  EXPECT_EQ((**again)["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(store_.resource_version(), 2u);
}

TEST_F(StoreTest, ListsAreSortedAndScoped) {
  ASSERT_TRUE(store_.create(kHpas, hpa("b", 1)));
  ASSERT_TRUE(store_.create(kHpas, hpa("a", 1)));
  Json other = hpa("c", 1);
  other["metadata"]["namespace"] = "prod";
  ASSERT_TRUE(store_.create(kHpas, other));
  auto all = store_.list(kHpas, "");
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ((*all.items[0])["metadata"]["name"], "a");
  EXPECT_EQ(all.resource_version, 3u);
  EXPECT_EQ(store_.list(kHpas, "prod").items.size(), 1u);
  EXPECT_EQ(store_.list(kHpas, "nope").items.size(), 0u);
}

TEST_F(StoreTest, DeleteHonoursPreconditions) {
  auto created = store_.create(kHpas, hpa("a", 3));
  Preconditions wrong;
  wrong.resource_version = "99";
  auto refused = store_.remove(kHpas, "default", "a", wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 409);
  auto gone = store_.remove(kHpas, "default", "a");
  ASSERT_TRUE(gone);
  EXPECT_EQ((**gone)["metadata"]["resourceVersion"], "2");
  auto missing = store_.get(kHpas, "default", "a");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().body(),
            "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            "\"message\":\"horizontalpodautoscalers.autoscaling \\\"a\\\" not found\","
            "\"reason\":\"NotFound\",\"details\":{\"name\":\"a\",\"group\":\"autoscaling\","
            "\"kind\":\"horizontalpodautoscalers\"},\"code\":404}\n");
}

TEST_F(StoreTest, HistoryReplaysAndExpires) {
  std::vector<std::string> seen;
  int id = store_.subscribe([&](const StoreEvent& e) {
    seen.push_back(std::string(event_type_name(e.type)) + " " + e.name + " " +
                   std::to_string(e.resource_version));
  });
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(store_.create(kHpas, hpa("h" + std::to_string(i), 1)));
  store_.unsubscribe(id);
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen.front(), "ADDED h0 1");
  // History of 4: versions 3..6 are kept; a watch from 2 gets 3..6; from 1 is too old.
  auto from2 = store_.events_since("horizontalpodautoscalers.autoscaling", 2);
  ASSERT_TRUE(from2);
  ASSERT_EQ(from2->size(), 4u);
  EXPECT_EQ(from2->front().resource_version, 3u);
  auto from1 = store_.events_since("horizontalpodautoscalers.autoscaling", 1);
  ASSERT_FALSE(from1);
  EXPECT_EQ(from1.error().code, 410);
  EXPECT_EQ(from1.error().reason, "Expired");
  EXPECT_EQ(from1.error().message, "too old resource version: 1 (3)");
}

TEST_F(StoreTest, ResourceVersionParameter) {
  EXPECT_FALSE(parse_resource_version("")->has_value());
  EXPECT_EQ(**parse_resource_version("42"), 42u);
  auto bad = parse_resource_version("abc");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 400);
}

}  // namespace
}  // namespace llmscale::apiserver
