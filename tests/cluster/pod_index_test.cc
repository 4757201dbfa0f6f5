// PodIndex: the controller's label-indexed pod cache returns exactly the pods a selector
// matches in a namespace, follows updates (labels changed) and deletions.
#include "cluster/pod_index.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace llmscale::cluster {
namespace {

using core::Json;

Json pod(const std::string& ns, const std::string& name, Json labels) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", ns}, {"labels", std::move(labels)}}},
          {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "i"}}})}}}};
}

std::vector<std::string> names(const std::vector<kube::Pod>& pods) {
  std::vector<std::string> out;
  for (const kube::Pod& p : pods) out.push_back(p.metadata.name);
  return out;
}

std::vector<std::string> select(const PodIndex& index, const std::string& ns,
                                const std::string& selector) {
  auto parsed = kube::Selector::parse(selector);
  EXPECT_TRUE(parsed) << selector;
  return parsed ? names(index.select(ns, *parsed)) : std::vector<std::string>{};
}

TEST(PodIndexTest, SelectsByLabelWithinTheNamespace) {
  PodIndex index;
  index.upsert(pod("a", "llm-0", {{"app", "llm"}, {"tier", "gpu"}}));
  index.upsert(pod("a", "llm-1", {{"app", "llm"}, {"tier", "cpu"}}));
  index.upsert(pod("a", "web-0", {{"app", "web"}}));
  index.upsert(pod("b", "llm-9", {{"app", "llm"}}));
  EXPECT_EQ(index.size(), 4u);
  EXPECT_EQ(select(index, "a", "app=llm"), (std::vector<std::string>{"llm-0", "llm-1"}));
  EXPECT_EQ(select(index, "a", "app=llm,tier=gpu"), (std::vector<std::string>{"llm-0"}));
  EXPECT_EQ(select(index, "a", "app in (llm)"), (std::vector<std::string>{"llm-0", "llm-1"}));
  // No equality to narrow by: a scan of the namespace.
  EXPECT_EQ(select(index, "a", "app in (llm,web),tier!=cpu"),
            (std::vector<std::string>{"llm-0", "web-0"}));
  EXPECT_EQ(select(index, "a", ""), (std::vector<std::string>{"llm-0", "llm-1", "web-0"}));
  EXPECT_EQ(select(index, "b", "app=llm"), (std::vector<std::string>{"llm-9"}));
  EXPECT_TRUE(select(index, "a", "app=none").empty());
  EXPECT_TRUE(select(index, "c", "app=llm").empty());
  EXPECT_TRUE(names(index.select("a", kube::Selector::nothing())).empty());
}

TEST(PodIndexTest, FollowsUpdatesAndDeletes) {
  PodIndex index;
  index.upsert(pod("a", "llm-0", {{"app", "llm"}}));
  index.upsert(pod("a", "llm-1", {{"app", "llm"}}));
  // Relabelled: leaves the old label's set, joins the new one.
  index.upsert(pod("a", "llm-1", {{"app", "other"}}));
  EXPECT_EQ(select(index, "a", "app=llm"), (std::vector<std::string>{"llm-0"}));
  EXPECT_EQ(select(index, "a", "app=other"), (std::vector<std::string>{"llm-1"}));
  index.remove(pod("a", "llm-0", Json::object()));
  EXPECT_TRUE(select(index, "a", "app=llm").empty());
  EXPECT_EQ(index.size(), 1u);
  // An undecodable update drops the pod rather than keeping a stale copy.
  Json broken = pod("a", "llm-1", {{"app", "other"}});
  broken["spec"]["containers"] = "not a list";
  index.upsert(broken);
  EXPECT_EQ(index.size(), 0u);
}

}  // namespace
}  // namespace llmscale::cluster
