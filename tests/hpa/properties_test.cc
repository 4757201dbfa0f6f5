// Properties of the decision engine that must hold for every input (rapidcheck).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "test_support.h"

namespace llmscale::hpa::testing {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

Scenario pods_metric_scenario(int replicas, const std::vector<std::int64_t>& values,
                              std::int64_t target) {
  Scenario s;
  s.replicas(replicas).bounds(1, 1000).metric(pods_metric("queue", std::to_string(target) + "m"));
  std::vector<kube::MetricValue> samples;
  for (int i = 0; i < replicas; ++i) {
    s.add_pod();
    samples.push_back(
        pod_value("test-pod-" + std::to_string(i), values[std::size_t(i) % values.size()]));
  }
  s.metrics.pods["queue"] = samples;
  return s;
}

// A ratio inside the tolerance never changes the replica count.
RC_GTEST_PROP(HpaProperties, RatioInsideToleranceNeverChangesReplicas, ()) {
  int replicas = *rc::gen::inRange(1, 50);
  std::int64_t target = *rc::gen::inRange<std::int64_t>(10, 1000000);
  // Every pod reports a value whose truncated average stays within [0.9, 1.1] x target.
  std::int64_t low = (target * 9 + 9) / 10, high = target * 11 / 10;
  std::int64_t value = *rc::gen::inRange<std::int64_t>(low, high + 1);
  Scenario s = pods_metric_scenario(replicas, {value}, target);
  s.input.history.recommendations = {{replicas, t0() - minutes(10)}};
  Decision d = s.run();
  RC_ASSERT(*d.metrics[0].proposed_replicas == replicas);
  RC_ASSERT(d.desired_replicas == replicas);
  RC_ASSERT(!d.rescale);
}

// With behavior, stabilization and rate limits never move the count against the metrics'
// direction; the legacy path is exactly clamp(stabilized, min, max(2 x current, 4)) (its
// stabilization may raise the count above current, as upstream's does). Either way the result
// stays within [min, max] whenever the current count is.
RC_GTEST_PROP(HpaProperties, NormalizationNeverReversesDirection, ()) {
  int min_replicas = *rc::gen::inRange(1, 5);
  int max_replicas = *rc::gen::inRange(min_replicas, 60);
  int current = *rc::gen::inRange(min_replicas, max_replicas + 1);
  std::int64_t target = 1000;
  std::int64_t value = *rc::gen::inRange<std::int64_t>(0, 20000);
  Scenario s = pods_metric_scenario(current, {value}, target);
  s.bounds(min_replicas, max_replicas);
  if (*rc::gen::arbitrary<bool>()) {
    kube::HorizontalPodAutoscalerBehavior behavior;
    auto policy = [] {
      std::string type = *rc::gen::element<std::string>("Pods", "Percent");
      return kube::HPAScalingPolicy{type, *rc::gen::inRange(1, 200), *rc::gen::inRange(1, 120)};
    };
    behavior.scale_up = kube::HPAScalingRules{};
    behavior.scale_up->select_policy = *rc::gen::element<std::string>("Max", "Min", "Disabled");
    behavior.scale_up->policies = std::vector<kube::HPAScalingPolicy>{policy(), policy()};
    behavior.scale_up->stabilization_window_seconds = *rc::gen::inRange(0, 120);
    behavior.scale_down = kube::HPAScalingRules{};
    behavior.scale_down->select_policy = *rc::gen::element<std::string>("Max", "Min", "Disabled");
    behavior.scale_down->policies = std::vector<kube::HPAScalingPolicy>{policy()};
    behavior.scale_down->stabilization_window_seconds = *rc::gen::inRange(0, 600);
    s.input.hpa.spec.behavior = behavior;
    int events = *rc::gen::inRange(0, 4);
    for (int i = 0; i < events; ++i) {
      ScaleEvent e{*rc::gen::inRange(1, 10), t0() - seconds(*rc::gen::inRange(0, 200)), false};
      (*rc::gen::arbitrary<bool>() ? s.input.history.scale_up_events
                                   : s.input.history.scale_down_events)
          .push_back(e);
    }
  }
  int recs = *rc::gen::inRange(0, 5);
  for (int i = 0; i < recs; ++i) {
    s.input.history.recommendations.push_back(
        {*rc::gen::inRange(1, 60), t0() - seconds(*rc::gen::inRange(0, 900))});
  }
  Decision d = s.run();
  int prenormalized = *d.prenormalized_replicas;
  if (s.input.hpa.spec.behavior) {
    if (prenormalized > current) RC_ASSERT(d.desired_replicas >= current);
    if (prenormalized < current) RC_ASSERT(d.desired_replicas <= current);
    if (prenormalized == current) RC_ASSERT(d.desired_replicas == current);
  } else {
    int up_limit = std::max(2 * current, 4);
    int upper = std::min(max_replicas, up_limit);
    int expected = std::max(min_replicas, std::min(*d.stabilized_replicas, upper));
    RC_ASSERT(d.desired_replicas == expected);
  }
  RC_ASSERT(d.desired_replicas >= min_replicas);
  RC_ASSERT(d.desired_replicas <= max_replicas);
}

// The proposal for a plain metric is ceil(ratio x ready pods) on the fast path.
RC_GTEST_PROP(HpaProperties, FastPathIsCeilOfRatioTimesReadyPods, ()) {
  int replicas = *rc::gen::inRange(1, 40);
  std::int64_t target = *rc::gen::inRange<std::int64_t>(1, 100000);
  std::int64_t value = *rc::gen::inRange<std::int64_t>(0, 1000000);
  Scenario s = pods_metric_scenario(replicas, {value}, target);
  Decision d = s.run();
  double ratio = double(value) / double(target);
  int expected = (ratio >= 0.9 && ratio <= 1.1) ? replicas : int(std::ceil(ratio * replicas));
  RC_ASSERT(*d.metrics[0].proposed_replicas == expected);
}

}  // namespace
}  // namespace llmscale::hpa::testing
