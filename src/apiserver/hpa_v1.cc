// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler conversion (hpa_v1.h).
#include "apiserver/hpa_v1.h"

#include <string>

#include <nlohmann/json.hpp>

namespace llmscale::apiserver {
namespace {

using core::Json;

constexpr const char* kMetrics = "autoscaling.alpha.kubernetes.io/metrics";
constexpr const char* kBehavior = "autoscaling.alpha.kubernetes.io/behavior";
constexpr const char* kCurrentMetrics = "autoscaling.alpha.kubernetes.io/current-metrics";
constexpr const char* kConditions = "autoscaling.alpha.kubernetes.io/conditions";

const Json* get(const Json& node, const char* key) {
  if (!node.is_object()) return nullptr;
  auto it = node.find(key);
  return it == node.end() || it->is_null() ? nullptr : &*it;
}

// Copies node[from] to out[to] when present.
void copy(const Json& node, const char* from, Json& out, const char* to) {
  if (const Json* v = get(node, from)) out[to] = *v;
}

bool is_cpu_utilization(const Json& metric) {
  const Json* resource = get(metric, "resource");
  if (metric.value("type", "") != "Resource" || resource == nullptr) return false;
  const Json* target = get(*resource, "target");
  return resource->value("name", "") == "cpu" && target != nullptr &&
         target->value("type", "") == "Utilization" && get(*target, "averageUtilization");
}

// v2 MetricSpec -> v1 MetricSpec (Convert_autoscaling_MetricSpec_To_v1_MetricSpec).
Json v1_metric_spec(const Json& m) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  auto target_of = [](const Json& source) {
    const Json* t = get(source, "target");
    return t != nullptr ? *t : Json::object();
  };
  if (type == "Pods" && get(m, "pods")) {
    const Json& p = m["pods"];
    Json pods = Json::object();
    if (const Json* metric = get(p, "metric")) {
      copy(*metric, "name", pods, "metricName");
      copy(*metric, "selector", pods, "selector");
    }
    copy(target_of(p), "averageValue", pods, "targetAverageValue");
    out["pods"] = pods;
  } else if (type == "Object" && get(m, "object")) {
    const Json& o = m["object"];
    Json object = Json::object();
    copy(o, "describedObject", object, "target");
    if (const Json* metric = get(o, "metric")) {
      copy(*metric, "name", object, "metricName");
      copy(*metric, "selector", object, "selector");
    }
    copy(target_of(o), "value", object, "targetValue");
    copy(target_of(o), "averageValue", object, "averageValue");
    out["object"] = object;
  } else if (type == "External" && get(m, "external")) {
    const Json& e = m["external"];
    Json external = Json::object();
    if (const Json* metric = get(e, "metric")) {
      copy(*metric, "name", external, "metricName");
      copy(*metric, "selector", external, "metricSelector");
    }
    copy(target_of(e), "value", external, "targetValue");
    copy(target_of(e), "averageValue", external, "targetAverageValue");
    out["external"] = external;
  } else if ((type == "Resource" && get(m, "resource")) ||
             (type == "ContainerResource" && get(m, "containerResource"))) {
    const char* key = type == "Resource" ? "resource" : "containerResource";
    const Json& r = m[key];
    Json resource = Json::object();
    copy(r, "name", resource, "name");
    copy(r, "container", resource, "container");
    copy(target_of(r), "averageUtilization", resource, "targetAverageUtilization");
    copy(target_of(r), "averageValue", resource, "targetAverageValue");
    out[key] = resource;
  }
  return out;
}

// v2 MetricStatus -> v1 MetricStatus.
Json v1_metric_status(const Json& m) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  auto current_of = [](const Json& source) {
    const Json* c = get(source, "current");
    return c != nullptr ? *c : Json::object();
  };
  if (type == "Pods" && get(m, "pods")) {
    const Json& p = m["pods"];
    Json pods = Json::object();
    if (const Json* metric = get(p, "metric")) {
      copy(*metric, "name", pods, "metricName");
      copy(*metric, "selector", pods, "selector");
    }
    copy(current_of(p), "averageValue", pods, "currentAverageValue");
    out["pods"] = pods;
  } else if (type == "Object" && get(m, "object")) {
    const Json& o = m["object"];
    Json object = Json::object();
    copy(o, "describedObject", object, "target");
    if (const Json* metric = get(o, "metric")) {
      copy(*metric, "name", object, "metricName");
      copy(*metric, "selector", object, "selector");
    }
    copy(current_of(o), "value", object, "currentValue");
    copy(current_of(o), "averageValue", object, "averageValue");
    out["object"] = object;
  } else if (type == "External" && get(m, "external")) {
    const Json& e = m["external"];
    Json external = Json::object();
    if (const Json* metric = get(e, "metric")) {
      copy(*metric, "name", external, "metricName");
      copy(*metric, "selector", external, "metricSelector");
    }
    copy(current_of(e), "value", external, "currentValue");
    copy(current_of(e), "averageValue", external, "currentAverageValue");
    out["external"] = external;
  } else if ((type == "Resource" && get(m, "resource")) ||
             (type == "ContainerResource" && get(m, "containerResource"))) {
    const char* key = type == "Resource" ? "resource" : "containerResource";
    const Json& r = m[key];
    Json resource = Json::object();
    copy(r, "name", resource, "name");
    copy(r, "container", resource, "container");
    copy(current_of(r), "averageUtilization", resource, "currentAverageUtilization");
    copy(current_of(r), "averageValue", resource, "currentAverageValue");
    out[key] = resource;
  }
  return out;
}

