// Fetch first, then decide: the requests a pass makes, listed before it (spec order, the engine's
// own selectors, none when the pass computes no metric), and a pass on answers recorded per
// request deciding exactly what the pass asking live decides, failed fetches included.
#include "hpa/metric_requests.h"

#include <gtest/gtest.h>

#include <set>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "hpa/reconcile_io.h"
#include "test_support.h"

namespace llmscale::hpa::testing {
namespace {

using Api = MetricRequest::Api;

Scenario four_kinds() {
  Scenario s;
  s.replicas(3);
  for (int i = 0; i < 3; ++i) s.add_pod();
  s.input.hpa.spec.metrics = {pods_metric("queue", "10"), object_value("rps", "100"),
                              external_value("backlog", "50"), resource_utilization("cpu", 80)};
  return s;
}

TEST(MetricRequestsTest, OnePerMetricInSpecOrderWithTheEnginesArguments) {
  Scenario s = four_kinds();
  std::vector<MetricRequest> requests = metric_requests(s.input);
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].api, Api::kPods);
  EXPECT_EQ(requests[0].metric, "queue");
  EXPECT_EQ(requests[0].namespace_name, "test-namespace");
  EXPECT_EQ(requests[0].pod_selector.to_string(), "name=test-pod");
  // Kubernetes: an absent metric selector converts to labels.Nothing() (LabelSelectorAsSelector).
  EXPECT_TRUE(requests[0].metric_selector.is_nothing());
  EXPECT_EQ(requests[1].api, Api::kObject);
  EXPECT_EQ(requests[1].metric, "rps");
  EXPECT_EQ(requests[1].object.kind, "Deployment");
  EXPECT_EQ(requests[1].object.name, "some-deployment");
  EXPECT_EQ(requests[2].api, Api::kExternal);
  EXPECT_EQ(requests[2].metric, "backlog");
  EXPECT_EQ(requests[2].metric_selector.to_string(), "label=value");
  EXPECT_EQ(requests[3].api, Api::kResource);
  EXPECT_EQ(requests[3].metric, "");
  EXPECT_EQ(requests[3].pod_selector.to_string(), "name=test-pod");
  // Distinct requests have distinct keys.
  std::set<std::string> keys;
  for (const auto& r : requests) keys.insert(r.key());
  EXPECT_EQ(keys.size(), 4u);
}

TEST(MetricRequestsTest, NoneWhenThePassComputesNoMetric) {
  Scenario failed_scale = four_kinds();
  failed_scale.input.scale = core::make_error(core::ErrorCode::kUnavailable, "no scale");
  EXPECT_TRUE(metric_requests(failed_scale.input).empty());

  Scenario above_max = four_kinds();
  above_max.bounds(1, 2);  // 3 replicas: set to 2 without metrics
  EXPECT_TRUE(metric_requests(above_max.input).empty());

  Scenario bad_selector = four_kinds();
  bad_selector.input.scale->selector = "name in (";
  EXPECT_TRUE(metric_requests(bad_selector.input).empty());
}

TEST(MetricRequestsTest, AMetricThatFailsBeforeFetchingAsksNothing) {
  Scenario s = four_kinds();
  kube::LabelSelector bad;
  bad.match_labels = {{"bad key!", "x"}};
  s.input.hpa.spec.metrics[0].pods->metric.selector = bad;
  std::vector<MetricRequest> requests = metric_requests(s.input);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].api, Api::kObject);
}

// The pass on answers fetched first, against the pass asking the same provider live.
Decision fetched_then_decided(const Scenario& s, MetricsProvider& provider) {
  RecordedMetrics answers;
  for (const MetricRequest& r : metric_requests(s.input)) answers.fetch(provider, r);
  AcceptingScaleWriter writer;
  return reconcile(s.input, answers, writer);
}

std::string decided_live(const Scenario& s, MetricsProvider& provider) {
  AcceptingScaleWriter writer;
  return core::to_compact_json(encode_decision(reconcile(s.input, provider, writer)));
}

