// The edge rules of hpa-semantics.md §13, one test (or more) per rule, plus the pre-checks,
// failure paths, conditions and events of one reconcile pass.
#include <gtest/gtest.h>

#include "kube/hpa_validation.h"
#include "test_support.h"

namespace llmscale::hpa::testing {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// A pods-metric scenario: `n` ready pods, each reporting `milli`; target `target_milli`.
Scenario pods_scenario(int n, std::int64_t milli, std::int64_t target_milli) {
  Scenario s;
  s.replicas(n).bounds(1, 100).metric(pods_metric("queue", std::to_string(target_milli) + "m"));
  std::vector<kube::MetricValue> values;
  for (int i = 0; i < n; ++i) {
    s.add_pod();
    values.push_back(pod_value("test-pod-" + std::to_string(i), milli));
  }
  s.metrics.pods["queue"] = values;
  return s;
}

// Counts calls, to prove that some passes read no metrics at all.
class CountingMetrics final : public MetricsProvider {
 public:
  explicit CountingMetrics(MetricsProvider& inner) : inner_(inner) {}
  int calls = 0;
  core::Result<std::vector<kube::PodMetrics>> resource_metrics(const std::string& ns,
                                                               const kube::Selector& s) override {
    ++calls;
    return inner_.resource_metrics(ns, s);
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(const std::string& ns,
                                                           const std::string& m,
                                                           const kube::Selector& p,
                                                           const kube::Selector& ms) override {
    ++calls;
    return inner_.pods_metric(ns, m, p, ms);
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string& ns, const std::string& m, const kube::CrossVersionObjectReference& o,
      const kube::Selector& ms) override {
    ++calls;
    return inner_.object_metric(ns, m, o, ms);
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string& ns, const std::string& m, const kube::Selector& ms) override {
    ++calls;
    return inner_.external_metric(ns, m, ms);
  }

 private:
  MetricsProvider& inner_;
};

// §13.1: the utilization ratio is built from a truncated integer percent.
TEST(HpaRules, UtilizationRatioUsesTheTruncatedPercent) {
  Scenario s;
  s.replicas(1).metric(resource_utilization("cpu", 50));
  kube::Pod& pod = s.add_pod();
  pod.containers = {{"c", {{"cpu", *kube::Quantity::parse("1")}}, std::nullopt}};
  // 559m of 1000m is 55.9%: truncated to 55, so 55/50 = 1.1, inside the tolerance.
  s.metrics.resource = std::vector<kube::PodMetrics>{pod_usage("test-pod-0", "cpu", {559})};
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].utilization_percent, 55);
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 1);
  EXPECT_EQ(*d.metrics[0].usage_milli, 559);
}

// §13.2: both tolerance bounds are inclusive; 1.1 is inside (the pre-1.33 formula said outside).
TEST(HpaRules, ToleranceBoundsAreInclusive) {
  EXPECT_EQ(*pods_scenario(3, 110, 100).run().metrics[0].proposed_replicas, 3);
  EXPECT_EQ(*pods_scenario(3, 90, 100).run().metrics[0].proposed_replicas, 3);
  EXPECT_EQ(*pods_scenario(3, 111, 100).run().metrics[0].proposed_replicas, 4);
  EXPECT_EQ(*pods_scenario(10, 89, 100).run().metrics[0].proposed_replicas, 9);
}

// §13.2: per-direction tolerance from behavior, only with the HPAConfigurableTolerance gate.
TEST(HpaRules, ConfigurableTolerancePerDirection) {
  auto with_tolerance = [](bool gate) {
    Scenario s = pods_scenario(10, 105, 100);
    s.input.config.gates.hpa_configurable_tolerance = gate;
    kube::HorizontalPodAutoscalerBehavior behavior;
    behavior.scale_up = kube::HPAScalingRules{};
    behavior.scale_up->tolerance = *kube::Quantity::parse("0.01");
    s.input.hpa.spec.behavior = behavior;
    return s.run();
  };
  EXPECT_EQ(*with_tolerance(true).metrics[0].proposed_replicas, 11);   // 1.05 > 1.01
  EXPECT_EQ(*with_tolerance(false).metrics[0].proposed_replicas, 10);  // global 0.1 applies
}

