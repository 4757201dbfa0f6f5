// What one pass of the HPA controller tells an operator, as kube-controller-manager's HPA monitor
// (pkg/controller/podautoscaler/monitor) records it: the pass's action and error labels and its
// duration, and for every metric it computed the same plus the metric's type; and the
// horizontal_pod_autoscaler_controller_* families those observations are exported in.
//
// Anything that runs hpa::reconcile() can produce a ReconciliationResult: fetch the pass's
// metrics first (hpa::metric_requests, each fetch timed on the clock's monotonic reading:
// fetch_metrics() here for a synchronous provider, the cluster controller's coroutine for an
// asynchronous one), decide on the recorded answers, time the pass, and call
// reconciliation_result(). controller::Controller does so for every pass (HpaView::last_result),
// `llmscale controller` (src/cluster) too. HpaControllerMetrics keeps the counters and histograms
// across scrapes.
//
// Thread-safety: fetch_metrics() calls the provider from the calling thread;
// HpaControllerMetrics is used from one thread at a time (the controller's).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "hpa/engine.h"
#include "hpa/metric_requests.h"
#include "hpa/metrics_provider.h"
#include "hpa/reconcile_io.h"
#include "kube/objects.h"
#include "prom/exposition/registry.h"

namespace llmscale::controller {

// Label values, as upstream spells them.
inline constexpr const char* kActionScaleUp = "scale_up";
inline constexpr const char* kActionScaleDown = "scale_down";
inline constexpr const char* kActionNone = "none";
inline constexpr const char* kErrorSpec = "spec";
inline constexpr const char* kErrorInternal = "internal";
inline constexpr const char* kErrorNone = "none";

// One metric of a pass (upstream's ObserveMetricComputationResult).
struct MetricComputationResult {
  std::string action = kActionNone;  // the metric's own proposal against status.currentReplicas
  std::string error = kErrorNone;
  std::string metric_type;  // spec.metrics[i].type
  core::Duration duration{};
};

// One pass (upstream's ObserveReconciliationResult) and the metrics it computed, in spec order.
// `metrics` is empty when the pass stopped before computing any (no scale, replicas outside
// [minReplicas, maxReplicas], scaling disabled, a bad selector), as upstream records none then.
struct ReconciliationResult {
  std::string action = kActionNone;
  std::string error = kErrorNone;
  core::Duration duration{};
  std::vector<MetricComputationResult> metrics;
};

// One metric fetch of a pass's fetch phase: the API asked, the metric's name (empty for
// resource metrics) and how long the answer took on the clock's monotonic reading. A metric's
// arithmetic around its fetch is pure and not timed.
struct MetricFetch {
  using Api = hpa::MetricRequest::Api;
  Api api = Api::kResource;
  std::string metric;
  core::Duration duration{};
};

// What a fetch phase hands the pass: every answer (failed fetches too) under its request, and
// the fetches in request order.
struct FetchedMetrics {
  hpa::RecordedMetrics answers;
  std::vector<MetricFetch> fetches;
};

// The fetch phase over a synchronous provider (up's in-process adapter, a test's recorded
// answers): asks `provider` each of `requests` in order, timing each on `clock.monotonic_now()`.
FetchedMetrics fetch_metrics(core::Clock& clock, hpa::MetricsProvider& provider,
                             const std::vector<hpa::MetricRequest>& requests);

// The labels upstream records for a pass of `hpa` (as it was before the pass: its
// status.currentReplicas is what each metric's proposal is compared with) that decided
// `decision`, given the pass's fetches (in request order) and its duration.
ReconciliationResult reconciliation_result(const kube::HorizontalPodAutoscaler& hpa,
                                           const hpa::Decision& decision,
                                           const std::vector<MetricFetch>& fetches,
                                           core::Duration pass_duration);

// kube-controller-manager's horizontal_pod_autoscaler_controller_* families: reconciliations_total
// and reconciliation_duration_seconds {action,error}, metric_computation_total and
// metric_computation_duration_seconds {action,error,metric_type} (both histograms: 15 exponential
// buckets from 1 ms, doubling), num_horizontal_pod_autoscalers and desired_replicas
// {namespace,hpa_name}.
class HpaControllerMetrics {
 public:
  // One HPA the controller holds, for the two gauges.
  struct Autoscaler {
    std::string namespace_name;
    std::string name;
    std::int32_t desired_replicas = 0;
  };

  HpaControllerMetrics();
  ~HpaControllerMetrics();
  HpaControllerMetrics(const HpaControllerMetrics&) = delete;
  HpaControllerMetrics& operator=(const HpaControllerMetrics&) = delete;

  void observe(const ReconciliationResult& result);
  // Replaces the gauges' view: the HPAs the controller holds now.
  void set_autoscalers(const std::vector<Autoscaler>& autoscalers);
  // Prometheus text exposition of the six families.
  std::string text() const;

 private:
  std::unique_ptr<prom::MetricRegistry> registry_;
  prom::CounterFamily* reconciliations_ = nullptr;
  prom::HistogramFamily* reconciliation_durations_ = nullptr;
  prom::CounterFamily* computations_ = nullptr;
  prom::HistogramFamily* computation_durations_ = nullptr;
  prom::GaugeFamily* autoscaler_count_ = nullptr;
  prom::GaugeFamily* desired_replicas_ = nullptr;
  std::set<std::pair<std::string, std::string>> desired_children_;  // namespace, name
};

}  // namespace llmscale::controller
