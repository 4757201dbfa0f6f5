// `hpa reconcile` inputs: the HPA goes through the API server's admission (size, decoding,
// defaulting, validation) as in `hpa validate`; absent and empty history differ as upstream;
// Kubernetes v1.37's gate defaults.
#include "hpa/reconcile_io.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "test_support.h"

namespace llmscale::hpa::testing {
namespace {

// Two running pods at 1 against an average target of 10: the metric asks for 1 replica of 2.
std::string input(const std::string& spec_extra, const std::string& tail = "",
                  const std::string& target = "10") {
  return R"(now: "2026-05-04T10:00:00Z"
hpa:
  metadata: {name: h}
  spec:
    scaleTargetRef: {kind: Deployment, name: d}
    maxReplicas: 5
)" + spec_extra +
         R"(    metrics:
    - type: Pods
      pods: {metric: {name: q}, target: {type: AverageValue, averageValue: )" +
         target + R"(}}
scale: {specReplicas: 2, statusReplicas: 2, selector: app=a}
pods:
- {metadata: {name: p0, labels: {app: a}}, status: {phase: Running}}
- {metadata: {name: p1, labels: {app: a}}, status: {phase: Running}}
metrics:
  pods:
    q:
      items:
      - {describedObject: {kind: Pod, name: p0}, metricName: q, timestamp: "2026-05-04T09:59:55Z", value: "1"}
      - {describedObject: {kind: Pod, name: p1}, metricName: q, timestamp: "2026-05-04T09:59:55Z", value: "1"}
)" + tail;
}

core::Result<ReconcileRequest> decode(const std::string& text) {
  auto document = core::parse_document(text);
  if (!document) return tl::unexpected(document.error());
  return decode_reconcile_request(*document);
}

std::string error_of(const std::string& text) {
  auto request = decode(text);
  return request ? "ok" : request.error().message;
}

Decision run(ReconcileRequest& request) {
  RecordedScaleWriter writer(request.scale_update_error);
  return reconcile(request.input, request.metrics, writer);
}

TEST(ReconcileInputTest, TheBaseInputIsValid) {
  EXPECT_EQ(error_of(input("")), "ok");
}

// Issue 11 item 10: what `hpa validate` and the API server refuse, reconcile refuses too, with
// the API server's message.
TEST(ReconcileInputTest, ValidatesTheHpaAsTheApiServerDoes) {
  EXPECT_EQ(error_of(input("    minReplicas: -3\n")),
            "hpa: The HorizontalPodAutoscaler \"h\" is invalid: spec.minReplicas: Invalid value: "
            "-3: must be greater than or equal to 0");
  EXPECT_EQ(error_of(input("", "", "0")),
            "hpa: The HorizontalPodAutoscaler \"h\" is invalid: spec.metrics[0].pods.target."
            "averageValue: Invalid value: \"0\": must be positive");
  EXPECT_EQ(error_of(input("", "", "-208m")),
            "hpa: The HorizontalPodAutoscaler \"h\" is invalid: spec.metrics[0].pods.target."
            "averageValue: Invalid value: \"-208m\": must be positive");
  // With the gate off (as before v1.37) the bound is 1.
  EXPECT_EQ(error_of(input("    minReplicas: 0\n",
                           "controller: {featureGates: {HPAScaleToZero: false}}\n")),
            "hpa: The HorizontalPodAutoscaler \"h\" is invalid: \n"
            "* spec.minReplicas: Invalid value: 0: must be greater than or equal to 1\n"
            "* spec.metrics: Forbidden: must specify at least one Object or External metric to "
            "support scaling to zero replicas");
  // Decoding errors keep their paths.
  EXPECT_EQ(error_of(input("    maxReplica: 4\n")),
            "strict decoding error: unknown field \"hpa.spec.maxReplica\"");
}

TEST(ReconcileInputTest, RefusesDuplicateKeysInJsonAsInYaml) {
  auto document = core::parse_document(input(""));
  ASSERT_TRUE(document);
  std::string json = core::to_compact_json(*document);
  std::string needle = "\"maxReplicas\":5";
  json.replace(json.find(needle), needle.size(), needle + ",\"maxReplicas\":-1");
  EXPECT_EQ(error_of(json), "json: duplicate field \"hpa.spec.maxReplicas\"");
  EXPECT_EQ(error_of(input("    maxReplicas: 6\n")),
            "yaml: line 7: key \"maxReplicas\" already set in map");
}

// Issue 11 item 5: a 50 MB metric name reached 2.85 GB RSS and 786 MB of output; the HPA is now
// refused at the API server's 3 MiB request-body limit before it is decoded.
TEST(ReconcileInputTest, RefusesAnOversizedHpaBeforeDecodingIt) {
  std::string text = input("");
  std::string name = "{name: q}";
  text.replace(text.find(name), name.size(), "{name: " + std::string(4u << 20, 'q') + "}");
  EXPECT_EQ(error_of(text), "hpa: Request entity too large: limit is 3145728");
}

// Issue 11 item 11: upstream's recordInitialRecommendation seeds only a nil entry.
TEST(ReconcileInputTest, AbsentHistoryIsSeededEmptyIsNot) {
  auto absent = decode(input(""));
  ASSERT_TRUE(absent) << absent.error().message;
  EXPECT_FALSE(absent->input.history.recorded);
  Decision first = run(*absent);
  // Seeded with the current 2, which holds the count during the window.
  EXPECT_EQ(*first.prenormalized_replicas, 1);
  EXPECT_EQ(first.desired_replicas, 2);
  ASSERT_EQ(first.history.recommendations.size(), 2u);
  EXPECT_EQ(first.history.recommendations[0].replicas, 2);
  EXPECT_EQ(first.history.recommendations[1].replicas, 1);

  auto empty = decode(input("", "history: {recommendations: []}\n"));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->input.history.recorded);
  Decision d = run(*empty);
  EXPECT_EQ(*d.stabilized_replicas, 1);
  EXPECT_EQ(d.desired_replicas, 1);
  ASSERT_EQ(d.history.recommendations.size(), 1u);
  EXPECT_EQ(d.history.recommendations[0].replicas, 1);
  EXPECT_EQ(encode_history(d.history)["recommendations"].size(), 1u);