// §13.3: readiness matters only for cpu; a Running pod with Ready=False counts for other metrics.
TEST(HpaRules, ReadinessIsIgnoredForNonCpuMetrics) {
  Scenario s = pods_scenario(2, 300, 100);
  s.input.pods[1].conditions[0].status = "False";
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].ready_pods, 2);
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 6);

  Scenario memory;
  memory.replicas(2).metric(resource_average("memory", "100Mi"));
  for (int i = 0; i < 2; ++i)
    memory.add_pod(i == 0 ? "Running" : "Running", i == 0 ? "True" : "False");
  memory.metrics.resource =
      std::vector<kube::PodMetrics>{pod_usage("test-pod-0", "memory", {300LL * 1048576 * 1000}),
                                    pod_usage("test-pod-1", "memory", {300LL * 1048576 * 1000})};
  Decision m = memory.run();
  EXPECT_EQ(*m.metrics[0].ready_pods, 2);
  EXPECT_EQ(*m.metrics[0].proposed_replicas, 6);
  // Memory averages print in BinarySI.
  EXPECT_EQ(m.status.current_metrics[0].resource->current.average_value->to_string(), "300Mi");
}

// §13.3: Pending pods are always unready, even for custom metrics.
TEST(HpaRules, PendingPodsAreUnreadyForEveryMetric) {
  Scenario s = pods_scenario(2, 300, 100);
  s.input.pods[1].phase = "Pending";
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].unready_pods, 1);
  EXPECT_EQ(*d.metrics[0].ready_pods, 1);
  // Scale-up with an unready pod: it is added back at 0 -> (300 + 0) / 2 = 150m -> ceil(1.5 * 2)
  // = 3.
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 3);
}

// §13.4/§13.5 are covered by the upstream cases; §13.6: missing pods on a scale-down are
// assumed at max(100%, target) of their request.
TEST(HpaRules, MissingPodsOnScaleDownUseMaxOf100PercentAndTarget) {
  Scenario s;
  s.replicas(4).metric(resource_utilization("cpu", 300));
  for (int i = 0; i < 4; ++i) {
    kube::Pod& p = s.add_pod();
    p.containers = {{"c", {{"cpu", *kube::Quantity::parse("1")}}, std::nullopt}};
  }
  s.metrics.resource = std::vector<kube::PodMetrics>{pod_usage("test-pod-0", "cpu", {200}),
                                                     pod_usage("test-pod-1", "cpu", {200})};
  // 400/2000 = 20% -> ratio 0.067; missing at 300% -> (400 + 6000) / 4000 = 160% -> 0.533 * 4.
  // The older flat 100% rule would give (400 + 2000) / 4000 = 60% -> ceil(0.8) = 1.
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 3);
  EXPECT_EQ(*d.metrics[0].missing_pods, 2);
  EXPECT_NEAR(*d.metrics[0].adjusted_ratio, 160.0 / 300.0, 1e-12);
}

TEST(HpaRules, MissingPodsOnScaleDownOfPlainMetricsCountAtTheTarget) {
  Scenario s = pods_scenario(4, 20, 100);
  s.metrics.pods["queue"]->resize(2);  // two pods report nothing
  // (20 + 20 + 100 + 100) / 4 = 60 -> ratio 0.6 -> ceil(0.6 * 4) = 3
  EXPECT_EQ(*s.run().metrics[0].proposed_replicas, 3);
}

// §13.7: an invalid metric blocks scale-down, but not scale-up.
TEST(HpaRules, InvalidMetricBlocksScaleDownOnly) {
  Scenario down = pods_scenario(4, 10, 100);
  down.input.hpa.spec.metrics.push_back(external_value("broken", "5"));
  Decision d = down.run();
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(d.desired_replicas, 4);
  const auto* active = find_condition(d, "ScalingActive");
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->status, "False");
  EXPECT_EQ(active->reason, "FailedGetExternalMetric");
  EXPECT_EQ(active->message,
            "the HPA was unable to compute the replica count: unable to get external metric "
            "test-namespace/broken/&LabelSelector{MatchLabels:map[string]string{label: value,},"
            "MatchExpressions:[]LabelSelectorRequirement{},}: unable to fetch metrics from "
            "external metrics API: no answer recorded in the input (metrics.external[broken])");
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->substr(0, 74),
            "failed to compute desired number of replicas based on listed metrics for D");

  Scenario up = pods_scenario(2, 300, 100);
  up.input.hpa.spec.metrics.push_back(external_value("broken", "5"));
  Decision u = up.run();
  EXPECT_TRUE(u.rescale);
  EXPECT_EQ(u.desired_replicas, 4);  // legacy scale-up limit max(2 * 2, 4) = 4
  EXPECT_EQ(find_condition(u, "ScalingActive")->reason, "ValidMetricFound");
  ASSERT_TRUE(u.error);  // the pass still reports the invalid metric
  EXPECT_EQ(u.error->rfind("invalid metrics (1 invalid out of 2), first error is: failed to get "
                           "broken external metric value: failed to get external metric broken: ",
                           0),
            0u);
  // Its status slot is left empty, as upstream writes it.
  ASSERT_EQ(u.status.current_metrics.size(), 2u);
  EXPECT_EQ(u.status.current_metrics[1].type, "");
}

