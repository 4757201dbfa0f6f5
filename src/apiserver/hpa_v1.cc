// autoscaling/v1 <-> autoscaling/v2 HorizontalPodAutoscaler conversion (hpa_v1.h).
#include "apiserver/hpa_v1.h"

#include <string>
#include <utility>
#include <vector>

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

// Where each v2 field of a metric source lives in autoscaling/v1's flattened MetricSpec and
// MetricStatus (pkg/apis/autoscaling/v1/conversion.go): "metric.name" -> "metricName", ...
// The v2 path has at most two parts. One table serves both directions and both spec and status.
struct FieldMap {
  const char* v2;
  const char* v1;
};
struct SourceMap {
  const char* type;  // MetricSpec.type
  const char* key;   // the source's field: "pods", "containerResource", ...
  std::vector<FieldMap> spec;
  std::vector<FieldMap> status;
};

const std::vector<SourceMap>& source_maps() {
  static const std::vector<SourceMap> maps = {
      {"Pods",
       "pods",
       {{"metric.name", "metricName"},
        {"metric.selector", "selector"},
        {"target.averageValue", "targetAverageValue"}},
       {{"metric.name", "metricName"},
        {"metric.selector", "selector"},
        {"current.averageValue", "currentAverageValue"}}},
      {"Object",
       "object",
       {{"describedObject", "target"},
        {"metric.name", "metricName"},
        {"metric.selector", "selector"},
        {"target.value", "targetValue"},
        {"target.averageValue", "averageValue"}},
       {{"describedObject", "target"},
        {"metric.name", "metricName"},
        {"metric.selector", "selector"},
        {"current.value", "currentValue"},
        {"current.averageValue", "averageValue"}}},
      {"External",
       "external",
       {{"metric.name", "metricName"},
        {"metric.selector", "metricSelector"},
        {"target.value", "targetValue"},
        {"target.averageValue", "targetAverageValue"}},
       {{"metric.name", "metricName"},
        {"metric.selector", "metricSelector"},
        {"current.value", "currentValue"},
        {"current.averageValue", "currentAverageValue"}}},
      {"Resource",
       "resource",
       {{"name", "name"},
        {"target.averageUtilization", "targetAverageUtilization"},
        {"target.averageValue", "targetAverageValue"}},
       {{"name", "name"},
        {"current.averageUtilization", "currentAverageUtilization"},
        {"current.averageValue", "currentAverageValue"}}},
      {"ContainerResource",
       "containerResource",
       {{"name", "name"},
        {"container", "container"},
        {"target.averageUtilization", "targetAverageUtilization"},
        {"target.averageValue", "targetAverageValue"}},
       {{"name", "name"},
        {"container", "container"},
        {"current.averageUtilization", "currentAverageUtilization"},
        {"current.averageValue", "currentAverageValue"}}},
  };
  return maps;
}

// The v2 path split at its dot: ("metric", "name"), or ("describedObject", "").
std::pair<std::string, std::string> split_path(const char* path) {
  std::string p(path);
  std::size_t dot = p.find('.');
  if (dot == std::string::npos) return {p, ""};
  return {p.substr(0, dot), p.substr(dot + 1)};
}

// One metric (spec or status) between v2 and v1, by the table above.
Json convert_metric(const Json& m, bool to_v1, bool status) {
  std::string type = m.value("type", "");
  Json out = {{"type", type}};
  for (const SourceMap& map : source_maps()) {
    if (type != map.type) continue;
    const Json* source = get(m, map.key);
    if (source == nullptr) return out;
    Json converted = Json::object();
    for (const FieldMap& f : status ? map.status : map.spec) {
      auto [outer, inner] = split_path(f.v2);
      if (to_v1) {
        const Json* v = get(*source, outer.c_str());
        if (v != nullptr && !inner.empty()) v = get(*v, inner.c_str());
        if (v != nullptr) converted[f.v1] = *v;
      } else if (const Json* v = get(*source, f.v1)) {
        if (inner.empty()) {
          converted[outer] = *v;
        } else {
          converted[outer][inner] = *v;
        }
      }
    }
    if (!to_v1 && !status) {
      // v1 has no target type: Utilization when a utilization is set, else AverageValue for
      // per-pod sources or a set average, else Value (Convert_v1_*MetricSource_To_autoscaling_*).
      Json& target = converted["target"];
      if (!target.is_object()) target = Json::object();
      bool per_pod = type == "Pods" || type == "Resource" || type == "ContainerResource";
      const char* target_type = target.contains("averageUtilization")          ? "Utilization"
                                : (per_pod || target.contains("averageValue")) ? "AverageValue"
                                                                               : "Value";
      Json typed_target = {{"type", target_type}};  // first, as Go's field order writes it
      for (auto it = target.begin(); it != target.end(); ++it) typed_target[it.key()] = it.value();
      target = std::move(typed_target);
    }
    if (!to_v1 && status && !converted.contains("current")) converted["current"] = Json::object();
    out[map.key] = std::move(converted);
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
          others.push_back(convert_metric(m, /*to_v1=*/true, /*status=*/false));
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
          others.push_back(convert_metric(m, /*to_v1=*/true, /*status=*/true));
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
      for (const Json& m : *metrics) list.push_back(convert_metric(m, /*to_v1=*/false, false));
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
      for (const Json& m : *current) list.push_back(convert_metric(m, /*to_v1=*/false, true));
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
