// kubectl output for HPAs: TARGETS, `get hpa -w` rows as the seeds show them, ages, describe.
#include "kube/printers.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace llmscale::kube
