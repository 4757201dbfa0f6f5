// Decoding `hpa reconcile` inputs and encoding decisions.
#include "hpa/reconcile_io.h"

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/strings.h"
#include "kube/hpa_manifest.h"
#include "kube/hpa_validation.h"
#include "kube/json_codec.h"

namespace llmscale::hpa {
namespace {

using core::Json;
using core::JsonReader;

// An answer is a list object, or {"error": "text"} for a failed fetch.
template <class T, class Decode>
std::optional<RecordedMetrics::Answer<T>> decode_answer(JsonReader& r, const std::string& path,
                                                        const Json& node, Decode decode) {
  if (node.is_object() && node.contains("error") && !node.contains("items")) {
    const Json& error = node["error"];
    if (!error.is_string()) {
      r.type_error(path + ".error", "a string", error);
      return std::nullopt;
    }
    return RecordedMetrics::Answer<T>(
        tl::unexpected(core::Error{core::ErrorCode::kUnavailable, error.get<std::string>()}));
  }
  auto items = decode(node, path);
  if (!items) {
    r.fail(items.error());
    return std::nullopt;
  }
  return RecordedMetrics::Answer<T>(std::move(*items));
}

template <class T, class Decode>
void decode_answer_map(JsonReader& r, const char* key,
                       std::map<std::string, RecordedMetrics::Answer<T>>& out, Decode decode) {
  const Json* node = r.get(key);
  if (node == nullptr || !r.ok()) return;
  if (!node->is_object())
    return r.type_error(r.child(key), "a map from metric name to a list", *node);
  for (auto it = node->begin(); it != node->end() && r.ok(); ++it) {
    auto answer = decode_answer<T>(r, r.child(key) + "[" + it.key() + "]", it.value(), decode);
    if (answer) out.emplace(it.key(), std::move(*answer));
  }
}

void decode_seconds(JsonReader& r, const char* key, core::Duration& out) {
  std::optional<double> seconds;
  r.read(key, seconds);
  if (!seconds) return;
  if (*seconds < 0) return r.fail(r.child(key), "must be greater than or equal to 0");
  out = core::from_seconds(*seconds);
}

void decode_controller(JsonReader& r, ControllerConfig& c) {
  r.read("tolerance", c.tolerance);
  if (c.tolerance < 0) r.fail(r.child("tolerance"), "must be greater than or equal to 0");
  decode_seconds(r, "downscaleStabilizationWindowSeconds", c.downscale_stabilization_window);
  decode_seconds(r, "cpuInitializationPeriodSeconds", c.cpu_initialization_period);
  decode_seconds(r, "initialReadinessDelaySeconds", c.initial_readiness_delay);
  r.read("scaleUpLimitFactor", c.scale_up_limit_factor);
  r.read("scaleUpLimitMinimum", c.scale_up_limit_minimum);
  if (const Json* gates = r.get("featureGates")) {
    if (!gates->is_object())
      return r.type_error(r.child("featureGates"), "a map of gate to bool", *gates);
    for (auto it = gates->begin(); it != gates->end(); ++it) {
      std::string path = r.child("featureGates") + "." + it.key();
      if (!it->is_boolean()) return r.type_error(path, "a boolean", *it);
      bool on = it->get<bool>();
      if (it.key() == "HPAConfigurableTolerance")
        c.gates.hpa_configurable_tolerance = on;
      else if (it.key() == "HPAScaleToZero")
        c.gates.hpa_scale_to_zero = on;
      else if (it.key() == "HPAGeneration")
        c.gates.hpa_generation = on;
      else if (it.key() == "PodLevelResources")
        c.gates.pod_level_resources = on;
      else {
        return r.fail(path,
                      "unknown feature gate (supported: HPAConfigurableTolerance, "
                      "HPAGeneration, HPAScaleToZero, PodLevelResources)");
      }
    }
  }
}

}  // namespace

void decode_history(JsonReader& r, History& h) {
  // Absent (or null) is upstream's nil entry, seeded on the next pass; [] is an empty entry.
  h.recorded = r.has("recommendations");
  r.read_list("recommendations", h.recommendations,
              [](JsonReader& s, TimestampedRecommendation& t) {
                s.read("replicas", t.replicas);
                if (!s.has("timestamp")) s.fail(s.child("timestamp"), "Required value");
                s.read("timestamp", t.timestamp);
              });
  auto events = [](JsonReader& s, ScaleEvent& e) {
    s.read("replicaChange", e.replica_change);
    if (!s.has("timestamp")) s.fail(s.child("timestamp"), "Required value");
    s.read("timestamp", e.timestamp);
    s.read("outdated", e.outdated);
  };
  r.read_list("scaleUpEvents", h.scale_up_events, events);
  r.read_list("scaleDownEvents", h.scale_down_events, events);
}

core::Result<ReconcileRequest> decode_reconcile_request(const Json& document) {
  if (!document.is_object()) {
    return core::invalid_argument("expected an object with now, hpa, scale, pods and metrics");
  }
  ReconcileRequest request;
  ReconcileInput& in = request.input;
  JsonReader r(document, "");
  if (!r.has("now")) r.fail("now", "Required value");
  r.read("now", in.now);
  r.read_object("controller", in.config, decode_controller);

  if (const Json* hpa = r.get("hpa"); hpa == nullptr) {
    if (r.ok()) r.fail("hpa", "Required value");
  } else if (r.ok()) {
    // The HPA the controller reads is one the API server admitted: the same size limit,
    // decoding, defaulting and validation as `hpa validate` (kube::load_hpa), with the cluster's
    // feature gates. Size first, so a huge name costs nothing further; validation once every
    // field of the input has decoded (below).
    if (auto size = kube::check_request_size(*hpa); !size) {
      return tl::unexpected(core::Error{size.error().code, "hpa: " + size.error().message});
    }
    auto decoded = kube::decode_hpa(*hpa, /*strict=*/true, "hpa");
    if (!decoded) return tl::unexpected(decoded.error());
    in.hpa = std::move(*decoded);
  }

  if (const Json* scale = r.get("scale"); scale == nullptr) {
    if (r.ok()) r.fail("scale", "Required value");
  } else if (r.ok()) {
    if (scale->is_object() && scale->contains("error")) {
      if (!(*scale)["error"].is_string()) {
        r.type_error("scale.error", "a string", (*scale)["error"]);
      } else {
        in.scale = tl::unexpected(
            core::Error{core::ErrorCode::kUnavailable, (*scale)["error"].get<std::string>()});
      }
    } else {
      auto decoded = kube::decode_scale(*scale, "scale");
      if (!decoded) return tl::unexpected(decoded.error());
      in.scale = *decoded;
    }
  }

  if (const Json* pods = r.get("pods"); pods != nullptr && r.ok()) {
    const Json* items = pods;
    std::string path = "pods";
    if (pods->is_object()) {
      if (!pods->contains("items") || !(*pods)["items"].is_array()) {
        r.type_error("pods", "a list of Pods or a PodList", *pods);
      } else {
        items = &(*pods)["items"];
        path = "pods.items";
      }
    } else if (!pods->is_array()) {
      r.type_error("pods", "a list of Pods or a PodList", *pods);
    }
    if (r.ok()) {
      for (std::size_t i = 0; i < items->size(); ++i) {
        auto pod = kube::decode_pod((*items)[i], path + "[" + std::to_string(i) + "]");
        if (!pod) return tl::unexpected(pod.error());
        in.pods.push_back(std::move(*pod));
      }
    }
  }

  if (const Json* metrics = r.get("metrics"); metrics != nullptr && r.ok()) {
    if (!metrics->is_object()) {
      r.type_error("metrics", "an object", *metrics);
    } else {
      JsonReader m(*metrics, "metrics");
      if (const Json* resource = m.get("resource")) {
        request.metrics.resource = decode_answer<kube::PodMetrics>(m, "metrics.resource", *resource,
                                                                   kube::decode_pod_metrics_list);
      }
      decode_answer_map<kube::MetricValue>(m, "pods", request.metrics.pods,
                                           kube::decode_metric_value_list);
      decode_answer_map<kube::MetricValue>(m, "object", request.metrics.object,
                                           kube::decode_metric_value_list);
      decode_answer_map<kube::ExternalMetricValue>(m, "external", request.metrics.external,
                                                   kube::decode_external_metric_value_list);
      if (auto status = m.finish(); !status) return tl::unexpected(status.error());
    }
  }

  r.read_object("history", in.history, decode_history);
  r.read_list("otherHPAs", in.other_hpas, [](JsonReader& s, OtherHpa& o) {
    s.read("name", o.name);
    s.read("selector", o.selector);
  });
  r.read("scaleUpdateError", request.scale_update_error);
  if (auto status = r.finish(); !status) return tl::unexpected(status.error());

  kube::HpaLoadOptions options;
  options.gates.hpa_configurable_tolerance = in.config.gates.hpa_configurable_tolerance;
  options.gates.hpa_scale_to_zero = in.config.gates.hpa_scale_to_zero;
  auto admitted = kube::admit_hpa(std::move(in.hpa), options);
  if (!admitted) {
    return tl::unexpected(core::Error{admitted.error().code, "hpa: " + admitted.error().message});
  }
  in.hpa = std::move(*admitted);
  return request;
}

// ---- the recorded answers ----------------------------------------------------------------

namespace {
// The answer recorded for `request`, or null.
template <class T>
const RecordedMetrics::Answer<T>* find_fetched(
    const std::map<std::string, RecordedMetrics::Answer<T>>& fetched,
    const MetricRequest& request) {
  if (fetched.empty()) return nullptr;
  auto it = fetched.find(request.key());
  return it == fetched.end() ? nullptr : &it->second;
}

tl::unexpected<core::Error> no_answer(const std::string& what) {
  return core::make_error(core::ErrorCode::kUnavailable,
                          "no answer recorded in the input (" + what + ")");
}
}  // namespace

void RecordedMetrics::record(const MetricRequest& request, Answer<kube::PodMetrics> answer) {
  fetched_resource_.insert_or_assign(request.key(), std::move(answer));
}
void RecordedMetrics::record(const MetricRequest& request, Answer<kube::MetricValue> answer) {
  fetched_custom_.insert_or_assign(request.key(), std::move(answer));
}
void RecordedMetrics::record(const MetricRequest& request,
                             Answer<kube::ExternalMetricValue> answer) {
  fetched_external_.insert_or_assign(request.key(), std::move(answer));
}

void RecordedMetrics::fetch(MetricsProvider& provider, const MetricRequest& r) {
  switch (r.api) {
    case MetricRequest::Api::kResource:
      record(r, provider.resource_metrics(r.namespace_name, r.pod_selector));
      break;
    case MetricRequest::Api::kPods:
      record(r,
             provider.pods_metric(r.namespace_name, r.metric, r.pod_selector, r.metric_selector));
      break;
    case MetricRequest::Api::kObject:
      record(r, provider.object_metric(r.namespace_name, r.metric, r.object, r.metric_selector));
      break;
    case MetricRequest::Api::kExternal:
      record(r, provider.external_metric(r.namespace_name, r.metric, r.metric_selector));
      break;
  }
}

core::Result<std::vector<kube::PodMetrics>> RecordedMetrics::resource_metrics(
    const std::string& ns, const kube::Selector& pod_selector) {
  if (const auto* fetched = find_fetched(
          fetched_resource_,
          MetricRequest::of(MetricRequest::Api::kResource, ns, "", pod_selector, {}, {}))) {
    return *fetched;
  }
  if (!resource) return no_answer("metrics.resource");
  return *resource;
}

core::Result<std::vector<kube::MetricValue>> RecordedMetrics::pods_metric(
    const std::string& ns, const std::string& metric, const kube::Selector& pod_selector,
    const kube::Selector& metric_selector) {
  if (const auto* fetched =
          find_fetched(fetched_custom_, MetricRequest::of(MetricRequest::Api::kPods, ns, metric,
                                                          pod_selector, metric_selector, {}))) {
    return *fetched;
  }
  auto it = pods.find(metric);
  if (it == pods.end()) return no_answer("metrics.pods[" + metric + "]");
  return it->second;
}

core::Result<std::vector<kube::MetricValue>> RecordedMetrics::object_metric(
    const std::string& ns, const std::string& metric,
    const kube::CrossVersionObjectReference& target, const kube::Selector& metric_selector) {
  if (const auto* fetched =
          find_fetched(fetched_custom_, MetricRequest::of(MetricRequest::Api::kObject, ns, metric,
                                                          {}, metric_selector, target))) {
    return *fetched;
  }
  auto it = object.find(metric);
  if (it == object.end()) return no_answer("metrics.object[" + metric + "]");
  if (!it->second || it->second->size() <= 1) return it->second;
  // Several objects recorded under one metric name: answer for the one asked about.
  std::vector<kube::MetricValue> matching;
  for (const auto& v : *it->second) {
    if (v.described_object.kind == target.kind && v.described_object.name == target.name) {
      matching.push_back(v);
    }
  }
  return matching;
}

core::Result<std::vector<kube::ExternalMetricValue>> RecordedMetrics::external_metric(
    const std::string& ns, const std::string& metric, const kube::Selector& metric_selector) {
  if (const auto* fetched = find_fetched(
          fetched_external_,
          MetricRequest::of(MetricRequest::Api::kExternal, ns, metric, {}, metric_selector, {}))) {
    return *fetched;
  }
  auto it = external.find(metric);
  if (it == external.end()) return no_answer("metrics.external[" + metric + "]");
  return it->second;
}

core::Status RecordedScaleWriter::set_replicas(std::int32_t) {
  if (error_) return core::make_error(core::ErrorCode::kUnavailable, *error_);
  return {};
}

// ---- output --------------------------------------------------------------------------------

Json encode_history(const History& h) {
  Json j = Json::object();
  Json recommendations = Json::array();
  for (const auto& r : h.recommendations) {
    recommendations.push_back(
        {{"replicas", r.replicas}, {"timestamp", core::format_rfc3339_nano(r.timestamp)}});
  }
  // null when the controller has no entry yet (a pass that stopped before reading the scale):
  // fed back, it is still a first pass. [] would not be.
  j["recommendations"] = h.recorded || !h.recommendations.empty() ? recommendations : Json(nullptr);
  auto events = [](const std::vector<ScaleEvent>& list) {
    Json out = Json::array();
    for (const auto& e : list) {
      out.push_back({{"replicaChange", e.replica_change},
                     {"timestamp", core::format_rfc3339_nano(e.timestamp)},
                     {"outdated", e.outdated}});
    }
    return out;
  };
  j["scaleUpEvents"] = events(h.scale_up_events);
  j["scaleDownEvents"] = events(h.scale_down_events);
  return j;
}

Json encode_decision(const Decision& d) {
  Json j = Json::object();
  j["desiredReplicas"] = d.desired_replicas;
  j["currentReplicas"] = d.current_replicas;
  j["rescale"] = d.rescale;
  if (!d.rescale_reason.empty()) j["rescaleReason"] = d.rescale_reason;
  Json metrics = Json::array();
  for (const auto& m : d.metrics) {
    Json entry = Json::object();
    entry["type"] = m.type;
    if (!m.name.empty()) entry["name"] = m.name;
    if (!m.description.empty()) entry["description"] = m.description;
    entry["proposedReplicas"] = m.proposed_replicas ? Json(*m.proposed_replicas) : Json(nullptr);
    Json current = Json::object();
    Json target = Json::object();
    const char* value_key = m.per_pod ? "averageValue" : "value";
    if (m.utilization_percent) current["averageUtilization"] = *m.utilization_percent;
    if (m.usage_milli) {
      current[m.utilization_percent ? "averageValue" : value_key] =
          kube::Quantity::from_milli(*m.usage_milli).to_string();
    }
    if (m.target_utilization) target["averageUtilization"] = *m.target_utilization;
    if (m.target_milli) target[value_key] = kube::Quantity::from_milli(*m.target_milli).to_string();
    if (!current.empty()) entry["current"] = current;
    if (!target.empty()) entry["target"] = target;
    if (m.usage_ratio) entry["usageRatio"] = *m.usage_ratio;
    if (m.adjusted_ratio) entry["adjustedUsageRatio"] = *m.adjusted_ratio;
    if (m.ready_pods) {
      Json pods = {{"ready", *m.ready_pods}};
      if (m.unready_pods) pods["unready"] = *m.unready_pods;
      if (m.missing_pods) pods["missing"] = *m.missing_pods;
      if (m.ignored_pods) pods["ignored"] = *m.ignored_pods;
      entry["pods"] = pods;
    }
    if (m.error) {
      entry["error"] = *m.error;
      entry["reason"] = *m.reason;
    }
    if (!m.notes.empty()) entry["notes"] = m.notes;
    metrics.push_back(entry);
  }
  j["metrics"] = metrics;
  j["prenormalizedReplicas"] =
      d.prenormalized_replicas ? Json(*d.prenormalized_replicas) : Json(nullptr);
  j["stabilizedReplicas"] = d.stabilized_replicas ? Json(*d.stabilized_replicas) : Json(nullptr);
  j["limitReason"] = d.limit_reason.empty() ? Json(nullptr) : Json(d.limit_reason);
  Json conditions = Json::array();
  for (const auto& c : d.status.conditions) {
    conditions.push_back(
        {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
  }
  j["conditions"] = conditions;
  j["status"] = kube::encode_hpa_status(d.status);
  j["statusChanged"] = d.status_changed;
  j["history"] = encode_history(d.history);
  Json events = Json::array();
  for (const auto& e : d.events) {
    events.push_back({{"type", e.type}, {"reason", e.reason}, {"message", e.message}});
  }
  j["events"] = events;
  j["error"] = d.error ? Json(*d.error) : Json(nullptr);
  j["explanation"] = d.explanation;
  return j;
}

}  // namespace llmscale::hpa