// §13.8: spec.replicas == 0 disables the HPA; out-of-range counts are corrected at once.
TEST(HpaRules, ZeroReplicasDisablesAutoscaling) {
  Scenario s = pods_scenario(0, 300, 100);
  CountingMetrics counting(s.metrics);
  RecordedScaleWriter writer(std::nullopt);
  Decision d = reconcile(s.input, counting, writer);
  EXPECT_EQ(counting.calls, 0);
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(d.desired_replicas, 0);
  const auto* active = find_condition(d, "ScalingActive");
  EXPECT_EQ(active->reason, "ScalingDisabled");
  EXPECT_EQ(active->message, "scaling is disabled since the replica count of the target is zero");
}

TEST(HpaRules, OutOfRangeReplicasAreCorrectedWithoutMetrics) {
  for (auto [current, expected, reason] :
       {std::tuple{12, 10, "Current number of replicas above Spec.MaxReplicas"},
        std::tuple{1, 2, "Current number of replicas below Spec.MinReplicas"}}) {
    Scenario s = pods_scenario(current, 10, 100);
    s.bounds(2, 10);
    CountingMetrics counting(s.metrics);
    RecordedScaleWriter writer(std::nullopt);
    Decision d = reconcile(s.input, counting, writer);
    EXPECT_EQ(counting.calls, 0);
    EXPECT_EQ(d.desired_replicas, expected);
    EXPECT_EQ(d.rescale_reason, reason);
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_EQ(d.events[0].message, "New size: " + std::to_string(expected) + "; reason: " + reason);
    // Only AbleToScale is touched on this path, and ScaledToZero (HPAScaleToZero is on by
    // default since v1.37: every successful rescale sets it).
    ASSERT_EQ(d.status.conditions.size(), 2u);
    EXPECT_EQ(d.status.conditions[0].reason, "SucceededRescale");
    EXPECT_EQ(d.status.conditions[1].type, "ScaledToZero");
    EXPECT_EQ(d.status.conditions[1].reason, "NotScaledToZero");
    EXPECT_TRUE(d.status.current_metrics.empty());
  }
}

// §13.8: scaling from zero needs the gate, the ScaledToZero condition and an Object/External
// metric.
TEST(HpaRules, ScaleFromZeroNeedsGateConditionAndExternalMetric) {
  auto scenario = [](bool gate, bool condition) {
    Scenario s;
    s.replicas(0).bounds(0, 10).metric(external_value("qps", "5"));
    s.input.config.gates.hpa_scale_to_zero = gate;
    if (condition) {
      s.input.hpa.status.conditions.push_back(
          {"ScaledToZero", "True", t0() - minutes(10), "ScaledToZero", ""});
    }
    s.metrics.external["qps"] = std::vector<kube::ExternalMetricValue>{external_sample(5250)};
    return s.run();
  };
  Decision off = scenario(false, true);
  EXPECT_EQ(off.desired_replicas, 0);
  EXPECT_EQ(find_condition(off, "ScaledToZero"), nullptr);  // removed with the gate off
  Decision no_condition = scenario(true, false);
  EXPECT_EQ(no_condition.desired_replicas, 0);
  Decision on = scenario(true, true);
  // From zero a Value target gives ceil(ratio) = ceil(5.25 / 5) = 2, without tolerance.
  EXPECT_EQ(on.desired_replicas, 2);
  EXPECT_EQ(find_condition(on, "ScaledToZero")->reason, "NotScaledToZero");
}

TEST(HpaRules, ScaleToZeroSetsTheCondition) {
  Scenario s;
  s.replicas(3).bounds(0, 10).metric(external_value("qps", "5"));
  s.input.config.gates.hpa_scale_to_zero = true;
  s.input.config.downscale_stabilization_window = seconds(0);
  for (int i = 0; i < 3; ++i) s.add_pod();
  s.metrics.external["qps"] = std::vector<kube::ExternalMetricValue>{external_sample(0)};
  s.input.history.recommendations = {{0, t0() - minutes(10)}};
  Decision d = s.run();
  EXPECT_EQ(d.desired_replicas, 0);
  const auto* zero = find_condition(d, "ScaledToZero");
  ASSERT_NE(zero, nullptr);
  EXPECT_EQ(zero->status, "True");
  EXPECT_EQ(zero->message, "the HPA controller scaled the workload to zero");
}