// v1 MetricSpec -> v2 MetricSpec (Convert_v1_MetricSpec_To_autoscaling_MetricSpec).
Json v2_metric_spec(const Json& m) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  if (type == "Pods" && get(m, "pods")) {
    const Json& p = m["pods"];
    Json metric = Json::object();
    copy(p, "metricName", metric, "name");
    copy(p, "selector", metric, "selector");
    Json target = {{"type", "AverageValue"}};
    copy(p, "targetAverageValue", target, "averageValue");
    out["pods"] = {{"metric", metric}, {"target", target}};
  } else if (type == "Object" && get(m, "object")) {
    const Json& o = m["object"];
    Json metric = Json::object();
    copy(o, "metricName", metric, "name");
    copy(o, "selector", metric, "selector");
    Json target = Json::object();
    if (get(o, "averageValue")) {
      target["type"] = "AverageValue";
      target["averageValue"] = o["averageValue"];
    } else {
      target["type"] = "Value";
      copy(o, "targetValue", target, "value");
    }
    Json object = {{"metric", metric}, {"target", target}};
    copy(o, "target", object, "describedObject");
    out["object"] = object;
  } else if (type == "External" && get(m, "external")) {
    const Json& e = m["external"];
    Json metric = Json::object();
    copy(e, "metricName", metric, "name");
    copy(e, "metricSelector", metric, "selector");
    Json target = Json::object();
    if (get(e, "targetAverageValue")) {
      target["type"] = "AverageValue";
      target["averageValue"] = e["targetAverageValue"];
    } else {
      target["type"] = "Value";
      copy(e, "targetValue", target, "value");
    }
    out["external"] = {{"metric", metric}, {"target", target}};
  } else if ((type == "Resource" && get(m, "resource")) ||
             (type == "ContainerResource" && get(m, "containerResource"))) {
    const char* key = type == "Resource" ? "resource" : "containerResource";
    const Json& r = m[key];
    Json resource = Json::object();
    copy(r, "name", resource, "name");
    copy(r, "container", resource, "container");
    Json target = Json::object();
    if (get(r, "targetAverageUtilization")) {
      target["type"] = "Utilization";
      target["averageUtilization"] = r["targetAverageUtilization"];
    } else {
      target["type"] = "AverageValue";
      copy(r, "targetAverageValue", target, "averageValue");
    }
    resource["target"] = target;
    out[key] = resource;
  }
  return out;
}