  // null reads as absent; the written history of a pass that never read the scale keeps the
  // difference, so feeding it back is still a first pass.
  auto null = decode(input("", "history: {recommendations: null}\n"));
  ASSERT_TRUE(null);
  EXPECT_FALSE(null->input.history.recorded);
  EXPECT_TRUE(encode_history(History{})["recommendations"].is_null());
  History empty_recorded;
  empty_recorded.recorded = true;
  EXPECT_TRUE(encode_history(empty_recorded)["recommendations"].is_array());
}

// Kubernetes v1.37: HPAScaleToZero is on by default in both the API server and the controller.
TEST(ReconcileInputTest, ScaleToZeroIsOnByDefault) {
  EXPECT_TRUE(ControllerConfig{}.gates.hpa_scale_to_zero);
  EXPECT_TRUE(ControllerConfig{}.gates.hpa_configurable_tolerance);
  std::string text = R"(now: "2026-05-04T10:00:00Z"
controller: {downscaleStabilizationWindowSeconds: 0}
hpa:
  metadata: {name: h}
  spec:
    scaleTargetRef: {kind: Deployment, name: d}
    minReplicas: 0
    maxReplicas: 5
    metrics:
    - type: External
      external: {metric: {name: queue}, target: {type: AverageValue, averageValue: 10}}
scale: {specReplicas: 2, statusReplicas: 2, selector: app=a}
pods: []
history: {recommendations: []}
metrics:
  external:
    queue: {items: [{metricName: queue, timestamp: "2026-05-04T09:59:55Z", value: "0"}]}
)";
  auto request = decode(text);
  ASSERT_TRUE(request) << request.error().message;
  Decision d = run(*request);
  EXPECT_EQ(d.desired_replicas, 0);
  const auto* zero = find_condition(d, "ScaledToZero");
  ASSERT_NE(zero, nullptr);
  EXPECT_EQ(zero->status, "True");
}

// The per-HPA tolerance (on by default since v1.35) is accepted and used: 1 against 1.05 is
// within the default 0.1 but not within 0.01.
TEST(ReconcileInputTest, PerHpaToleranceIsUsed) {
  auto with = [](const std::string& behavior) {
    std::string text = input(behavior, "history: {recommendations: []}\n", "950m");
    auto request = decode(text);
    EXPECT_TRUE(request) << request.error().message;
    return run(*request).desired_replicas;
  };
  EXPECT_EQ(with(""), 2);
  EXPECT_EQ(with("    behavior: {scaleUp: {tolerance: \"0.01\"}}\n"), 3);
}

}  // namespace
}  // namespace llmscale::hpa::testing