// §13.9: behavior null takes the legacy path (max(2x, 4) per pass); {} takes the defaulted one.
TEST(HpaRules, LegacyAndBehaviorPathsLimitScaleUpDifferently) {
  Scenario legacy = pods_scenario(2, 1000, 100);  // wants 20
  Decision l = legacy.run();
  EXPECT_EQ(l.desired_replicas, 4);
  EXPECT_EQ(l.limit_reason, "ScaleUpLimit");
  EXPECT_EQ(find_condition(l, "ScalingLimited")->status, "True");

  Scenario behavior = pods_scenario(2, 1000, 100);
  behavior.input.hpa.spec.behavior = kube::HorizontalPodAutoscalerBehavior{};
  Decision b = behavior.run();
  EXPECT_EQ(b.desired_replicas, 6);  // max(2 + 4 pods, 2 * 200%)
  EXPECT_EQ(b.limit_reason, "ScaleUpLimit");

  // The unit tests' 8x factor.
  Scenario eight = pods_scenario(2, 1000, 100);
  eight.input.config.scale_up_limit_factor = 8.0;
  EXPECT_EQ(eight.run().desired_replicas, 16);
}

// §6: in the legacy path a recent larger recommendation can raise the count above current even
// when the metrics ask for less.
TEST(HpaRules, LegacyStabilizationCanRaiseAboveCurrent) {
  Scenario s = pods_scenario(2, 10, 100);  // wants 1
  s.input.history.recommendations = {{3, t0() - seconds(30)}};
  Decision d = s.run();
  EXPECT_EQ(d.desired_replicas, 3);
  EXPECT_EQ(d.rescale_reason, "All metrics below target");
}

TEST(HpaRules, LegacyPathHasNoScaleDownRateLimit) {
  Scenario s = pods_scenario(10, 10, 100);  // wants 1
  s.input.history.recommendations = {{10, t0() - minutes(6)}};
  Decision d = s.run();
  EXPECT_EQ(d.desired_replicas, 1);
  EXPECT_EQ(d.limit_reason, "DesiredWithinRange");
}

// §13.9 + §13.11: the legacy window counts a record exactly at the cutoff; behavior's does not.
TEST(HpaRules, StabilizationWindowBoundaries) {
  Scenario legacy = pods_scenario(5, 10, 100);
  legacy.input.history.recommendations = {{5, t0() - minutes(5)}};
  EXPECT_EQ(legacy.run().desired_replicas, 5);  // at the cutoff: counts

  Scenario behavior = pods_scenario(5, 10, 100);
  behavior.input.hpa.spec.behavior = kube::HorizontalPodAutoscalerBehavior{};
  behavior.input.history.recommendations = {{5, t0() - minutes(5)}};
  Decision b = behavior.run();
  EXPECT_EQ(b.desired_replicas, 1);  // strictly after the cutoff only
}

// §13.11: the history is seeded with the current count: no scale-down in the first window.
TEST(HpaRules, FirstPassCannotScaleDown) {
  Scenario s = pods_scenario(5, 10, 100);
  Decision first = s.run();
  EXPECT_EQ(first.desired_replicas, 5);
  EXPECT_EQ(find_condition(first, "AbleToScale")->reason, "ScaleDownStabilized");
  ASSERT_EQ(first.history.recommendations.size(), 2u);
  EXPECT_EQ(first.history.recommendations[0].replicas, 5);
  EXPECT_EQ(first.history.recommendations[1].replicas, 1);

  // Five minutes and one second later the seed has aged out.
  s.input.history = first.history;
  s.input.hpa.status = first.status;
  s.input.now = t0() + minutes(5) + seconds(1);
  Decision later = s.run();
  EXPECT_EQ(later.desired_replicas, 1);
}

