// The HorizontalPodAutoscaler decision engine: one reconcile pass of the Kubernetes HPA
// controller (pkg/controller/podautoscaler), as a pure function.
//
// Pure decision function; no I/O; safe to call from any thread on distinct inputs. Everything
// the upstream controller reads comes in through ReconcileInput (the HPA object, the target's
// scale subresource, the pods, the controller flags, its in-memory history and "now") and the
// MetricsProvider (the metrics APIs' answers). Everything it would write comes back in a
// Decision: the desired replica count, the new HPA status with conditions, the events, the
// updated history to pass to the next pass, and an explanation for humans.
//
// Semantics follow ../shared/reference/hpa-semantics.md (§1-§13), which restates upstream at
// the v1.36 development snapshot; upstream's own message texts are used verbatim.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "hpa/metrics_provider.h"
#include "kube/objects.h"

namespace llmscale::hpa {

// kube-controller-manager flags and feature gates that change decisions.
struct ControllerConfig {
  double tolerance = 0.1;  // --horizontal-pod-autoscaler-tolerance
  core::Duration downscale_stabilization_window = std::chrono::minutes(5);
  core::Duration cpu_initialization_period = std::chrono::minutes(5);
  core::Duration initial_readiness_delay = std::chrono::seconds(30);
  double scale_up_limit_factor = 2.0;  // legacy path: max(factor * current, minimum)
  double scale_up_limit_minimum = 4.0;
  struct FeatureGates {
    // As kube-controller-manager v1.37 has them.
    bool hpa_configurable_tolerance = true;  // beta, on since v1.35
    bool hpa_scale_to_zero = true;           // beta, on since v1.37 (alpha before)
    bool hpa_generation = false;             // alpha in the v1.36 cycle: status.observedGeneration
    bool pod_level_resources = true;         // beta, on since v1.34
  } gates;
};

// The controller's in-memory state for one HPA (nothing of it is persisted upstream).
struct TimestampedRecommendation {
  std::int32_t replicas = 0;
  core::Time timestamp;
};
struct ScaleEvent {
  std::int32_t replica_change = 0;  // absolute value
  core::Time timestamp;
  bool outdated = false;
};
struct History {
  std::vector<TimestampedRecommendation> recommendations;
  // Kubernetes: recordInitialRecommendation seeds the history with the current count only when
  // the controller has no entry for the HPA (a nil slice); an entry that is present but empty is
  // not seeded. `recorded` is that difference: false and no recommendations = first time seen.
  bool recorded = false;
  std::vector<ScaleEvent> scale_up_events;
  std::vector<ScaleEvent> scale_down_events;
};

// Another HPA in the namespace, for the AmbiguousSelector check.
struct OtherHpa {
  std::string name;
  std::string selector;  // its scale target's status.selector
};

struct ReconcileInput {
  core::Time now;
  ControllerConfig config;
  kube::HorizontalPodAutoscaler hpa;
  core::Result<kube::Scale> scale = kube::Scale{};  // an error models a failed GET of the scale
  std::vector<kube::Pod> pods;                      // filtered here by the scale's selector
  std::vector<OtherHpa> other_hpas;
  History history;
};

// Writes the target's scale. The engine calls it at most once per pass; an error takes the
// FailedRescale path exactly as a failed update does upstream.
class ScaleWriter {
 public:
  virtual ~ScaleWriter() = default;
  virtual core::Status set_replicas(std::int32_t replicas) = 0;
};

// A ScaleWriter that accepts every update (dry runs, `hpa reconcile`).
class AcceptingScaleWriter final : public ScaleWriter {
 public:
  core::Status set_replicas(std::int32_t) override { return {}; }
};

// What one metric of spec.metrics contributed.
struct MetricResult {
  std::string type;         // spec type
  std::string name;         // metric or resource name
  std::string description;  // upstream's metric description
  std::optional<std::int32_t> proposed_replicas;
  // What the controller saw: milli-units for values, percent for utilization.
  std::optional<std::int64_t> usage_milli;          // average / value it compared
  std::optional<std::int32_t> utilization_percent;  // Resource utilization
  std::optional<std::int64_t> target_milli;
  std::optional<std::int32_t> target_utilization;
  bool per_pod = false;                  // an AverageValue target
  std::optional<double> usage_ratio;     // before missing/unready adjustment
  std::optional<double> adjusted_ratio;  // after it (slow path)
  // Pod grouping for Resource/Pods metrics.
  std::optional<int> ready_pods, unready_pods, missing_pods, ignored_pods;
  std::optional<std::string> error;   // set when the metric is invalid
  std::optional<std::string> reason;  // condition reason when invalid
  std::vector<std::string> notes;     // how the number came about
};

struct Event {
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
};

struct Decision {
  std::int32_t current_replicas = 0;
  std::int32_t desired_replicas = 0;  // what the target is (or stays) scaled to
  bool rescale = false;
  std::string rescale_reason;
  std::optional<std::int32_t> prenormalized_replicas;  // metrics' max, before normalization
  std::optional<std::int32_t> stabilized_replicas;
  std::string limit_reason;                    // ScalingLimited reason, when set
  std::vector<MetricResult> metrics;           // one per spec.metrics entry
  kube::HorizontalPodAutoscalerStatus status;  // the new status
  bool status_changed = false;                 // whether upstream would write it
  History history;                             // feed to the next pass
  std::vector<Event> events;
  std::optional<std::string> error;      // the error the pass returns upstream
  std::vector<std::string> explanation;  // why this number, step by step
};

// One reconcile pass. Never fails: problems become conditions, events and `error`, as upstream.
Decision reconcile(const ReconcileInput& input, MetricsProvider& metrics, ScaleWriter& writer);

}  // namespace llmscale::hpa
