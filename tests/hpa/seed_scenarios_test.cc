// The seeds' HPA manifests, loaded verbatim (placeholders substituted) and driven through the
// decisions the seeds report: NIM 208m/100m takes 1 -> 3; vLLM 34972m/5 takes 1 -> 2 (max);
// JetStream shows 0/10 (avg) and scales to 2 under the 100-request burst; TGI's queue-size HPA
// holds inside the 0.1 tolerance band.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kube/hpa_manifest.h"
#include "kube/printers.h"
#include "test_support.h"

namespace llmscale::hpa::testing {
namespace {

kube::HorizontalPodAutoscaler seed(const std::string& file,
                                   std::map<std::string, std::string> values) {
  std::ifstream in(std::string(LLMSCALE_SOURCE_DIR) + "/tests/testdata/seeds/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  for (const auto& [k, v] : values) {
    for (std::size_t pos; (pos = text.find(k)) != std::string::npos;)
      text.replace(pos, k.size(), v);
  }
  auto hpas = kube::load_hpa_manifests(text, {});
  EXPECT_TRUE(hpas) << file << ": " << (hpas ? "" : hpas.error().message);
  return hpas ? hpas->front() : kube::HorizontalPodAutoscaler{};
}

Scenario with_hpa(kube::HorizontalPodAutoscaler hpa, int replicas, const std::string& app) {
  Scenario s;
  s.input.hpa = std::move(hpa);
  s.input.config = ControllerConfig{};  // production defaults
  s.replicas(replicas);
  s.input.scale->selector = "app=" + app;
  for (int i = 0; i < replicas; ++i) {
    kube::Pod& pod = s.add_pod();
    pod.metadata.namespace_ = s.input.hpa.metadata.namespace_;
    pod.metadata.labels = {{"app", app}};
  }
  return s;
}

std::vector<kube::MetricValue> per_pod(const Scenario& s, std::vector<std::int64_t> milli) {
  std::vector<kube::MetricValue> values;
  for (std::size_t i = 0; i < s.input.pods.size(); ++i)
    values.push_back(pod_value(s.input.pods[i].metadata.name, milli[i]));
  return values;
}

std::string targets(const Scenario& s, const Decision& d) {
  kube::HorizontalPodAutoscaler hpa = s.input.hpa;
  hpa.status = d.status;
  return kube::hpa_targets(hpa);
}

TEST(SeedScenarios, NimGpuCacheScalesOneToThree) {
  Scenario s = with_hpa(seed("001-nim-gpu-cache.yaml", {}), 1, "meta-llama3-8b");
  s.metrics.pods["gpu_cache_usage_perc"] = per_pod(s, {208});
  Decision d = s.run();
  EXPECT_EQ(d.desired_replicas, 3);
  EXPECT_EQ(targets(s, d), "208m/100m");
  EXPECT_EQ(d.events[0].message,
            "New size: 3; reason: pods metric gpu_cache_usage_perc above target");
}

TEST(SeedScenarios, VllmQueueScalesToMaxAndHolds) {
  Scenario s = with_hpa(seed("003-vllm-num-requests-waiting.yaml", {}), 1, "vllm-tpu");
  const std::string metric = "prometheus.googleapis.com|vllm:num_requests_waiting|gauge";
  s.metrics.pods[metric] = per_pod(s, {34972});
  Decision d = s.run();
  EXPECT_EQ(*d.prenormalized_replicas, 7);  // ceil(34.972 / 5)
  EXPECT_EQ(d.desired_replicas, 2);         // maxReplicas
  EXPECT_EQ(d.limit_reason, "TooManyReplicas");
  EXPECT_EQ(targets(s, d), "34972m/5");

  Scenario two = with_hpa(seed("003-vllm-num-requests-waiting.yaml", {}), 2, "vllm-tpu");
  two.metrics.pods[metric] = per_pod(two, {25112, 25112});
  Decision held = two.run();
  EXPECT_EQ(held.desired_replicas, 2);
  EXPECT_FALSE(held.rescale);
  EXPECT_EQ(targets(two, held), "25112m/5");
}

TEST(SeedScenarios, JetStreamBacklogBurstScalesToTwo) {
  std::map<std::string, std::string> values = {
      {"MIN_REPLICAS", "1"},
      {"MAX_REPLICAS", "2"},
      {"jetstream_METRIC", "jetstream_prefill_backlog_size"},
      {"TARGET", "10"}};
  Scenario idle =
      with_hpa(seed("000-jetstream-external-adapter.yaml", values), 1, "maxengine-server");
  idle.metrics.external["jetstream_prefill_backlog_size"] =
      std::vector<kube::ExternalMetricValue>{external_sample(0)};
  Decision d = idle.run();
  EXPECT_EQ(d.desired_replicas, 1);
  EXPECT_EQ(targets(idle, d), "0/10 (avg)");

  Scenario burst =
      with_hpa(seed("000-jetstream-external-adapter.yaml", values), 1, "maxengine-server");
  burst.metrics.external["jetstream_prefill_backlog_size"] =
      std::vector<kube::ExternalMetricValue>{external_sample(68000)};
  Decision b = burst.run();
  EXPECT_EQ(b.desired_replicas, 2);
  EXPECT_EQ(targets(burst, b), "68/10 (avg)");
}

TEST(SeedScenarios, StackdriverStyleNamesAndSelectorsReachTheProvider) {
  std::map<std::string, std::string> values = {
      {"MIN_REPLICAS", "1"}, {"MAX_REPLICAS", "2"}, {"TARGET", "10"}};
  Scenario s =
      with_hpa(seed("000-jetstream-external-memory-used.yaml", values), 1, "maxengine-server");
  struct Capture final : MetricsProvider {
    std::string name, selector;
    core::Result<std::vector<kube::PodMetrics>> resource_metrics(const std::string&,
                                                                 const kube::Selector&) override {
      return {};
    }
    core::Result<std::vector<kube::MetricValue>> pods_metric(const std::string&, const std::string&,
                                                             const kube::Selector&,
                                                             const kube::Selector&) override {
      return {};
    }
    core::Result<std::vector<kube::MetricValue>> object_metric(
        const std::string&, const std::string&, const kube::CrossVersionObjectReference&,
        const kube::Selector&) override {
      return {};
    }
    core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
        const std::string&, const std::string& n, const kube::Selector& sel) override {
      name = n;
      selector = sel.to_string();
      return std::vector<kube::ExternalMetricValue>{external_sample(5000)};
    }
  } capture;
  RecordedScaleWriter writer(std::nullopt);
  reconcile(s.input, capture, writer);
  EXPECT_EQ(capture.name, "prometheus.googleapis.com|memory_used|gauge");
  EXPECT_EQ(capture.selector,
            "metric.labels.container=jetstream-http,metric.labels.exported_namespace=default");
}

TEST(SeedScenarios, TgiQueueSizeStaysInsideTheToleranceBand) {
  Scenario s = with_hpa(seed("002-tgi-queue-size.yaml", {{"$HPA_AVERAGEVALUE_TARGET", "10"}}), 3,
                        "gemma-server");
  s.metrics.pods["prometheus.googleapis.com|tgi_queue_size|gauge"] =
      per_pod(s, {9000, 11000, 12000});
  Decision d = s.run();  // average 10.666 -> ratio 1.067, inside 0.1
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 3);
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(targets(s, d), "10666m/10");
}

}  // namespace
}  // namespace llmscale::hpa::testing