// Upstream's TestNormalizeDesiredReplicas (legacy stabilization and the history's length).
TEST(HpaRules, UpstreamLegacyStabilizationCases) {
  struct Case {
    const char* name;
    std::vector<std::pair<int, int>> recommendations;  // replicas, minutes ago
    int prenormalized, stabilized;
    std::size_t log_length;
  } cases[] = {
      {"empty log", {}, 5, 5, 1},
      {"stabilize", {{4, 2}, {5, 1}}, 3, 5, 3},
      {"no stabilize", {{1, 2}, {2, 1}}, 3, 3, 3},
      {"no stabilize - old recommendations", {{10, 10}, {9, 9}}, 3, 3, 2},
      {"stabilize - old recommendations", {{10, 10}, {4, 1}, {5, 2}, {9, 9}}, 3, 5, 4},
  };
  for (const auto& c : cases) {
    // prenormalized = c.prenormalized: 10 pods at prenormalized * 10% of a 100m target.
    Scenario s = pods_scenario(10, c.prenormalized * 10, 100);
    s.bounds(1, 100);
    for (auto [replicas, ago] : c.recommendations) {
      s.input.history.recommendations.push_back({replicas, t0() - minutes(ago)});
    }
    // Upstream's harness sets a non-nil (possibly empty) list, so nothing is seeded.
    s.input.history.recorded = true;
    Decision d = s.run();
    EXPECT_EQ(*d.prenormalized_replicas, c.prenormalized) << c.name;
    EXPECT_EQ(*d.stabilized_replicas, c.stabilized) << c.name;
    EXPECT_EQ(d.history.recommendations.size(), c.log_length) << c.name;
  }
}

// §13.10: rate limits start from the count at the beginning of the period (both histories);
// Percent rounds up on the way up and truncates on the way down.
TEST(HpaRules, RecentScaleEventsHoldBackTheDefaultPolicies) {
  // Defaults: Pods 4 and Percent 100 per 15 s. Three pods added 5 s ago: the period started at
  // 2 - 3 = -1, so Pods allows 3 and Percent ceil(-2) -> 3.
  Scenario s = pods_scenario(2, 300, 100);
  s.input.hpa.spec.behavior = kube::HorizontalPodAutoscalerBehavior{};
  s.input.history.recommendations = {{2, t0() - minutes(10)}};
  s.input.history.scale_up_events = {{3, t0() - seconds(5), false}};
  EXPECT_EQ(s.run().desired_replicas, 3);
}

TEST(HpaRules, RateLimitsUseThePeriodStart) {
  Scenario s = pods_scenario(10, 1000, 100);  // wants 100
  kube::HorizontalPodAutoscalerBehavior behavior;
  behavior.scale_up = kube::HPAScalingRules{};
  behavior.scale_up->policies = std::vector<kube::HPAScalingPolicy>{{"Percent", 50, 60}};
  s.input.hpa.spec.behavior = behavior;
  // 4 added 30 s ago, 1 removed 20 s ago: the period started at 10 - 4 + 1 = 7.
  s.input.history.recommendations = {{10, t0() - minutes(10)}};
  s.input.history.scale_up_events = {{4, t0() - seconds(30), false}};
  s.input.history.scale_down_events = {{1, t0() - seconds(20), false}};
  Decision d = s.run();
  EXPECT_EQ(d.desired_replicas, 11);  // ceil(7 * 1.5) = 10.5 -> 11
  EXPECT_EQ(d.limit_reason, "ScaleUpLimit");
}

TEST(HpaRules, ScaleDownPercentTruncatesAndMinMaxSwap) {
  auto run = [](const std::string& select) {
    Scenario s = pods_scenario(10, 10, 100);  // wants 1
    kube::HorizontalPodAutoscalerBehavior behavior;
    behavior.scale_down = kube::HPAScalingRules{};
    behavior.scale_down->stabilization_window_seconds = 0;
    behavior.scale_down->select_policy = select;
    behavior.scale_down->policies =
        std::vector<kube::HPAScalingPolicy>{{"Percent", 25, 60}, {"Pods", 1, 60}};
    s.input.hpa.spec.behavior = behavior;
    s.input.history.recommendations = {{10, t0() - minutes(10)}};
    return s.run();
  };
  EXPECT_EQ(run("Max").desired_replicas, 7);  // trunc(10 * 0.75) = 7 removes more than 10 - 1
  EXPECT_EQ(run("Min").desired_replicas, 9);  // the smallest change
  Decision disabled = run("Disabled");
  EXPECT_EQ(disabled.desired_replicas, 10);
  EXPECT_FALSE(disabled.rescale);
  EXPECT_EQ(disabled.limit_reason, "ScaleDownLimit");
}

