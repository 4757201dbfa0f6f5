// kubectl output for HPAs: TARGETS, `get hpa -w` rows as the seeds show them, ages, describe;
// the pod (wide), deployment and event tables; kubectl's -o json and -o yaml printers.
#include "kube/printers.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"

namespace llmscale::kube {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

Quantity q(const char* text) {
  return *Quantity::parse(text);
}

HorizontalPodAutoscaler nim_hpa(const char* current, int replicas) {
  HorizontalPodAutoscaler hpa;
  hpa.metadata.name = "gpu-hpa-cache";
  hpa.spec.scale_target_ref = {"Deployment", "meta-llama3-8b", "apps/v1"};
  hpa.spec.min_replicas = 1;
  hpa.spec.max_replicas = 10;
  MetricSpec m;
  m.type = "Pods";
  m.pods =
      PodsMetricSource{{"gpu_cache_usage_perc", std::nullopt}, {"AverageValue", {}, q("100m"), {}}};
  hpa.spec.metrics = {m};
  hpa.status.current_replicas = replicas;
  MetricStatus s;
  s.type = "Pods";
  s.pods = MetricStatus::Pods{{"gpu_cache_usage_perc", std::nullopt}, {{}, q(current), {}}};
  hpa.status.current_metrics = {s};
  return hpa;
}

TEST(HumanDurationTest, MatchesApimachinery) {
  EXPECT_EQ(human_duration(seconds(6)), "6s");
  EXPECT_EQ(human_duration(seconds(119)), "119s");
  EXPECT_EQ(human_duration(minutes(3) + seconds(37)), "3m37s");
  EXPECT_EQ(human_duration(minutes(7) + seconds(1)), "7m1s");
  EXPECT_EQ(human_duration(minutes(5)), "5m");
  EXPECT_EQ(human_duration(minutes(146)), "146m");
  EXPECT_EQ(human_duration(hours(3) + minutes(5)), "3h5m");
  EXPECT_EQ(human_duration(hours(30)), "30h");
  EXPECT_EQ(human_duration(hours(24 * 3 + 2)), "3d2h");
  EXPECT_EQ(human_duration(hours(24 * 400)), "400d");
  EXPECT_EQ(human_duration(hours(24 * (365 * 3 + 10))), "3y10d");
  EXPECT_EQ(human_duration(seconds(-1)), "0s");
  EXPECT_EQ(human_duration(seconds(-5)), "<invalid>");
}

// The seed-001 watch, byte for byte: the header and first row flush together; later rows keep
// the widened TARGETS column.
TEST(HpaTableTest, ReproducesTheNimSeedWatch) {
  core::Time created = *core::parse_rfc3339("2025-01-02T20:00:00Z");
  auto row = [&](const char* current, int replicas, core::Duration age) {
    HorizontalPodAutoscaler hpa = nim_hpa(current, replicas);
    hpa.metadata.creation_timestamp = created;
    return hpa_table_row(hpa, created + age);
  };
  TableWriter table;
  std::string out = table.flush({hpa_table_header(), row("9m", 1, minutes(3) + seconds(37))});
  out += table.row(row("208m", 1, minutes(6) + seconds(46)));
  out += table.row(row("208m", 3, minutes(7) + seconds(1)));
  out += table.row(row("7m", 3, minutes(7) + seconds(46)));
  EXPECT_EQ(
      out,
      "NAME            REFERENCE                   TARGETS   MINPODS   MAXPODS   REPLICAS   AGE\n"
      "gpu-hpa-cache   Deployment/meta-llama3-8b   9m/100m   1         10        1          3m37s\n"
      "gpu-hpa-cache   Deployment/meta-llama3-8b   208m/100m   1         10        1          "
      "6m46s\n"
      "gpu-hpa-cache   Deployment/meta-llama3-8b   208m/100m   1         10        3          "
      "7m1s\n"
      "gpu-hpa-cache   Deployment/meta-llama3-8b   7m/100m     1         10        3          "
      "7m46s\n");
}

TEST(HpaTargetsTest, FormatsEverySourceLikeKubectl) {
  HorizontalPodAutoscaler hpa;
  EXPECT_EQ(hpa_targets(hpa), "<none>");

  MetricSpec pods;
  pods.type = "Pods";
  pods.pods = PodsMetricSource{{"vllm:num_requests_waiting", std::nullopt},
                               {"AverageValue", {}, q("5"), {}}};
  hpa.spec.metrics = {pods};
  EXPECT_EQ(hpa_targets(hpa), "<unknown>/5");
  MetricStatus ps;
  ps.type = "Pods";
  ps.pods = MetricStatus::Pods{{"vllm:num_requests_waiting", std::nullopt},
                               {{}, Quantity::from_milli(34972), {}}};
  hpa.status.current_metrics = {ps};
  EXPECT_EQ(hpa_targets(hpa), "34972m/5");

  MetricSpec ext;
  ext.type = "External";
  ext.external = ExternalMetricSource{{"jetstream_prefill_backlog_size", std::nullopt},
                                      {"AverageValue", {}, q("10"), {}}};
  HorizontalPodAutoscaler jet;
  jet.spec.metrics = {ext};
  MetricStatus es;
  es.type = "External";
  es.external = MetricStatus::External{{"jetstream_prefill_backlog_size", std::nullopt},
                                       {{}, Quantity::from_milli(0), {}}};
  jet.status.current_metrics = {es};
  EXPECT_EQ(hpa_targets(jet), "0/10 (avg)");

  MetricSpec cpu;
  cpu.type = "Resource";
  cpu.resource = ResourceMetricSource{"cpu", {"Utilization", {}, {}, 80}};
  MetricSpec mem;
  mem.type = "Resource";
  mem.resource = ResourceMetricSource{"memory", {"AverageValue", {}, q("500Mi"), {}}};
  MetricSpec value;
  value.type = "External";
  value.external = ExternalMetricSource{{"q", std::nullopt}, {"Value", q("6666m"), {}, {}}};
  HorizontalPodAutoscaler many;
  many.spec.metrics = {cpu, mem, value};
  MetricStatus cs;
  cs.type = "Resource";
  cs.resource = MetricStatus::Resource{"cpu", {{}, Quantity::from_milli(250), 50}};
  MetricStatus ms;
  ms.type = "Resource";
  ms.resource = MetricStatus::Resource{
      "memory", {{}, Quantity::from_milli(1048576000, Quantity::Format::kBinarySI), {}}};
  many.status.current_metrics = {cs, ms};
  EXPECT_EQ(hpa_targets(many), "cpu: 50%/80%, memory: 1Mi/500Mi + 1 more...");
  many.spec.metrics.resize(1);
  many.spec.metrics[0].resource->target.average_utilization.reset();
  EXPECT_EQ(hpa_targets(many), "cpu: 50%/<auto>");

  MetricSpec unknown;
  unknown.type = "Foo";
  HorizontalPodAutoscaler odd;
  odd.spec.metrics = {unknown};
  EXPECT_EQ(hpa_targets(odd), "<unknown type>");
}

TEST(DescribeHpaTest, LaysOutLikeKubectlDescribe) {
  HorizontalPodAutoscaler hpa = nim_hpa("208m", 1);
  hpa.metadata.namespace_ = "default";
  hpa.metadata.creation_timestamp = *core::parse_rfc3339("2025-01-02T20:06:34Z");
  hpa.status.desired_replicas = 3;
  hpa.status.conditions = {{"AbleToScale", "True", std::nullopt, "SucceededRescale",
                            "the HPA controller was able to update the target scale to 3"}};
  std::string out =
      describe_hpa(hpa, {{"Normal", "SuccessfulRescale", "New size: 3; reason: x", seconds(15), 1}},
                   *core::parse_rfc3339("2025-01-02T20:13:20Z"));
  EXPECT_EQ(
      out,
      "Name:                              gpu-hpa-cache\n"
      "Namespace:                         default\n"
      "Labels:                            <none>\n"
      "Annotations:                       <none>\n"
      "CreationTimestamp:                 Thu, 02 Jan 2025 20:06:34 +0000\n"
      "Reference:                         Deployment/meta-llama3-8b\n"
      "Metrics:                           ( current / target )\n"
      "  \"gpu_cache_usage_perc\" on pods:  208m / 100m\n"
      "Min replicas:                      1\n"
      "Max replicas:                      10\n"
      "Deployment pods:                   1 current / 3 desired\n"
      "Conditions:\n"
      "  Type         Status  Reason            Message\n"
      "  ----         ------  ------            -------\n"
      "  AbleToScale  True    SucceededRescale  the HPA controller was able to update the target "
      "scale to 3\n"
      "Events:\n"
      "  Type    Reason             Age   From                       Message\n"
      "  ----    ------             ----  ----                       -------\n"
      "  Normal  SuccessfulRescale  15s   horizontal-pod-autoscaler  New size: 3; reason: x\n");
}

TEST(PodTableTest, RowsAsKubectlPrintsThem) {
  core::Time now = *core::parse_rfc3339("2025-01-02T20:10:00Z");
  Pod pod;
  pod.metadata.name = "meta-llama3-8b-5d4c9b7f6d-x2x8q";
  pod.metadata.creation_timestamp = now - minutes(3) - seconds(37);
  pod.containers = {{"nim", {}, std::nullopt}};
  pod.phase = "Pending";
  pod.container_statuses = {{"nim", false, 0, "ContainerCreating", "", std::nullopt}};
  auto table = TableWriter().flush({pod_table_header(), pod_table_row(pod, now)});
  EXPECT_EQ(table,
            "NAME                              READY   STATUS              RESTARTS   AGE\n"
            "meta-llama3-8b-5d4c9b7f6d-x2x8q   0/1     ContainerCreating   0          3m37s\n");

  pod.phase = "Running";
  pod.container_statuses = {{"nim", true, 2, "", "", now - minutes(5)}};
  pod.conditions = {{"Ready", "True", std::nullopt}};
  EXPECT_EQ(pod_table_row(pod, now),
            (std::vector<std::string>{pod.metadata.name, "1/1", "Running", "2 (5m ago)", "3m37s"}));

  pod.container_statuses[0].ready = false;  // running, readiness probe failing
  EXPECT_EQ(pod_table_row(pod, now)[1], "0/1");
  EXPECT_EQ(pod_table_row(pod, now)[2], "Running");

  pod.container_statuses[0].waiting_reason = "CrashLoopBackOff";
  EXPECT_EQ(pod_table_row(pod, now)[2], "CrashLoopBackOff");

  pod.container_statuses[0].waiting_reason.clear();
  pod.metadata.deletion_timestamp = now;
  EXPECT_EQ(pod_table_row(pod, now)[2], "Terminating");
}

TEST(WorkloadTablesTest, DeploymentColumnsAsPrintDeployment) {
  Deployment d;
  d.metadata.name = "llm";
  d.replicas = 3;
  d.ready_replicas = 2;
  d.updated_replicas = 3;
  d.available_replicas = 2;
  d.selector = LabelSelector{{{"app", "llm"}, {"tier", "gpu"}}, {}};
  d.containers = {{"vllm", "serve-sim/vllm-v1"}, {"side", "busybox"}};
  core::Time now = core::SimulatedClock::default_start();
  d.metadata.creation_timestamp = now - minutes(5);
  EXPECT_EQ(deployment_table_header(false),
            (std::vector<std::string>{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}));
  EXPECT_EQ(deployment_table_row(d, now, false),
            (std::vector<std::string>{"llm", "2/3", "3", "2", "5m"}));
  EXPECT_EQ(deployment_table_header(true).back(), "SELECTOR");
  EXPECT_EQ(deployment_table_row(d, now, true),
            (std::vector<std::string>{"llm", "2/3", "3", "2", "5m", "vllm,side",
                                      "serve-sim/vllm-v1,busybox", "app=llm,tier=gpu"}));
  // spec.replicas defaults to 1; no creationTimestamp prints <unknown>.
  Deployment bare;
  bare.metadata.name = "x";
  EXPECT_EQ(deployment_table_row(bare, now, false),
            (std::vector<std::string>{"x", "0/1", "0", "0", "<unknown>"}));
}

TEST(WorkloadTablesTest, EventColumnsAsPrintEvent) {
  Event e;
  e.metadata.name = "llm-hpa.0000000000000001";
  e.involved_object = {"HorizontalPodAutoscaler", "default", "llm-hpa", "autoscaling/v2", ""};
  e.reason = "SuccessfulRescale";
  e.message = "New size: 4; reason: above target\n";
  e.type = "Normal";
  e.source_component = "horizontal-pod-autoscaler";
  core::Time now = core::SimulatedClock::default_start();
  e.first_timestamp = now - minutes(3);
  e.last_timestamp = now - seconds(20);
  e.count = 2;
  EXPECT_EQ(event_table_header(false),
            (std::vector<std::string>{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}));
  EXPECT_EQ(event_table_row(e, now, false),
            (std::vector<std::string>{"20s", "Normal", "SuccessfulRescale",
                                      "horizontalpodautoscaler/llm-hpa",
                                      "New size: 4; reason: above target"}));
  EXPECT_EQ(event_table_header(true),
            (std::vector<std::string>{"LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT",
                                      "SOURCE", "MESSAGE", "FIRST SEEN", "COUNT", "NAME"}));
  e.source_host = "node-1";
  EXPECT_EQ(event_table_row(e, now, true),
            (std::vector<std::string>{
                "20s", "Normal", "SuccessfulRescale", "horizontalpodautoscaler/llm-hpa", "",
                "horizontal-pod-autoscaler, node-1", "New size: 4; reason: above target", "3m", "2",
                "llm-hpa.0000000000000001"}));
  // No lastTimestamp: the first one; no timestamps at all: <unknown>; count 0 is 1.
  Event bare;
  bare.involved_object.kind = "Pod";
  EXPECT_EQ(event_table_row(bare, now, true)[0], "<unknown>");
  EXPECT_EQ(event_table_row(bare, now, true)[3], "pod");
  EXPECT_EQ(event_table_row(bare, now, true)[8], "1");
}

TEST(WorkloadTablesTest, PodWideColumnsAndLabels) {
  Pod pod;
  pod.metadata.name = "llm-abc";
  pod.phase = "Running";
  pod.pod_ip = "127.0.0.1";
  core::Time now = core::SimulatedClock::default_start();
  EXPECT_EQ(pod_table_header(true),
            (std::vector<std::string>{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE",
                                      "NOMINATED NODE", "READINESS GATES"}));
  auto row = pod_table_row(pod, now, true);
  ASSERT_EQ(row.size(), 9u);
  EXPECT_EQ(std::vector<std::string>(row.begin() + 5, row.end()),
            (std::vector<std::string>{"127.0.0.1", "<none>", "<none>", "<none>"}));
  pod.pod_ip.clear();
  EXPECT_EQ(pod_table_row(pod, now, true)[5], "<none>");
  EXPECT_EQ(pod_table_row(pod, now, false).size(), 5u);
  EXPECT_EQ(format_labels({}), "<none>");
  EXPECT_EQ(format_labels({{"tier", "gpu"}, {"app", "llm"}}), "app=llm,tier=gpu");
}

TEST(KubectlJsonTest, SortedKeysFourSpacesGoEscapes) {
  core::Json list = *core::parse_document(
      R"({"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":""},"items":[]})");
  EXPECT_EQ(kubectl_json(list),
            "{\n"
            "    \"apiVersion\": \"v1\",\n"
            "    \"items\": [],\n"
            "    \"kind\": \"List\",\n"
            "    \"metadata\": {\n"
            "        \"resourceVersion\": \"\"\n"
            "    }\n"
            "}\n");
  core::Json pod = *core::parse_document(
      R"({"metadata":{"name":"a<b>","labels":{}},"spec":{"n":[1,2.5,true,null]}})");
  EXPECT_EQ(kubectl_json(pod),
            "{\n"
            "    \"metadata\": {\n"
            "        \"labels\": {},\n"
            "        \"name\": \"a\\u003cb\\u003e\"\n"
            "    },\n"
            "    \"spec\": {\n"
            "        \"n\": [\n"
            "            1,\n"
            "            2.5,\n"
            "            true,\n"
            "            null\n"
            "        ]\n"
            "    }\n"
            "}\n");
}

TEST(KubectlYamlTest, GoYamlV2Layout) {
  core::Json list = *core::parse_document(
      R"({"kind":"List","apiVersion":"v1","metadata":{"resourceVersion":""},"items":[]})");
  EXPECT_EQ(kubectl_yaml(list),
            "apiVersion: v1\n"
            "items: []\n"
            "kind: List\n"
            "metadata:\n"
            "  resourceVersion: \"\"\n");
  core::Json pod = *core::parse_document(R"({
    "kind": "Pod", "apiVersion": "v1",
    "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z",
                 "labels": {"app": "llm", "pod-template-hash": "7d9c"}, "annotations": {}},
    "spec": {"containers": [{"name": "c", "args": ["--port", "8000", "-", "a: b", "#x"]}]},
    "status": {"phase": "Running", "conditions": [
       {"type": "Ready", "status": "True", "lastTransitionTime": null}],
       "message": "it's", "podIPs": [{"ip": "127.0.0.1"}], "n": [[1, 2], []], "x": 0.5,
       "big": 1e21, "yes": "yes", "num": "0x1F", "ver": "1.10", "text": "a\nb\n"}})");
  EXPECT_EQ(kubectl_yaml(pod),
            "apiVersion: v1\n"
            "kind: Pod\n"
            "metadata:\n"
            "  annotations: {}\n"
            "  creationTimestamp: \"2026-01-01T00:00:00Z\"\n"
            "  labels:\n"
            "    app: llm\n"
            "    pod-template-hash: 7d9c\n"
            "  name: p\n"
            "spec:\n"
            "  containers:\n"
            "  - args:\n"
            "    - --port\n"
            "    - \"8000\"\n"
            "    - '-'\n"
            "    - 'a: b'\n"
            "    - '#x'\n"
            "    name: c\n"
            "status:\n"
            "  big: 1e+21\n"
            "  conditions:\n"
            "  - lastTransitionTime: null\n"
            "    status: \"True\"\n"
            "    type: Ready\n"
            "  message: it's\n"
            "  \"n\":\n"
            "  - - 1\n"
            "    - 2\n"
            "  - []\n"
            "  num: \"0x1F\"\n"
            "  phase: Running\n"
            "  podIPs:\n"
            "  - ip: 127.0.0.1\n"
            "  text: |\n"
            "    a\n"
            "    b\n"
            "  ver: \"1.10\"\n"
            "  x: 0.5\n"
            "  \"yes\": \"yes\"\n");
}

