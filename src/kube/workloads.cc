// JSON codecs for the Deployment and Event shapes of kube/workloads.h.
#include "kube/workloads.h"

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "kube/json_codec.h"

namespace llmscale::kube {
namespace {

using core::Json;
using core::JsonReader;

template <class T>
core::Result<T> finish(JsonReader& reader, T value) {
  if (auto status = reader.finish(); !status) return tl::unexpected(status.error());
  return value;
}

void decode_deployment_container(JsonReader& r, DeploymentContainer& c) {
  r.read("name", c.name);
  r.read("image", c.image);
}

}  // namespace

core::Result<Deployment> decode_deployment(const Json& node, const std::string& path) {
  Deployment d;
  JsonReader r(node, path, /*strict=*/false);
  if (!node.is_object()) {
    r.type_error(path, "a Deployment object", node);
    return finish(r, std::move(d));
  }
  r.read_object("metadata", d.metadata, decode_object_meta);
  r.read_object("spec", d, [](JsonReader& s, Deployment& out) {
    s.read("replicas", out.replicas);
    s.read_object("selector", out.selector, decode_label_selector);
    s.read_object("template", out, [](JsonReader& t, Deployment& o) {
      t.read_object("metadata", o,
                    [](JsonReader& m, Deployment& oo) { m.read("labels", oo.template_labels); });
      t.read_object("spec", o, [](JsonReader& ps, Deployment& oo) {
        ps.read_list("containers", oo.containers, decode_deployment_container);
      });
    });
  });
  r.read_object("status", d, [](JsonReader& s, Deployment& out) {
    s.read("observedGeneration", out.observed_generation);
    s.read("replicas", out.status_replicas);
    s.read("updatedReplicas", out.updated_replicas);
    s.read("readyReplicas", out.ready_replicas);
    s.read("availableReplicas", out.available_replicas);
  });
  return finish(r, std::move(d));
}

core::Result<Event> decode_event(const Json& node, const std::string& path) {
  Event e;
  JsonReader r(node, path, /*strict=*/false);
  if (!node.is_object()) {
    r.type_error(path, "an Event object", node);
    return finish(r, std::move(e));
  }
  r.read_object("metadata", e.metadata, decode_object_meta);
  r.read_object("involvedObject", e.involved_object, [](JsonReader& o, ObjectReference& ref) {
    o.read("kind", ref.kind);
    o.read("namespace", ref.namespace_);
    o.read("name", ref.name);
    o.read("apiVersion", ref.api_version);
    o.read("fieldPath", ref.field_path);
  });
  r.read("reason", e.reason);
  r.read("message", e.message);
  r.read_object("source", e, [](JsonReader& s, Event& out) {
    s.read("component", out.source_component);
    s.read("host", out.source_host);
  });
  r.read("firstTimestamp", e.first_timestamp);
  r.read("lastTimestamp", e.last_timestamp);
  r.read("count", e.count);
  r.read("type", e.type);
  return finish(r, std::move(e));
}

// Go's field order and omitempty (k8s.io/api/apps/v1 types.go).
Json encode_deployment(const Deployment& d) {
  Json j = Json::object();
  j["kind"] = "Deployment";
  j["apiVersion"] = "apps/v1";
  j["metadata"] = encode_object_meta(d.metadata);
  Json spec = Json::object();
  if (d.replicas) spec["replicas"] = *d.replicas;
  if (d.selector) spec["selector"] = encode_label_selector(*d.selector);
  Json template_metadata = Json::object();
  if (!d.template_labels.empty()) {
    Json labels = Json::object();
    for (const auto& [k, v] : d.template_labels) labels[k] = v;
    template_metadata["labels"] = std::move(labels);
  }
  Json containers = Json::array();
  for (const DeploymentContainer& c : d.containers) {
    Json container = Json::object();
    container["name"] = c.name;
    if (!c.image.empty()) container["image"] = c.image;
    containers.push_back(std::move(container));
  }
  spec["template"]["metadata"] = std::move(template_metadata);
  spec["template"]["spec"]["containers"] = std::move(containers);
  j["spec"] = std::move(spec);
  Json status = Json::object();
  if (d.observed_generation != 0) status["observedGeneration"] = d.observed_generation;
  if (d.status_replicas != 0) status["replicas"] = d.status_replicas;
  if (d.updated_replicas != 0) status["updatedReplicas"] = d.updated_replicas;
  if (d.ready_replicas != 0) status["readyReplicas"] = d.ready_replicas;
  if (d.available_replicas != 0) status["availableReplicas"] = d.available_replicas;
  j["status"] = std::move(status);
  return j;
}

// k8s.io/api/core/v1 Event: firstTimestamp and lastTimestamp are metav1.Time (null when zero).
Json encode_event(const Event& e) {
  Json j = Json::object();
  j["kind"] = "Event";
  j["apiVersion"] = "v1";
  j["metadata"] = encode_object_meta(e.metadata);
  Json ref = Json::object();
  if (!e.involved_object.kind.empty()) ref["kind"] = e.involved_object.kind;
  if (!e.involved_object.namespace_.empty()) ref["namespace"] = e.involved_object.namespace_;
  if (!e.involved_object.name.empty()) ref["name"] = e.involved_object.name;
  if (!e.involved_object.api_version.empty()) ref["apiVersion"] = e.involved_object.api_version;
  if (!e.involved_object.field_path.empty()) ref["fieldPath"] = e.involved_object.field_path;
  j["involvedObject"] = std::move(ref);
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (!e.message.empty()) j["message"] = e.message;
  Json source = Json::object();
  if (!e.source_component.empty()) source["component"] = e.source_component;
  if (!e.source_host.empty()) source["host"] = e.source_host;
  j["source"] = std::move(source);
  j["firstTimestamp"] = e.first_timestamp ? Json(core::format_rfc3339(*e.first_timestamp)) : Json();
  j["lastTimestamp"] = e.last_timestamp ? Json(core::format_rfc3339(*e.last_timestamp)) : Json();
  if (e.count != 0) j["count"] = e.count;
  if (!e.type.empty()) j["type"] = e.type;
  return j;
}

}  // namespace llmscale::kube
