// Scrape configuration: Prometheus' defaults and error messages (the texts were taken from
// `promtool check config` 2.42; promtool_config_test.cc re-checks them against the binary),
// PodMonitoring decoding and validation as GMP's CRD and webhook do it, and target labels of
// PodMonitoring targets over Kubernetes pod discovery labels.
#include "prom/scrape/config.h"

#include <gtest/gtest.h>

#include "prom/scrape/pod_source.h"
#include "prom/scrape/target.h"
#include "test_util.h"

namespace llmscale::prom {
namespace {

using namespace std::chrono_literals;

CollectConfig parse_ok(const std::string& text) {
  auto c = parse_collect_config(text);
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
  return c ? *c : CollectConfig{};
}

std::string parse_error(const std::string& text) {
  auto c = parse_collect_config(text);
  EXPECT_FALSE(c.has_value()) << text;
  return c ? "" : c.error().message;
}

TEST(ScrapeConfigTest, DefaultsFollowPrometheus) {
  auto c = parse_ok(R"(
scrape_configs:
- job_name: vllm
  static_configs:
  - targets: ["10.0.0.1:8000", "10.0.0.2:8000"]
    labels: {team: llm}
)");
  EXPECT_EQ(c.global.scrape_interval, 1min);
  EXPECT_EQ(c.global.scrape_timeout, 10s);
  ASSERT_EQ(c.scrape_configs.size(), 1u);
  const ScrapeConfig& s = c.scrape_configs[0];
  EXPECT_EQ(s.job_name, "vllm");
  EXPECT_EQ(s.scrape_interval, 1min);
  EXPECT_EQ(s.scrape_timeout, 10s);
  EXPECT_EQ(s.metrics_path, "/metrics");
  EXPECT_EQ(s.scheme, "http");
  EXPECT_FALSE(s.honor_labels);
  EXPECT_TRUE(s.honor_timestamps);
  EXPECT_EQ(s.body_size_limit, 0);
  ASSERT_EQ(s.static_configs.size(), 1u);
  ASSERT_EQ(s.static_configs[0].targets.size(), 2u);
  EXPECT_EQ(s.static_configs[0].targets[1].get("__address__"), "10.0.0.2:8000");
  EXPECT_EQ(s.static_configs[0].labels.get("team"), "llm");
  ASSERT_TRUE(s.relabel_rules && s.metric_relabel_rules);
}

TEST(ScrapeConfigTest, TimeoutsAreCappedAtTheIntervalAndGlobalsApply) {
  auto c = parse_ok(R"(
global:
  scrape_interval: 5s
scrape_configs:
- job_name: fast
  scrape_interval: 100ms
- job_name: inherits
- job_name: explicit
  scrape_interval: 30s
  scrape_timeout: 20s
  body_size_limit: 1.5MB
  sample_limit: 1000
  label_limit: 30
  params: {format: [prometheus], x: [1, 2]}
)");
  EXPECT_EQ(c.global.scrape_timeout, 5s);  // min(10s default, 5s interval)
  EXPECT_EQ(c.scrape_configs[0].scrape_interval, 100ms);
  EXPECT_EQ(c.scrape_configs[0].scrape_timeout, 100ms);
  EXPECT_EQ(c.scrape_configs[1].scrape_interval, 5s);
  EXPECT_EQ(c.scrape_configs[1].scrape_timeout, 5s);
  EXPECT_EQ(c.scrape_configs[2].scrape_timeout, 20s);
  EXPECT_EQ(c.scrape_configs[2].body_size_limit, 1572864);
  EXPECT_EQ(c.scrape_configs[2].sample_limit, 1000u);
  EXPECT_EQ(c.scrape_configs[2].label_limit, 30u);
  EXPECT_EQ(c.scrape_configs[2].params.at("x"), (std::vector<std::string>{"1", "2"}));
}

// Each case: the config, and the message promtool check config 2.42 prints after
// "parsing YAML file X: ". llmscale appends " (at <path>, line N)" to semantic errors.
struct ErrorCase {
  const char* config;
  const char* upstream;
  const char* location;  // our suffix, "" when the message already has a line
};

class ScrapeConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ScrapeConfigErrorTest, MatchesPrometheus) {
  const ErrorCase& c = GetParam();
  std::string message = parse_error(c.config);
  EXPECT_EQ(message, std::string(c.upstream) + c.location);
}

INSTANTIATE_TEST_SUITE_P(
    Upstream, ScrapeConfigErrorTest,
    ::testing::Values(
        ErrorCase{"global:\n  sample_limit: 10\n",
                  "yaml: unmarshal errors:\n  line 2: field sample_limit not found in type "
                  "config.plain",
                  ""},
        ErrorCase{"scrape_configs:\n- job_name: x\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
                  "scrape timeout greater than scrape interval for scrape config with job name "
                  "\"x\"",
                  " (at scrape_configs[0], line 2)"},
        ErrorCase{"scrape_configs:\n- job_name: x\n  foo: 1\n",
                  "yaml: unmarshal errors:\n  line 3: field foo not found in type "
                  "config.ScrapeConfig",
                  ""},
        ErrorCase{"scrape_configs:\n- job_name: x\n- job_name: x\n",
                  "found multiple scrape configs with job name \"x\"",
                  " (at scrape_configs[1], line 3)"},
        ErrorCase{"scrape_configs:\n- static_configs:\n  - targets: [a]\n", "job_name is empty",
                  " (at scrape_configs[0].job_name, line 2)"},
        ErrorCase{"global:\n  scrape_interval: abc\n", "not a valid duration string: \"abc\"",
                  " (at global.scrape_interval, line 2)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  scrape_interval: 1.5s\n",
                  "not a valid duration string: \"1.5s\"",
                  " (at scrape_configs[0].scrape_interval, line 3)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  body_size_limit: 10XB\n",
                  "units: unknown unit XB in 10XB",
                  " (at scrape_configs[0].body_size_limit, line 3)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  sample_limit: -1\n",
                  "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!int `-1` into uint", ""},
        ErrorCase{"scrape_configs:\n- job_name: a\n  sample_limit: abc\n",
                  "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `abc` into uint", ""},
        ErrorCase{"scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: "
                  "[\"http://a:1\"]\n",
                  "\"http://a:1\" is not a valid hostname",
                  " (at scrape_configs[0].static_configs[0].targets[0], line 4)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: [\"a:1\"]\n"
                  "    labels:\n      \"0bad\": x\n",
                  "\"0bad\" is not a valid label name",
                  " (at scrape_configs[0].static_configs[0].labels.0bad, line 6)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  relabel_configs:\n  - action: foo\n",
                  "unknown relabel action \"foo\"",
                  " (at scrape_configs[0].relabel_configs[0].action, line 4)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  metric_relabel_configs:\n  - action: "
                  "replace\n",
                  "relabel configuration for replace action requires 'target_label' value",
                  " (at scrape_configs[0].metric_relabel_configs[0], line 4)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  params:\n    x: b\n",
                  "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `b` into []string",
                  ""},
        ErrorCase{"scrape_configs:\n- job_name: a\n  honor_labels: maybe\n",
                  "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `maybe` into bool",
                  ""},
        ErrorCase{"foo: 1\n",
                  "yaml: unmarshal errors:\n  line 1: field foo not found in type config.plain",
                  ""},
        ErrorCase{"scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: [\"a:1\"]\n"
                  "    foo: 2\n",
                  "yaml: unmarshal errors:\n  line 5: field foo not found in type struct { "
                  "Targets []string \"yaml:\\\"targets\\\"\"; Labels model.LabelSet "
                  "\"yaml:\\\"labels\\\"\" }",
                  ""},
        ErrorCase{"scrape_configs:\n  job_name: a\n",
                  "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!map into "
                  "[]*config.ScrapeConfig",
                  ""},
        ErrorCase{"global:\n  scrape_timeout: 2m\n",
                  "global scrape timeout greater than scrape interval", " (at global, line 1)"},
        ErrorCase{"scrape_configs:\n- job_name: a\n  relabel_configs:\n  - foo: 1\n",
                  "yaml: unmarshal errors:\n  line 4: field foo not found in type relabel.plain",
                  ""},
        ErrorCase{"scrape_configs:\n- job_name: a\n  tls_config:\n    foo: 1\n",
                  "yaml: unmarshal errors:\n  line 4: field foo not found in type config.plain",
                  ""},
        ErrorCase{"scrape_configs:\n- job_name: a\n  static_configs:\n  - targets: a:1\n",
                  "yaml: unmarshal errors:\n  line 4: cannot unmarshal !!str `a:1` into []string",
                  ""},
        ErrorCase{"scrape_configs:\n- 5\n",
                  "yaml: unmarshal errors:\n  line 2: cannot unmarshal !!int `5` into "
                  "config.ScrapeConfig",
                  ""}));

TEST(ScrapeConfigTest, FeaturesLlmscaleLacksAreRefusedByName) {
  EXPECT_EQ(parse_error("scrape_configs:\n- job_name: a\n  kubernetes_sd_configs: [{role: pod}]\n"),
            "kubernetes_sd_configs is not supported by llmscale (static_configs and PodMonitoring "
            "documents are) (at scrape_configs[0].kubernetes_sd_configs, line 3)");
  EXPECT_EQ(parse_error("scrape_configs:\n- job_name: a\n  basic_auth: {username: u}\n"),
            "basic_auth is not supported by llmscale (static_configs and PodMonitoring documents "
            "are) (at scrape_configs[0].basic_auth, line 3)");
  // Sections that do not affect scraping are accepted with a warning.
  auto c = parse_ok("rule_files: [a.yml]\nremote_write: [{url: http://x}]\n");
  EXPECT_EQ(c.warnings.size(), 2u);
}

TEST(ScrapeConfigTest, Base2BytesFollowAlecthomasUnits) {
  EXPECT_EQ(parse_base2_bytes("1KB").value(), 1024);
  EXPECT_EQ(parse_base2_bytes("1KiB").value(), 1024);
  EXPECT_EQ(parse_base2_bytes("1.5MB").value(), 1572864);
  EXPECT_EQ(parse_base2_bytes("1B2KB").value(), 2049);
  EXPECT_EQ(parse_base2_bytes("0").value(), 0);
  EXPECT_EQ(parse_base2_bytes("-1KB").value(), -1024);
  EXPECT_EQ(parse_base2_bytes("1EB").value(), 1152921504606846976);
  EXPECT_EQ(parse_base2_bytes("10").error().message, "units: unknown unit  in 10");
  EXPECT_EQ(parse_base2_bytes("1 MB").error().message, "units: unknown unit  MB in 1 MB");
  EXPECT_EQ(parse_base2_bytes("").error().message, "units: invalid ");
  EXPECT_EQ(parse_base2_bytes("1kb").error().message, "units: unknown unit kb in 1kb");
  EXPECT_EQ(parse_base2_bytes("1e3KB").error().message, "units: unknown unit e in 1e3KB");
  EXPECT_EQ(parse_base2_bytes("16EB").error().message, "units: overflow parsing unit");
}

// ---- PodMonitoring ------------------------------------------------------------------------------

// Seed 002's PodMonitorings (GKE TGI tutorial), one YAML file with a Prometheus config.
constexpr const char* kSeed002 = R"(
global:
  scrape_interval: 15s
scrape_configs:
- job_name: static
  static_configs:
  - targets: ["127.0.0.1:9400"]
---
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata:
  name: gemma-pod-monitoring
spec:
  selector:
    matchLabels:
      app: gemma-server
  endpoints:
  - port: 8000
    interval: 15s
---
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata:
  name: nvidia-dcgm-exporter-for-hpa
  namespace: gmp-public
  labels:
    app.kubernetes.io/name: nvidia-dcgm-exporter
    app.kubernetes.io/part-of: google-cloud-managed-prometheus
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: nvidia-dcgm-exporter
  endpoints:
  - port: metrics
    interval: 15s
    metricRelabeling:
    - action: keep
      sourceLabels: [__name__]
    - action: replace
      sourceLabels: [__name__]
      targetLabel: __name__
      regex: DCGM_FI_DEV_GPU_UTIL
      replacement: dcgm_fi_dev_gpu_util
)";

