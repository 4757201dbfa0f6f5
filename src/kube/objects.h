// Kubernetes object types llmscale reads and writes, in their autoscaling/v2, core/v1 and
// metrics-API shapes: HorizontalPodAutoscaler, Scale, Pod (the fields the HPA controller reads),
// PodMetricsList (metrics.k8s.io), MetricValueList (custom.metrics.k8s.io) and
// ExternalMetricValueList (external.metrics.k8s.io).
//
// Plain value types. std::optional marks the fields that are pointers upstream, so "unset" and
// "zero" stay distinct (behavior: null vs behavior: {}, policies: null vs []). Enum-like fields
// (metric source type, target type) stay strings: the controller must see unknown values and
// answer with its own conditions, as upstream does. JSON lives in kube/json_codec.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "kube/label_selector.h"
#include "kube/quantity.h"

namespace llmscale::kube {

struct ObjectMeta {
  std::string name;
  std::string generate_name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  std::int64_t generation = 0;
  std::optional<core::Time> creation_timestamp;
  std::optional<core::Time> deletion_timestamp;
  Labels labels;
  std::map<std::string, std::string> annotations;
};

// ---- autoscaling/v2 -----------------------------------------------------------------------

struct CrossVersionObjectReference {
  std::string kind;
  std::string name;
  std::string api_version;
};

struct MetricIdentifier {
  std::string name;
  std::optional<LabelSelector> selector;
};

struct MetricTarget {
  std::string type;  // Utilization, Value or AverageValue
  std::optional<Quantity> value;
  std::optional<Quantity> average_value;
  std::optional<std::int32_t> average_utilization;
};

struct ObjectMetricSource {
  CrossVersionObjectReference described_object;
  MetricTarget target;
  MetricIdentifier metric;
};

struct PodsMetricSource {
  MetricIdentifier metric;
  MetricTarget target;
};

struct ResourceMetricSource {
  std::string name;
  MetricTarget target;
};

struct ContainerResourceMetricSource {
  std::string name;
  MetricTarget target;
  std::string container;
};

struct ExternalMetricSource {
  MetricIdentifier metric;
  MetricTarget target;
};

struct MetricSpec {
  std::string type;  // Object, Pods, Resource, ContainerResource or External
  std::optional<ObjectMetricSource> object;
  std::optional<PodsMetricSource> pods;
  std::optional<ResourceMetricSource> resource;
  std::optional<ContainerResourceMetricSource> container_resource;
  std::optional<ExternalMetricSource> external;
};

struct HPAScalingPolicy {
  std::string type;  // Pods or Percent
  std::int32_t value = 0;
  std::int32_t period_seconds = 0;
};

struct HPAScalingRules {
  std::optional<std::int32_t> stabilization_window_seconds;
  std::optional<std::string> select_policy;  // Max, Min or Disabled
  std::optional<std::vector<HPAScalingPolicy>> policies;
  std::optional<Quantity> tolerance;
};

struct HorizontalPodAutoscalerBehavior {
  std::optional<HPAScalingRules> scale_up;
  std::optional<HPAScalingRules> scale_down;
};

struct HorizontalPodAutoscalerSpec {
  CrossVersionObjectReference scale_target_ref;
  std::optional<std::int32_t> min_replicas;
  std::int32_t max_replicas = 0;
  std::vector<MetricSpec> metrics;
  std::optional<HorizontalPodAutoscalerBehavior> behavior;
};

struct MetricValueStatus {
  std::optional<Quantity> value;
  std::optional<Quantity> average_value;
  std::optional<std::int32_t> average_utilization;
};

struct MetricStatus {
  std::string type;
  struct Object {
    MetricIdentifier metric;
    MetricValueStatus current;
    CrossVersionObjectReference described_object;
  };
  struct Pods {
    MetricIdentifier metric;
    MetricValueStatus current;
  };
  struct Resource {
    std::string name;
    MetricValueStatus current;
  };
  struct ContainerResource {
    std::string name;
    MetricValueStatus current;
    std::string container;
  };
  struct External {
    MetricIdentifier metric;
    MetricValueStatus current;
  };
  std::optional<Object> object;
  std::optional<Pods> pods;
  std::optional<Resource> resource;
  std::optional<ContainerResource> container_resource;
  std::optional<External> external;
};

struct HorizontalPodAutoscalerCondition {
  std::string type;
  std::string status;  // True, False or Unknown
  std::optional<core::Time> last_transition_time;
  std::string reason;
  std::string message;
};

struct HorizontalPodAutoscalerStatus {
  std::optional<std::int64_t> observed_generation;
  std::optional<core::Time> last_scale_time;
  std::int32_t current_replicas = 0;
  std::int32_t desired_replicas = 0;
  std::vector<MetricStatus> current_metrics;
  std::vector<HorizontalPodAutoscalerCondition> conditions;
};

struct HorizontalPodAutoscaler {
  std::string api_version = "autoscaling/v2";
  std::string kind = "HorizontalPodAutoscaler";
  ObjectMeta metadata;
  HorizontalPodAutoscalerSpec spec;
  HorizontalPodAutoscalerStatus status;
};

// The scale subresource as the HPA controller reads it.
struct Scale {
  std::int32_t spec_replicas = 0;
  std::int32_t status_replicas = 0;
  std::string selector;  // status.selector, in string form
};

// ---- core/v1 Pod (the fields the HPA controller reads) -------------------------------------

using ResourceList = std::map<std::string, Quantity>;

struct Container {
  std::string name;
  ResourceList requests;
  std::optional<std::string> restart_policy;  // "Always" marks a sidecar init container
};

struct PodCondition {
  std::string type;
  std::string status;
  std::optional<core::Time> last_transition_time;
};

// status.containerStatuses[i]: what `kubectl get pods` shows in READY, STATUS and RESTARTS.
struct ContainerStatus {
  std::string name;
  bool ready = false;
  std::int32_t restart_count = 0;
  std::string waiting_reason;     // state.waiting.reason ("ContainerCreating", "CrashLoopBackOff")
  std::string terminated_reason;  // state.terminated.reason ("Completed", "Error")
  std::optional<core::Time> last_terminated_at;  // lastState.terminated.finishedAt
  // Appended after the fields above so positional initializers of those stay valid.
  std::string waiting_message;  // state.waiting.message ("back-off 10s restarting failed ...")
  // lastState.terminated: exitCode, signal, reason and message (the log's tail, as with
  // terminationMessagePolicy: FallbackToLogsOnError) of the previous run; set with finishedAt.
  std::int32_t last_exit_code = 0;
  std::int32_t last_signal = 0;
  std::string last_terminated_reason;
  std::string last_terminated_message;
  std::optional<core::Time> last_started_at;  // lastState.terminated.startedAt
};

struct Pod {
  ObjectMeta metadata;
  std::vector<Container> containers;
  std::vector<Container> init_containers;
  std::optional<ResourceList> pod_requests;  // spec.resources.requests (pod-level resources)
  std::string phase;                         // Pending, Running, Succeeded, Failed, Unknown
  std::optional<core::Time> start_time;
  std::vector<PodCondition> conditions;
  std::string pod_ip;  // status.podIP
  std::vector<ContainerStatus> container_statuses;

