// One reconcile pass of the HPA controller (pkg/controller/podautoscaler/horizontal.go):
// scale lookup, pre-checks, metrics, normalization with or without behavior, rescale, status.
#include "hpa/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/duration.h"
#include "core/strings.h"
#include "hpa/replica_calculator.h"
#include "kube/hpa_validation.h"

namespace llmscale::hpa {
namespace {

using kube::HorizontalPodAutoscalerCondition;
using kube::MetricSpec;
using kube::MetricStatus;
using kube::Quantity;

constexpr std::int32_t kMinInt32 = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMaxInt32 = std::numeric_limits<std::int32_t>::max();

core::Time whole_seconds(core::Time t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}

std::string selector_debug(const std::optional<kube::LabelSelector>& selector) {
  return kube::go_debug_string(selector);
}

// Go's ParseGroupVersion: at most one '/'.
bool valid_group_version(const std::string& gv) {
  return std::count(gv.begin(), gv.end(), '/') <= 1 || gv == "/";
}

struct MetricOutcome {
  std::int32_t replicas = 0;
  std::string description;
  std::optional<HorizontalPodAutoscalerCondition> failure;  // ScalingActive=False condition
  std::string error;                                        // wrapped as the controller wraps it
};

class Pass {
 public:
  Pass(const ReconcileInput& input, MetricsProvider& provider, ScaleWriter& writer)
      : in_(input), provider_(provider), writer_(writer), hpa_(input.hpa) {
    // The API server stores HPAs defaulted; do the same for objects built by hand.
    kube::apply_hpa_defaults(hpa_);
    original_status_ = hpa_.status;
    decision_.history = input.history;
  }

  Decision run();

 private:
  // ---- conditions, events ---------------------------------------------------------------
  void set_condition(const std::string& type, const std::string& status, const std::string& reason,
                     const std::string& message) {
    auto& list = hpa_.status.conditions;
    auto it =
        std::find_if(list.begin(), list.end(),
                     [&](const HorizontalPodAutoscalerCondition& c) { return c.type == type; });
    if (it == list.end()) {
      list.push_back(HorizontalPodAutoscalerCondition{type, "", std::nullopt, "", ""});
      it = list.end() - 1;
    }
    if (it->status != status) it->last_transition_time = whole_seconds(in_.now);
    it->status = status;
    it->reason = reason;
    it->message = message;
  }
  void remove_condition(const std::string& type) {
    auto& list = hpa_.status.conditions;
    list.erase(
        std::remove_if(list.begin(), list.end(),
                       [&](const HorizontalPodAutoscalerCondition& c) { return c.type == type; }),
        list.end());
  }
  bool condition_is_true(const std::string& type) const {
    for (const auto& c : hpa_.status.conditions) {
      if (c.type == type) return c.status == "True";
    }
    return false;
  }
  void event(const std::string& type, const std::string& reason, const std::string& message) {
    decision_.events.push_back(Event{type, reason, message});
  }
  void explain(std::string line) { decision_.explanation.push_back(std::move(line)); }

  HorizontalPodAutoscalerCondition unable_to_compute(const std::string& reason,
                                                     const std::string& error) {
    event("Warning", reason, error);
    return HorizontalPodAutoscalerCondition{
        "ScalingActive", "False", std::nullopt, reason,
        "the HPA was unable to compute the replica count: " + error};
  }

  Tolerances tolerances() const {
    Tolerances t{in_.config.tolerance, in_.config.tolerance};
    const auto& behavior = hpa_.spec.behavior;
    if (!behavior || !in_.config.gates.hpa_configurable_tolerance) return t;
    if (behavior->scale_down && behavior->scale_down->tolerance) {
      t.scale_down = behavior->scale_down->tolerance->as_double();
    }
    if (behavior->scale_up && behavior->scale_up->tolerance) {
      t.scale_up = behavior->scale_up->tolerance->as_double();
    }
    return t;
  }

  std::string reference() const {
    return hpa_.spec.scale_target_ref.kind + "/" + hpa_.metadata.namespace_ + "/" +
           hpa_.spec.scale_target_ref.name;
  }

  // ---- status ---------------------------------------------------------------------------
  void set_status(std::int32_t current, std::int32_t desired, std::vector<MetricStatus> metrics,
                  bool rescaled) {
    auto& status = hpa_.status;
    status.current_replicas = current;
    status.desired_replicas = desired;
    status.current_metrics = std::move(metrics);
    status.observed_generation.reset();
    if (in_.config.gates.hpa_generation) status.observed_generation = hpa_.metadata.generation;
    if (rescaled) status.last_scale_time = whole_seconds(in_.now);
  }

  Decision finish() {
    decision_.status = hpa_.status;
    decision_.status_changed = !same_status(original_status_, hpa_.status);
    return std::move(decision_);
  }

  static bool same_status(const kube::HorizontalPodAutoscalerStatus& a,
                          const kube::HorizontalPodAutoscalerStatus& b);

  // ---- metrics --------------------------------------------------------------------------
  core::Result<kube::Selector> validate_selector(const std::string& selector_text);
  std::int32_t compute_metrics(const kube::Scale& scale, std::string& metric_name,
                               std::vector<MetricStatus>& statuses, std::string& error,
                               const kube::Selector& selector);
  MetricOutcome compute_metric(const MetricSpec& spec, const kube::Scale& scale,
                               const kube::Selector& selector, MetricStatus& status,
                               MetricResult& result);
  MetricOutcome resource_metric(const kube::MetricTarget& target, const std::string& resource,
                                const std::string& container, bool container_scoped,
                                std::int32_t current, const kube::Selector& selector,
                                kube::MetricValueStatus& value_status, MetricResult& result);
  core::Result<PodMetricsInfo> fetch_resource_metrics(const std::string& resource,
                                                      const std::string& container,
                                                      const kube::Selector& selector);