TEST(HpaRules, RateLimitsNeverReverseDirection) {
  // After many recent scale-ups a naive limit would fall below current; it is clamped to it.
  Scenario s = pods_scenario(100, 1000, 100);
  kube::HorizontalPodAutoscalerBehavior behavior;
  behavior.scale_up = kube::HPAScalingRules{};
  behavior.scale_up->policies = std::vector<kube::HPAScalingPolicy>{{"Pods", 5, 120}};
  s.input.hpa.spec.behavior = behavior;
  s.bounds(1, 1000);
  s.input.history.recommendations = {{100, t0() - minutes(10)}};
  s.input.history.scale_up_events = {{1, t0() - seconds(10), false},
                                     {5, t0() - seconds(50), false},
                                     {9, t0() - seconds(100), false}};
  Decision d = s.run();
  EXPECT_EQ(d.desired_replicas, 100);  // 100 - 15 + 5 = 90 < 100 -> held at 100
  EXPECT_FALSE(d.rescale);
}

// §7.4: scale events are recorded only with behavior; only the last outdated slot is reused.
TEST(HpaRules, ScaleEventsReuseTheLastOutdatedSlot) {
  Scenario s = pods_scenario(2, 300, 100);
  kube::HorizontalPodAutoscalerBehavior behavior;
  behavior.scale_up = kube::HPAScalingRules{};
  behavior.scale_up->policies = std::vector<kube::HPAScalingPolicy>{{"Pods", 10, 60}};
  s.input.hpa.spec.behavior = behavior;
  s.input.history.recommendations = {{2, t0() - minutes(10)}};
  s.input.history.scale_up_events = {
      {1, t0() - minutes(5), false}, {2, t0() - minutes(4), false}, {1, t0() - seconds(30), false}};
  Decision d = s.run();
  ASSERT_EQ(d.desired_replicas, 6);  // the period started at 2 - 1 = 1; 1 + 10 allows 6
  ASSERT_EQ(d.history.scale_up_events.size(), 3u);
  EXPECT_TRUE(d.history.scale_up_events[0].outdated);
  EXPECT_EQ(d.history.scale_up_events[1].replica_change, 4);  // replaced the last outdated one
  EXPECT_FALSE(d.history.scale_up_events[1].outdated);
  EXPECT_EQ(d.history.scale_up_events[2].replica_change, 1);

  Scenario legacy = pods_scenario(2, 300, 100);
  EXPECT_TRUE(legacy.run().history.scale_up_events.empty());
}

// §13.12: per-pod Object/External targets divide by scale.status.replicas and return it.
TEST(HpaRules, PerPodTargetsUseStatusReplicas) {
  Scenario s;
  s.replicas(4, 3).metric(external_average("qps", "2"));
  s.metrics.external["qps"] = std::vector<kube::ExternalMetricValue>{external_sample(6100)};
  Decision d = s.run();
  // 6.1 / (2 * 3 status replicas) = 1.017: inside the tolerance -> status replicas (3).
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 3);
  EXPECT_EQ(d.status.current_metrics[0].external->current.average_value->to_string(), "2034m");
}

// §13.12: Value targets count Running and Ready pods, terminating ones included.
TEST(HpaRules, ValueTargetsCountTerminatingReadyPods) {
  Scenario s;
  s.replicas(2).metric(object_value("qps", "10"));
  s.add_pod();
  s.add_pod().metadata.deletion_timestamp = t0();
  kube::MetricValue v = pod_value("some-deployment", 30000);
  v.described_object.kind = "Deployment";
  s.metrics.object["qps"] = std::vector<kube::MetricValue>{v};
  EXPECT_EQ(*s.run().metrics[0].proposed_replicas, 6);  // 3 * 2 ready pods
}

// §13.12: resource metrics need a request on every listed pod, even a Failed one.
TEST(HpaRules, ResourceMetricsNeedRequestsOnEveryListedPod) {
  Scenario s;
  s.replicas(2).metric(resource_utilization("cpu", 50));
  kube::Pod& ok = s.add_pod();
  ok.containers = {{"c", {{"cpu", *kube::Quantity::parse("1")}}, std::nullopt}};
  kube::Pod& failed = s.add_pod("Failed", "False");
  failed.containers = {{"c", {}, std::nullopt}};
  s.metrics.resource = std::vector<kube::PodMetrics>{pod_usage("test-pod-0", "cpu", {900})};
  Decision d = s.run();
  ASSERT_TRUE(d.metrics[0].error);
  EXPECT_EQ(
      *d.metrics[0].error,
      "failed to get cpu utilization: missing request for cpu in container c of Pod test-pod-1");
  EXPECT_EQ(*d.metrics[0].reason, "FailedGetResourceMetric");
}