  // The Ready condition, if the pod has one.
  const PodCondition* ready_condition() const;
};

// ---- metrics APIs ---------------------------------------------------------------------------

// metrics.k8s.io/v1beta1 PodMetrics.
struct PodMetrics {
  ObjectMeta metadata;
  core::Time timestamp;
  core::Duration window{};
  struct ContainerMetrics {
    std::string name;
    ResourceList usage;
  };
  std::vector<ContainerMetrics> containers;
};

// custom.metrics.k8s.io/v1beta2 MetricValue (v1beta1 names the metric with metricName).
struct MetricValue {
  struct DescribedObject {
    std::string kind;
    std::string namespace_;
    std::string name;
    std::string api_version;
  };
  DescribedObject described_object;
  std::string metric_name;
  std::optional<LabelSelector> metric_selector;
  core::Time timestamp;
  std::optional<std::int64_t> window_seconds;
  Quantity value;
};

// external.metrics.k8s.io/v1beta1 ExternalMetricValue.
struct ExternalMetricValue {
  std::string metric_name;
  std::map<std::string, std::string> metric_labels;
  core::Time timestamp;
  std::optional<std::int64_t> window_seconds;
  Quantity value;
};

// The annotation that ranks a ReplicaSet's pods for deletion (lower cost goes first), as
// core/v1's PodDeletionCost.
inline constexpr const char* kPodDeletionCost = "controller.kubernetes.io/pod-deletion-cost";

// Kubernetes' GetDeletionCostFromPodAnnotations: the pod-deletion-cost annotation as an int32;
// 0 when absent; kInvalidArgument for a value ParseInt(v, 10, 32) refuses or that starts with
// '+' or a leading zero ("+10", "008"). The API server refuses such a pod; the ReplicaSet
// controller ranks it as 0.
core::Result<std::int32_t> pod_deletion_cost(const std::map<std::string, std::string>& annotations);

}  // namespace llmscale::kube
