// Wire-format decoding and encoding for the Kubernetes objects llmscale uses.
#include "kube/json_codec.h"

#include "core/duration.h"
#include "core/json_reader.h"
#include "core/strings.h"

#include <nlohmann/json.hpp>

namespace llmscale::kube {
namespace {

using core::Result;

template <class T>
Result<T> finish(JsonReader& reader, T value) {
  if (auto status = reader.finish(); !status) return tl::unexpected(status.error());
  return value;
}

// ---- decoders for autoscaling/v2 -----------------------------------------------------------

void decode_reference(JsonReader& r, CrossVersionObjectReference& out) {
  r.read("kind", out.kind);
  r.read("name", out.name);
  r.read("apiVersion", out.api_version);
}

void decode_requirement(JsonReader& r, LabelSelectorRequirement& out) {
  r.read("key", out.key);
  r.read("operator", out.op);
  r.read("values", out.values);
}

void decode_identifier(JsonReader& r, MetricIdentifier& out) {
  r.read("name", out.name);
  r.read_object("selector", out.selector, decode_label_selector);
}

void decode_target(JsonReader& r, MetricTarget& out) {
  r.read("type", out.type);
  read_quantity(r, "value", out.value);
  read_quantity(r, "averageValue", out.average_value);
  r.read("averageUtilization", out.average_utilization);
}

void decode_metric_spec(JsonReader& r, MetricSpec& out) {
  r.read("type", out.type);
  r.read_object("object", out.object, [](JsonReader& s, ObjectMetricSource& o) {
    s.read_object("describedObject", o.described_object, decode_reference);
    s.read_object("target", o.target, decode_target);
    s.read_object("metric", o.metric, decode_identifier);
  });
  r.read_object("pods", out.pods, [](JsonReader& s, PodsMetricSource& o) {
    s.read_object("metric", o.metric, decode_identifier);
    s.read_object("target", o.target, decode_target);
  });
  r.read_object("resource", out.resource, [](JsonReader& s, ResourceMetricSource& o) {
    s.read("name", o.name);
    s.read_object("target", o.target, decode_target);
  });
  r.read_object("containerResource", out.container_resource,
                [](JsonReader& s, ContainerResourceMetricSource& o) {
                  s.read("name", o.name);
                  s.read_object("target", o.target, decode_target);
                  s.read("container", o.container);
                });
  r.read_object("external", out.external, [](JsonReader& s, ExternalMetricSource& o) {
    s.read_object("metric", o.metric, decode_identifier);
    s.read_object("target", o.target, decode_target);
  });
}

void decode_policy(JsonReader& r, HPAScalingPolicy& out) {
  r.read("type", out.type);
  r.read("value", out.value);
  r.read("periodSeconds", out.period_seconds);
}

void decode_rules(JsonReader& r, HPAScalingRules& out) {
  r.read("stabilizationWindowSeconds", out.stabilization_window_seconds);
  r.read("selectPolicy", out.select_policy);
  r.read_list("policies", out.policies, decode_policy);
  read_quantity(r, "tolerance", out.tolerance);
}

void decode_behavior(JsonReader& r, HorizontalPodAutoscalerBehavior& out) {
  r.read_object("scaleUp", out.scale_up, decode_rules);
  r.read_object("scaleDown", out.scale_down, decode_rules);
}

void decode_spec(JsonReader& r, HorizontalPodAutoscalerSpec& out) {
  r.read_object("scaleTargetRef", out.scale_target_ref, decode_reference);
  r.read("minReplicas", out.min_replicas);
  r.read("maxReplicas", out.max_replicas);
  r.read_list("metrics", out.metrics, decode_metric_spec);
  r.read_object("behavior", out.behavior, decode_behavior);
}

void decode_value_status(JsonReader& r, MetricValueStatus& out) {
  read_quantity(r, "value", out.value);
  read_quantity(r, "averageValue", out.average_value);
  r.read("averageUtilization", out.average_utilization);
}

void decode_metric_status(JsonReader& r, MetricStatus& out) {
  r.read("type", out.type);
  r.read_object("object", out.object, [](JsonReader& s, MetricStatus::Object& o) {
    s.read_object("metric", o.metric, decode_identifier);
    s.read_object("current", o.current, decode_value_status);
    s.read_object("describedObject", o.described_object, decode_reference);
  });
  r.read_object("pods", out.pods, [](JsonReader& s, MetricStatus::Pods& o) {
    s.read_object("metric", o.metric, decode_identifier);
    s.read_object("current", o.current, decode_value_status);
  });
  r.read_object("resource", out.resource, [](JsonReader& s, MetricStatus::Resource& o) {
    s.read("name", o.name);
    s.read_object("current", o.current, decode_value_status);
  });
  r.read_object("containerResource", out.container_resource,
                [](JsonReader& s, MetricStatus::ContainerResource& o) {
                  s.read("name", o.name);
                  s.read_object("current", o.current, decode_value_status);
                  s.read("container", o.container);
                });
  r.read_object("external", out.external, [](JsonReader& s, MetricStatus::External& o) {
    s.read_object("metric", o.metric, decode_identifier);
    s.read_object("current", o.current, decode_value_status);
  });
}

void decode_condition(JsonReader& r, HorizontalPodAutoscalerCondition& out) {
  r.read("type", out.type);
  r.read("status", out.status);
  r.read("lastTransitionTime", out.last_transition_time);
  r.read("reason", out.reason);
  r.read("message", out.message);
}

}  // namespace

void decode_hpa_status(JsonReader& r, HorizontalPodAutoscalerStatus& out) {
  r.read("observedGeneration", out.observed_generation);
  r.read("lastScaleTime", out.last_scale_time);
  r.read("currentReplicas", out.current_replicas);
  r.read("desiredReplicas", out.desired_replicas);
  r.read_list("currentMetrics", out.current_metrics, decode_metric_status);
  r.read_list("conditions", out.conditions, decode_condition);
}

namespace {

// ---- core/v1 and metrics APIs ---------------------------------------------------------------

void decode_resource_list(JsonReader& r, const char* key, ResourceList& out) {
  const Json* node = r.get(key);
  if (node == nullptr) return;
  if (!node->is_object()) return r.type_error(r.child(key), "a map of quantities", *node);
  for (auto it = node->begin(); it != node->end(); ++it) {
    auto q = quantity_from_json(it.value());
    if (!q) return r.fail(r.child(key) + "." + it.key(), q.error().message);
    out[it.key()] = *q;
  }
}

void decode_container(JsonReader& r, Container& out) {
  r.read("name", out.name);
  r.read("restartPolicy", out.restart_policy);
  r.read_object("resources", out, [](JsonReader& s, Container& c) {
    decode_resource_list(s, "requests", c.requests);
  });
}

void decode_container_status(JsonReader& r, ContainerStatus& out) {
  r.read("name", out.name);
  r.read("ready", out.ready);
  r.read("restartCount", out.restart_count);
  r.read_object("state", out, [](JsonReader& s, ContainerStatus& c) {
    s.read_object("waiting", c, [](JsonReader& w, ContainerStatus& cc) {
      w.read("reason", cc.waiting_reason);
      w.read("message", cc.waiting_message);
    });
    s.read_object("terminated", c, [](JsonReader& t, ContainerStatus& cc) {
      t.read("reason", cc.terminated_reason);
    });
  });
  r.read_object("lastState", out, [](JsonReader& s, ContainerStatus& c) {
    s.read_object("terminated", c, [](JsonReader& t, ContainerStatus& cc) {
      t.read("finishedAt", cc.last_terminated_at);
      t.read("startedAt", cc.last_started_at);
      t.read("exitCode", cc.last_exit_code);
      t.read("signal", cc.last_signal);
      t.read("reason", cc.last_terminated_reason);
      t.read("message", cc.last_terminated_message);
    });
  });
}

void decode_pod_condition(JsonReader& r, PodCondition& out) {
  r.read("type", out.type);
  r.read("status", out.status);
  r.read("lastTransitionTime", out.last_transition_time);
}

}  // namespace

core::Result<Quantity> quantity_from_json(const Json& node) {
  if (node.is_string()) return Quantity::parse(node.get<std::string>());
  if (node.is_number_float()) return Quantity::parse(core::go_format_float(node.get<double>()));
  if (node.is_number_integer()) return Quantity::parse(node.dump());
  return core::invalid_argument("expected a quantity (string or number), got " +
                                core::describe_json(node));
}

void read_quantity(JsonReader& r, std::string_view key, Quantity& out) {
  const Json* node = r.get(key);
  if (node == nullptr) return;
  auto q = quantity_from_json(*node);
  if (!q) {
    std::string shown =
        node->is_string() ? core::go_quote(node->get<std::string>()) : core::to_compact_json(*node);
    return r.fail(r.child(key), "Invalid value: " + shown + ": " + q.error().message);
  }
  out = *q;
}

void read_quantity(JsonReader& r, std::string_view key, std::optional<Quantity>& out) {
  if (!r.has(key)) return;
  out.emplace();
  read_quantity(r, key, *out);
}

void decode_label_selector(JsonReader& r, LabelSelector& out) {
  r.read("matchLabels", out.match_labels);
  r.read_list("matchExpressions", out.match_expressions, decode_requirement);
}

void decode_object_meta(JsonReader& r, ObjectMeta& out) {
  r.read("name", out.name);
  r.read("generateName", out.generate_name);
  r.read("namespace", out.namespace_);
  r.read("uid", out.uid);
  r.read("resourceVersion", out.resource_version);
  r.read("generation", out.generation);
  r.read("creationTimestamp", out.creation_timestamp);
  r.read("deletionTimestamp", out.deletion_timestamp);
  r.read("labels", out.labels);
  r.read("annotations", out.annotations);
  // Metadata the controller never reads.
  r.ignore(
      {"selfLink", "deletionGracePeriodSeconds", "ownerReferences", "finalizers", "managedFields"});
}

Result<HorizontalPodAutoscaler> decode_hpa(const Json& node, bool strict, const std::string& path) {
  HorizontalPodAutoscaler hpa;
  if (!node.is_object()) {
    return core::invalid_argument((path.empty() ? "" : path + ": ") +
                                  "expected a HorizontalPodAutoscaler object, got " +
                                  core::describe_json(node));
  }
  JsonReader r(node, path, strict);
  r.read("apiVersion", hpa.api_version);
  r.read("kind", hpa.kind);
  r.read_object("metadata", hpa.metadata, decode_object_meta);
  r.read_object("spec", hpa.spec, decode_spec);
  r.read_object("status", hpa.status, decode_hpa_status);
  if (r.ok() && hpa.kind != "HorizontalPodAutoscaler") {
    r.fail(r.child("kind"),
           "expected \"HorizontalPodAutoscaler\", got " + core::go_quote(hpa.kind));
  }
  if (r.ok() && hpa.api_version != "autoscaling/v2") {
    r.fail(r.child("apiVersion"),
           "expected \"autoscaling/v2\", got " + core::go_quote(hpa.api_version));
  }
  return finish(r, std::move(hpa));
}

Result<Pod> decode_pod(const Json& node, const std::string& path) {
  Pod pod;
  JsonReader r(node, path, /*strict=*/false);
  if (!node.is_object()) r.type_error(path, "a Pod object", node);
  r.read_object("metadata", pod.metadata, decode_object_meta);
  r.read_object("spec", pod, [](JsonReader& s, Pod& p) {
    s.read_list("containers", p.containers, decode_container);
    s.read_list("initContainers", p.init_containers, decode_container);
    s.read_object("resources", p, [](JsonReader& rr, Pod& pp) {
      if (rr.has("requests")) {
        pp.pod_requests.emplace();
        decode_resource_list(rr, "requests", *pp.pod_requests);
      }
    });
  });
  r.read_object("status", pod, [](JsonReader& s, Pod& p) {
    s.read("phase", p.phase);
    s.read("startTime", p.start_time);
    s.read_list("conditions", p.conditions, decode_pod_condition);
    s.read("podIP", p.pod_ip);
    s.read_list("containerStatuses", p.container_statuses, decode_container_status);
  });
  return finish(r, std::move(pod));
}

Result<Scale> decode_scale(const Json& node, const std::string& path) {
  Scale scale;
  JsonReader r(node, path);
  if (!node.is_object()) r.type_error(path, "an object", node);
  r.read("specReplicas", scale.spec_replicas);
  r.read("statusReplicas", scale.status_replicas);
  r.read("selector", scale.selector);
  return finish(r, std::move(scale));
}

namespace {

// Items of a List object, or a bare array.
const Json* list_items(const Json& node, JsonReader& r) {
  if (node.is_array()) return &node;
  if (!node.is_object()) {
    r.type_error(r.path(), "a list object", node);
    return nullptr;
  }
  r.ignore({"kind", "apiVersion", "metadata"});
  const Json* items = r.get("items");
  if (items != nullptr && !items->is_array()) {
    r.type_error(r.child("items"), "a list", *items);
    return nullptr;
  }
  return items;
}

template <class T, class Decode>
Result<std::vector<T>> decode_items(const Json& node, const std::string& path, Decode decode) {
  JsonReader r(node, path, /*strict=*/false);
  std::vector<T> out;
  const Json* items = list_items(node, r);
  if (items != nullptr) {
    std::string items_path = node.is_array() ? path : r.child("items");
    for (std::size_t i = 0; i < items->size() && r.ok(); ++i) {
      JsonReader item((*items)[i], items_path + "[" + std::to_string(i) + "]", false);
      if (!(*items)[i].is_object()) {
        item.type_error(item.path(), "an object", (*items)[i]);
      } else {
        out.emplace_back();
        decode(item, out.back());
      }
      if (auto status = item.finish(); !status) return tl::unexpected(status.error());
    }
  }
  return finish(r, std::move(out));
}

}  // namespace

Result<std::vector<PodMetrics>> decode_pod_metrics_list(const Json& node, const std::string& path) {
  return decode_items<PodMetrics>(node, path, [](JsonReader& r, PodMetrics& m) {
    r.read_object("metadata", m.metadata, decode_object_meta);
    r.read("timestamp", m.timestamp);
    if (const Json* window = r.get("window")) {
      if (!window->is_string()) return r.type_error(r.child("window"), "a duration", *window);
      auto d = core::parse_go_duration(window->get<std::string>());
      if (!d) return r.fail(r.child("window"), d.error().message);
      m.window = *d;
    }
    r.read_list("containers", m.containers, [](JsonReader& c, PodMetrics::ContainerMetrics& cm) {
      c.read("name", cm.name);
      decode_resource_list(c, "usage", cm.usage);
    });
  });
}

Result<std::vector<MetricValue>> decode_metric_value_list(const Json& node,
                                                          const std::string& path) {
  return decode_items<MetricValue>(node, path, [](JsonReader& r, MetricValue& v) {
    r.read_object("describedObject", v.described_object,
                  [](JsonReader& d, MetricValue::DescribedObject& o) {
                    d.read("kind", o.kind);
                    d.read("namespace", o.namespace_);
                    d.read("name", o.name);
                    d.read("apiVersion", o.api_version);
                  });
    r.read("metricName", v.metric_name);                             // v1beta1
    r.read_object("metric", v, [](JsonReader& m, MetricValue& mv) {  // v1beta2
      m.read("name", mv.metric_name);
      m.read_object("selector", mv.metric_selector, decode_label_selector);
    });
    r.read_object("selector", v.metric_selector, decode_label_selector);
    r.read("timestamp", v.timestamp);
    r.read("windowSeconds", v.window_seconds);
    read_quantity(r, "value", v.value);
  });
}

Result<std::vector<ExternalMetricValue>> decode_external_metric_value_list(
    const Json& node, const std::string& path) {
  return decode_items<ExternalMetricValue>(node, path, [](JsonReader& r, ExternalMetricValue& v) {
    r.read("metricName", v.metric_name);
    r.read("metricLabels", v.metric_labels);
    r.read("timestamp", v.timestamp);
    r.read("window", v.window_seconds);
    read_quantity(r, "value", v.value);
  });
}

// ---- encoders -------------------------------------------------------------------------------

namespace {

Json time_json(const std::optional<core::Time>& t) {
  return t ? Json(core::format_rfc3339(*t)) : Json(nullptr);
}

Json encode_reference(const CrossVersionObjectReference& ref) {
  Json j = Json::object();
  j["kind"] = ref.kind;
  j["name"] = ref.name;
  if (!ref.api_version.empty()) j["apiVersion"] = ref.api_version;
  return j;
}

Json encode_identifier(const MetricIdentifier& id) {
  Json j = Json::object();
  j["name"] = id.name;
  if (id.selector) j["selector"] = encode_label_selector(*id.selector);
  return j;
}

Json encode_target(const MetricTarget& t) {
  Json j = Json::object();
  j["type"] = t.type;
  if (t.value) j["value"] = t.value->to_string();
  if (t.average_value) j["averageValue"] = t.average_value->to_string();
  if (t.average_utilization) j["averageUtilization"] = *t.average_utilization;
  return j;
}

Json encode_value_status(const MetricValueStatus& v) {
  Json j = Json::object();
  if (v.value) j["value"] = v.value->to_string();
  if (v.average_value) j["averageValue"] = v.average_value->to_string();
  if (v.average_utilization) j["averageUtilization"] = *v.average_utilization;
  return j;
}

Json encode_metric_spec(const MetricSpec& m) {
  Json j = Json::object();
  j["type"] = m.type;
  if (m.object) {
    j["object"] = {{"describedObject", encode_reference(m.object->described_object)},
                   {"target", encode_target(m.object->target)},
                   {"metric", encode_identifier(m.object->metric)}};
  }
  if (m.pods) {
    j["pods"] = {{"metric", encode_identifier(m.pods->metric)},
                 {"target", encode_target(m.pods->target)}};
  }
  if (m.resource) {
    j["resource"] = {{"name", m.resource->name}, {"target", encode_target(m.resource->target)}};
  }
  if (m.container_resource) {
    j["containerResource"] = {{"name", m.container_resource->name},
                              {"target", encode_target(m.container_resource->target)},
                              {"container", m.container_resource->container}};
  }
  if (m.external) {
    j["external"] = {{"metric", encode_identifier(m.external->metric)},
                     {"target", encode_target(m.external->target)}};
  }
  return j;
}

Json encode_rules(const HPAScalingRules& r) {
  Json j = Json::object();
  if (r.stabilization_window_seconds)
    j["stabilizationWindowSeconds"] = *r.stabilization_window_seconds;
  if (r.select_policy) j["selectPolicy"] = *r.select_policy;
  if (r.policies && !r.policies->empty()) {
    Json list = Json::array();
    for (const auto& p : *r.policies) {
      list.push_back({{"type", p.type}, {"value", p.value}, {"periodSeconds", p.period_seconds}});
    }
    j["policies"] = list;
  }
  if (r.tolerance) j["tolerance"] = r.tolerance->to_string();
  return j;
}

}  // namespace

Json encode_label_selector(const LabelSelector& selector) {
  Json j = Json::object();
  if (!selector.match_labels.empty()) {
    Json labels = Json::object();
    for (const auto& [k, v] : selector.match_labels) labels[k] = v;
    j["matchLabels"] = labels;
  }
  if (!selector.match_expressions.empty()) {
    Json list = Json::array();
    for (const auto& e : selector.match_expressions) {
      Json item = {{"key", e.key}, {"operator", e.op}};
      if (!e.values.empty()) item["values"] = e.values;
      list.push_back(item);
    }
    j["matchExpressions"] = list;
  }
  return j;
}

Json encode_object_meta(const ObjectMeta& meta) {
  Json j = Json::object();
  if (!meta.name.empty()) j["name"] = meta.name;
  if (!meta.generate_name.empty()) j["generateName"] = meta.generate_name;
  if (!meta.namespace_.empty()) j["namespace"] = meta.namespace_;
  if (!meta.uid.empty()) j["uid"] = meta.uid;
  if (!meta.resource_version.empty()) j["resourceVersion"] = meta.resource_version;
  if (meta.generation != 0) j["generation"] = meta.generation;
  j["creationTimestamp"] = time_json(meta.creation_timestamp);
  if (meta.deletion_timestamp) j["deletionTimestamp"] = time_json(meta.deletion_timestamp);
  if (!meta.labels.empty()) j["labels"] = meta.labels;
  if (!meta.annotations.empty()) j["annotations"] = meta.annotations;
  return j;
}

Json encode_hpa_spec(const HorizontalPodAutoscalerSpec& spec) {
  Json j = Json::object();
  j["scaleTargetRef"] = encode_reference(spec.scale_target_ref);
  if (spec.min_replicas) j["minReplicas"] = *spec.min_replicas;
  j["maxReplicas"] = spec.max_replicas;
  if (!spec.metrics.empty()) {
    Json list = Json::array();
    for (const auto& m : spec.metrics) list.push_back(encode_metric_spec(m));
    j["metrics"] = list;
  }
  if (spec.behavior) {
    Json b = Json::object();
    if (spec.behavior->scale_up) b["scaleUp"] = encode_rules(*spec.behavior->scale_up);
    if (spec.behavior->scale_down) b["scaleDown"] = encode_rules(*spec.behavior->scale_down);
    j["behavior"] = b;
  }
  return j;
}

Json encode_metric_status(const MetricStatus& m) {
  Json j = Json::object();
  j["type"] = m.type;
  if (m.object) {
    j["object"] = {{"metric", encode_identifier(m.object->metric)},
                   {"current", encode_value_status(m.object->current)},
                   {"describedObject", encode_reference(m.object->described_object)}};
  }
  if (m.pods) {
    j["pods"] = {{"metric", encode_identifier(m.pods->metric)},
                 {"current", encode_value_status(m.pods->current)}};
  }
  if (m.resource) {
    j["resource"] = {{"name", m.resource->name},
                     {"current", encode_value_status(m.resource->current)}};
  }
  if (m.container_resource) {
    j["containerResource"] = {{"name", m.container_resource->name},
                              {"current", encode_value_status(m.container_resource->current)},
                              {"container", m.container_resource->container}};
  }
  if (m.external) {
    j["external"] = {{"metric", encode_identifier(m.external->metric)},
                     {"current", encode_value_status(m.external->current)}};
  }
  return j;
}

Json encode_condition(const HorizontalPodAutoscalerCondition& c) {
  Json j = Json::object();
  j["type"] = c.type;
  j["status"] = c.status;
  if (c.last_transition_time) j["lastTransitionTime"] = time_json(c.last_transition_time);
  if (!c.reason.empty()) j["reason"] = c.reason;
  if (!c.message.empty()) j["message"] = c.message;
  return j;
}

Json encode_hpa_status(const HorizontalPodAutoscalerStatus& status) {
  Json j = Json::object();
  if (status.observed_generation) j["observedGeneration"] = *status.observed_generation;
  if (status.last_scale_time) j["lastScaleTime"] = time_json(status.last_scale_time);
  if (status.current_replicas != 0) j["currentReplicas"] = status.current_replicas;
  j["desiredReplicas"] = status.desired_replicas;
  if (status.current_metrics.empty()) {
    j["currentMetrics"] = nullptr;  // no omitempty upstream
  } else {
    Json list = Json::array();
    for (const auto& m : status.current_metrics) list.push_back(encode_metric_status(m));
    j["currentMetrics"] = list;
  }
  if (!status.conditions.empty()) {
    Json list = Json::array();
    for (const auto& c : status.conditions) list.push_back(encode_condition(c));
    j["conditions"] = list;
  }
  return j;
}

Json encode_pod(const Pod& pod) {
  Json j = Json::object();
  j["kind"] = "Pod";
  j["apiVersion"] = "v1";
  j["metadata"] = encode_object_meta(pod.metadata);
  Json containers = Json::array();
  for (const Container& c : pod.containers) {
    Json container = Json::object();
    container["name"] = c.name;
    if (!c.requests.empty()) {
      Json requests = Json::object();
      for (const auto& [name, q] : c.requests) requests[name] = q.to_string();
      container["resources"]["requests"] = std::move(requests);
    }
    containers.push_back(std::move(container));
  }
  j["spec"]["containers"] = std::move(containers);
  Json status = Json::object();
  if (!pod.phase.empty()) status["phase"] = pod.phase;
  if (!pod.conditions.empty()) {
    Json conditions = Json::array();
    for (const PodCondition& c : pod.conditions) {
      Json condition = Json::object();
      condition["type"] = c.type;
      condition["status"] = c.status;
      condition["lastTransitionTime"] =
          c.last_transition_time ? Json(core::format_rfc3339(*c.last_transition_time)) : Json();
      conditions.push_back(std::move(condition));
    }
    status["conditions"] = std::move(conditions);
  }
  if (!pod.pod_ip.empty()) {
    status["podIP"] = pod.pod_ip;
    status["podIPs"] = Json::array({Json{{"ip", pod.pod_ip}}});
  }
  if (pod.start_time) status["startTime"] = core::format_rfc3339(*pod.start_time);
  if (!pod.container_statuses.empty()) {
    Json statuses = Json::array();
    for (const ContainerStatus& c : pod.container_statuses) {
      Json cs = Json::object();
      cs["name"] = c.name;
      Json state = Json::object();
      if (!c.waiting_reason.empty()) {
        state["waiting"]["reason"] = c.waiting_reason;
        if (!c.waiting_message.empty()) state["waiting"]["message"] = c.waiting_message;
      } else if (!c.terminated_reason.empty()) {
        state["terminated"]["reason"] = c.terminated_reason;
      } else if (pod.phase == "Running") {
        state["running"] = Json::object();
      }
      cs["state"] = std::move(state);
      cs["lastState"] = Json::object();
      if (c.last_terminated_at) {
        // Kubernetes: ContainerStateTerminated (exitCode is always set, as the kubelet does).
        Json terminated = Json::object();
        terminated["exitCode"] = c.last_exit_code;
        if (c.last_signal != 0) terminated["signal"] = c.last_signal;
        if (!c.last_terminated_reason.empty()) terminated["reason"] = c.last_terminated_reason;
        if (!c.last_terminated_message.empty()) terminated["message"] = c.last_terminated_message;
        if (c.last_started_at) terminated["startedAt"] = core::format_rfc3339(*c.last_started_at);
        terminated["finishedAt"] = core::format_rfc3339(*c.last_terminated_at);
        cs["lastState"]["terminated"] = std::move(terminated);
      }
      cs["ready"] = c.ready;
      cs["restartCount"] = c.restart_count;
      statuses.push_back(std::move(cs));
    }
    status["containerStatuses"] = std::move(statuses);
  }
  j["status"] = std::move(status);
  return j;
}

Json encode_hpa(const HorizontalPodAutoscaler& hpa) {
  Json j = Json::object();
  j["kind"] = hpa.kind;
  j["apiVersion"] = hpa.api_version;
  j["metadata"] = encode_object_meta(hpa.metadata);
  j["spec"] = encode_hpa_spec(hpa.spec);
  j["status"] = encode_hpa_status(hpa.status);
  return j;
}

namespace {

void append_key(std::string& out, std::string_view key) {
  core::append_go_json_string(out, key);
  out += ':';
}

void append_label_selector(std::string& out, const LabelSelector& selector) {
  out += '{';
  if (!selector.match_labels.empty()) {
    append_key(out, "matchLabels");
    out += '{';
    bool first = true;
    for (const auto& [k, v] : selector.match_labels) {
      if (!first) out += ',';
      first = false;
      append_key(out, k);
      core::append_go_json_string(out, v);
    }
    out += '}';
  }
  if (!selector.match_expressions.empty()) {
    if (!selector.match_labels.empty()) out += ',';
    append_key(out, "matchExpressions");
    out += '[';
    for (std::size_t i = 0; i < selector.match_expressions.size(); ++i) {
      const auto& e = selector.match_expressions[i];
      if (i > 0) out += ',';
      out += '{';
      append_key(out, "key");
      core::append_go_json_string(out, e.key);
      out += ',';
      append_key(out, "operator");
      core::append_go_json_string(out, e.op);
      if (!e.values.empty()) {
        out += ',';
        append_key(out, "values");
        out += '[';
        for (std::size_t j = 0; j < e.values.size(); ++j) {
          if (j > 0) out += ',';
          core::append_go_json_string(out, e.values[j]);
        }
        out += ']';
      }
      out += '}';
    }
    out += ']';
  }
  out += '}';
}

// Items of one answer usually share a timestamp; format it once.
class TimestampCache {
 public:
  const std::string& text(core::Time t) {
    if (!valid_ || t != time_) {
      time_ = t;
      text_.clear();
      core::append_go_json_string(text_, core::format_rfc3339(t));
      valid_ = true;
    }
    return text_;
  }

