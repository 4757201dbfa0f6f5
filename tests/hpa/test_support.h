// Builders for HPA engine tests: an HPA, its pods and the metrics answers, in a few lines.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "hpa/engine.h"
#include "hpa/reconcile_io.h"

namespace llmscale::hpa::testing {

inline core::Time t0() {
  return *core::parse_rfc3339("2026-03-01T12:00:00Z");
}

// Upstream's replica-calculator test harness values: tolerance 0.1, CPU initialization 2 min,
// initial readiness delay 10 s.
inline ControllerConfig upstream_test_config() {
  ControllerConfig c;
  c.cpu_initialization_period = std::chrono::minutes(2);
  c.initial_readiness_delay = std::chrono::seconds(10);
  return c;
}

struct Scenario {
  ReconcileInput input;
  RecordedMetrics metrics;
  std::optional<std::string> scale_update_error;

  Scenario();
  // The HPA's single metric (replaces spec.metrics).
  Scenario& metric(kube::MetricSpec spec);
  Scenario& replicas(std::int32_t spec, std::optional<std::int32_t> status = std::nullopt);
  Scenario& bounds(std::int32_t min, std::int32_t max);
  // Adds a pod "test-pod-<i>" labelled name=test-pod.
  kube::Pod& add_pod(const std::string& phase = "Running", const std::string& ready = "True");
  Decision run();
};

kube::MetricSpec pods_metric(const std::string& name, const std::string& average_value);
kube::MetricSpec resource_utilization(const std::string& resource, std::int32_t percent);
kube::MetricSpec resource_average(const std::string& resource, const std::string& average_value);
kube::MetricSpec object_value(const std::string& name, const std::string& value);
kube::MetricSpec object_average(const std::string& name, const std::string& average_value);
kube::MetricSpec external_value(const std::string& name, const std::string& value);
kube::MetricSpec external_average(const std::string& name, const std::string& average_value);

kube::MetricValue pod_value(const std::string& pod, std::int64_t milli,
                            core::Time timestamp = t0());
kube::ExternalMetricValue external_sample(std::int64_t milli);
kube::PodMetrics pod_usage(const std::string& pod, const std::string& resource,
                           std::vector<std::int64_t> container_milli, core::Time timestamp = t0());

const kube::HorizontalPodAutoscalerCondition* find_condition(const Decision& d,
                                                             const std::string& type);

}  // namespace llmscale::hpa::testing