// v1 MetricStatus -> v2 MetricStatus.
Json v2_metric_status(const Json& m) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  if (type == "Pods" && get(m, "pods")) {
    const Json& p = m["pods"];
    Json metric = Json::object();
    copy(p, "metricName", metric, "name");
    copy(p, "selector", metric, "selector");
    Json current = Json::object();
    copy(p, "currentAverageValue", current, "averageValue");
    out["pods"] = {{"metric", metric}, {"current", current}};
  } else if (type == "Object" && get(m, "object")) {
    const Json& o = m["object"];
    Json metric = Json::object();
    copy(o, "metricName", metric, "name");
    copy(o, "selector", metric, "selector");
    Json current = Json::object();
    copy(o, "currentValue", current, "value");
    copy(o, "averageValue", current, "averageValue");
    Json object = {{"metric", metric}, {"current", current}};
    copy(o, "target", object, "describedObject");
    out["object"] = object;
  } else if (type == "External" && get(m, "external")) {
    const Json& e = m["external"];
    Json metric = Json::object();
    copy(e, "metricName", metric, "name");
    copy(e, "metricSelector", metric, "selector");
    Json current = Json::object();
    copy(e, "currentValue", current, "value");
    copy(e, "currentAverageValue", current, "averageValue");
    out["external"] = {{"metric", metric}, {"current", current}};
  } else if ((type == "Resource" && get(m, "resource")) ||
             (type == "ContainerResource" && get(m, "containerResource"))) {
    const char* key = type == "Resource" ? "resource" : "containerResource";
    const Json& r = m[key];
    Json resource = Json::object();
    copy(r, "name", resource, "name");
    copy(r, "container", resource, "container");
    Json current = Json::object();
    copy(r, "currentAverageUtilization", current, "averageUtilization");
    copy(r, "currentAverageValue", current, "averageValue");
    resource["current"] = current;
    out[key] = resource;
  }
  return out;
}

ApiResult<Json> annotation_json(const Json& annotations, const char* key) {
  const Json* text = get(annotations, key);
  if (text == nullptr) return Json();
  if (!text->is_string())
    return tl::unexpected(
        bad_request(std::string("metadata.annotations[") + key + "]: must be a string"));
  auto parsed = core::parse_json(text->get<std::string>());
  if (!parsed)
    return tl::unexpected(
        bad_request(std::string("metadata.annotations[") + key + "]: " + parsed.error().message));
  return *parsed;
}

}  // namespace

Json hpa_v2_to_v1(const Json& v2) {
  Json out = v2;
  out["apiVersion"] = "autoscaling/v1";
  Json annotations = Json::object();
  if (const Json* a = get(v2["metadata"], "annotations"); a != nullptr && a->is_object())
    annotations = *a;
  Json spec = Json::object();
  if (const Json* in = get(v2, "spec")) {
    copy(*in, "scaleTargetRef", spec, "scaleTargetRef");
    copy(*in, "minReplicas", spec, "minReplicas");
    copy(*in, "maxReplicas", spec, "maxReplicas");
    Json others = Json::array();
    bool cpu = false;
    if (const Json* metrics = get(*in, "metrics"); metrics != nullptr && metrics->is_array()) {
      for (const Json& m : *metrics) {
        if (!cpu && is_cpu_utilization(m)) {
          spec["targetCPUUtilizationPercentage"] = m["resource"]["target"]["averageUtilization"];
          cpu = true;
        } else {
          others.push_back(v1_metric_spec(m));
        }
      }
    }
    if (!others.empty()) annotations[kMetrics] = core::to_compact_json(others);
    if (const Json* behavior = get(*in, "behavior"))
      annotations[kBehavior] = core::to_compact_json(*behavior);
  }
  out["spec"] = spec;
  if (const Json* in = get(v2, "status")) {
    Json status = Json::object();
    copy(*in, "observedGeneration", status, "observedGeneration");
    copy(*in, "lastScaleTime", status, "lastScaleTime");
    copy(*in, "currentReplicas", status, "currentReplicas");
    copy(*in, "desiredReplicas", status, "desiredReplicas");
    Json others = Json::array();
    if (const Json* metrics = get(*in, "currentMetrics");
        metrics != nullptr && metrics->is_array()) {
      for (const Json& m : *metrics) {
        const Json* r = get(m, "resource");
        const Json* current = r != nullptr ? get(*r, "current") : nullptr;
        if (m.value("type", "") == "Resource" && r != nullptr && r->value("name", "") == "cpu" &&
            current != nullptr && get(*current, "averageUtilization") &&
            !status.contains("currentCPUUtilizationPercentage")) {
          status["currentCPUUtilizationPercentage"] = (*current)["averageUtilization"];
        } else {
          others.push_back(v1_metric_status(m));
        }
      }
    }
    if (!others.empty()) annotations[kCurrentMetrics] = core::to_compact_json(others);
    if (const Json* conditions = get(*in, "conditions");
        conditions != nullptr && conditions->is_array() && !conditions->empty())
      annotations[kConditions] = core::to_compact_json(*conditions);
    out["status"] = status;
  }
  if (!annotations.empty()) out["metadata"]["annotations"] = annotations;
  return out;
}