TEST(PodMonitoringTest, SeedDocumentsDecodeWithCrdDefaults) {
  auto c = parse_ok(kSeed002);
  ASSERT_EQ(c.scrape_configs.size(), 1u);
  ASSERT_EQ(c.pod_monitorings.size(), 2u);
  const PodMonitoring& gemma = c.pod_monitorings[0];
  EXPECT_EQ(gemma.name, "gemma-pod-monitoring");
  EXPECT_EQ(gemma.namespace_, "default");
  EXPECT_EQ(gemma.selector.match_labels.at("app"), "gemma-server");
  ASSERT_EQ(gemma.endpoints.size(), 1u);
  EXPECT_EQ(gemma.endpoints[0].port_number, 8000);
  EXPECT_EQ(gemma.endpoints[0].interval, "15s");
  EXPECT_FALSE(gemma.target_labels_metadata.has_value());
  const PodMonitoring& dcgm = c.pod_monitorings[1];
  EXPECT_EQ(dcgm.namespace_, "gmp-public");
  EXPECT_EQ(dcgm.endpoints[0].port_name, "metrics");
  EXPECT_EQ(dcgm.endpoints[0].metric_relabeling.size(), 2u);

  auto configs = pod_monitoring_scrape_configs(gemma, {"proj", "us-central1", "c1"});
  ASSERT_TRUE(configs.has_value()) << configs.error().message;
  ASSERT_EQ(configs->size(), 1u);
  EXPECT_EQ((*configs)[0].job_name, "PodMonitoring/default/gemma-pod-monitoring/8000");
  EXPECT_EQ((*configs)[0].scrape_interval, 15s);
  EXPECT_EQ((*configs)[0].scrape_timeout, 15s);
  EXPECT_TRUE((*configs)[0].pod_discovery);
}

