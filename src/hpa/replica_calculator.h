// Per-metric replica proposals (upstream's replica_calculator.go and metrics/utilization.go).
//
// Pure functions over already-fetched samples and the listed pods. Errors carry upstream's
// message texts; callers add the surrounding context the controller adds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "kube/objects.h"

namespace llmscale::hpa {

struct Tolerances {
  double scale_down = 0.1;
  double scale_up = 0.1;
  // Kubernetes (v1.33+): (1 - down) <= ratio <= (1 + up), both bounds inclusive.
  bool within(double ratio) const {
    return (1.0 - scale_down) <= ratio && ratio <= (1.0 + scale_up);
  }
};

// One pod's sample, in milli-units.
struct PodMetric {
  std::int64_t value = 0;
  core::Time timestamp;
  core::Duration window{};
};
using PodMetricsInfo = std::map<std::string, PodMetric>;

struct PodGroupingConfig {
  core::Time now;
  core::Duration cpu_initialization_period{};
  core::Duration initial_readiness_delay{};
};

// Counts from groupPods, with the names of the pods in each group.
struct PodGroups {
  int ready = 0;
  std::vector<std::string> unready, missing, ignored;
};

// Classifies listed pods (ignored / unready / missing / ready); readiness rules only for cpu.
PodGroups group_pods(const std::vector<const kube::Pod*>& pods, const PodMetricsInfo& metrics,
                     const std::string& resource, const PodGroupingConfig& config);

// Request (milli-units) of `resource` for every listed pod; `container` narrows to one.
core::Result<std::map<std::string, std::int64_t>> calculate_requests(
    const std::vector<const kube::Pod*>& pods, const std::string& container,
    const std::string& resource, bool pod_level_resources);

struct Calculation {
  std::int32_t replicas = 0;
  std::int64_t usage = 0;        // milli; the raw average for utilization
  std::int32_t utilization = 0;  // percent (utilization targets only)
  double ratio = 0;
  std::optional<double> adjusted_ratio;  // slow path
  PodGroups groups;
  std::vector<std::string> notes;
};

// Resource / ContainerResource with a Utilization target (GetResourceReplicas).
core::Result<Calculation> resource_utilization_replicas(
    std::int32_t current, std::int32_t target_utilization, const std::string& resource,
    const std::string& container, const Tolerances& tolerances,
    const std::vector<const kube::Pod*>& pods, PodMetricsInfo metrics,
    const PodGroupingConfig& grouping, bool pod_level_resources);

// Pods metrics, and Resource with an AverageValue target (calcPlainMetricReplicas).
core::Result<Calculation> plain_metric_replicas(std::int32_t current, std::int64_t target_usage,
                                                const std::string& resource,
                                                const Tolerances& tolerances,
                                                const std::vector<const kube::Pod*>& pods,
                                                PodMetricsInfo metrics,
                                                const PodGroupingConfig& grouping);

// Object and External Value targets (getUsageRatioReplicaCount): ready pods are Running and
// Ready=True among the listed pods; from zero replicas, ceil(ratio) without tolerance.
core::Result<Calculation> value_replicas(std::int32_t current, std::int64_t usage,
                                         std::int64_t target, const Tolerances& tolerances,
                                         const std::vector<const kube::Pod*>& pods);

// Object and External AverageValue targets: per pod over scale.status.replicas.
Calculation per_pod_replicas(std::int32_t status_replicas, std::int64_t usage,
                             std::int64_t target_per_pod, const Tolerances& tolerances);

// Sum of external series, capped at MaxInt64 on positive overflow.
std::int64_t sum_external(const std::vector<std::int64_t>& values);

}  // namespace llmscale::hpa
