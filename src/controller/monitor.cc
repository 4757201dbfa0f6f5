// kube-controller-manager's HPA monitor: per-pass and per-metric labels, fetch timing, families.
#include "controller/monitor.h"

namespace llmscale::controller {
namespace {

// Which metrics API a metric of this spec type is fetched from; its name where the API takes one.
struct ExpectedFetch {
  bool fetches = false;
  MetricFetch::Api api = MetricFetch::Api::kResource;
  std::string metric;
};

ExpectedFetch expected_fetch(const kube::MetricSpec& spec) {
  using Api = MetricFetch::Api;
  if (spec.type == "Resource" || spec.type == "ContainerResource")
    return {true, Api::kResource, ""};
  if (spec.type == "Pods" && spec.pods) return {true, Api::kPods, spec.pods->metric.name};
  if (spec.type == "Object" && spec.object) return {true, Api::kObject, spec.object->metric.name};
  if (spec.type == "External" && spec.external)
    return {true, Api::kExternal, spec.external->metric.name};
  return {};
}

std::string action_label(std::int32_t proposed, std::int32_t current) {
  if (proposed > current) return kActionScaleUp;
  if (proposed < current) return kActionScaleDown;
  return kActionNone;
}

// Kubernetes: exponential buckets from 1 ms, doubling, 15 of them (monitor/metrics.go).
std::vector<double> duration_buckets() {
  std::vector<double> buckets;
  for (double b = 0.001; buckets.size() < 15; b *= 2) buckets.push_back(b);
  return buckets;
}

}  // namespace

FetchedMetrics fetch_metrics(core::Clock& clock, hpa::MetricsProvider& provider,
                             const std::vector<hpa::MetricRequest>& requests) {
  FetchedMetrics out;
  for (const hpa::MetricRequest& r : requests) {
    const core::MonotonicTime started = clock.monotonic_now();
    out.answers.fetch(provider, r);
    MetricFetch& fetch = out.fetches.emplace_back();
    fetch.api = r.api;
    fetch.metric = r.metric;
    fetch.duration = clock.monotonic_now() - started;
  }
  return out;
}

ReconciliationResult reconciliation_result(const kube::HorizontalPodAutoscaler& hpa,
                                           const hpa::Decision& decision,
                                           const std::vector<MetricFetch>& fetches,
                                           core::Duration pass_duration) {
  ReconciliationResult result;
  result.duration = pass_duration;
  // Kubernetes (reconcileAutoscaler): the action is set only once the scale was written; any
  // returned error is "internal" unless it wraps errSpec, which only an unparsable
  // scaleTargetRef.apiVersion does at this level.
  if (decision.rescale) {
    result.action =
        decision.desired_replicas > decision.current_replicas ? kActionScaleUp : kActionScaleDown;
  }
  if (decision.error) {
    result.error = decision.error->rfind("invalid API version in scale target reference", 0) == 0
                       ? kErrorSpec
                       : kErrorInternal;
  }
  // The engine fills decision.metrics (one per spec entry) only when it computed the metrics.
  const auto& specs = hpa.spec.metrics;
  std::size_t next_fetch = 0;
  for (std::size_t i = 0; i < decision.metrics.size() && i < specs.size(); ++i) {
    const hpa::MetricResult& m = decision.metrics[i];
    MetricComputationResult computed;
    computed.metric_type = specs[i].type;
    // Kubernetes (computeReplicasForMetric): a failed metric is action "none"; only an unknown
    // source type wraps errSpec. Otherwise the metric's proposal is compared with the HPA's
    // status.currentReplicas as the pass found it.
    if (m.error) {
      computed.error = m.reason == "InvalidMetricSourceType" ? kErrorSpec : kErrorInternal;
    } else if (m.proposed_replicas) {
      computed.action = action_label(*m.proposed_replicas, hpa.status.current_replicas);
    }
    // The fetches come in spec order, one per metric at most; a metric that failed before
    // fetching (a bad metric selector, no target) made none and took no time.
    ExpectedFetch expected = expected_fetch(specs[i]);
    if (expected.fetches && next_fetch < fetches.size() &&
        fetches[next_fetch].api == expected.api && fetches[next_fetch].metric == expected.metric) {
      computed.duration = fetches[next_fetch++].duration;
    }
    result.metrics.push_back(std::move(computed));
  }
  return result;
}

HpaControllerMetrics::HpaControllerMetrics() : registry_(std::make_unique<prom::MetricRegistry>()) {
  const std::string p = "horizontal_pod_autoscaler_controller_";
  // HELP texts are kube-controller-manager's, so a dashboard's tooltips read the same.
  const std::string labels_help =
      "The label 'action' should be either 'scale_down', 'scale_up', or 'none'. Also, the label "
      "'error' should be either 'spec', 'internal', or 'none'.";
  reconciliations_ =
      registry_
          ->add_counter(p + "reconciliations_total",
                        "Number of reconciliations of HPA controller. " + labels_help,
                        {"action", "error"})
          .value();
  reconciliation_durations_ =
      registry_
          ->add_histogram(
              p + "reconciliation_duration_seconds",
              "The time(seconds) that the HPA controller takes to reconcile once. " + labels_help,
              {"action", "error"}, duration_buckets())
          .value();
  const std::string type_help = " The label 'metric_type' corresponds to HPA.spec.metrics[*].type";
  computations_ = registry_
                      ->add_counter(p + "metric_computation_total",
                                    "Number of metric computations. " + labels_help + type_help,
                                    {"action", "error", "metric_type"})
                      .value();
  computation_durations_ =
      registry_
          ->add_histogram(p + "metric_computation_duration_seconds",
                          "The time(seconds) that the HPA controller takes to calculate one "
                          "metric. " +
                              labels_help + type_help,
                          {"action", "error", "metric_type"}, duration_buckets())
          .value();
  autoscaler_count_ = registry_
                          ->add_gauge(p + "num_horizontal_pod_autoscalers",
                                      "Current number of controlled HPA objects.")
                          .value();
  desired_replicas_ =
      registry_
          ->add_gauge(p + "desired_replicas", "Current desired replica count for HPA objects.",
                      {"namespace", "hpa_name"})
          .value();
  autoscaler_count_->with({}).set(0);
}

HpaControllerMetrics::~HpaControllerMetrics() = default;

void HpaControllerMetrics::observe(const ReconciliationResult& result) {
  reconciliations_->with({result.action, result.error}).inc();
  reconciliation_durations_->with({result.action, result.error})
      .observe(core::to_seconds(result.duration));
  for (const MetricComputationResult& m : result.metrics) {
    computations_->with({m.action, m.error, m.metric_type}).inc();
    computation_durations_->with({m.action, m.error, m.metric_type})
        .observe(core::to_seconds(m.duration));
  }
}

void HpaControllerMetrics::set_autoscalers(const std::vector<Autoscaler>& autoscalers) {
  std::set<std::pair<std::string, std::string>> now;
  for (const Autoscaler& a : autoscalers) {
    desired_replicas_->with({a.namespace_name, a.name}).set(a.desired_replicas);
    now.emplace(a.namespace_name, a.name);
  }
  for (const auto& [ns, name] : desired_children_) {
    if (now.count({ns, name}) == 0) desired_replicas_->remove({ns, name});
  }
  desired_children_ = std::move(now);
  autoscaler_count_->with({}).set(static_cast<double>(autoscalers.size()));
}

std::string HpaControllerMetrics::text() const {
  return registry_->text();
}

}  // namespace llmscale::controller