PodInfo gemma_pod(const std::string& name, const std::string& ip) {
  PodInfo pod;
  pod.name = name;
  pod.namespace_ = "default";
  pod.labels = {{"app", "gemma-server"}, {"pod-template-hash", "7d9f8c6b5"}};
  pod.pod_ip = ip;
  pod.node_name = "gke-node-1";
  pod.controller_kind = "ReplicaSet";
  pod.controller_name = "tgi-gemma-deployment-7d9f8c6b5";
  pod.containers = {PodContainer{"inference-server", "tgi:2.0", {{"http", 8000, "TCP"}}, false},
                    PodContainer{"sidecar", "busybox", {}, false}};
  return pod;
}

std::vector<TargetOutcome> pod_targets(const ScrapeConfig& config,
                                       const std::vector<PodInfo>& pods) {
  std::vector<TargetOutcome> out;
  for (const auto& pod : pods) {
    for (auto& t : targets_from_group(pod_target_group(pod), config)) out.push_back(std::move(t));
  }
  return out;
}

TEST(PodMonitoringTest, NumericPortTargetsCarryGmpLabels) {
  auto c = parse_ok(kSeed002);
  auto configs =
      pod_monitoring_scrape_configs(c.pod_monitorings[0], {"proj", "us-central1", "c1"}).value();
  PodInfo other = gemma_pod("other-0", "10.0.0.9");
  other.labels = {{"app", "something-else"}};
  PodInfo finished = gemma_pod("gemma-done", "10.0.0.8");
  finished.phase = "Succeeded";
  auto outcomes = pod_targets(configs[0], {gemma_pod("gemma-abc", "10.0.0.5"), other, finished});
  std::vector<Labels> kept;
  for (const auto& o : outcomes) {
    EXPECT_FALSE(o.error) << o.error->message;
    if (o.target) kept.push_back(o.target->public_labels());
  }
  // Both containers of the pod yield the same target (numeric port: no container label), which
  // the scraper merges; other pods and finished pods are dropped.
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], kept[1]);
  EXPECT_EQ(kept[0].to_string(),
            "{cluster=\"c1\", instance=\"gemma-abc:8000\", job=\"gemma-pod-monitoring\", "
            "location=\"us-central1\", namespace=\"default\", pod=\"gemma-abc\", "
            "project_id=\"proj\", top_level_controller_name=\"tgi-gemma-deployment\", "
            "top_level_controller_type=\"Deployment\"}");
  const auto& spec = *outcomes[0].target;
  EXPECT_EQ(spec.url, "http://10.0.0.5:8000/metrics");
  EXPECT_EQ(spec.interval, 15s);
  EXPECT_EQ(outcomes[0].discovered_labels.get("__meta_kubernetes_pod_container_port_name"), "http");
}