  // ---- normalization --------------------------------------------------------------------
  std::int32_t normalize_legacy(std::int32_t current, std::int32_t prenormalized,
                                std::int32_t min_replicas);
  std::int32_t normalize_with_behavior(std::int32_t current, std::int32_t prenormalized,
                                       std::int32_t min_replicas);
  void store_scale_event(std::int32_t previous, std::int32_t next);

  const ReconcileInput& in_;
  MetricsProvider& provider_;
  ScaleWriter& writer_;
  kube::HorizontalPodAutoscaler hpa_;
  kube::HorizontalPodAutoscalerStatus original_status_;
  std::vector<const kube::Pod*> pods_;  // listed by the scale's selector
  Decision decision_;
};

bool Pass::same_status(const kube::HorizontalPodAutoscalerStatus& a,
                       const kube::HorizontalPodAutoscalerStatus& b) {
  auto quantity_eq = [](const std::optional<Quantity>& x, const std::optional<Quantity>& y) {
    return x.has_value() == y.has_value() && (!x || x->compare(*y) == 0);
  };
  auto value_eq = [&](const kube::MetricValueStatus& x, const kube::MetricValueStatus& y) {
    return quantity_eq(x.value, y.value) && quantity_eq(x.average_value, y.average_value) &&
           x.average_utilization == y.average_utilization;
  };
  auto metric_eq = [&](const MetricStatus& x, const MetricStatus& y) {
    if (x.type != y.type) return false;
    auto current = [](const MetricStatus& m) -> const kube::MetricValueStatus* {
      if (m.object) return &m.object->current;
      if (m.pods) return &m.pods->current;
      if (m.resource) return &m.resource->current;
      if (m.container_resource) return &m.container_resource->current;
      if (m.external) return &m.external->current;
      return nullptr;
    };
    const auto* cx = current(x);
    const auto* cy = current(y);
    if ((cx == nullptr) != (cy == nullptr)) return false;
    return cx == nullptr || value_eq(*cx, *cy);
  };
  if (a.observed_generation != b.observed_generation || a.current_replicas != b.current_replicas ||
      a.desired_replicas != b.desired_replicas || a.last_scale_time != b.last_scale_time ||
      a.current_metrics.size() != b.current_metrics.size() ||
      a.conditions.size() != b.conditions.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.current_metrics.size(); ++i) {
    if (!metric_eq(a.current_metrics[i], b.current_metrics[i])) return false;
  }
  for (std::size_t i = 0; i < a.conditions.size(); ++i) {
    const auto& x = a.conditions[i];
    const auto& y = b.conditions[i];
    if (x.type != y.type || x.status != y.status || x.reason != y.reason ||
        x.message != y.message || x.last_transition_time != y.last_transition_time) {
      return false;
    }
  }
  return true;
}

core::Result<kube::Selector> Pass::validate_selector(const std::string& selector_text) {
  if (selector_text.empty()) {
    std::string message = "selector is required";
    event("Warning", "SelectorRequired", message);
    set_condition("ScalingActive", "False", "InvalidSelector",
                  "the HPA target's scale is missing a selector");
    return core::invalid_argument(message);
  }
  auto selector = kube::Selector::parse(selector_text);
  if (!selector) {
    std::string message =
        "couldn't convert selector into a corresponding internal selector object: " +
        selector.error().message;
    event("Warning", "InvalidSelector", message);
    set_condition("ScalingActive", "False", "InvalidSelector", message);
    return core::invalid_argument(message);
  }
  // The pods the controller's pod lister returns for this selector in the HPA's namespace.
  pods_.clear();
  for (const auto& pod : in_.pods) {
    const std::string& ns =
        pod.metadata.namespace_.empty() ? hpa_.metadata.namespace_ : pod.metadata.namespace_;
    if (ns == hpa_.metadata.namespace_ && selector->matches(pod.metadata.labels)) {
      pods_.push_back(&pod);
    }
  }
  // Kubernetes: pods selected by more than one HPA make the selector ambiguous.
  std::set<std::string> controllers;
  for (const auto& other : in_.other_hpas) {
    if (other.name == hpa_.metadata.name) continue;
    auto other_selector = kube::Selector::parse(other.selector);
    if (!other_selector) continue;
    for (const kube::Pod* pod : pods_) {
      if (other_selector->matches(pod->metadata.labels)) {
        controllers.insert(hpa_.metadata.namespace_ + "/" + other.name);
        break;
      }
    }
  }
  if (!controllers.empty() && !pods_.empty()) {
    controllers.insert(hpa_.metadata.namespace_ + "/" + hpa_.metadata.name);
    std::vector<std::string> keys(controllers.begin(), controllers.end());
    std::string message = "pods by selector " + selector_text +
                          " are controlled by multiple HPAs: [" + core::join(keys, " ") + "]";
    event("Warning", "AmbiguousSelector", message);
    set_condition("ScalingActive", "False", "AmbiguousSelector", message);
    return core::invalid_argument(message);
  }
  return selector;
}

core::Result<PodMetricsInfo> Pass::fetch_resource_metrics(const std::string& resource,
                                                          const std::string& container,
                                                          const kube::Selector& selector) {
  auto list = provider_.resource_metrics(hpa_.metadata.namespace_, selector);
  if (!list) {
    return core::invalid_argument("unable to fetch metrics from resource metrics API: " +
                                  list.error().message);
  }
  if (list->empty()) return core::invalid_argument("no metrics returned from resource metrics API");
  PodMetricsInfo info;
  for (const auto& pod_metrics : *list) {
    if (!container.empty()) {
      for (const auto& c : pod_metrics.containers) {
        if (c.name != container) continue;
        auto it = c.usage.find(resource);
        if (it != c.usage.end()) {
          info[pod_metrics.metadata.name] =
              PodMetric{it->second.milli_value(), pod_metrics.timestamp, pod_metrics.window};
        }
        break;
      }
      continue;
    }
    std::int64_t sum = 0;
    bool missing = pod_metrics.containers.empty();
    for (const auto& c : pod_metrics.containers) {
      auto it = c.usage.find(resource);
      if (it == c.usage.end()) {
        missing = true;
        break;
      }
      sum += it->second.milli_value();
    }
    if (!missing) {
      info[pod_metrics.metadata.name] = PodMetric{sum, pod_metrics.timestamp, pod_metrics.window};
    }
  }
  return info;
}

MetricOutcome Pass::resource_metric(const kube::MetricTarget& target, const std::string& resource,
                                    const std::string& container, bool container_scoped,
                                    std::int32_t current, const kube::Selector& selector,
                                    kube::MetricValueStatus& value_status, MetricResult& result) {
  MetricOutcome out;
  const char* failure_reason =
      container_scoped ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
  auto fail = [&](const std::string& error) {
    out.failure = unable_to_compute(failure_reason, error);
    out.error = error;
    return out;
  };
  // Kubernetes: memory averages print in BinarySI, everything else in DecimalSI.
  auto build_quantity = [&](std::int64_t milli) {
    return Quantity::from_milli(
        milli, resource == "memory" ? Quantity::Format::kBinarySI : Quantity::Format::kDecimalSI);
  };
  PodGroupingConfig grouping{in_.now, in_.config.cpu_initialization_period,
                             in_.config.initial_readiness_delay};
  if (target.average_value) {
    std::int64_t target_milli = target.average_value->milli_value();
    result.target_milli = target_milli;
    result.per_pod = true;
    auto metrics = fetch_resource_metrics(resource, container, selector);
    core::Result<Calculation> calc =
        metrics
            ? plain_metric_replicas(current, target_milli, resource, tolerances(), pods_, *metrics,
                                    grouping)
            : core::Result<Calculation>(tl::unexpected(core::Error{
                  core::ErrorCode::kUnavailable, "unable to get metrics for resource " + resource +
                                                     ": " + metrics.error().message}));
    if (!calc) return fail("failed to get " + resource + " usage: " + calc.error().message);
    out.replicas = calc->replicas;
    out.description = resource + " resource";
    value_status.average_value = build_quantity(calc->usage);
    result.usage_milli = calc->usage;
    result.usage_ratio = calc->ratio;
    result.adjusted_ratio = calc->adjusted_ratio;
    result.ready_pods = calc->groups.ready;
    result.unready_pods = int(calc->groups.unready.size());
    result.missing_pods = int(calc->groups.missing.size());
    result.ignored_pods = int(calc->groups.ignored.size());
    result.notes = calc->notes;
    return out;
  }
  if (!target.average_utilization) {
    return fail(
        "invalid resource metric source: neither an average utilization target nor an average "
        "value (usage) target was set");
  }
  std::int32_t target_utilization = *target.average_utilization;
  result.target_utilization = target_utilization;
  auto metrics = fetch_resource_metrics(resource, container, selector);
  core::Result<Calculation> calc =
      metrics ? resource_utilization_replicas(current, target_utilization, resource, container,
                                              tolerances(), pods_, *metrics, grouping,
                                              in_.config.gates.pod_level_resources)
              : core::Result<Calculation>(tl::unexpected(core::Error{
                    core::ErrorCode::kUnavailable, "unable to get metrics for resource " +
                                                       resource + ": " + metrics.error().message}));
  if (!calc) return fail("failed to get " + resource + " utilization: " + calc.error().message);
  out.replicas = calc->replicas;
  out.description = container_scoped
                        ? resource + " container resource utilization (percentage of request)"
                        : resource + " resource utilization (percentage of request)";
  value_status.average_utilization = calc->utilization;
  value_status.average_value = build_quantity(calc->usage);
  result.usage_milli = calc->usage;
  result.utilization_percent = calc->utilization;
  result.usage_ratio = calc->ratio;
  result.adjusted_ratio = calc->adjusted_ratio;
  result.ready_pods = calc->groups.ready;
  result.unready_pods = int(calc->groups.unready.size());
  result.missing_pods = int(calc->groups.missing.size());
  result.ignored_pods = int(calc->groups.ignored.size());
  result.notes = calc->notes;
  return out;
}

MetricOutcome Pass::compute_metric(const MetricSpec& spec, const kube::Scale& scale,
                                   const kube::Selector& selector, MetricStatus& status,
                                   MetricResult& result) {
  const std::string& ns = hpa_.metadata.namespace_;
  const std::int32_t spec_replicas = scale.spec_replicas;
  const std::int32_t status_replicas = scale.status_replicas;
  Tolerances tol = tolerances();
  MetricOutcome out;
  result.type = spec.type;
  auto fail = [&](const std::string& reason, const std::string& condition_error,
                  const std::string& wrapped_error) {
    out.failure = unable_to_compute(reason, condition_error);
    out.error = wrapped_error;
    return out;
  };

  if (spec.type == "Object") {
    if (!spec.object) {
      std::string e = "invalid object metric source: the object field is not set";
      return fail("FailedGetObjectMetric", e, "failed to get object metric value: " + e);
    }
    const auto& source = *spec.object;
    result.name = source.metric.name;
    auto metric_selector = kube::to_selector(source.metric.selector);
    if (!metric_selector) {
      return fail("FailedGetObjectMetric", metric_selector.error().message,
                  "failed to get object metric value: " + metric_selector.error().message);
    }
    // Fetch the object's value: exactly one answer is expected.
    auto fetch = [&]() -> core::Result<std::int64_t> {
      auto values = provider_.object_metric(ns, source.metric.name, source.described_object,
                                            *metric_selector);
      std::string where =
          " on " + source.described_object.kind + " " + ns + "/" + source.described_object.name;
      if (!values) {
        return core::invalid_argument(
            "unable to get metric " + source.metric.name +
            ": unable to fetch metrics from custom metrics API: " + values.error().message + where);
      }
      if (values->size() != 1) {
        return core::invalid_argument(
            "unable to get metric " + source.metric.name +
            ": unable to fetch metrics from custom metrics API: the custom metrics API server "
            "returned " +
            std::to_string(values->size()) + " results when we asked for exactly one" + where);
      }
      return (*values)[0].value.milli_value();
    };
    MetricStatus::Object object_status{source.metric, {}, source.described_object};
    if (source.target.type == "Value" && source.target.value) {
      std::int64_t target = source.target.value->milli_value();
      result.target_milli = target;
      auto usage = fetch();
      if (!usage) {
        return fail("FailedGetObjectMetric", usage.error().message,
                    "failed to get object metric value: " + usage.error().message);
      }
      auto calc = value_replicas(spec_replicas, *usage, target, tol, pods_);
      if (!calc) {
        return fail("FailedGetObjectMetric", calc.error().message,
                    "failed to get object metric value: " + calc.error().message);
      }
      object_status.current.value = Quantity::from_milli(*usage);
      status.type = "Object";
      status.object = object_status;
      out.replicas = calc->replicas;
      out.description = source.described_object.kind + " metric " + source.metric.name;
      result.usage_milli = *usage;
      result.usage_ratio = calc->ratio;
      result.ready_pods =
          spec_replicas == 0 ? std::nullopt : std::optional<int>(calc->groups.ready);
      result.notes = calc->notes;
      return out;
    }
    if (source.target.type == "AverageValue" && source.target.average_value) {
      std::int64_t target = source.target.average_value->milli_value();
      result.target_milli = target;
      result.per_pod = true;
      auto usage = fetch();
      if (!usage) {
        return fail("FailedGetObjectMetric", usage.error().message,
                    "failed to get object metric value: failed to get " + source.metric.name +
                        " object metric: " + usage.error().message);
      }
      Calculation calc = per_pod_replicas(status_replicas, *usage, target, tol);
      object_status.current.average_value = Quantity::from_milli(calc.usage);
      status.type = "Object";
      status.object = object_status;
      out.replicas = calc.replicas;
      out.description = "external metric " + source.metric.name + "(" +
                        selector_debug(source.metric.selector) + ")";
      result.usage_milli = calc.usage;
      result.usage_ratio = calc.ratio;
      result.notes = calc.notes;
      return out;
    }
    std::string e =
        "invalid object metric source: neither a value target nor an average value "
        "target was set";
    return fail("FailedGetObjectMetric", e, "failed to get object metric value: " + e);
  }

  if (spec.type == "Pods") {
    if (!spec.pods || !spec.pods->target.average_value) {
      std::string e = "invalid pods metric source: no average value target was set";
      return fail("FailedGetPodsMetric", e, "failed to get pods metric value: " + e);
    }
    const auto& source = *spec.pods;
    result.name = source.metric.name;
    result.per_pod = true;
    auto metric_selector = kube::to_selector(source.metric.selector);
    if (!metric_selector) {
      return fail("FailedGetPodsMetric", metric_selector.error().message,
                  "failed to get pods metric value: " + metric_selector.error().message);
    }
    std::int64_t target = source.target.average_value->milli_value();
    result.target_milli = target;
    auto values = provider_.pods_metric(ns, source.metric.name, selector, *metric_selector);
    core::Result<PodMetricsInfo> metrics = PodMetricsInfo{};
    if (!values) {
      metrics = core::invalid_argument("unable to fetch metrics from custom metrics API: " +
                                       values.error().message);
    } else if (values->empty()) {
      metrics = core::invalid_argument("no metrics returned from custom metrics API");
    } else {
      for (const auto& v : *values) {
        // Kubernetes: samples without a window count as one-minute windows.
        core::Duration window = v.window_seconds ? std::chrono::seconds(*v.window_seconds)
                                                 : core::Duration(std::chrono::minutes(1));
        (*metrics)[v.described_object.name] = PodMetric{v.value.milli_value(), v.timestamp, window};
      }
    }
    if (!metrics) {
      std::string e = "unable to get metric " + source.metric.name + ": " + metrics.error().message;
      return fail("FailedGetPodsMetric", e, "failed to get pods metric value: " + e);
    }
    PodGroupingConfig grouping{in_.now, in_.config.cpu_initialization_period,
                               in_.config.initial_readiness_delay};
    auto calc = plain_metric_replicas(spec_replicas, target, "", tol, pods_, *metrics, grouping);
    if (!calc) {
      return fail("FailedGetPodsMetric", calc.error().message,
                  "failed to get pods metric value: " + calc.error().message);
    }
    status.type = "Pods";
    status.pods = MetricStatus::Pods{source.metric, {}};
    status.pods->current.average_value = Quantity::from_milli(calc->usage);
    out.replicas = calc->replicas;
    out.description = "pods metric " + source.metric.name;
    result.usage_milli = calc->usage;
    result.usage_ratio = calc->ratio;
    result.adjusted_ratio = calc->adjusted_ratio;
    result.ready_pods = calc->groups.ready;
    result.unready_pods = int(calc->groups.unready.size());
    result.missing_pods = int(calc->groups.missing.size());
    result.ignored_pods = int(calc->groups.ignored.size());
    result.notes = calc->notes;
    return out;
  }

  if (spec.type == "Resource") {
    if (!spec.resource) {
      std::string e = "invalid resource metric source: the resource field is not set";
      return fail("FailedGetResourceMetric", e, "failed to get  resource metric value: " + e);
    }
    const auto& source = *spec.resource;
    result.name = source.name;
    kube::MetricValueStatus value_status;
    MetricOutcome r = resource_metric(source.target, source.name, "", false, spec_replicas,
                                      selector, value_status, result);
    if (r.failure) {
      r.error = "failed to get " + source.name + " resource metric value: " + r.error;
      return r;
    }
    status.type = "Resource";
    status.resource = MetricStatus::Resource{source.name, value_status};
    return r;
  }

  if (spec.type == "ContainerResource") {
    if (!spec.container_resource) {
      std::string e =
          "invalid container resource metric source: the containerResource field is not set";
      return fail("FailedGetContainerResourceMetric", e,
                  "failed to get  container metric value: " + e);
    }
    const auto& source = *spec.container_resource;
    result.name = source.name;
    kube::MetricValueStatus value_status;
    MetricOutcome r = resource_metric(source.target, source.name, source.container, true,
                                      spec_replicas, selector, value_status, result);
    if (r.failure) {
      r.error = "failed to get " + source.container + " container metric value: " + r.error;
      return r;
    }
    status.type = "ContainerResource";
    status.container_resource =
        MetricStatus::ContainerResource{source.name, value_status, source.container};
    return r;
  }

  if (spec.type == "External") {
    if (!spec.external) {
      std::string e = "invalid external metric source: the external field is not set";
      return fail("FailedGetExternalMetric", e, "failed to get  external metric value: " + e);
    }
    const auto& source = *spec.external;
    const std::string& name = source.metric.name;
    result.name = name;
    std::string outer = "failed to get " + name + " external metric value: ";
    auto fetch = [&]() -> core::Result<std::int64_t> {
      auto metric_selector = kube::to_selector(source.metric.selector);
      if (!metric_selector) return tl::unexpected(metric_selector.error());
      auto values = provider_.external_metric(ns, name, *metric_selector);
      std::string context = "unable to get external metric " + ns + "/" + name + "/" +
                            selector_debug(source.metric.selector) + ": ";
      if (!values) {
        return core::invalid_argument(
            context +
            "unable to fetch metrics from external metrics API: " + values.error().message);
      }
      if (values->empty()) {
        return core::invalid_argument(context + "no metrics returned from external metrics API");
      }
      std::vector<std::int64_t> milli;
      for (const auto& v : *values) milli.push_back(v.value.milli_value());
      return sum_external(milli);
    };
    std::string description =
        "external metric " + name + "(" + selector_debug(source.metric.selector) + ")";
    MetricStatus::External external_status{source.metric, {}};
    if (source.target.average_value) {
      std::int64_t target = source.target.average_value->milli_value();
      result.target_milli = target;
      result.per_pod = true;
      auto usage = fetch();
      if (!usage) {
        return fail("FailedGetExternalMetric", usage.error().message,
                    outer + "failed to get " + name + " external metric: " + usage.error().message);
      }
      Calculation calc = per_pod_replicas(status_replicas, *usage, target, tol);
      external_status.current.average_value = Quantity::from_milli(calc.usage);
      status.type = "External";
      status.external = external_status;
      out.replicas = calc.replicas;
      out.description = description;
      result.usage_milli = calc.usage;
      result.usage_ratio = calc.ratio;
      result.notes = calc.notes;
      return out;
    }
    if (source.target.value) {
      std::int64_t target = source.target.value->milli_value();
      result.target_milli = target;
      auto usage = fetch();
      core::Result<Calculation> calc =
          usage ? value_replicas(spec_replicas, *usage, target, tol, pods_)
                : core::Result<Calculation>(tl::unexpected(usage.error()));
      if (!calc) {
        return fail("FailedGetExternalMetric", calc.error().message,
                    outer + "failed to get external metric " + name + ": " + calc.error().message);
      }
      external_status.current.value = Quantity::from_milli(*usage);
      status.type = "External";
      status.external = external_status;
      out.replicas = calc->replicas;
      out.description = description;
      result.usage_milli = *usage;
      result.usage_ratio = calc->ratio;
      result.ready_pods =
          spec_replicas == 0 ? std::nullopt : std::optional<int>(calc->groups.ready);
      result.notes = calc->notes;
      return out;
    }
    std::string e =
        "invalid external metric source: neither a value target nor an average "
        "value target was set";
    return fail("FailedGetExternalMetric", e, outer + e);
  }

  std::string e = "unknown metric source type " + core::go_quote(spec.type);
  return fail("InvalidMetricSourceType", e, e);
}

std::int32_t Pass::compute_metrics(const kube::Scale& scale, std::string& metric_name,
                                   std::vector<MetricStatus>& statuses, std::string& error,
                                   const kube::Selector& selector) {
  const auto& specs = hpa_.spec.metrics;
  statuses.assign(specs.size(), MetricStatus{});
  decision_.metrics.assign(specs.size(), MetricResult{});
  int invalid = 0;
  std::optional<HorizontalPodAutoscalerCondition> first_failure;
  std::string first_error;
  std::int32_t replicas = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    MetricResult& result = decision_.metrics[i];
    MetricOutcome outcome = compute_metric(specs[i], scale, selector, statuses[i], result);
    if (outcome.failure) {
      if (invalid == 0) {
        first_failure = outcome.failure;
        first_error = outcome.error;
      }
      ++invalid;
      result.error = outcome.failure->message.substr(
          std::string("the HPA was unable to compute the replica count: ").size());
      result.reason = outcome.failure->reason;
      explain("metric " + std::to_string(i) + " (" + specs[i].type +
              "): invalid: " + *result.error);
      continue;
    }
    result.description = outcome.description;
    result.proposed_replicas = outcome.replicas;
    explain("metric " + std::to_string(i) + " (" + outcome.description + ") proposes " +
            std::to_string(outcome.replicas) + " replicas");
    if (replicas == 0 || outcome.replicas > replicas) {
      replicas = outcome.replicas;
      metric_name = outcome.description;
    }
  }
  if (invalid > 0) {
    error = "invalid metrics (" + std::to_string(invalid) + " invalid out of " +
            std::to_string(specs.size()) + "), first error is: " + first_error;
  }
  // Kubernetes: invalid metrics block scale-down, never scale-up or holding steady.
  if (invalid >= int(specs.size()) || (invalid > 0 && replicas < scale.spec_replicas)) {
    set_condition(
        first_failure ? first_failure->type : "", first_failure ? first_failure->status : "",
        first_failure ? first_failure->reason : "", first_failure ? first_failure->message : "");
    if (invalid < int(specs.size())) {
      explain("an invalid metric blocks the scale-down to " + std::to_string(replicas));
    }
    return -1;
  }
  set_condition("ScalingActive", "True", "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from " + metric_name);
  return replicas;
}

// ---- normalization ------------------------------------------------------------------------

std::int32_t Pass::normalize_legacy(std::int32_t current, std::int32_t prenormalized,
                                    std::int32_t min_replicas) {
  // Downscale stabilization: the max over recommendations not older than the window (a record
  // exactly at the cutoff counts); the newest replaces the last stale slot.
  core::Time cutoff = in_.now - in_.config.downscale_stabilization_window;
  auto& recommendations = decision_.history.recommendations;
  std::int32_t stabilized = prenormalized;
  std::optional<std::size_t> old_index;
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    if (recommendations[i].timestamp < cutoff) {
      old_index = i;
    } else if (recommendations[i].replicas > stabilized) {
      stabilized = recommendations[i].replicas;
    }
  }
  TimestampedRecommendation record{prenormalized, in_.now};
  if (old_index) {
    recommendations[*old_index] = record;
  } else {
    recommendations.push_back(record);
  }
  decision_.stabilized_replicas = stabilized;
  if (stabilized != prenormalized) {
    set_condition("AbleToScale", "True", "ScaleDownStabilized",
                  "recent recommendations were higher than current one, applying the highest "
                  "recent recommendation");
    explain("downscale stabilization (" +
            core::format_go_duration(in_.config.downscale_stabilization_window) +
            " window): highest recent recommendation is " + std::to_string(stabilized));
  } else {
    set_condition("AbleToScale", "True", "ReadyForNewScale",
                  "recommended size matches current size");
  }

