// `llmscale up --feature-gates`: parsing, and HPAs with minReplicas 0 admitted (folder and API)
// as kube-apiserver admits them with HPAScaleToZero on and off, messages as upstream's.
#include "up/feature_gates.h"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "apiserver/resource.h"
#include "apiserver/status.h"
#include "support/process.h"
#include "up/config.h"

namespace llmscale::up {
namespace {

const char* kFleet = R"(apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: llm, labels: {app: llm}}
spec:
  replicas: 0
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      command: [sleep, "100"]
)";

const char* kZeroHpa = R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: llm}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 0
  maxReplicas: 2
  metrics:
  - type: External
    external:
      metric: {name: llmscale_router_pending_requests, selector: {matchLabels: {fleet: llm}}}
      target: {type: AverageValue, averageValue: "1"}
)";

TEST(FeatureGatesTest, ParsesTheKubernetesFlag) {
  auto defaults = parse_feature_gates("");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->hpa_scale_to_zero);
  EXPECT_TRUE(defaults->hpa_configurable_tolerance);
  auto off = parse_feature_gates("HPAScaleToZero=false,HPAConfigurableTolerance=false");
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->hpa_scale_to_zero);
  EXPECT_FALSE(off->hpa_configurable_tolerance);
  EXPECT_EQ(parse_feature_gates("HPAScaleToZero").error().message,
            "--feature-gates: expected Gate=true|false, got \"HPAScaleToZero\"");
  EXPECT_NE(parse_feature_gates("Nope=true").error().message.find("unknown gate \"Nope\""),
            std::string::npos);
}

TEST(FeatureGatesTest, FolderHpaWithMinReplicasZeroFollowsTheGate) {
  llmscale::testing::TempDir dir;
  std::ofstream(dir.path() + "/all.yaml") << kFleet << "---\n" << kZeroHpa;
  auto on = load_up_config({dir.path()});
  ASSERT_TRUE(on) << on.error().message;
  ASSERT_EQ(on->hpas.size(), 1u);
  EXPECT_EQ(on->hpas[0].spec.min_replicas, 0);
  EXPECT_EQ(on->fleets[0].replicas, 0);

  kube::ApiServerGates off;
  off.hpa_scale_to_zero = false;
  auto refused = load_up_config({dir.path()}, {}, off);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(
                "The HorizontalPodAutoscaler \"llm\" is invalid: spec.minReplicas: Invalid "
                "value: 0: must be greater than or equal to 1"),
            std::string::npos)
      << refused.error().message;
}

class HpaAdmissionTest : public ::testing::Test {
 protected:
  apiserver::ResourceType hpa_type(const kube::ApiServerGates& gates) {
    for (apiserver::ResourceType& type : apiserver::builtin_resources()) {
      if (type.group == "autoscaling" && type.resource == "horizontalpodautoscalers" &&
          type.version == "v2") {
        apply_hpa_gates(type, gates);
        return type;
      }
    }
    ADD_FAILURE() << "no autoscaling/v2 horizontalpodautoscalers";
    return {};
  }
  static core::Json hpa(int min_replicas, bool external = true) {
    core::Json object = core::parse_documents(kZeroHpa).value().at(0);
    object["metadata"]["namespace"] = "default";
    object["spec"]["minReplicas"] = min_replicas;
    if (!external) object["spec"].erase("metrics");
    return object;
  }
};

TEST_F(HpaAdmissionTest, GateOnAdmitsZeroWithAnExternalMetric) {
  auto type = hpa_type({});
  core::Json object = hpa(0);
  EXPECT_TRUE(type.admit(object, nullptr, true));
  core::Json cpu_only = hpa(0, /*external=*/false);
  auto refused = type.admit(cpu_only, nullptr, true);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("must specify at least one Object or External metric"),
            std::string::npos);
}

TEST_F(HpaAdmissionTest, GateOffRefusesZeroWithUpstreamsMessageUnlessAlreadyZero) {
  kube::ApiServerGates off;
  off.hpa_scale_to_zero = false;
  auto type = hpa_type(off);
  core::Json object = hpa(0);
  auto refused = type.admit(object, nullptr, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 422);
  EXPECT_EQ(refused.error().message,
            "HorizontalPodAutoscaler.autoscaling \"llm\" is invalid: spec.minReplicas: Invalid "
            "value: 0: must be greater than or equal to 1");
  // Both of upstream's errors when the metric is missing too.
  core::Json cpu_only = hpa(0, /*external=*/false);
  auto both = type.admit(cpu_only, nullptr, true);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("must be greater than or equal to 1"), std::string::npos);
  EXPECT_NE(both.error().message.find("must specify at least one Object or External metric"),
            std::string::npos);
  // An update of an HPA that already has 0 is admitted (upstream's ratchet); 1 always is.
  core::Json old = hpa(0);
  core::Json update = hpa(0);
  update["spec"]["maxReplicas"] = 3;
  EXPECT_TRUE(type.admit(update, &old, true));
  core::Json one = hpa(1);
  EXPECT_TRUE(type.admit(one, nullptr, true));
}

// An LLMAutoscaler (the cluster controller's object, served by up's API) carries an HPA spec and
// is gated alike; the refusal names its own kind and group, as kube-apiserver names a CR.
TEST_F(HpaAdmissionTest, LlmAutoscalerFollowsTheGateToo) {
  auto autoscaler_type = [](const kube::ApiServerGates& gates) {
    apiserver::ResourceType type;
    for (apiserver::ResourceType& t : apiserver::llmscale_resources())
      if (t.resource == "llmautoscalers") type = std::move(t);
    apply_hpa_gates(type, gates);
    return type;
  };
  kube::ApiServerGates off;
  off.hpa_scale_to_zero = false;
  apiserver::ResourceType type = autoscaler_type(off);
  ASSERT_EQ(type.kind, "LLMAutoscaler");
  core::Json object = hpa(0);
  object["apiVersion"] = "autoscaling.llmscale.io/v1alpha1";
  object["kind"] = "LLMAutoscaler";
  auto refused = type.admit(object, nullptr, true);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 422);
  EXPECT_EQ(refused.error().message,
            "LLMAutoscaler.autoscaling.llmscale.io \"llm\" is invalid: spec.minReplicas: Invalid "
            "value: 0: must be greater than or equal to 1");
  core::Json one = hpa(1);
  one["apiVersion"] = "autoscaling.llmscale.io/v1alpha1";
  one["kind"] = "LLMAutoscaler";
  EXPECT_TRUE(type.admit(one, nullptr, true));
  apiserver::ResourceType gated_on = autoscaler_type({});
  core::Json zero = hpa(0);
  zero["apiVersion"] = "autoscaling.llmscale.io/v1alpha1";
  zero["kind"] = "LLMAutoscaler";
  EXPECT_TRUE(gated_on.admit(zero, nullptr, true));
}

TEST_F(HpaAdmissionTest, ToleranceGateOffDropsTheField) {
  kube::ApiServerGates off;
  off.hpa_configurable_tolerance = false;
  auto type = hpa_type(off);
  core::Json object = hpa(1);
  object["spec"]["behavior"] = {{"scaleUp", {{"tolerance", "0.05"}}}};
  ASSERT_TRUE(type.admit(object, nullptr, true));
  EXPECT_FALSE(object["spec"]["behavior"]["scaleUp"].contains("tolerance"));
}

}  // namespace
}  // namespace llmscale::up
