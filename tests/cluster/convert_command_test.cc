// `llmscale convert` as users run it (the binary, so labelled integration): autoscaling/v2 and
// autoscaling/v1 HPAs become LLMAutoscaler objects with the spec verbatim (v1's CPU target and
// annotation metrics converted as kube-apiserver converts them), other documents pass through,
// `kubectl get hpa -o yaml` Lists convert item by item, -o json, and invalid input exits 2 with
// the API server's message.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "support/process.h"

namespace {

using llmscale::core::Json;

struct Outcome {
  int exit_code;
  std::string out;  // stdout and stderr together
};

Outcome run(const std::vector<std::string>& args, const std::string& stdin_text) {
  std::vector<std::string> argv = {LLMSCALE_BINARY, "convert"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto result = llmscale::testing::run_process(argv, stdin_text, std::chrono::seconds(60));
  return {result.exit_code, result.output};
}

std::vector<Json> documents(const std::string& yaml) {
  auto parsed = llmscale::core::parse_documents(yaml);
  EXPECT_TRUE(parsed) << yaml;
  return parsed ? *parsed : std::vector<Json>{};
}

// Equal as JSON values, whatever the key order (kubectl's YAML sorts keys).
bool same(const Json& a, const Json& b) {
  return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump());
}

const char* kV2 = R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: llm
  namespace: serving
  labels: {app: llm}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{}'
    team: inference
  uid: 0b1c
  resourceVersion: "42"
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 1
  maxReplicas: 8
  metrics:
  - type: Pods
    pods:
      metric: {name: gpu_cache_usage_perc}
      target: {type: AverageValue, averageValue: 100m}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 60}
status:
  currentReplicas: 2
  desiredReplicas: 2
)";

TEST(ConvertCommandTest, V2HpaBecomesAnAutoscalerWithTheSpecVerbatim) {
  Outcome result = run({}, kV2);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  auto out = documents(result.out);
  ASSERT_EQ(out.size(), 1u);
  Json object = out[0];
  Json hpa = documents(kV2)[0];
  EXPECT_EQ(object["apiVersion"], "autoscaling.llmscale.io/v1alpha1");
  EXPECT_EQ(object["kind"], "LLMAutoscaler");
  EXPECT_TRUE(same(object["spec"], hpa["spec"])) << object["spec"].dump();
  EXPECT_FALSE(object.contains("status"));
  EXPECT_TRUE(same(object["metadata"],
                   Json::parse(R"({"name":"llm","namespace":"serving","labels":{"app":"llm"},
                                   "annotations":{"team":"inference"}})")))
      << object["metadata"].dump();
}

TEST(ConvertCommandTest, V1HpaIsConvertedAsTheApiServerDoes) {
  const char* v1 = R"(apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: web
  annotations:
    autoscaling.alpha.kubernetes.io/metrics: '[{"type":"Pods","pods":{"metricName":"qps","targetAverageValue":"10"}}]'
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  targetCPUUtilizationPercentage: 70
)";
  Outcome result = run({"-o", "json", "-"}, v1);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  Json object = Json::parse(result.out);
  EXPECT_EQ(object["kind"], "LLMAutoscaler");
  EXPECT_EQ(object["metadata"], Json::parse(R"({"name":"web"})"));
  const Json& spec = object["spec"];
  EXPECT_EQ(spec["minReplicas"], 2);
  EXPECT_EQ(spec["maxReplicas"], 10);
  EXPECT_FALSE(spec.contains("targetCPUUtilizationPercentage"));
  ASSERT_EQ(spec["metrics"].size(), 2u) << spec.dump();
  bool cpu = false;
  bool qps = false;
  for (const Json& metric : spec["metrics"]) {
    if (metric["type"] == "Resource") {
      cpu = metric["resource"]["name"] == "cpu" &&
            metric["resource"]["target"]["averageUtilization"] == 70;
    }
    if (metric["type"] == "Pods") {
      qps = metric["pods"]["metric"]["name"] == "qps" &&
            metric["pods"]["target"]["averageValue"] == "10";
    }
  }
  EXPECT_TRUE(cpu) << spec.dump();
  EXPECT_TRUE(qps) << spec.dump();
}

TEST(ConvertCommandTest, OtherDocumentsPassThroughAndListsConvertItemByItem) {
  std::string manifest =
      std::string("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: llm}\n") + "---\n" + kV2;
  Outcome result = run({"-o", "yaml"}, manifest);
  ASSERT_EQ(result.exit_code, 0) << result.out;
  auto out = documents(result.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["kind"], "Deployment");
  EXPECT_EQ(out[1]["kind"], "LLMAutoscaler");

  Json list = {{"apiVersion", "v1"},
               {"kind", "List"},
               {"items", Json::array({documents(kV2)[0], documents(kV2)[0]})}};
  list["items"][1]["metadata"]["name"] = "second";
  result = run({"-o", "json"}, list.dump());
  ASSERT_EQ(result.exit_code, 0) << result.out;
  Json converted = Json::parse(result.out);
  ASSERT_EQ(converted["items"].size(), 2u);
  EXPECT_EQ(converted["items"][0]["kind"], "LLMAutoscaler");
  EXPECT_EQ(converted["items"][1]["metadata"]["name"], "second");
}

TEST(ConvertCommandTest, InvalidInputExitsTwoWithTheApiServersMessage) {
  std::string invalid = kV2;
  invalid.replace(invalid.find("maxReplicas: 8"), 14, "maxReplicas: 0");
  Outcome result = run({}, invalid);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.out.find("spec.maxReplicas"), std::string::npos) << result.out;

  result = run({}, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.out.find("no HorizontalPodAutoscaler"), std::string::npos) << result.out;

  result = run({"-o", "table"}, kV2);
  EXPECT_EQ(result.exit_code, 2);
}

}  // namespace