TEST(MetricRequestsTest, AFailedFetchGivesTheSameConditionsAndEventsAsLive) {
  Scenario s = four_kinds();
  // Pods answer, the object fetch fails, no external answer (a failed fetch), no resource
  // metrics recorded: the engine's FailedGet*Metric paths, as when asking live.
  for (int i = 0; i < 3; ++i)
    s.metrics.pods["queue"]->push_back(pod_value("test-pod-" + std::to_string(i), 20000));
  s.metrics.object["rps"] = RecordedMetrics::Answer<kube::MetricValue>(core::make_error(
      core::ErrorCode::kUnavailable, "the server is currently unable to handle the request"));
  Decision fetched = fetched_then_decided(s, s.metrics);
  EXPECT_EQ(core::to_compact_json(encode_decision(fetched)), decided_live(s, s.metrics));
  // The scale-up stands (invalid metrics never block one); the failures are reported.
  EXPECT_EQ(fetched.desired_replicas, 6);
  ASSERT_TRUE(fetched.error);
  EXPECT_NE(fetched.error->find("invalid metrics (3 invalid out of 4)"), std::string::npos)
      << *fetched.error;
  ASSERT_EQ(fetched.metrics.size(), 4u);
  EXPECT_EQ(fetched.metrics[1].reason, "FailedGetObjectMetric");
  EXPECT_NE(fetched.metrics[1].error->find("unable to handle the request"), std::string::npos);
  EXPECT_EQ(fetched.metrics[2].reason, "FailedGetExternalMetric");
  EXPECT_EQ(fetched.metrics[3].reason, "FailedGetResourceMetric");
}

TEST(MetricRequestsTest, EveryFetchFailingGivesTheSameConditionsAsLive) {
  Scenario s = four_kinds();
  s.metrics.pods["queue"] = RecordedMetrics::Answer<kube::MetricValue>(
      core::make_error(core::ErrorCode::kUnavailable, "connection refused"));
  Decision fetched = fetched_then_decided(s, s.metrics);
  EXPECT_EQ(core::to_compact_json(encode_decision(fetched)), decided_live(s, s.metrics));
  const auto* active = find_condition(fetched, "ScalingActive");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->status, "False");
  EXPECT_EQ(active->reason, "FailedGetPodsMetric");
  EXPECT_NE(active->message.find("connection refused"), std::string::npos) << active->message;
  ASSERT_FALSE(fetched.events.empty());
  EXPECT_EQ(fetched.events.back().reason, "FailedComputeMetricsReplicas");
}

TEST(MetricRequestsTest, RecordedAnswersAreFiledByTheExactRequest) {
  // Two Pods metrics of one name with different metric selectors get their own answers.
  Scenario s;
  s.replicas(1);
  s.add_pod();
  kube::MetricSpec gpu_a = pods_metric("util", "1");
  kube::LabelSelector a;
  a.match_labels = {{"gpu", "a"}};
  gpu_a.pods->metric.selector = a;
  kube::MetricSpec gpu_b = gpu_a;
  gpu_b.pods->metric.selector->match_labels = {{"gpu", "b"}};
  s.input.hpa.spec.metrics = {gpu_a, gpu_b};
  std::vector<MetricRequest> requests = metric_requests(s.input);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].key(), requests[1].key());
  RecordedMetrics answers;
  answers.record(requests[0], RecordedMetrics::Answer<kube::MetricValue>(
                                  std::vector<kube::MetricValue>{pod_value("test-pod-0", 1000)}));
  answers.record(requests[1], RecordedMetrics::Answer<kube::MetricValue>(
                                  std::vector<kube::MetricValue>{pod_value("test-pod-0", 4000)}));
  AcceptingScaleWriter writer;
  Decision d = reconcile(s.input, answers, writer);
  ASSERT_EQ(d.metrics.size(), 2u);
  EXPECT_EQ(d.metrics[0].proposed_replicas, 1);
  EXPECT_EQ(d.metrics[1].proposed_replicas, 4);
  EXPECT_EQ(d.desired_replicas, 4);
}

}  // namespace
}  // namespace llmscale::hpa::testing