 private:
  bool valid_ = false;
  core::Time time_{};
  std::string text_;
};

}  // namespace

std::string metric_value_list_json(const std::vector<MetricValue>& items,
                                   const std::string& version) {
  const bool v1beta1 = version == "v1beta1";
  std::string out;
  out.reserve(96 + items.size() * 192);
  out += R"({"kind":"MetricValueList","apiVersion":)";
  core::append_go_json_string(out, "custom.metrics.k8s.io/" + version);
  out += R"(,"metadata":{},"items":[)";
  TimestampCache timestamps;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const MetricValue& v = items[i];
    if (i > 0) out += ',';
    out += R"({"describedObject":{"kind":)";
    core::append_go_json_string(out, v.described_object.kind);
    if (!v.described_object.namespace_.empty()) {
      out += R"(,"namespace":)";
      core::append_go_json_string(out, v.described_object.namespace_);
    }
    out += R"(,"name":)";
    core::append_go_json_string(out, v.described_object.name);
    if (!v.described_object.api_version.empty()) {
      out += R"(,"apiVersion":)";
      core::append_go_json_string(out, v.described_object.api_version);
    }
    out += "},";
    if (v1beta1) {
      append_key(out, "metricName");
      core::append_go_json_string(out, v.metric_name);
    } else {
      out += R"("metric":{"name":)";
      core::append_go_json_string(out, v.metric_name);
      if (v.metric_selector) {
        out += R"(,"selector":)";
        append_label_selector(out, *v.metric_selector);
      }
      out += '}';
    }
    out += R"(,"timestamp":)";
    out += timestamps.text(v.timestamp);
    if (v.window_seconds) {
      out += v1beta1 ? R"(,"window":)" : R"(,"windowSeconds":)";
      out += std::to_string(*v.window_seconds);
    }
    out += R"(,"value":)";
    core::append_go_json_string(out, v.value.to_string());
    if (v1beta1) {
      out += R"(,"selector":)";
      if (v.metric_selector) {
        append_label_selector(out, *v.metric_selector);
      } else {
        out += "null";
      }
    }
    out += '}';
  }
  out += "]}\n";
  return out;
}

std::string external_metric_value_list_json(const std::vector<ExternalMetricValue>& items) {
  std::string out;
  out.reserve(96 + items.size() * 160);
  out +=
      R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[)";
  TimestampCache timestamps;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const ExternalMetricValue& v = items[i];
    if (i > 0) out += ',';
    out += R"({"metricName":)";
    core::append_go_json_string(out, v.metric_name);
    out += R"(,"metricLabels":{)";
    bool first = true;
    for (const auto& [k, value] : v.metric_labels) {
      if (!first) out += ',';
      first = false;
      append_key(out, k);
      core::append_go_json_string(out, value);
    }
    out += R"(},"timestamp":)";
    out += timestamps.text(v.timestamp);
    if (v.window_seconds) {
      out += R"(,"window":)";
      out += std::to_string(*v.window_seconds);
    }
    out += R"(,"value":)";
    core::append_go_json_string(out, v.value.to_string());
    out += '}';
  }
  out += "]}\n";
  return out;
}

}  // namespace llmscale::kube