TEST(KubectlYamlTest, LongScalarsFoldPastColumn80) {
  // The first space past column 80 breaks the line; continuation lines are indented two more
  // than the key, as kubectl prints the autoscaling/v1 conditions annotation ('[{...,"message":
  // "the\n      HPA was able to ... from cpu resource utilization\n      (percentage ...').
  core::Json condition = *core::parse_document(
      R"j({"conditions":[{"message":"the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)","reason":"ValidMetricFound"}]})j");
  EXPECT_EQ(kubectl_yaml(condition),
            "conditions:\n"
            "- message: the HPA was able to successfully calculate a replica count from cpu "
            "resource\n"
            "    utilization (percentage of request)\n"
            "  reason: ValidMetricFound\n");
  core::Json quoted = *core::parse_document(
      R"j({"metadata":{"annotations":{"a":"[{\"message\":\"the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)\"}]"}}})j");
  EXPECT_EQ(kubectl_yaml(quoted),
            "metadata:\n"
            "  annotations:\n"
            "    a: '[{\"message\":\"the HPA was able to successfully calculate a replica count "
            "from\n"
            "      cpu resource utilization (percentage of request)\"}]'\n");
}

TEST(JsonDepthTest, CountsNestingWithoutRecursion) {
  EXPECT_EQ(json_depth(core::Json(1)), 0u);
  EXPECT_EQ(json_depth(*core::parse_document("[]")), 1u);
  EXPECT_EQ(json_depth(*core::parse_document(R"({"a":[{"b":1}],"c":2})")), 3u);
  // Deep enough to overflow a recursive walk under ASan; built iteratively.
  core::Json deep = core::Json::array();
  core::Json* at = &deep;
  for (int i = 0; i < 100000; ++i) {
    at->push_back(core::Json::array());
    at = &at->back();
  }
  EXPECT_EQ(json_depth(deep), 100001u);
}

}  // namespace
}  // namespace llmscale::kube
