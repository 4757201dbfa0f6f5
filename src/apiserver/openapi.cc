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
  }
  if (!found) return std::nullopt;
  schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] = object_meta_schema();
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.37.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace llmscale::apiserver
