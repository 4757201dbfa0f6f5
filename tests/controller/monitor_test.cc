// kube-controller-manager's HPA monitor as the controller records it: a pass's action and error
// labels, each metric's labels and fetch time on the simulated clock, and the
// horizontal_pod_autoscaler_controller_* exposition after known passes.
#include "controller/monitor.h"

#include <gtest/gtest.h>

#include "controller/controller.h"
#include "controller/fakes.h"
#include "core/clock.h"

namespace llmscale::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// FakeQueueMetrics whose fetches take simulated time: 3 ms for a pods metric, 40 ms for an
// external one (which fails, as FakeQueueMetrics' does).
class SlowMetrics final : public hpa::MetricsProvider {
 public:
  SlowMetrics(FakeDeployment& deployment, core::SimulatedClock& clock)
      : queue_(deployment, clock), clock_(clock) {}
  FakeQueueMetrics& queue() { return queue_; }
  core::Result<std::vector<kube::PodMetrics>> resource_metrics(
      const std::string& ns, const kube::Selector& selector) override {
    return queue_.resource_metrics(ns, selector);
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(
      const std::string& ns, const std::string& metric, const kube::Selector& pods,
      const kube::Selector& metric_selector) override {
    clock_.advance(milliseconds(3));
    return queue_.pods_metric(ns, metric, pods, metric_selector);
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string& ns, const std::string& metric,
      const kube::CrossVersionObjectReference& object, const kube::Selector& selector) override {
    return queue_.object_metric(ns, metric, object, selector);
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string& ns, const std::string& metric, const kube::Selector& selector) override {
    clock_.advance(milliseconds(40));
    return queue_.external_metric(ns, metric, selector);
  }

 private:
  FakeQueueMetrics queue_;
  core::SimulatedClock& clock_;
};

kube::MetricSpec external_metric(const std::string& name) {
  kube::MetricSpec m;
  m.type = "External";
  m.external = kube::ExternalMetricSource{{name, std::nullopt},
                                          {"Value", *kube::Quantity::parse("10"), {}, {}}};
  return m;
}

struct Harness {
  core::SimulatedClock clock;
  FakeDeployment deployment{2};
  SlowMetrics metrics{deployment, clock};
  Controller controller{clock, metrics, deployment, {}};
  HpaControllerMetrics exported;
  Harness() {
    controller.subscribe([this](const HpaView& view) { exported.observe(view.last_result); });
  }
  ReconciliationResult last() { return controller.get("default", "llm-hpa")->last_result; }
  // The pass is a timer callback; advancing by a whole second keeps the fetches' nested
  // advances inside the window.
  void run_pass() { clock.advance(seconds(1)); }
};

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(ControllerMonitorTest, APassRecordsItsLabelsAndEachMetricsFetchTime) {
  Harness h;
  kube::HorizontalPodAutoscaler hpa = queue_hpa();
  hpa.spec.metrics.push_back(external_metric("queue_depth"));
  h.metrics.queue().queue_milli = 10000;  // 10 per pod against 5: 2 -> 4 replicas
  h.controller.apply(hpa);
  h.run_pass();
  ASSERT_EQ(h.deployment.replicas(), 4);

  // Kubernetes: the external metric's failure is returned after the scale-up (retErr), so the
  // pass is scale_up with error "internal"; each metric carries its own labels.
  ReconciliationResult r = h.last();
  EXPECT_EQ(r.action, "scale_up");
  EXPECT_EQ(r.error, "internal");
  EXPECT_EQ(r.duration, milliseconds(43));
  ASSERT_EQ(r.metrics.size(), 2u);
  // A new HPA's status.currentReplicas is 0, what upstream compares a proposal with.
  EXPECT_EQ(r.metrics[0].action, "scale_up");
  EXPECT_EQ(r.metrics[0].error, "none");
  EXPECT_EQ(r.metrics[0].metric_type, "Pods");
  EXPECT_EQ(r.metrics[0].duration, milliseconds(3));
  EXPECT_EQ(r.metrics[1].action, "none");
  EXPECT_EQ(r.metrics[1].error, "internal");
  EXPECT_EQ(r.metrics[1].metric_type, "External");
  EXPECT_EQ(r.metrics[1].duration, milliseconds(40));

  // Second pass: 5 per pod on 4 pods proposes 4 and nothing is rescaled, but the status still
  // says 2 current replicas (upstream's status.currentReplicas lags the scale by a pass), which
  // is what the metric is compared with: scale_up. The third pass sees 4: none.
  h.metrics.queue().queue_milli = 5000;
  h.clock.advance(seconds(15));
  r = h.last();
  EXPECT_EQ(r.action, "none");
  EXPECT_EQ(r.error, "internal");
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[0].action, "scale_up");
  h.clock.advance(seconds(15));
  r = h.last();
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[0].action, "none");

  const std::string text = "\n" + h.exported.text();
  const std::string p = "horizontal_pod_autoscaler_controller_";
  EXPECT_TRUE(has_line(text, p + "reconciliations_total{action=\"scale_up\",error=\"internal\"} 1"))
      << text;
  EXPECT_TRUE(has_line(text, p + "reconciliations_total{action=\"none\",error=\"internal\"} 2"));
  EXPECT_TRUE(has_line(text, p + "reconciliation_duration_seconds_bucket{action=\"scale_up\","
                                 "error=\"internal\",le=\"0.032\"} 0"));
  EXPECT_TRUE(has_line(text, p + "reconciliation_duration_seconds_bucket{action=\"scale_up\","
                                 "error=\"internal\",le=\"0.064\"} 1"));
  EXPECT_TRUE(has_line(text, p + "reconciliation_duration_seconds_sum{action=\"scale_up\","
                                 "error=\"internal\"} 0.043"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_total{action=\"scale_up\",error=\"none\","
                                 "metric_type=\"Pods\"} 2"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_total{action=\"none\",error=\"none\","
                                 "metric_type=\"Pods\"} 1"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_total{action=\"none\",error=\"internal\","
                                 "metric_type=\"External\"} 3"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_duration_seconds_bucket{action=\"scale_up\","
                                 "error=\"none\",metric_type=\"Pods\",le=\"0.002\"} 0"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_duration_seconds_bucket{action=\"scale_up\","
                                 "error=\"none\",metric_type=\"Pods\",le=\"0.004\"} 2"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_duration_seconds_bucket{action=\"none\","
                                 "error=\"internal\",metric_type=\"External\",le=\"0.032\"} 0"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_duration_seconds_bucket{action=\"none\","
                                 "error=\"internal\",metric_type=\"External\",le=\"0.064\"} 3"));
  // kube-controller-manager's buckets: 15, from 1 ms doubling to 16.384 s, then +Inf.
  EXPECT_TRUE(has_line(text, p + "metric_computation_duration_seconds_bucket{action=\"none\","
                                 "error=\"internal\",metric_type=\"External\",le=\"16.384\"} 3"));
  EXPECT_TRUE(has_line(text, p + "metric_computation_duration_seconds_count{action=\"none\","
                                 "error=\"internal\",metric_type=\"External\"} 3"));
}

TEST(ControllerMonitorTest, AnUnparsableTargetApiVersionIsASpecErrorWithoutMetrics) {
  Harness h;
  kube::HorizontalPodAutoscaler hpa = queue_hpa();
  hpa.spec.scale_target_ref.api_version = "apps/v1/extra";
  h.controller.apply(hpa);
  h.run_pass();
  ReconciliationResult r = h.last();
  EXPECT_EQ(r.action, "none");
  EXPECT_EQ(r.error, "spec");
  EXPECT_TRUE(r.metrics.empty());
  EXPECT_EQ(r.duration, milliseconds(0));
}

TEST(ControllerMonitorTest, AnUnknownMetricSourceTypeIsASpecErrorOfThatMetric) {
  Harness h;
  kube::HorizontalPodAutoscaler hpa = queue_hpa();
  hpa.spec.metrics[0].type = "Queue";
  h.controller.apply(hpa);
  h.run_pass();
  ReconciliationResult r = h.last();
  // Kubernetes wraps the metric's errSpec with %v into the pass's error: "internal" there.
  EXPECT_EQ(r.error, "internal");
  ASSERT_EQ(r.metrics.size(), 1u);
  EXPECT_EQ(r.metrics[0].error, "spec");
  EXPECT_EQ(r.metrics[0].metric_type, "Queue");
  EXPECT_EQ(r.metrics[0].duration, milliseconds(0));  // nothing was fetched
}

TEST(ControllerMonitorTest, ReplicasAboveMaxScaleDownWithoutComputingMetrics) {
  Harness h;
  kube::HorizontalPodAutoscaler hpa = queue_hpa();
  hpa.spec.max_replicas = 1;
  h.controller.apply(hpa);
  h.run_pass();
  ReconciliationResult r = h.last();
  EXPECT_EQ(r.action, "scale_down");
  EXPECT_EQ(r.error, "none");
  EXPECT_TRUE(r.metrics.empty());
  EXPECT_EQ(h.metrics.queue().calls, 0);
}

TEST(ControllerMonitorTest, FetchesAreMatchedToTheirMetricsByApiAndName) {
  kube::HorizontalPodAutoscaler hpa = queue_hpa();
  hpa.spec.metrics.push_back(hpa.spec.metrics[0]);
  hpa.spec.metrics[1].pods->metric.name = "second";
  hpa::Decision decision;
  decision.metrics.resize(2);
  decision.metrics[0].error = "selector: invalid";  // failed before fetching
  decision.metrics[1].proposed_replicas = 3;
  hpa.status.current_replicas = 3;
  std::vector<MetricFetch> fetches = {{MetricFetch::Api::kPods, "second", milliseconds(5)}};
  ReconciliationResult r = reconciliation_result(hpa, decision, fetches, milliseconds(9));
  ASSERT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.metrics[0].duration, milliseconds(0));
  EXPECT_EQ(r.metrics[0].error, "internal");
  EXPECT_EQ(r.metrics[1].duration, milliseconds(5));
  EXPECT_EQ(r.metrics[1].action, "none");
  EXPECT_EQ(r.duration, milliseconds(9));
}

TEST(ControllerMonitorTest, GaugesFollowTheAutoscalersHeld) {
  HpaControllerMetrics m;
  const std::string p = "horizontal_pod_autoscaler_controller_";
  m.set_autoscalers({{"default", "a", 3}, {"default", "b", 1}});
  std::string text = "\n" + m.text();
  EXPECT_TRUE(has_line(text, p + "num_horizontal_pod_autoscalers 2")) << text;
  EXPECT_TRUE(has_line(text, p + "desired_replicas{namespace=\"default\",hpa_name=\"a\"} 3"));
  m.set_autoscalers({{"default", "b", 2}});
  text = "\n" + m.text();
  EXPECT_TRUE(has_line(text, p + "num_horizontal_pod_autoscalers 1"));
  EXPECT_EQ(text.find("hpa_name=\"a\""), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, p + "desired_replicas{namespace=\"default\",hpa_name=\"b\"} 2"));
}

}  // namespace
}  // namespace llmscale::controller
