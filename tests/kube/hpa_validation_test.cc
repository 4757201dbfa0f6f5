// HPA manifests: the seeds load after substituting placeholders; defaulting and validation
// answer like the API server.
#include "kube/hpa_manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "kube/json_codec.h"

namespace llmscale::kube {
namespace {

std::string read_seed(const std::string& name) {
  std::ifstream in(std::string(LLMSCALE_SOURCE_DIR) + "/tests/testdata/seeds/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string substitute(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [placeholder, value] : values) {
    for (std::size_t pos; (pos = text.find(placeholder)) != std::string::npos;) {
      text.replace(pos, placeholder.size(), value);
    }
  }
  return text;
}

const std::map<std::string, std::string> kSeedValues = {
    {"JETSTREAM_METRIC_TARGET", "10"},
    {"EXTERNAL_METRIC_TARGET", "800m"},
    {"MIN_REPLICAS", "1"},
    {"MAX_REPLICAS", "2"},
    {"jetstream_METRIC", "jetstream_prefill_backlog_size"},
    {"$HPA_AVERAGEVALUE_TARGET", "10"},
    {"TARGET", "10"}};

HorizontalPodAutoscaler load_seed(const std::string& name) {
  auto hpas = load_hpa_manifests(substitute(read_seed(name), kSeedValues), {});
  EXPECT_TRUE(hpas.has_value()) << name << ": " << (hpas ? "" : hpas.error().message);
  return hpas ? hpas->front() : HorizontalPodAutoscaler{};
}

TEST(SeedManifestTest, EverySeedHpaLoadsUnchanged) {
  for (const char* name :
       {"000-jetstream-pods-stackdriver.yaml", "000-jetstream-external-memory-used.yaml",
        "000-jetstream-external-adapter.yaml", "000-jetstream-external-memory-percentage.yaml",
        "001-nim-gpu-cache.yaml", "002-tgi-queue-size.yaml", "002-tgi-batch-size.yaml",
        "002-tgi-duty-cycle.yaml", "002-tgi-dcgm.yaml", "003-vllm-num-requests-waiting.yaml"}) {
    HorizontalPodAutoscaler hpa = load_seed(name);
    EXPECT_EQ(hpa.metadata.namespace_, "default") << name;
    EXPECT_EQ(hpa.spec.metrics.size(), 1u) << name;
    EXPECT_FALSE(hpa.spec.behavior.has_value()) << name;
  }
}

TEST(SeedManifestTest, NimSeedDecodesItsTarget) {
  HorizontalPodAutoscaler hpa = load_seed("001-nim-gpu-cache.yaml");
  EXPECT_EQ(hpa.metadata.name, "gpu-hpa-cache");
  EXPECT_EQ(hpa.spec.scale_target_ref.name, "meta-llama3-8b");
  EXPECT_EQ(*hpa.spec.min_replicas, 1);
  EXPECT_EQ(hpa.spec.max_replicas, 10);
  ASSERT_TRUE(hpa.spec.metrics[0].pods);
  EXPECT_EQ(hpa.spec.metrics[0].pods->metric.name, "gpu_cache_usage_perc");
  EXPECT_EQ(hpa.spec.metrics[0].pods->target.average_value->to_string(), "100m");
}

TEST(SeedManifestTest, GkeSelectorsSurviveDecoding) {
  HorizontalPodAutoscaler hpa = load_seed("002-tgi-duty-cycle.yaml");
  const auto& selector = hpa.spec.metrics[0].external->metric.selector;
  ASSERT_TRUE(selector);
  EXPECT_EQ(selector->match_labels.at("resource.labels.container_name"), "inference-server");
}

TEST(SeedManifestTest, PublishedMultiMetricExampleIsRejectedLikeTheApiServerDoes) {
  std::string text = substitute(read_seed("000-jetstream-multiple-metrics.yaml"), kSeedValues);
  auto strict = load_hpa_manifests(text, {});
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().message,
            "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
            "HorizontalPodAutoscaler: strict decoding error: unknown field "
            "\"spec.metrics[0].pods.averageValue\"");
  HpaLoadOptions lenient;
  lenient.strict = false;
  auto loose = load_hpa_manifests(text, lenient);
  ASSERT_FALSE(loose);
  EXPECT_EQ(loose.error().message,
            "The HorizontalPodAutoscaler \"jetstream-hpa-multiple-metrics\" is invalid: \n"
            "* spec.metrics[0].pods.target.averageValue: Required value: must specify a positive "
            "target averageValue\n"
            "* spec.metrics[1].external.target.averageValue: Required value: must set either a "
            "target value for metric or a per-pod target");
}

HorizontalPodAutoscaler minimal(const std::string& extra_spec) {
  std::string text = R"(
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}
  maxReplicas: 5
)" + extra_spec;
  auto hpas = load_hpa_manifests(text, {});
  EXPECT_TRUE(hpas) << (hpas ? "" : hpas.error().message);
  return hpas ? hpas->front() : HorizontalPodAutoscaler{};
}