TEST(PodMonitoringTest, NamedPortTargetsKeepTheContainerAndNodeWhenAsked) {
  auto c = parse_ok(R"(
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata: {name: tgi, namespace: llm}
spec:
  selector:
    matchExpressions:
    - {key: app, operator: In, values: [gemma-server, other]}
    - {key: canary, operator: DoesNotExist}
  endpoints:
  - port: http
    path: /custom
    interval: 5s
    timeout: 2s
  targetLabels:
    metadata: [pod, container, node]
    fromPod: [{from: app, to: application}]
)");
  ASSERT_EQ(c.pod_monitorings.size(), 1u);
  auto configs = pod_monitoring_scrape_configs(c.pod_monitorings[0], {}).value();
  PodInfo pod = gemma_pod("gemma-1", "10.1.0.7");
  pod.namespace_ = "llm";
  PodInfo canary = gemma_pod("gemma-canary", "10.1.0.8");
  canary.namespace_ = "llm";
  canary.labels["canary"] = "true";
  PodInfo wrong_namespace = gemma_pod("gemma-2", "10.1.0.9");
  auto outcomes = pod_targets(configs[0], {pod, canary, wrong_namespace});
  std::vector<ScrapeTargetSpec> kept;
  for (const auto& o : outcomes) {
    if (o.target) kept.push_back(*o.target);
  }
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].public_labels().to_string(),
            "{application=\"gemma-server\", container=\"inference-server\", "
            "instance=\"gemma-1:http\", job=\"tgi\", namespace=\"llm\", node=\"gke-node-1\", "
            "pod=\"gemma-1\"}");
  EXPECT_EQ(kept[0].url, "http://10.1.0.7:8000/custom");
  EXPECT_EQ(kept[0].timeout, 2s);
}