TEST(HpaRules, SidecarInitContainersCountTowardRequests) {
  Scenario s;
  s.replicas(1).metric(resource_utilization("cpu", 50));
  kube::Pod& pod = s.add_pod();
  pod.containers = {{"app", {{"cpu", *kube::Quantity::parse("500m")}}, std::nullopt}};
  pod.init_containers = {
      {"sidecar", {{"cpu", *kube::Quantity::parse("500m")}}, std::string("Always")},
      {"setup", {}, std::nullopt}};
  s.metrics.resource = std::vector<kube::PodMetrics>{pod_usage("test-pod-0", "cpu", {500})};
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].utilization_percent, 50);  // 500m of 1000m
}

TEST(HpaRules, SucceededPodsAreIgnored) {
  Scenario s = pods_scenario(3, 300, 100);
  s.input.pods[2].phase = "Succeeded";
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].ignored_pods, 1);
  EXPECT_EQ(*d.metrics[0].proposed_replicas, 6);  // 3 ratio x 2 ready
}

// ---- failure paths --------------------------------------------------------------------------

TEST(HpaPass, FailedGetScaleKeepsTheOldDesiredCount) {
  Scenario s = pods_scenario(3, 300, 100);
  s.input.hpa.status.desired_replicas = 3;
  s.input.scale = tl::unexpected(
      core::Error{core::ErrorCode::kNotFound, "deployments.apps \"test-deployment\" not found"});
  Decision d = s.run();
  const auto* able = find_condition(d, "AbleToScale");
  EXPECT_EQ(able->status, "False");
  EXPECT_EQ(able->reason, "FailedGetScale");
  EXPECT_EQ(able->message,
            "the HPA controller was unable to get the target's current scale: "
            "deployments.apps \"test-deployment\" not found");
  EXPECT_EQ(d.status.desired_replicas, 3);
  EXPECT_EQ(*d.error,
            "failed to query scale subresource for Deployment/test-namespace/test-deployment: "
            "deployments.apps \"test-deployment\" not found");
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].reason, "FailedGetScale");
}

TEST(HpaPass, InvalidApiVersionIsAFailedGetScale) {
  Scenario s = pods_scenario(3, 300, 100);
  s.input.hpa.spec.scale_target_ref.api_version = "apps/v1/extra";
  Decision d = s.run();
  EXPECT_EQ(*d.error,
            "invalid API version in scale target reference: unexpected GroupVersion "
            "string: apps/v1/extra");
}

TEST(HpaPass, SelectorProblems) {
  Scenario empty = pods_scenario(3, 300, 100);
  empty.input.scale->selector = "";
  Decision e = empty.run();
  EXPECT_EQ(find_condition(e, "ScalingActive")->message,
            "the HPA target's scale is missing a selector");
  EXPECT_EQ(e.events[0].reason, "SelectorRequired");
  EXPECT_EQ(e.events.back().reason, "FailedComputeMetricsReplicas");

  Scenario bad = pods_scenario(3, 300, 100);
  bad.input.scale->selector = "name in test-pod";
  Decision b = bad.run();
  EXPECT_EQ(find_condition(b, "ScalingActive")->message,
            "couldn't convert selector into a corresponding internal selector object: unable to "
            "parse requirement: found 'test-pod' expected: '('");

  Scenario ambiguous = pods_scenario(3, 300, 100);
  ambiguous.input.other_hpas = {{"other-hpa", "name=test-pod"}};
  Decision a = ambiguous.run();
  EXPECT_EQ(find_condition(a, "ScalingActive")->reason, "AmbiguousSelector");
  EXPECT_EQ(find_condition(a, "ScalingActive")->message,
            "pods by selector name=test-pod are controlled by multiple HPAs: "
            "[test-namespace/other-hpa test-namespace/test-hpa]");
}

TEST(HpaPass, FailedRescaleKeepsHistoryAndDesiredCount) {
  Scenario s = pods_scenario(2, 300, 100);
  s.input.hpa.spec.behavior = kube::HorizontalPodAutoscalerBehavior{};
  s.scale_update_error = "Operation cannot be fulfilled: the object has been modified";
  Decision d = s.run();
  EXPECT_EQ(find_condition(d, "AbleToScale")->reason, "FailedUpdateScale");
  EXPECT_EQ(d.status.desired_replicas, 2);
  EXPECT_TRUE(d.history.scale_up_events.empty());
  EXPECT_FALSE(d.status.last_scale_time.has_value());
  EXPECT_EQ(d.events.back().message,
            "New size: 6; reason: pods metric queue above target; error: Operation cannot be "
            "fulfilled: the object has been modified");
}