std::string load_error(const std::string& extra_spec, HpaLoadOptions options = {}) {
  std::string text = R"(
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: d}
)" + extra_spec;
  auto hpas = load_hpa_manifests(text, options);
  return hpas ? "ok" : hpas.error().message;
}

TEST(HpaDefaultingTest, FillsMinReplicasAndCpuMetric) {
  HorizontalPodAutoscaler hpa = minimal("");
  EXPECT_EQ(*hpa.spec.min_replicas, 1);
  ASSERT_EQ(hpa.spec.metrics.size(), 1u);
  EXPECT_EQ(hpa.spec.metrics[0].resource->name, "cpu");
  EXPECT_EQ(*hpa.spec.metrics[0].resource->target.average_utilization, 80);
}

TEST(HpaDefaultingTest, EmptyBehaviorGetsEveryDefaultButTheDownscaleWindow) {
  HorizontalPodAutoscaler hpa = minimal("  behavior: {}\n");
  ASSERT_TRUE(hpa.spec.behavior);
  const auto& up = *hpa.spec.behavior->scale_up;
  EXPECT_EQ(*up.stabilization_window_seconds, 0);
  EXPECT_EQ(*up.select_policy, "Max");
  ASSERT_EQ(up.policies->size(), 2u);
  EXPECT_EQ((*up.policies)[0].type, "Pods");
  EXPECT_EQ((*up.policies)[0].value, 4);
  EXPECT_EQ((*up.policies)[1].type, "Percent");
  EXPECT_EQ((*up.policies)[1].value, 100);
  const auto& down = *hpa.spec.behavior->scale_down;
  EXPECT_FALSE(down.stabilization_window_seconds.has_value());
  EXPECT_EQ(*down.select_policy, "Max");
  ASSERT_EQ(down.policies->size(), 1u);
  EXPECT_EQ((*down.policies)[0].period_seconds, 15);
  // Round-trips into the API server's JSON shape.
  EXPECT_EQ(encode_hpa_spec(hpa.spec)["behavior"].dump(),
            R"({"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[)"
            R"({"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,)"
            R"("periodSeconds":15}]},"scaleDown":{"selectPolicy":"Max","policies":[{"type":)"
            R"("Percent","value":100,"periodSeconds":15}]}})");
}

TEST(HpaDefaultingTest, SetFieldsReplaceDefaultsOneByOne) {
  HorizontalPodAutoscaler hpa = minimal(R"(  behavior:
    scaleDown:
      stabilizationWindowSeconds: 60
    scaleUp:
      policies: [{type: Pods, value: 1, periodSeconds: 30}]
)");
  EXPECT_EQ(*hpa.spec.behavior->scale_down->stabilization_window_seconds, 60);
  EXPECT_EQ(hpa.spec.behavior->scale_down->policies->size(), 1u);
  EXPECT_EQ(hpa.spec.behavior->scale_up->policies->size(), 1u);
  EXPECT_EQ(*hpa.spec.behavior->scale_up->select_policy, "Max");
}