  std::int32_t scale_up_limit = static_cast<std::int32_t>(std::max(
      in_.config.scale_up_limit_factor * double(current), in_.config.scale_up_limit_minimum));
  std::int32_t maximum;
  std::string reason, message;
  if (hpa_.spec.max_replicas > scale_up_limit) {
    maximum = scale_up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  } else {
    maximum = hpa_.spec.max_replicas;
    reason = "TooManyReplicas";
    message = "the desired replica count is more than the maximum replica count";
  }
  std::int32_t desired = stabilized;
  if (stabilized < min_replicas) {
    desired = min_replicas;
    reason = "TooFewReplicas";
    message = "the desired replica count is less than the minimum replica count";
  } else if (stabilized > maximum) {
    desired = maximum;
  } else {
    reason = "DesiredWithinRange";
    message = "the desired count is within the acceptable range";
  }
  decision_.limit_reason = reason;
  set_condition("ScalingLimited", desired == stabilized ? "False" : "True", reason, message);
  if (desired != stabilized) explain("limited to " + std::to_string(desired) + " (" + reason + ")");
  return desired;
}

namespace {

std::int32_t changes_in_period(std::int32_t period_seconds, const std::vector<ScaleEvent>& events,
                               core::Time now) {
  core::Time cutoff = now - std::chrono::seconds(period_seconds);
  std::int32_t total = 0;
  for (const auto& e : events) {
    if (e.timestamp > cutoff) total += e.replica_change;
  }
  return total;
}

std::int32_t scale_up_limit(std::int32_t current, const History& h,
                            const kube::HPAScalingRules& rules, core::Time now) {
  const std::string policy = rules.select_policy.value_or("Max");
  if (policy == "Disabled") return current;
  bool min_change = policy == "Min";
  std::int32_t result = min_change ? kMaxInt32 : kMinInt32;
  for (const auto& p : rules.policies.value_or(std::vector<kube::HPAScalingPolicy>{})) {
    std::int32_t start = current - changes_in_period(p.period_seconds, h.scale_up_events, now) +
                         changes_in_period(p.period_seconds, h.scale_down_events, now);
    std::int32_t proposed = 0;
    if (p.type == "Pods") {
      proposed = start + p.value;
    } else if (p.type == "Percent") {
      // Rounded up: a small percentage must still allow adding a pod.
      proposed = static_cast<std::int32_t>(std::ceil(double(start) * (1 + double(p.value) / 100)));
    }
    result = min_change ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

std::int32_t scale_down_limit(std::int32_t current, const History& h,
                              const kube::HPAScalingRules& rules, core::Time now) {
  const std::string policy = rules.select_policy.value_or("Max");
  if (policy == "Disabled") return current;
  bool min_change = policy == "Min";
  std::int32_t result = min_change ? kMinInt32 : kMaxInt32;
  for (const auto& p : rules.policies.value_or(std::vector<kube::HPAScalingPolicy>{})) {
    std::int32_t start = current - changes_in_period(p.period_seconds, h.scale_up_events, now) +
                         changes_in_period(p.period_seconds, h.scale_down_events, now);
    std::int32_t proposed = 0;
    if (p.type == "Pods") {
      proposed = start - p.value;
    } else if (p.type == "Percent") {
      proposed = static_cast<std::int32_t>(double(start) * (1 - double(p.value) / 100));
    }
    result = min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

}  // namespace

std::int32_t Pass::normalize_with_behavior(std::int32_t current, std::int32_t prenormalized,
                                           std::int32_t min_replicas) {
  auto& behavior = *hpa_.spec.behavior;
  if (!behavior.scale_down->stabilization_window_seconds) {
    behavior.scale_down->stabilization_window_seconds = static_cast<std::int32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(in_.config.downscale_stabilization_window)
            .count());
  }
  const auto& up = *behavior.scale_up;
  const auto& down = *behavior.scale_down;

  // Two-sided stabilization: records strictly after now - window count.
  core::Time up_cutoff = in_.now - std::chrono::seconds(*up.stabilization_window_seconds);
  core::Time down_cutoff = in_.now - std::chrono::seconds(*down.stabilization_window_seconds);
  std::int32_t up_floor = prenormalized, down_ceiling = prenormalized;
  auto& recommendations = decision_.history.recommendations;
  std::optional<std::size_t> old_index;
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    const auto& rec = recommendations[i];
    if (rec.timestamp > up_cutoff) up_floor = std::min(rec.replicas, up_floor);
    if (rec.timestamp > down_cutoff) down_ceiling = std::max(rec.replicas, down_ceiling);
    if (rec.timestamp < up_cutoff && rec.timestamp < down_cutoff) old_index = i;
  }
  std::int32_t stabilized = current;
  if (stabilized < up_floor) stabilized = up_floor;
  if (stabilized > down_ceiling) stabilized = down_ceiling;
  TimestampedRecommendation record{prenormalized, in_.now};
  if (old_index) {
    recommendations[*old_index] = record;
  } else {
    recommendations.push_back(record);
  }
  decision_.stabilized_replicas = stabilized;
  if (stabilized != prenormalized) {
    if (prenormalized >= current) {
      set_condition("AbleToScale", "True", "ScaleUpStabilized",
                    "recent recommendations were lower than current one, applying the lowest "
                    "recent recommendation");
    } else {
      set_condition("AbleToScale", "True", "ScaleDownStabilized",
                    "recent recommendations were higher than current one, applying the highest "
                    "recent recommendation");
    }
    explain("stabilization (up " + std::to_string(*up.stabilization_window_seconds) + "s, down " +
            std::to_string(*down.stabilization_window_seconds) + "s): lowest recent " +
            std::to_string(up_floor) + ", highest recent " + std::to_string(down_ceiling) + " -> " +
            std::to_string(stabilized));
  } else {
    set_condition("AbleToScale", "True", "ReadyForNewScale",
                  "recommended size matches current size");
  }

  // Rate limits from the policies, never reversing the direction of travel.
  std::int32_t desired = stabilized;
  std::string reason = "DesiredWithinRange";
  std::string message = "the desired count is within the acceptable range";
  if (stabilized > current) {
    std::int32_t limit = std::max(scale_up_limit(current, decision_.history, up, in_.now), current);
    std::int32_t maximum;
    std::string r, m;
    if (hpa_.spec.max_replicas > limit) {
      maximum = limit;
      r = "ScaleUpLimit";
      m = "the desired replica count is increasing faster than the maximum scale rate";
    } else {
      maximum = hpa_.spec.max_replicas;
      r = "TooManyReplicas";
      m = "the desired replica count is more than the maximum replica count";
    }
    if (stabilized > maximum) {
      desired = maximum;
      reason = r;
      message = m;
    }
  } else if (stabilized < current) {
    std::int32_t limit =
        std::min(scale_down_limit(current, decision_.history, down, in_.now), current);
    std::int32_t minimum;
    std::string r, m;
    if (min_replicas < limit) {
      minimum = limit;
      r = "ScaleDownLimit";
      m = "the desired replica count is decreasing faster than the maximum scale rate";
    } else {
      minimum = min_replicas;
      r = "TooFewReplicas";
      m = "the desired replica count is less than the minimum replica count";
    }
    if (stabilized < minimum) {
      desired = minimum;
      reason = r;
      message = m;
    }
  }
  decision_.limit_reason = reason;
  set_condition("ScalingLimited", desired == stabilized ? "False" : "True", reason, message);
  if (desired != stabilized)
    explain("rate-limited to " + std::to_string(desired) + " (" + reason + ")");
  return desired;
}

void Pass::store_scale_event(std::int32_t previous, std::int32_t next) {
  if (!hpa_.spec.behavior) return;  // only read by the behavior path
  bool up = next > previous;
  const auto& rules = up ? *hpa_.spec.behavior->scale_up : *hpa_.spec.behavior->scale_down;
  std::int32_t longest = 0;
  for (const auto& p : rules.policies.value_or(std::vector<kube::HPAScalingPolicy>{})) {
    longest = std::max(longest, p.period_seconds);
  }
  auto& events = up ? decision_.history.scale_up_events : decision_.history.scale_down_events;
  core::Time cutoff = in_.now - std::chrono::seconds(longest);
  std::optional<std::size_t> old_index;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].timestamp < cutoff) events[i].outdated = true;
    if (events[i].outdated) old_index = i;
  }
  ScaleEvent event{up ? next - previous : previous - next, in_.now, false};
  if (old_index) {
    events[*old_index] = event;
  } else {
    events.push_back(event);
  }
}