TEST(HpaPass, UnknownMetricTypeIsAnInvalidMetric) {
  Scenario s;
  s.replicas(2);
  kube::MetricSpec m;
  m.type = "Foo";
  s.metric(m);
  s.add_pod();
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].reason, "InvalidMetricSourceType");
  EXPECT_EQ(find_condition(d, "ScalingActive")->message,
            "the HPA was unable to compute the replica count: unknown metric source type \"Foo\"");
  EXPECT_EQ(*d.error,
            "failed to compute desired number of replicas based on listed metrics for "
            "Deployment/test-namespace/test-deployment: invalid metrics (1 invalid out "
            "of 1), first error is: unknown metric source type \"Foo\"");
}

TEST(HpaPass, FetchErrorsNameTheApi) {
  Scenario s;
  s.replicas(2).metric(pods_metric("queue", "1"));
  s.add_pod();
  s.metrics.pods["queue"] = tl::unexpected(core::Error{
      core::ErrorCode::kUnavailable, "the server could not find the requested resource"});
  Decision d = s.run();
  EXPECT_EQ(*d.metrics[0].error,
            "unable to get metric queue: unable to fetch metrics from custom "
            "metrics API: the server could not find the requested resource");
  Scenario empty;
  empty.replicas(2).metric(pods_metric("queue", "1"));
  empty.add_pod();
  empty.metrics.pods["queue"] = std::vector<kube::MetricValue>{};
  EXPECT_EQ(*empty.run().metrics[0].error,
            "unable to get metric queue: no metrics returned from custom metrics API");
}

// ---- conditions and status ----------------------------------------------------------------

TEST(HpaPass, ConditionsKeepOrderAndTransitionTimes) {
  Scenario s = pods_scenario(3, 100, 100);
  kube::HorizontalPodAutoscalerCondition able{"AbleToScale", "True", t0() - minutes(30),
                                              "ReadyForNewScale", "x"};
  s.input.hpa.status.conditions = {able};
  s.input.history.recommendations = {{3, t0() - minutes(10)}};
  Decision d = s.run();
  ASSERT_EQ(d.status.conditions.size(), 3u);
  EXPECT_EQ(d.status.conditions[0].type, "AbleToScale");
  EXPECT_EQ(d.status.conditions[1].type, "ScalingActive");
  EXPECT_EQ(d.status.conditions[2].type, "ScalingLimited");
  // Unchanged status keeps its transition time; new conditions get now.
  EXPECT_EQ(*d.status.conditions[0].last_transition_time, t0() - minutes(30));
  EXPECT_EQ(*d.status.conditions[1].last_transition_time, t0());
}

TEST(HpaPass, SecondIdenticalPassWritesNoStatus) {
  Scenario s = pods_scenario(3, 100, 100);
  s.input.history.recommendations = {{3, t0() - minutes(10)}};
  Decision first = s.run();
  EXPECT_TRUE(first.status_changed);
  s.input.hpa.status = first.status;
  s.input.history = first.history;
  s.input.now = t0() + seconds(15);
  Decision second = s.run();
  EXPECT_FALSE(second.status_changed);
}

TEST(HpaPass, ObservedGenerationWithTheGate) {
  Scenario s = pods_scenario(3, 100, 100);
  s.input.hpa.metadata.generation = 7;
  EXPECT_FALSE(s.run().status.observed_generation.has_value());
  s.input.config.gates.hpa_generation = true;
  EXPECT_EQ(*s.run().status.observed_generation, 7);
}

TEST(HpaPass, MultipleMetricsTakeTheMaximum) {
  Scenario s = pods_scenario(2, 300, 100);  // 6
  s.input.hpa.spec.metrics.push_back(external_average("qps", "1"));
  s.metrics.external["qps"] = std::vector<kube::ExternalMetricValue>{external_sample(8000)};  // 8
  s.input.hpa.spec.max_replicas = 100;
  s.input.config.scale_up_limit_factor = 8;
  Decision d = s.run();
  EXPECT_EQ(*d.prenormalized_replicas, 8);
  EXPECT_EQ(d.rescale_reason,
            "external metric qps(&LabelSelector{MatchLabels:map[string]string{label: "
            "value,},MatchExpressions:[]LabelSelectorRequirement{},}) above target");
}

}  // namespace
}  // namespace llmscale::hpa::testing