TEST(HpaValidationTest, ReportsFieldPathsAndUpstreamMessages) {
  // minReplicas defaults to 1 first, so both rules fire, as upstream.
  EXPECT_EQ(load_error("  maxReplicas: 0\n"),
            "The HorizontalPodAutoscaler \"h\" is invalid: \n"
            "* spec.maxReplicas: Invalid value: 0: must be greater than 0\n"
            "* spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`");
  HpaLoadOptions before_1_37;
  before_1_37.gates.hpa_scale_to_zero = false;
  EXPECT_EQ(load_error("  minReplicas: 0\n  maxReplicas: 3\n", before_1_37),
            "The HorizontalPodAutoscaler \"h\" is invalid: \n"
            "* spec.minReplicas: Invalid value: 0: must be greater than or equal to 1\n"
            "* spec.metrics: Forbidden: must specify at least one Object or External metric to "
            "support scaling to zero replicas");
  EXPECT_EQ(load_error("  minReplicas: -3\n  maxReplicas: 3\n"),
            "The HorizontalPodAutoscaler \"h\" is invalid: spec.minReplicas: Invalid value: -3: "
            "must be greater than or equal to 0");
  EXPECT_EQ(load_error("  minReplicas: 4\n  maxReplicas: 3\n"),
            "The HorizontalPodAutoscaler \"h\" is invalid: spec.maxReplicas: Invalid value: 3: "
            "must be greater than or equal to `minReplicas`");
  EXPECT_EQ(load_error(R"(  maxReplicas: 3
  metrics:
  - type: Pods
    pods: {metric: {name: q}, target: {type: AverageValue, averageValue: "-1"}}
)"),
            "The HorizontalPodAutoscaler \"h\" is invalid: spec.metrics[0].pods.target."
            "averageValue: Invalid value: \"-1\": must be positive");
  EXPECT_EQ(load_error(R"(  maxReplicas: 3
  metrics:
  - type: Foo
)"),
            "The HorizontalPodAutoscaler \"h\" is invalid: \n"
            "* spec.metrics[0].type: Unsupported value: \"Foo\": supported values: "
            "\"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"\n"
            "* spec.metrics[0].type: Unsupported value: \"Foo\": supported values: "
            "\"ContainerResource\", \"External\", \"Object\", \"Pods\", \"Resource\"");
  EXPECT_EQ(load_error(R"(  maxReplicas: 3
  behavior:
    scaleUp: {selectPolicy: Fastest, policies: [], stabilizationWindowSeconds: 4000}
)"),
            "The HorizontalPodAutoscaler \"h\" is invalid: \n"
            "* spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be "
            "less than or equal to 3600\n"
            "* spec.behavior.scaleUp.selectPolicy: Unsupported value: \"Fastest\": supported "
            "values: \"Disabled\", \"Max\", \"Min\"\n"
            "* spec.behavior.scaleUp.policies: Required value: must specify at least one Policy");
  EXPECT_EQ(load_error(R"(  maxReplicas: 3
  metrics:
  - type: Pods
    pods: {metric: {name: q}, target: {type: AverageValue, averageValue: 1}}
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
)"),
            "The HorizontalPodAutoscaler \"h\" is invalid: spec.metrics[0].resource: Forbidden: "
            "must populate the given metric source only");
}

// Kubernetes v1.37: HPAScaleToZero is beta and on by default, so minReplicas 0 is admitted
// when at least one Object or External metric is configured (validateMetrics), and refused
// with the gate turned off.
TEST(HpaValidationTest, ScaleToZeroNeedsTheGateAndAnObjectOrExternalMetric) {
  const std::string external = R"(  minReplicas: 0
  maxReplicas: 3
  metrics:
  - type: External
    external: {metric: {name: q}, target: {type: Value, value: 5}}
)";
  EXPECT_EQ(load_error(external), "ok");
  EXPECT_EQ(load_error(R"(  minReplicas: 0
  maxReplicas: 3
  metrics:
  - type: Object
    object:
      describedObject: {kind: Service, name: s}
      metric: {name: q}
      target: {type: Value, value: 5}
)"),
            "ok");
  EXPECT_EQ(load_error("  minReplicas: 0\n  maxReplicas: 3\n"),
            "The HorizontalPodAutoscaler \"h\" is invalid: spec.metrics: Forbidden: must specify "
            "at least one Object or External metric to support scaling to zero replicas");
  HpaLoadOptions off;
  off.gates.hpa_scale_to_zero = false;
  EXPECT_EQ(load_error(external, off),
            "The HorizontalPodAutoscaler \"h\" is invalid: spec.minReplicas: Invalid value: 0: "
            "must be greater than or equal to 1");
  EXPECT_TRUE(ApiServerGates{}.hpa_scale_to_zero);
  EXPECT_TRUE(ApiServerGates{}.hpa_configurable_tolerance);
}

