// `llmscale describe hpa` against the real kubectl on the same API server (the embedded one on
// loopback, in its own thread): the Events section matches kubectl's byte for byte — the From
// column is each event's own source (the HPA controller's, the activator's `llmscale-activator`,
// reportingComponent when source is empty), ages since firstTimestamp with "(xN over ...)" for
// repeats, oldest lastTimestamp first. Child processes: labelled `integration`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "kubeclient/loopback_api.h"
#include "support/process.h"

namespace llmscale {
namespace {

using core::Json;
using llmscale::testing::run_process;
using namespace std::chrono_literals;

// From "Events:" to the end of a describe output.
std::string events_section(const std::string& described) {
  auto at = described.find("Events:");
  return at == std::string::npos ? "" : described.substr(at);
}

Json event(const std::string& name, const std::string& uid, const std::string& reason,
           const std::string& message, int count, core::Duration first_ago,
           core::Duration last_ago) {
  core::Time now = core::wall_now();
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"involvedObject",
           {{"apiVersion", "autoscaling/v2"},
            {"kind", "HorizontalPodAutoscaler"},
            {"name", "llm"},
            {"namespace", "default"},
            {"uid", uid}}},
          {"reason", reason},
          {"message", message},
          {"type", "Normal"},
          {"count", count},
          {"firstTimestamp", core::format_rfc3339(now - first_ago)},
          {"lastTimestamp", core::format_rfc3339(now - last_ago)}};
}

TEST(DescribeParity, EventsShowTheirOwnSourceAsKubectlDoes) {
  if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl is not installed";
  net::EventLoop server_loop;
  kubeclient::testing::LoopbackApi api(server_loop);
  server_loop.start();
  llmscale::testing::TempDir dir;
  std::string kubeconfig = dir.write("config", R"(apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: ")" + api.url() +
                                                   R"("}}]
users: [{name: me, user: {token: abc}}]
contexts: [{name: local, context: {cluster: local, user: me, namespace: default}}]
current-context: local
)");
  auto kubectl = [&](std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), {"kubectl", "--kubeconfig", kubeconfig});
    return run_process(args, input, 30s);
  };
  Json hpa = {
      {"apiVersion", "autoscaling/v2"},
      {"kind", "HorizontalPodAutoscaler"},
      {"metadata", {{"name", "llm"}, {"namespace", "default"}}},
      {"spec",
       {{"scaleTargetRef", {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", "llm"}}},
        {"minReplicas", 0},
        {"maxReplicas", 4},
        {"metrics",
         Json::array({{{"type", "External"},
                       {"external",
                        {{"metric", {{"name", "llmscale_router_pending_requests"}}},
                         {"target", {{"type", "AverageValue"}, {"averageValue", "1"}}}}}}})}}}};
  auto created = kubectl({"create", "-f", "-"}, hpa.dump());
  ASSERT_EQ(created.exit_code, 0) << created.output;
  auto uid = kubectl({"get", "hpa", "llm", "-o", "jsonpath={.metadata.uid}"});
  ASSERT_EQ(uid.exit_code, 0) << uid.output;

  // Ages 30 s past a whole minute, so a second between the two commands prints the same. Names in
  // the reverse of time order: both sort by lastTimestamp.
  Json scaled =
      event("llm.a", uid.output, "SuccessfulRescale",
            "New size: 2; reason: external metric above target", 3, 150min + 30s, 20min + 30s);
  scaled["source"] = {{"component", "horizontal-pod-autoscaler"}};
  Json woken = event("llm.b", uid.output, "ScaledFromZero",
                     "New size: 1; reason: a request is waiting at the router and no replica is "
                     "running",
                     1, 40min + 30s, 40min + 30s);
  woken["source"] = {{"component", "llmscale-activator"}};
  // An events.k8s.io-style writer: no source, the reporting controller instead.
  Json reported = event("llm.0", uid.output, "ScaledFromZero", "New size: 1; reason: woken", 1,
                        12min + 30s, 12min + 30s);
  reported["reportingComponent"] = "llmscale-activator";
  reported["reportingInstance"] = "up-1";
  for (const Json& e : {scaled, woken, reported}) {
    auto made = kubectl({"create", "-f", "-"}, e.dump());
    ASSERT_EQ(made.exit_code, 0) << made.output << e.dump();
  }

  auto theirs = kubectl({"describe", "hpa", "llm"});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.output;
  auto ours =
      run_process({LLMSCALE_BINARY, "describe", "hpa", "llm", "--server", api.url()}, "", 30s);
  ASSERT_EQ(ours.exit_code, 0) << ours.output;
  std::string expected = events_section(theirs.output);
  ASSERT_NE(expected.find("llmscale-activator"), std::string::npos) << theirs.output;
  EXPECT_EQ(events_section(ours.output), expected) << "kubectl:\n"
                                                   << theirs.output << "\nllmscale:\n"
                                                   << ours.output;
  // What kubectl shows, spelled out (so a kubectl that changed would be noticed too).
  EXPECT_NE(expected.find("Normal  ScaledFromZero     40m                 llmscale-activator"),
            std::string::npos)
      << expected;
  EXPECT_NE(expected.find("20m (x3 over 150m)  horizontal-pod-autoscaler"), std::string::npos)
      << expected;
  server_loop.stop();
  server_loop.join();
}

}  // namespace
}  // namespace llmscale
