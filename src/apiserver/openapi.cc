// OpenAPI v3 index and per-group-version documents (see openapi.h).
#include "apiserver/openapi.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace llmscale::apiserver {
namespace {

using core::Json;

std::string gv_path(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

// The schema name kube-apiserver uses: io.k8s.api.<group short>.<version>.<Kind> for built-in
// groups, the reversed group for others (com.googleapis.monitoring.v1.PodMonitoring).
std::string schema_name(const ResourceType& t) {
  if (t.group.empty()) return "io.k8s.api.core." + t.version + "." + t.kind;
  if (t.group.find('.') == std::string::npos)
    return "io.k8s.api." + t.group + "." + t.version + "." + t.kind;
  if (t.group.size() > 7 && t.group.compare(t.group.size() - 7, 7, ".k8s.io") == 0)
    return "io.k8s.api." + t.group.substr(0, t.group.find('.')) + "." + t.version + "." + t.kind;
  std::vector<std::string> parts;
  for (std::string_view p : core::split(t.group, '.')) parts.emplace_back(p);
  std::string reversed;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) reversed += *it + ".";
  return reversed + t.version + "." + t.kind;
}

Json gvk(const ResourceType& t) {
  return Json{{"group", t.group}, {"kind", t.kind}, {"version", t.version}};
}

Json query_parameter(const std::string& name, const std::string& description) {
  return Json{{"name", name},
              {"in", "query"},
              {"description", description},
              {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

Json write_parameters() {
  return Json::array(
      {query_parameter("dryRun",
                       "When present, indicates that modifications should not be persisted. "
                       "Valid values are: - All: all dry run stages will be processed"),
       query_parameter("fieldManager",
                       "fieldManager is a name associated with the actor or entity that is "
                       "making these changes."),
       query_parameter("fieldValidation",
                       "fieldValidation instructs the server on how to handle objects in the "
                       "request containing unknown or duplicate fields. Valid values are: Ignore, "
                       "Warn, Strict.")});
}

Json operation(const ResourceType& t, const std::string& action, const std::string& id,
               bool writes) {
  Json op{{"operationId", id},
          {"x-kubernetes-action", action},
          {"x-kubernetes-group-version-kind", gvk(t)},
          {"responses",
           {{"200",
             {{"description", "OK"},
              {"content",
               {{"application/json",
                 {{"schema", {{"$ref", "#/components/schemas/" + schema_name(t)}}}}}}}}}}}};
  if (writes) op["parameters"] = write_parameters();
  return op;
}

// The schema of a kind: an object with the standard fields; spec and status open (the server
// validates them).
Json kind_schema(const ResourceType& t) {
  Json open_object{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  Json properties{
      {"apiVersion",
       {{"type", "string"},
        {"description",
         "APIVersion defines the versioned schema of this representation of an object."}}},
      {"kind",
       {{"type", "string"},
        {"description",
         "Kind is a string value representing the REST resource this object "
         "represents."}}},
      {"metadata",
       {{"allOf", Json::array({Json{{"$ref",
                                     "#/components/schemas/"
                                     "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}}})},
        {"default", Json::object()},
        {"description", "Standard object's metadata."}}}};
  Json spec = open_object;
  spec["description"] = "The desired state of the " + t.kind + ".";
  Json status = open_object;
  status["description"] = "The observed state of the " + t.kind + ".";
  properties["spec"] = spec;
  properties["status"] = status;
  return Json{{"type", "object"},
              {"description", t.kind + " (" + t.group_version() + ")"},
              {"properties", properties},
              {"x-kubernetes-group-version-kind", Json::array({gvk(t)})}};
}

// ---- autoscaling/v2 HorizontalPodAutoscaler, typed (what `kubectl explain hpa.spec.metrics`
// walks). Names and fields as kube-apiserver publishes them; descriptions are ours.

constexpr const char* kV2 = "io.k8s.api.autoscaling.v2.";

Json ref(const std::string& name, const std::string& description) {
  return Json{{"allOf", Json::array({Json{{"$ref", "#/components/schemas/" + name}}})},
              {"description", description}};
}
Json v2ref(const std::string& kind, const std::string& description) {
  return ref(std::string(kV2) + kind, description);
}
Json typed(const char* type, const std::string& description, const char* format = nullptr) {
  Json j{{"type", type}, {"description", description}};
  if (format != nullptr) j["format"] = format;
  return j;
}
Json quantity(const std::string& description) {
  return ref("io.k8s.apimachinery.pkg.api.resource.Quantity", description);
}
Json array_of(const Json& items, const std::string& description) {
  return Json{{"type", "array"}, {"items", items}, {"description", description}};
}
Json object_schema(const std::string& description, Json properties,
                   const std::vector<std::string>& required = {}) {
  Json j{{"type", "object"}, {"description", description}, {"properties", std::move(properties)}};
  if (!required.empty()) j["required"] = required;
  return j;
}

void add_hpa_v2_schemas(Json& schemas) {
  const std::string v2(kV2);
  schemas[v2 + "CrossVersionObjectReference"] =
      object_schema("Names the object that is scaled or described.",
                    {{"apiVersion", typed("string", "API version of the referent.")},
                     {"kind", typed("string", "Kind of the referent, e.g. Deployment.")},
                     {"name", typed("string", "Name of the referent.")}},
                    {"kind", "name"});
  schemas[v2 + "MetricIdentifier"] = object_schema(
      "Which metric: its name and, optionally, a label selector narrowing its series.",
      {{"name", typed("string", "The metric's name.")},
       {"selector", ref("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
                        "Labels the metric's series must have; unset: all of them.")}},
      {"name"});
  schemas[v2 + "MetricTarget"] = object_schema(
      "The value a metric should be held at.",
      {{"type", typed("string", "Utilization, Value or AverageValue.")},
       {"value", quantity("Target value of the metric (Value).")},
       {"averageValue", quantity("Target value of the metric averaged over pods (AverageValue).")},
       {"averageUtilization",
        typed("integer", "Target percent of the pods' resource requests (Utilization).", "int32")}},
      {"type"});
  schemas[v2 + "MetricValueStatus"] = object_schema(
      "The current value of a metric.",
      {{"value", quantity("Current value.")},
       {"averageValue", quantity("Current value averaged over pods.")},
       {"averageUtilization",
        typed("integer", "Current percent of the pods' resource requests.", "int32")}});
  schemas[v2 + "PodsMetricSource"] =
      object_schema("A metric describing each pod of the target, averaged.",
                    {{"metric", v2ref("MetricIdentifier", "The metric.")},
                     {"target", v2ref("MetricTarget", "Its target (AverageValue).")}},
                    {"metric", "target"});
  schemas[v2 + "ObjectMetricSource"] = object_schema(
      "A metric describing one Kubernetes object.",
      {{"describedObject", v2ref("CrossVersionObjectReference", "The object described.")},
       {"metric", v2ref("MetricIdentifier", "The metric.")},
       {"target", v2ref("MetricTarget", "Its target (Value or AverageValue).")}},
      {"describedObject", "target", "metric"});
  schemas[v2 + "ExternalMetricSource"] =
      object_schema("A metric not tied to any Kubernetes object (a queue outside the cluster...).",
                    {{"metric", v2ref("MetricIdentifier", "The metric.")},
                     {"target", v2ref("MetricTarget", "Its target (Value or AverageValue).")}},
                    {"metric", "target"});
  schemas[v2 + "ResourceMetricSource"] = object_schema(
      "A resource (cpu, memory) of the pods, as the resource metrics API reports it.",
      {{"name", typed("string", "The resource's name.")},
       {"target", v2ref("MetricTarget", "Its target (Utilization or AverageValue).")}},
      {"name", "target"});
  schemas[v2 + "ContainerResourceMetricSource"] = object_schema(
      "A resource of one container of each pod.",
      {{"name", typed("string", "The resource's name.")},
       {"container", typed("string", "The container's name.")},
       {"target", v2ref("MetricTarget", "Its target (Utilization or AverageValue).")}},
      {"name", "target", "container"});
  schemas[v2 + "MetricSpec"] = object_schema(
      "One metric to scale on; exactly the source named by type is set.",
      {{"type", typed("string", "ContainerResource, External, Object, Pods or Resource.")},
       {"containerResource", v2ref("ContainerResourceMetricSource", "For type ContainerResource.")},
       {"external", v2ref("ExternalMetricSource", "For type External.")},
       {"object", v2ref("ObjectMetricSource", "For type Object.")},
       {"pods", v2ref("PodsMetricSource", "For type Pods.")},
       {"resource", v2ref("ResourceMetricSource", "For type Resource.")}},
      {"type"});
  schemas[v2 + "HPAScalingPolicy"] = object_schema(
      "At most this much change per period.",
      {{"type", typed("string", "Pods or Percent.")},
       {"value", typed("integer", "How many pods, or which percent of the current ones.", "int32")},
       {"periodSeconds",
        typed("integer", "The window the policy holds over (1 to 1800 s).", "int32")}},
      {"type", "value", "periodSeconds"});
  schemas[v2 + "HPAScalingRules"] = object_schema(
      "How fast one direction may scale.",
      {{"stabilizationWindowSeconds",
        typed("integer", "Past recommendations considered before acting (0 to 3600 s).", "int32")},
       {"selectPolicy", typed("string", "Max, Min or Disabled: which policy's limit applies.")},
       {"policies", array_of(v2ref("HPAScalingPolicy", ""), "The limits on each change.")},
       {"tolerance", quantity("Relative change of the metric ignored in this direction.")}});
  schemas[v2 + "HorizontalPodAutoscalerBehavior"] =
      object_schema("Scaling speed in each direction.",
                    {{"scaleUp", v2ref("HPAScalingRules", "Rules for scaling up.")},
                     {"scaleDown", v2ref("HPAScalingRules", "Rules for scaling down.")}});
  schemas[v2 + "HorizontalPodAutoscalerSpec"] = object_schema(
      "What to scale, between which bounds, on which metrics.",
      {{"scaleTargetRef", v2ref("CrossVersionObjectReference", "The workload to scale.")},
       {"minReplicas", typed("integer", "The fewest replicas (default 1).", "int32")},
       {"maxReplicas", typed("integer", "The most replicas.", "int32")},
       {"metrics", array_of(v2ref("MetricSpec", ""),
                            "The metrics whose recommendations are combined (the highest wins). "
                            "Default: 80% average CPU utilization.")},
       {"behavior", v2ref("HorizontalPodAutoscalerBehavior", "Scaling speed in each direction.")}},
      {"scaleTargetRef", "maxReplicas"});
  schemas[v2 + "PodsMetricStatus"] = object_schema(
      "Current value of a Pods metric.", {{"metric", v2ref("MetricIdentifier", "The metric.")},
                                          {"current", v2ref("MetricValueStatus", "Its value.")}});
  schemas[v2 + "ObjectMetricStatus"] = object_schema(
      "Current value of an Object metric.",
      {{"describedObject", v2ref("CrossVersionObjectReference", "The object described.")},
       {"metric", v2ref("MetricIdentifier", "The metric.")},
       {"current", v2ref("MetricValueStatus", "Its value.")}});
  schemas[v2 + "ExternalMetricStatus"] =
      object_schema("Current value of an External metric.",
                    {{"metric", v2ref("MetricIdentifier", "The metric.")},
                     {"current", v2ref("MetricValueStatus", "Its value.")}});
  schemas[v2 + "ResourceMetricStatus"] =
      object_schema("Current value of a Resource metric.",
                    {{"name", typed("string", "The resource.")},
                     {"current", v2ref("MetricValueStatus", "Its value.")}});
  schemas[v2 + "ContainerResourceMetricStatus"] =
      object_schema("Current value of a ContainerResource metric.",
                    {{"name", typed("string", "The resource.")},
                     {"container", typed("string", "The container.")},
                     {"current", v2ref("MetricValueStatus", "Its value.")}});
  schemas[v2 + "MetricStatus"] = object_schema(
      "The last value read of one metric.",
      {{"type", typed("string", "ContainerResource, External, Object, Pods or Resource.")},
       {"containerResource", v2ref("ContainerResourceMetricStatus", "For ContainerResource.")},
       {"external", v2ref("ExternalMetricStatus", "For External.")},
       {"object", v2ref("ObjectMetricStatus", "For Object.")},
       {"pods", v2ref("PodsMetricStatus", "For Pods.")},
       {"resource", v2ref("ResourceMetricStatus", "For Resource.")}},
      {"type"});
  schemas[v2 + "HorizontalPodAutoscalerCondition"] = object_schema(
      "AbleToScale, ScalingActive or ScalingLimited, with why.",
      {{"type", typed("string", "The condition.")},
       {"status", typed("string", "True, False or Unknown.")},
       {"lastTransitionTime", typed("string", "When the status last changed.", "date-time")},
       {"reason", typed("string", "One word why.")},
       {"message", typed("string", "A sentence why.")}},
      {"type", "status"});
  schemas[v2 + "HorizontalPodAutoscalerStatus"] = object_schema(
      "What the controller last saw and decided.",
      {{"observedGeneration", typed("integer", "The generation last acted on.", "int64")},
       {"lastScaleTime", typed("string", "When the replicas last changed.", "date-time")},
       {"currentReplicas", typed("integer", "Replicas the target has.", "int32")},
       {"desiredReplicas", typed("integer", "Replicas the controller last asked for.", "int32")},
       {"currentMetrics", array_of(v2ref("MetricStatus", ""), "The metrics as last read.")},
       {"conditions",
        array_of(v2ref("HorizontalPodAutoscalerCondition", ""), "Why it scales or does not.")}},
      {"desiredReplicas"});
  schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"] =
      Json{{"type", "string"},
           {"description", "A fixed-point number with an optional suffix: 100m, 5, 1Gi, 2.5."}};
  Json requirement =
      object_schema("key, operator (In, NotIn, Exists, DoesNotExist) and values.",
                    {{"key", typed("string", "The label key.")},
                     {"operator", typed("string", "In, NotIn, Exists or DoesNotExist.")},
                     {"values", array_of(Json{{"type", "string"}}, "Values for In and NotIn.")}},
                    {"key", "operator"});
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"] =
      object_schema("A label query; its parts are ANDed.",
                    {{"matchLabels", Json{{"type", "object"},
                                          {"additionalProperties", {{"type", "string"}}},
                                          {"description", "Labels that must be equal."}}},
                     {"matchExpressions", array_of(requirement, "Requirements on labels.")}});
}

Json object_meta_schema() {
  Json str{{"type", "string"}};
  Json map{{"type", "object"}, {"additionalProperties", {{"type", "string"}, {"default", ""}}}};
  return Json{
      {"type", "object"},
      {"description", "ObjectMeta is metadata that all persisted resources must have."},
      {"properties",
       {{"name", str},
        {"generateName", str},
        {"namespace", str},
        {"uid", str},
        {"resourceVersion", str},
        {"generation", {{"type", "integer"}, {"format", "int64"}}},
        {"creationTimestamp", {{"type", "string"}, {"format", "date-time"}}},
        {"deletionTimestamp", {{"type", "string"}, {"format", "date-time"}}},
        {"labels", map},
        {"annotations", map},
        {"finalizers", {{"type", "array"}, {"items", str}}},
        {"ownerReferences",
         {{"type", "array"},
          {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}},
        {"managedFields",
         {{"type", "array"},
          {"items", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}};
}

}  // namespace

Json openapi_v3_index(const std::vector<ResourceType>& resources) {
  Json paths = Json::object();
  for (const ResourceType& t : resources) {
    std::string path = gv_path(t.group, t.version);
    // The hash lets clients cache a document; ours only changes with the binary.
    paths[path] = {
        {"serverRelativeURL", "/openapi/v3/" + path + "?hash=llmscale-" + std::string(t.version)}};
  }
  return Json{{"paths", paths}};
}

std::optional<Json> openapi_v3_document(const std::vector<ResourceType>& resources,
                                        const std::string& group, const std::string& version) {
  Json paths = Json::object();
  Json schemas = Json::object();
  bool found = false;
  for (const ResourceType& t : resources) {
    if (t.group != group || t.version != version) continue;
    found = true;
    std::string base = "/" + gv_path(group, version) + "/";
    if (t.namespaced) base += "namespaces/{namespace}/";
    std::string collection = base + t.resource;
    std::string item = collection + "/{name}";
    std::string id = t.kind;
    paths[collection] = {{"get", operation(t, "list", "list" + id, false)},
                         {"post", operation(t, "post", "create" + id, true)}};
    paths[item] = {{"get", operation(t, "get", "read" + id, false)},
                   {"put", operation(t, "put", "replace" + id, true)},
                   {"patch", operation(t, "patch", "patch" + id, true)},
                   {"delete", operation(t, "delete", "delete" + id, false)}};
    if (t.status_subresource)
      paths[item + "/status"] = {{"get", operation(t, "get", "read" + id + "Status", false)},
                                 {"put", operation(t, "put", "replace" + id + "Status", true)},
                                 {"patch", operation(t, "patch", "patch" + id + "Status", true)}};
    schemas[schema_name(t)] = kind_schema(t);
    if (t.group == "autoscaling" && t.version == "v2" && t.kind == "HorizontalPodAutoscaler") {
      add_hpa_v2_schemas(schemas);
      Json& properties = schemas[schema_name(t)]["properties"];
      properties["spec"] = v2ref("HorizontalPodAutoscalerSpec",
                                 "What to scale, between which bounds, on which metrics.");
      properties["status"] =
          v2ref("HorizontalPodAutoscalerStatus", "What the controller last saw and decided.");
    }
  }
  if (!found) return std::nullopt;
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = object_meta_schema();
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.37.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace llmscale::apiserver