// Issue 11 item 5: the API server refuses a body above 3 MiB before decoding it, so a huge
// name costs nothing further; names within it are validated as upstream does.
TEST(HpaValidationTest, RefusesOversizedObjectsBeforeDecoding) {
  std::string huge(kMaxRequestBodyBytes, 'a');
  EXPECT_EQ(load_error("  maxReplicas: 3\n  metrics:\n  - type: Pods\n    pods: {metric: {name: " +
                       huge + "}, target: {type: AverageValue, averageValue: 1}}\n"),
            "Request entity too large: limit is 3145728");
  std::string long_name(254, 'a');
  EXPECT_EQ(load_error("  maxReplicas: 3\n").substr(0, 2), "ok");
  auto hpas =
      load_hpa_manifests("kind: HorizontalPodAutoscaler\nmetadata: {name: " + long_name +
                             "}\nspec: {scaleTargetRef: {kind: D, name: d}, maxReplicas: 1}\n",
                         {});
  ASSERT_FALSE(hpas);
  EXPECT_EQ(hpas.error().message, "The HorizontalPodAutoscaler \"" + long_name +
                                      "\" is invalid: metadata.name: Invalid "
                                      "value: \"" +
                                      long_name + "\": must be no more than 253 characters");
}

// Duplicate fields in JSON are refused like duplicate keys in YAML.
TEST(HpaValidationTest, RefusesDuplicateFieldsInJsonAndYaml) {
  auto json = load_hpa_manifests(
      R"({"kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}, "spec": {"maxReplicas": 3, "maxReplicas": 4}})",
      {});
  ASSERT_FALSE(json);
  EXPECT_EQ(json.error().message, "json: duplicate field \"spec.maxReplicas\"");
  auto yaml = load_hpa_manifests(
      "kind: HorizontalPodAutoscaler\nspec:\n  maxReplicas: 3\n  maxReplicas: 4\n", {});
  ASSERT_FALSE(yaml);
  EXPECT_EQ(yaml.error().message, "yaml: line 4: key \"maxReplicas\" already set in map");
}

TEST(HpaDecodingTest, TypeErrorsNameTheField) {
  EXPECT_EQ(load_error("  maxReplicas: two\n"),
            "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
            "HorizontalPodAutoscaler: spec.maxReplicas: expected a 32-bit integer, got string "
            "\"two\"");
  EXPECT_EQ(load_error("  maxReplicas: 3\n  metrics: {}\n"),
            "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
            "HorizontalPodAutoscaler: spec.metrics: expected a list, got an object");
  EXPECT_EQ(load_error(R"(  maxReplicas: 3
  metrics:
  - type: Pods
    pods: {metric: {name: q}, target: {type: AverageValue, averageValue: 10x}}
)"),
            "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
            "HorizontalPodAutoscaler: spec.metrics[0].pods.target.averageValue: Invalid value: "
            "\"10x\": quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  EXPECT_EQ(load_error("  maxReplicas: 3\n  maxReplica: 4\n"),
            "HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
            "HorizontalPodAutoscaler: strict decoding error: unknown field \"spec.maxReplica\"");
}

TEST(HpaDecodingTest, DropsToleranceWhenTheGateIsOff) {
  std::string spec = R"(  behavior:
    scaleUp: {tolerance: "0.05"}
)";
  EXPECT_EQ(minimal(spec).spec.behavior->scale_up->tolerance->to_string(), "50m");
  HpaLoadOptions off;
  off.gates.hpa_configurable_tolerance = false;
  std::string text =
      "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\n"
      "spec:\n  scaleTargetRef: {kind: Deployment, name: d}\n  maxReplicas: 3\n" +
      spec;
  auto hpas = load_hpa_manifests(text, off);
  ASSERT_TRUE(hpas);
  EXPECT_FALSE(hpas->front().spec.behavior->scale_up->tolerance.has_value());
}

}  // namespace
}  // namespace llmscale::kube