ApiResult<Json> hpa_v1_to_v2(const Json& v1) {
  Json out = v1;
  out["apiVersion"] = "autoscaling/v2";
  Json annotations = Json::object();
  if (const Json* a = get(v1["metadata"], "annotations"); a != nullptr && a->is_object())
    annotations = *a;
  auto metrics = annotation_json(annotations, kMetrics);
  if (!metrics) return tl::unexpected(metrics.error());
  auto behavior = annotation_json(annotations, kBehavior);
  if (!behavior) return tl::unexpected(behavior.error());
  auto current = annotation_json(annotations, kCurrentMetrics);
  if (!current) return tl::unexpected(current.error());
  auto conditions = annotation_json(annotations, kConditions);
  if (!conditions) return tl::unexpected(conditions.error());
  for (const char* key : {kMetrics, kBehavior, kCurrentMetrics, kConditions})
    annotations.erase(key);

  Json spec = Json::object();
  if (const Json* in = get(v1, "spec")) {
    copy(*in, "scaleTargetRef", spec, "scaleTargetRef");
    copy(*in, "minReplicas", spec, "minReplicas");
    copy(*in, "maxReplicas", spec, "maxReplicas");
    Json list = Json::array();
    if (const Json* cpu = get(*in, "targetCPUUtilizationPercentage"))
      list.push_back({{"type", "Resource"},
                      {"resource",
                       {{"name", "cpu"},
                        {"target", {{"type", "Utilization"}, {"averageUtilization", *cpu}}}}}});
    if (metrics->is_array())
      for (const Json& m : *metrics) list.push_back(v2_metric_spec(m));
    if (!list.empty()) spec["metrics"] = list;
    // Unknown v1 spec fields stay, so strict field validation still reports them.
    for (auto it = in->begin(); it != in->end(); ++it) {
      const std::string& key = it.key();
      if (key != "scaleTargetRef" && key != "minReplicas" && key != "maxReplicas" &&
          key != "targetCPUUtilizationPercentage")
        spec[key] = it.value();
    }
  }
  if (!behavior->is_null()) spec["behavior"] = *behavior;
  out["spec"] = spec;
  if (const Json* in = get(v1, "status")) {
    Json status = Json::object();
    copy(*in, "observedGeneration", status, "observedGeneration");
    copy(*in, "lastScaleTime", status, "lastScaleTime");
    copy(*in, "currentReplicas", status, "currentReplicas");
    copy(*in, "desiredReplicas", status, "desiredReplicas");
    Json list = Json::array();
    if (const Json* cpu = get(*in, "currentCPUUtilizationPercentage"))
      list.push_back(
          {{"type", "Resource"},
           {"resource", {{"name", "cpu"}, {"current", {{"averageUtilization", *cpu}}}}}});
    if (current->is_array())
      for (const Json& m : *current) list.push_back(v2_metric_status(m));
    if (!list.empty()) status["currentMetrics"] = list;
    if (conditions->is_array()) status["conditions"] = *conditions;
    out["status"] = status;
  }
  if (annotations.empty()) {
    if (out["metadata"].is_object()) out["metadata"].erase("annotations");
  } else {
    out["metadata"]["annotations"] = annotations;
  }
  return out;
}

}  // namespace llmscale::apiserver