// ---- the pass ------------------------------------------------------------------------------

Decision Pass::run() {
  decision_.current_replicas = hpa_.status.current_replicas;
  decision_.desired_replicas = hpa_.status.desired_replicas;

  // Resolve the target's scale.
  const auto& ref = hpa_.spec.scale_target_ref;
  std::optional<std::string> scale_error;
  std::string returned_error;
  if (!valid_group_version(ref.api_version)) {
    scale_error = "unexpected GroupVersion string: " + ref.api_version;
    returned_error = "invalid API version in scale target reference: " + *scale_error;
  } else if (!in_.scale) {
    scale_error = in_.scale.error().message;
    returned_error = "failed to query scale subresource for " + reference() + ": " + *scale_error;
  }
  if (scale_error) {
    event("Warning", "FailedGetScale", *scale_error);
    set_condition(
        "AbleToScale", "False", "FailedGetScale",
        "the HPA controller was unable to get the target's current scale: " + *scale_error);
    decision_.error = returned_error;
    explain("could not get the target's scale: " + *scale_error);
    return finish();
  }
  const kube::Scale& scale = *in_.scale;
  set_condition("AbleToScale", "True", "SucceededGetScale",
                "the HPA controller was able to get the target's current scale");
  const std::int32_t current = scale.spec_replicas;
  decision_.current_replicas = current;
  if (!decision_.history.recorded && decision_.history.recommendations.empty()) {
    // Kubernetes (recordInitialRecommendation): a first-seen HPA starts its history at the
    // current count, so it cannot scale down during the first stabilization window. Only a nil
    // entry is seeded; an empty one is left empty.
    decision_.history.recommendations.push_back({current, in_.now});
    explain("first pass for this HPA: history seeded with the current " + std::to_string(current) +
            " replicas");
  }
  decision_.history.recorded = true;
  const std::int32_t min_replicas = hpa_.spec.min_replicas.value_or(1);
  const std::int32_t max_replicas = hpa_.spec.max_replicas;

  std::int32_t desired = 0;
  std::string rescale_reason;
  bool rescale = true;
  std::vector<MetricStatus> metric_statuses;
  std::optional<std::string> returned;

  const bool zero_gate = in_.config.gates.hpa_scale_to_zero;
  bool has_object_or_external = false;
  for (const auto& m : hpa_.spec.metrics) {
    has_object_or_external |= m.type == "Object" || m.type == "External";
  }
  const bool scaled_to_zero = zero_gate && condition_is_true("ScaledToZero");
  const bool can_scale_from_zero = scaled_to_zero && has_object_or_external;

  bool compute = true;
  if (current == 0) {
    compute = (min_replicas != 0 && scaled_to_zero) || can_scale_from_zero;
    if (!compute) {
      desired = 0;
      rescale = false;
      set_condition("ScalingActive", "False", "ScalingDisabled",
                    "scaling is disabled since the replica count of the target is zero");
      if (!zero_gate) remove_condition("ScaledToZero");
      explain("the target is scaled to zero: autoscaling is disabled");
    }
  } else if (current > max_replicas) {
    rescale_reason = "Current number of replicas above Spec.MaxReplicas";
    desired = max_replicas;
    compute = false;
    explain("current " + std::to_string(current) + " is above maxReplicas " +
            std::to_string(max_replicas) + ": set to " + std::to_string(desired) +
            " at once, without metrics");
  } else if (current < min_replicas) {
    rescale_reason = "Current number of replicas below Spec.MinReplicas";
    desired = min_replicas;
    compute = false;
    explain("current " + std::to_string(current) + " is below minReplicas " +
            std::to_string(min_replicas) + ": set to " + std::to_string(desired) +
            " at once, without metrics");
  }

  if (compute) {
    std::string metric_name, metrics_error;
    std::int32_t proposal = -1;
    auto selector = validate_selector(scale.selector);
    if (!selector) {
      metrics_error = selector.error().message;
    } else {
      proposal = compute_metrics(scale, metric_name, metric_statuses, metrics_error, *selector);
    }
    if (proposal == -1) {
      // Keep the old desired count; report what could be read.
      set_status(current, hpa_.status.desired_replicas, metric_statuses, false);
      event("Warning", "FailedComputeMetricsReplicas", metrics_error);
      decision_.error =
          "failed to compute desired number of replicas based on listed metrics for " +
          reference() + ": " + metrics_error;
      decision_.desired_replicas = hpa_.status.desired_replicas;
      explain("no usable metric: replicas stay at " + std::to_string(current));
      return finish();
    }
    if (!metrics_error.empty()) returned = metrics_error;  // scale on, report at the end

    std::string rescale_metric;
    if (proposal > desired) {
      desired = proposal;
      rescale_metric = metric_name;
    }
    decision_.prenormalized_replicas = desired;
    if (desired > current) rescale_reason = rescale_metric + " above target";
    if (desired < current) rescale_reason = "All metrics below target";
    explain("highest proposal: " + std::to_string(desired) + " replicas (current " +
            std::to_string(current) + ")");
    if (!hpa_.spec.behavior) {
      desired = normalize_legacy(current, desired, min_replicas);
    } else {
      desired = normalize_with_behavior(current, desired, min_replicas);
    }
    // Scaling from zero with minReplicas raised: go at least to minReplicas.
    if (current == 0 && min_replicas != 0 && scaled_to_zero && desired < min_replicas) {
      desired = min_replicas;
      if (rescale_reason.empty())
        rescale_reason = "Current number of replicas below Spec.MinReplicas";
    }
    rescale = desired != current;
  }

  if (rescale) {
    auto written = writer_.set_replicas(desired);
    if (!written) {
      const std::string& e = written.error().message;
      event(
          "Warning", "FailedRescale",
          "New size: " + std::to_string(desired) + "; reason: " + rescale_reason + "; error: " + e);
      set_condition("AbleToScale", "False", "FailedUpdateScale",
                    "the HPA controller was unable to update the target scale: " + e);
      set_status(current, hpa_.status.desired_replicas, metric_statuses, false);
      decision_.error = "failed to rescale " + reference() + ": " + e;
      decision_.desired_replicas = hpa_.status.desired_replicas;
      decision_.rescale_reason = rescale_reason;
      explain("updating the scale to " + std::to_string(desired) + " failed: " + e);
      return finish();
    }
    set_condition(
        "AbleToScale", "True", "SucceededRescale",
        "the HPA controller was able to update the target scale to " + std::to_string(desired));
    event("Normal", "SuccessfulRescale",
          "New size: " + std::to_string(desired) + "; reason: " + rescale_reason);
    store_scale_event(current, desired);
    if (zero_gate) {
      if (current > 0 && desired == 0 && min_replicas == 0 && has_object_or_external) {
        set_condition("ScaledToZero", "True", "ScaledToZero",
                      "the HPA controller scaled the workload to zero");
      } else {
        set_condition("ScaledToZero", "False", "NotScaledToZero",
                      "the HPA controller did not scale the workload to zero");
      }
    } else {
      remove_condition("ScaledToZero");
    }
    explain("scale " + std::to_string(current) + " -> " + std::to_string(desired) + ": " +
            rescale_reason);
  } else {
    desired = current;
    explain("no change: " + std::to_string(current) + " replicas");
  }
  decision_.rescale = rescale;
  decision_.rescale_reason = rescale_reason;
  decision_.desired_replicas = desired;
  set_status(current, desired, metric_statuses, rescale);
  if (returned) decision_.error = returned;
  return finish();
}

}  // namespace

Decision reconcile(const ReconcileInput& input, MetricsProvider& metrics, ScaleWriter& writer) {
  Pass pass(input, metrics, writer);
  return pass.run();
}

}  // namespace llmscale::hpa