TEST(PodMonitoringTest, DaemonSetPodsAreNamedByNode) {
  auto c = parse_ok(R"(
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata: {name: dcgm}
spec:
  endpoints: [{port: metrics, interval: 15s}]
)");
  auto configs = pod_monitoring_scrape_configs(c.pod_monitorings[0], {}).value();
  PodInfo pod;
  pod.name = "dcgm-exporter-x7k2p";
  pod.pod_ip = "10.2.0.3";
  pod.node_name = "gpu-node-3";
  pod.controller_kind = "DaemonSet";
  pod.controller_name = "dcgm-exporter";
  pod.containers = {PodContainer{"exporter", "dcgm", {{"metrics", 9400, "TCP"}}, false}};
  auto outcomes = pod_targets(configs[0], {pod});
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_TRUE(outcomes[0].target);
  EXPECT_EQ(outcomes[0].target->public_labels().get("instance"), "gpu-node-3:metrics");
  EXPECT_EQ(outcomes[0].target->public_labels().get("top_level_controller_type"), "DaemonSet");
}

TEST(PodMonitoringTest, ValidationFollowsTheCrdAndTheWebhook) {
  auto doc = [](const std::string& spec) {
    return "apiVersion: monitoring.googleapis.com/v1\nkind: PodMonitoring\nmetadata: {name: x}\n"
           "spec:\n" +
           spec;
  };
  EXPECT_EQ(parse_error(doc("  endpoints: []\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": at least one endpoint is required");
  EXPECT_EQ(parse_error(doc("  endpoints: [{port: 8000, interval: 10s, timeout: 20s}]\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": invalid definition for endpoint "
            "with index 0: scrape timeout 20s must not be greater than scrape interval 10s");
  EXPECT_EQ(parse_error(doc("  endpoints: [{port: 8000, interval: 1.5s}]\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": invalid definition for endpoint "
            "with index 0: invalid scrape interval: not a valid duration string: \"1.5s\"");
  EXPECT_EQ(parse_error(doc("  endpoints: [{port: 8000}]\n  targetLabels: {metadata: [foo]}\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": metadata label \"foo\" not "
            "allowed, must be one of [container node pod top_level_controller_name "
            "top_level_controller_type]");
  EXPECT_EQ(parse_error(doc("  endpoints:\n  - port: 8000\n    metricRelabeling:\n"
                            "    - {action: replace, targetLabel: job, replacement: x}\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": invalid definition for endpoint "
            "with index 0: cannot relabel with action \"replace\" onto protected label \"job\"");
  EXPECT_EQ(parse_error(doc("  endpoints:\n  - port: 8000\n    metricRelabeling:\n"
                            "    - {action: labelmap, regex: x}\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": invalid definition for endpoint "
            "with index 0: relabeling with action \"labelmap\" not allowed");
  EXPECT_EQ(parse_error(doc("  endpoints: [{port: 8000, scheme: ftp}]\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": spec.endpoints[0].scheme: "
            "Unsupported value: \"ftp\": supported values: \"http\", \"https\"");
  EXPECT_EQ(parse_error(doc("  endpoints: [{interval: 5s}]\n")),
            "document 0 (line 1): PodMonitoring \"default/x\": spec.endpoints[0].port: Invalid "
            "value: \"0\": Port is required");
  // Strict decoding, as the API server does for the CRD (seed 000's manifest has `selector`
  // outside spec; kubectl apply refuses it the same way).
  std::string message = parse_error(
      "apiVersion: monitoring.googleapis.com/v1\nkind: PodMonitoring\nmetadata: {name: x}\n"
      "selector: {matchLabels: {app: a}}\nspec:\n  endpoints: [{port: 8000}]\n");
  EXPECT_NE(message.find("unknown field \"selector\""), std::string::npos) << message;
  EXPECT_EQ(parse_error("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"),
            "document 0 (line 1): kind \"Service\" is not supported (a Prometheus configuration "
            "or kind PodMonitoring is)");
}

TEST(PodMonitoringTest, LowercaseRelabelingIsAllowed) {
  auto c = parse_ok(R"(
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata: {name: dcgm}
spec:
  endpoints:
  - port: metrics
    metricRelabeling:
    - {action: lowercase, sourceLabels: [__name__], targetLabel: __name__}
)");
  ASSERT_EQ(c.pod_monitorings.size(), 1u);
  EXPECT_EQ(c.pod_monitorings[0].endpoints[0].interval, "1m");  // CRD default
}

// ---- pods -------------------------------------------------------------------------------------

TEST(PodSourceTest, ManifestsDecodeAndYieldKubernetesDiscoveryLabels) {
  auto pods = parse_pod_manifests(R"(
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: vllm-0
    namespace: llm
    uid: u-1
    labels: {app: vllm, app.kubernetes.io/name: vllm}
    ownerReferences:
    - {apiVersion: apps/v1, kind: StatefulSet, name: vllm, controller: true}
  spec:
    nodeName: node-a
    containers:
    - name: server
      image: vllm/vllm-openai
      ports: [{name: http, containerPort: 8000}, {containerPort: 9000, protocol: UDP}]
    initContainers:
    - {name: init, image: busybox}
  status:
    podIP: 10.0.0.4
    hostIP: 192.168.1.2
    phase: Running
    conditions: [{type: Ready, status: "True"}]
)");
  ASSERT_TRUE(pods.has_value()) << pods.error().message;
  ASSERT_EQ(pods->size(), 1u);
  TargetGroup group = pod_target_group((*pods)[0]);
  EXPECT_EQ(group.source, "pod/llm/vllm-0");
  EXPECT_EQ(group.labels.to_string(),
            "{__meta_kubernetes_namespace=\"llm\", __meta_kubernetes_pod_controller_kind="
            "\"StatefulSet\", __meta_kubernetes_pod_controller_name=\"vllm\", "
            "__meta_kubernetes_pod_host_ip=\"192.168.1.2\", __meta_kubernetes_pod_ip=\"10.0.0.4\", "
            "__meta_kubernetes_pod_label_app=\"vllm\", "
            "__meta_kubernetes_pod_label_app_kubernetes_io_name=\"vllm\", "
            "__meta_kubernetes_pod_labelpresent_app=\"true\", "
            "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name=\"true\", "
            "__meta_kubernetes_pod_name=\"vllm-0\", __meta_kubernetes_pod_node_name=\"node-a\", "
            "__meta_kubernetes_pod_phase=\"Running\", __meta_kubernetes_pod_ready=\"true\", "
            "__meta_kubernetes_pod_uid=\"u-1\"}");
  ASSERT_EQ(group.targets.size(), 3u);
  EXPECT_EQ(group.targets[0].get("__address__"), "10.0.0.4:8000");
  EXPECT_EQ(group.targets[1].get("__meta_kubernetes_pod_container_port_protocol"), "UDP");
  EXPECT_EQ(group.targets[2].get("__address__"), "10.0.0.4");
  EXPECT_EQ(group.targets[2].get("__meta_kubernetes_pod_container_init"), "true");
  // No IP yet: no targets.
  PodInfo pending = (*pods)[0];
  pending.pod_ip.clear();
  EXPECT_TRUE(pod_target_group(pending).targets.empty());
}

TEST(PodSourceTest, StaticSourceNotifiesOnEveryChange) {
  StaticPodSource source;
  int calls = 0;
  auto id = source.subscribe([&] { ++calls; });
  source.upsert(gemma_pod("a", "10.0.0.1"));
  source.upsert(gemma_pod("b", "10.0.0.2"));
  EXPECT_TRUE(source.remove("default", "a"));
  EXPECT_FALSE(source.remove("default", "a"));
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(source.pods().size(), 1u);
  EXPECT_EQ(source.pods()[0].name, "b");
  source.unsubscribe(id);
  source.set_pods({});
  EXPECT_EQ(calls, 3);
}

// ---- targets ----------------------------------------------------------------------------------

TEST(ScrapeTargetTest, PopulateLabelsLikePrometheus) {
  auto c = parse_ok(R"(
scrape_configs:
- job_name: j
  scheme: https
  params: {module: [a, b]}
  relabel_configs:
  - {source_labels: [__address__], regex: 'drop-me.*', action: drop}
  - {source_labels: [__meta_x], target_label: __param_module}
  static_configs:
  - targets: ["host-a", "drop-me:1", "[::1]:9090"]
    labels: {__meta_x: override}
)");
  const ScrapeConfig& config = c.scrape_configs[0];
  auto outcomes = targets_from_group(config.static_configs[0], config);
  ASSERT_EQ(outcomes.size(), 3u);
  ASSERT_TRUE(outcomes[0].target);
  // The default port of the scheme, instance from the address, meta labels gone, params.
  EXPECT_EQ(outcomes[0].target->url, "https://host-a:443/metrics?module=override&module=b");
  EXPECT_EQ(outcomes[0].target->public_labels().to_string(),
            "{instance=\"host-a:443\", job=\"j\"}");
  EXPECT_EQ(outcomes[0].discovered_labels.get("__param_module"), "a");
  EXPECT_FALSE(outcomes[1].target);  // dropped
  EXPECT_FALSE(outcomes[1].error);
  EXPECT_EQ(outcomes[2].target->url, "https://[::1]:9090/metrics?module=override&module=b");

  ScrapeConfig bad = config;
  bad.relabel_configs.clear();
  RelabelConfig set_interval;
  set_interval.target_label = "__scrape_timeout__";
  set_interval.replacement = "2m";
  bad.relabel_configs.push_back(set_interval);
  ASSERT_TRUE(compile_scrape_rules(bad));
  auto invalid = populate_target(Labels{{"__address__", "a:1"}}, bad);
  ASSERT_TRUE(invalid.error);
  EXPECT_EQ(invalid.error->message,
            "scrape timeout cannot be greater than scrape interval (\"2m\" > \"1m\")");
}

}  // namespace
}  // namespace llmscale::prom
