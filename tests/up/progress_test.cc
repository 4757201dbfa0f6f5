// Cold-start progress lines (issue 11 item 18): one line per interval while a replica is not
// ready, with the expected cold start when known; none once ready, and a crash starts over.
#include "up/progress.h"

#include <gtest/gtest.h>

namespace llmscale::up {
namespace {

using namespace std::chrono_literals;

kube::Pod pod(const std::string& name, bool ready, const std::string& waiting = "") {
  kube::Pod p;
  p.metadata.name = name;
  p.metadata.uid = "uid-" + name;
  p.conditions = {{"Ready", ready ? "True" : "False", std::nullopt}};
  kube::ContainerStatus status;
  status.waiting_reason = waiting;
  p.container_statuses.push_back(status);
  return p;
}

TEST(ColdStartProgressTest, ALineEveryIntervalUntilReady) {
  ColdStartProgress progress(15s);
  core::Time t0 = core::Time{} + 1000h;
  std::optional<core::Duration> expected = 373s;
  EXPECT_TRUE(progress.update("vllm-tpu", {pod("a", false)}, expected, t0).empty());
  EXPECT_TRUE(progress.update("vllm-tpu", {pod("a", false)}, expected, t0 + 14s).empty());
  EXPECT_EQ(progress.update("vllm-tpu", {pod("a", false)}, expected, t0 + 15s),
            std::vector<std::string>{
                "fleet vllm-tpu: pod a starting, 15s of about 6m13s (4%); not ready yet"});
  EXPECT_TRUE(progress.update("vllm-tpu", {pod("a", false)}, expected, t0 + 16s).empty());
  // A late update reports once, not once per missed interval.
  EXPECT_EQ(progress.update("vllm-tpu", {pod("a", false)}, expected, t0 + 61s).size(), 1u);
  EXPECT_EQ(progress.update("vllm-tpu", {pod("a", false)}, expected, t0 + 400s),
            std::vector<std::string>{
                "fleet vllm-tpu: pod a starting, 6m40s, longer than the expected 6m13s; not "
                "ready yet"});
  EXPECT_TRUE(progress.update("vllm-tpu", {pod("a", true)}, expected, t0 + 420s).empty());
  EXPECT_TRUE(progress.update("vllm-tpu", {pod("a", true)}, expected, t0 + 900s).empty());
}

TEST(ColdStartProgressTest, UnknownExpectedAndRestartsStartOver) {
  ColdStartProgress progress(10s);
  core::Time t0 = core::Time{} + 1000h;
  progress.update("f", {pod("a", false)}, std::nullopt, t0);
  EXPECT_EQ(progress.update("f", {pod("a", false)}, std::nullopt, t0 + 10s),
            std::vector<std::string>{"fleet f: pod a starting, 10s; not ready yet"});
  // Crashed: in back-off, no progress; restarted: counted from the restart.
  EXPECT_TRUE(
      progress.update("f", {pod("a", false, "CrashLoopBackOff")}, std::nullopt, t0 + 20s).empty());
  progress.update("f", {pod("a", false)}, std::nullopt, t0 + 30s);
  EXPECT_TRUE(progress.update("f", {pod("a", false)}, std::nullopt, t0 + 39s).empty());
  EXPECT_EQ(progress.update("f", {pod("a", false)}, std::nullopt, t0 + 40s),
            std::vector<std::string>{"fleet f: pod a starting, 10s; not ready yet"});
  // Another fleet's update does not forget this fleet's pods.
  progress.update("g", {}, std::nullopt, t0 + 45s);
  EXPECT_EQ(progress.update("f", {pod("a", false)}, std::nullopt, t0 + 50s).size(), 1u);
}

}  // namespace
}  // namespace llmscale::up
