// The resources the embedded API server serves, with the API server's defaulting, validation
// and kubectl's server-side table columns (pkg/printers/internalversion/printers.go).
#include <nlohmann/json.hpp>

#include "apiserver/resource.h"

#include "apiserver/event_v1.h"
#include "apiserver/hpa_v1.h"
#include "core/json_reader.h"
#include "core/strings.h"
#include "core/time.h"
#include "kube/hpa_validation.h"
#include "kube/json_codec.h"
#include "kube/names.h"
#include "kube/objects.h"
#include "kube/printers.h"

namespace llmscale::apiserver {
namespace {

using core::Json;

const Json* at_path(const Json& object, std::string_view path) {
  const Json* node = &object;
  for (std::string_view part : core::split(path, '.')) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(std::string(part));
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

std::string string_at(const Json& object, std::string_view path) {
  const Json* v = at_path(object, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

std::int64_t int_at(const Json& object, std::string_view path, std::int64_t fallback = 0) {
  const Json* v = at_path(object, path);
  return v != nullptr && v->is_number_integer() ? v->get<std::int64_t>() : fallback;
}

// translateTimestampSince: "<unknown>" for a missing timestamp.
Json age(const Json& object, std::string_view path, core::Time now) {
  std::string text = string_at(object, path);
  if (text.empty()) return "<unknown>";
  auto t = core::parse_rfc3339(text);
  if (!t) return "<unknown>";
  return kube::human_duration(now - *t);
}

TableColumn name_column() {
  return {"Name", "string", "name",
          "Name must be unique within a namespace. Is required when creating resources, although "
          "some resources may allow a client to request the generation of an appropriate name "
          "automatically. Name is primarily intended for creation idempotence and configuration "
          "definition. Cannot be updated. More info: "
          "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
          0};
}

TableColumn age_column() {
  return {"Age", "string", "",
          "CreationTimestamp is a timestamp representing the server time when this object was "
          "created. It is not guaranteed to be set in happens-before order across separate "
          "operations. Clients may not set this value. It is represented in RFC3339 form and is "
          "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
          "api-conventions.md#metadata",
          0};
}

// metadata.name: required (or generateName), a DNS-1123 subdomain, as ValidateObjectMeta.
kube::FieldErrors validate_name(const Json& object) {
  kube::FieldErrors errors;
  std::string name = string_at(object, "metadata.name");
  if (name.empty()) {
    errors.push_back(kube::required("metadata.name", "name or generateName is required"));
    return errors;
  }
  for (const std::string& problem : kube::is_dns1123_subdomain(name))
    errors.push_back(kube::invalid("metadata.name", kube::quoted_value(name), problem));
  return errors;
}

// ---- autoscaling/v2 HorizontalPodAutoscaler --------------------------------------------------

ApiOutcome admit_hpa(Json& object, const Json* old, bool strict) {
  (void)old;
  auto decoded = kube::decode_hpa(object, strict);
  if (!decoded && strict) {
    // Strict field validation: the API server's 400 with the decoder's message.
    return tl::unexpected(bad_request(decoded.error().message));
  }
  if (!decoded) decoded = kube::decode_hpa(object, /*strict=*/false);
  if (!decoded) return tl::unexpected(bad_request(decoded.error().message));
  kube::HorizontalPodAutoscaler hpa = std::move(*decoded);
  kube::ApiServerGates gates;
  kube::apply_hpa_defaults(hpa);
  kube::drop_disabled_fields(hpa, gates);
  kube::FieldErrors errors = validate_name(object);
  kube::FieldErrors spec_errors = kube::validate_hpa(hpa, gates);
  errors.insert(errors.end(), spec_errors.begin(), spec_errors.end());
  if (!errors.empty())
    return tl::unexpected(
        invalid("autoscaling", "HorizontalPodAutoscaler", hpa.metadata.name, errors));
  // The canonical form: what the API server stores after defaulting.
  object["apiVersion"] = "autoscaling/v2";
  object["kind"] = "HorizontalPodAutoscaler";
  object["spec"] = kube::encode_hpa_spec(hpa.spec);
  object["status"] = kube::encode_hpa_status(hpa.status);
  return {};
}

std::vector<Json> hpa_cells(const Json& object, core::Time now) {
  auto hpa = kube::decode_hpa(object, /*strict=*/false);
  if (!hpa) return {string_at(object, "metadata.name"), "", "", "", "", "", ""};
  std::vector<std::string> row = kube::hpa_table_row(*hpa, now);
  std::vector<Json> cells;
  for (std::size_t i = 0; i < row.size(); ++i) {
    // MINPODS, MAXPODS and REPLICAS are integers in the API server's table.
    if (i >= 3 && i <= 5 && !row[i].empty() &&
        row[i].find_first_not_of("0123456789") == std::string::npos) {
      cells.emplace_back(std::stoll(row[i]));
    } else {
      cells.emplace_back(row[i]);
    }
  }
  return cells;
}

// ---- v1 Pod ----------------------------------------------------------------------------------

std::vector<Json> pod_cells(const Json& object, core::Time now) {
  auto pod = kube::decode_pod(object, "");
  std::vector<Json> cells;
  if (pod) {
    std::vector<std::string> row = kube::pod_table_row(*pod, now);
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (i == 3) {
        // RESTARTS is a string cell ("2 (5m ago)") in the API server's table too.
        cells.emplace_back(row[i]);
      } else {
        cells.emplace_back(row[i]);
      }
    }
  } else {
    cells = {string_at(object, "metadata.name"), "0/0", "", "0",
             age(object, "metadata.creationTimestamp", now)};
  }
  std::string ip = string_at(object, "status.podIP");
  std::string node = string_at(object, "spec.nodeName");
  cells.emplace_back(ip.empty() ? "<none>" : ip);
  cells.emplace_back(node.empty() ? "<none>" : node);
  cells.emplace_back("<none>");
  cells.emplace_back("<none>");
  return cells;
}

ApiOutcome admit_pod(Json& object, const Json* old, bool strict) {
  (void)old;
  (void)strict;
  kube::FieldErrors errors = validate_name(object);
  const Json* containers = at_path(object, "spec.containers");
  if (containers == nullptr || !containers->is_array() || containers->empty())
    errors.push_back(kube::required("spec.containers", ""));
  // Kubernetes: ValidatePodSpecificAnnotations (on create and update) — a pod-deletion-cost that
  // GetDeletionCostFromPodAnnotations cannot read is refused.
  const Json* annotations = at_path(object, "metadata.annotations");
  if (annotations != nullptr && annotations->is_object()) {
    auto cost = annotations->find(kube::kPodDeletionCost);
    if (cost != annotations->end() && cost->is_string()) {
      const std::string value = cost->get<std::string>();
      if (!kube::pod_deletion_cost({{kube::kPodDeletionCost, value}})) {
        errors.push_back(
            kube::invalid(std::string("metadata.annotations[") + kube::kPodDeletionCost + "]",
                          kube::quoted_value(value), "must be a 32bit integer"));
      }
    }
  }
  if (!errors.empty())
    return tl::unexpected(invalid("", "Pod", string_at(object, "metadata.name"), errors));
  if (!object.contains("status")) object["status"] = {{"phase", "Pending"}};
  return {};
}

// ---- apps/v1 Deployment ----------------------------------------------------------------------

ApiOutcome admit_deployment(Json& object, const Json* old, bool strict) {
  (void)old;
  (void)strict;
  kube::FieldErrors errors = validate_name(object);
  Json& spec = object["spec"];
  if (!spec.is_object()) spec = Json::object();
  // SetDefaults_Deployment.
  if (!spec.contains("replicas") || spec["replicas"].is_null()) spec["replicas"] = 1;
  if (!spec.contains("revisionHistoryLimit")) spec["revisionHistoryLimit"] = 10;
  if (!spec.contains("progressDeadlineSeconds")) spec["progressDeadlineSeconds"] = 600;
  if (!spec.contains("strategy"))
    spec["strategy"] = {{"type", "RollingUpdate"},
                        {"rollingUpdate", {{"maxUnavailable", "25%"}, {"maxSurge", "25%"}}}};
  const Json& replicas = spec["replicas"];
  if (!replicas.is_number_integer()) {
    return tl::unexpected(bad_request(
        "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal " +
        std::string(replicas.type_name()) +
        " into Go struct field DeploymentSpec.spec.replicas of "
        "type int32"));
  }
  if (replicas.get<std::int64_t>() < 0)
    errors.push_back(kube::invalid("spec.replicas", std::to_string(replicas.get<std::int64_t>()),
                                   "must be greater than or equal to 0"));
  const Json* selector = at_path(object, "spec.selector");
  if (selector == nullptr || !selector->is_object() || selector->empty()) {
    errors.push_back(kube::required("spec.selector", ""));
  } else {
    kube::LabelSelector parsed;
    core::JsonReader reader(*selector, "spec.selector", /*strict=*/false);
    kube::decode_label_selector(reader, parsed);
    auto compiled = kube::to_selector(parsed);
    const Json* labels = at_path(object, "spec.template.metadata.labels");
    kube::Labels template_labels;
    if (labels != nullptr && labels->is_object())
      for (auto it = labels->begin(); it != labels->end(); ++it)
        if (it->is_string()) template_labels[it.key()] = it->get<std::string>();
    if (!compiled || compiled->empty()) {
      errors.push_back(
          kube::invalid("spec.selector", "{}", "empty selector is invalid for deployment"));
    } else if (!compiled->matches(template_labels)) {
      errors.push_back(kube::invalid("spec.template.metadata.labels", "map[string]string{...}",
                                     "`selector` does not match template `labels`"));
    }
  }
  if (!errors.empty())
    return tl::unexpected(
        invalid("apps", "Deployment", string_at(object, "metadata.name"), errors));
  if (!object.contains("status")) object["status"] = Json::object();
  return {};
}

std::string selector_string(const Json& object) {
  const Json* selector = at_path(object, "spec.selector");
  if (selector == nullptr || !selector->is_object()) return "<none>";
  kube::LabelSelector parsed;
  core::JsonReader reader(*selector, "spec.selector", /*strict=*/false);
  kube::decode_label_selector(reader, parsed);
  auto compiled = kube::to_selector(parsed);
  if (!compiled) return "<invalid>";
  std::string text = compiled->to_string();
  return text.empty() ? "<none>" : text;
}

std::vector<Json> deployment_cells(const Json& object, core::Time now) {
  std::vector<std::string> names;
  std::vector<std::string> images;
  if (const Json* containers = at_path(object, "spec.template.spec.containers");
      containers != nullptr && containers->is_array()) {
    for (const Json& c : *containers) {
      names.push_back(c.value("name", ""));
      images.push_back(c.value("image", ""));
    }
  }
  std::int64_t desired = int_at(object, "spec.replicas", 1);
  return {string_at(object, "metadata.name"),
          std::to_string(int_at(object, "status.readyReplicas")) + "/" + std::to_string(desired),
          int_at(object, "status.updatedReplicas"),
          int_at(object, "status.availableReplicas"),
          age(object, "metadata.creationTimestamp", now),
          core::join(names, ","),
          core::join(images, ","),
          selector_string(object)};
}

// ---- v1 Event --------------------------------------------------------------------------------

std::vector<Json> event_cells(const Json& object, core::Time now) {
  Json first = age(object, "firstTimestamp", now);
  if (string_at(object, "firstTimestamp").empty()) first = age(object, "eventTime", now);
  Json last = age(object, "lastTimestamp", now);
  if (string_at(object, "lastTimestamp").empty()) last = first;
  std::int64_t count = int_at(object, "count");
  if (const Json* series = at_path(object, "series"); series != nullptr && series->is_object()) {
    last = age(object, "series.lastObservedTime", now);
    count = int_at(object, "series.count");
  } else if (count == 0) {
    count = 1;
  }
  std::string kind = core::to_lower(string_at(object, "involvedObject.kind"));
  std::string name = string_at(object, "involvedObject.name");
  std::string target = name.empty() ? kind : kind + "/" + name;
  std::string source = string_at(object, "source.component");
  if (source.empty()) source = string_at(object, "reportingComponent");
  std::string host = string_at(object, "source.host");
  if (!host.empty()) source += ", " + host;
  return {last,
          string_at(object, "type"),
          string_at(object, "reason"),
          target,
          string_at(object, "involvedObject.fieldPath"),
          source,
          std::string(core::trim(string_at(object, "message"))),
          first,
          count,
          string_at(object, "metadata.name")};
}

ApiOutcome admit_any(Json& object, const Json* old, bool strict) {
  (void)old;
  (void)strict;
  kube::FieldErrors errors = validate_name(object);
  if (!errors.empty()) return tl::unexpected(bad_request(kube::aggregate(errors)));
  return {};
}

}  // namespace

std::vector<ResourceType> builtin_resources() {
  std::vector<ResourceType> out;

  ResourceType ns;
  ns.version = "v1";
  ns.resource = "namespaces";
  ns.singular = "namespace";
  ns.kind = "Namespace";
  ns.namespaced = false;
  ns.short_names = {"ns"};
  ns.status_subresource = true;
  ns.field_labels = {"status.phase"};
  ns.admit = [](Json& object, const Json* old, bool strict) -> ApiOutcome {
    if (auto ok = admit_any(object, old, strict); !ok) return ok;
    object["spec"] = {{"finalizers", Json::array({"kubernetes"})}};
    object["status"] = {{"phase", "Active"}};
    Json& labels = object["metadata"]["labels"];
    if (!labels.is_object()) labels = Json::object();
    labels["kubernetes.io/metadata.name"] = string_at(object, "metadata.name");
    return {};
  };
  ns.columns = {
      name_column(), {"Status", "string", "", "The status of the namespace", 0}, age_column()};
  ns.cells = [](const Json& o, core::Time now) -> std::vector<Json> {
    return {string_at(o, "metadata.name"), string_at(o, "status.phase"),
            age(o, "metadata.creationTimestamp", now)};
  };
  out.push_back(std::move(ns));

  ResourceType pods;
  pods.version = "v1";
  pods.resource = "pods";
  pods.singular = "pod";
  pods.kind = "Pod";
  pods.short_names = {"po"};
  pods.categories = {"all"};
  pods.status_subresource = true;
  pods.field_labels = {
      "spec.nodeName",    "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
      "spec.hostNetwork", "status.phase",       "status.podIP",       "status.nominatedNodeName"};
  pods.admit = admit_pod;
  pods.columns = {
      name_column(),
      {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
       0},
      {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
      {"Restarts", "string", "",
       "The number of times the containers in this pod have been restarted and when the last "
       "container in this pod has restarted.",
       0},
      age_column(),
      {"IP", "string", "",
       "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
       "allocated.",
       1},
      {"Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1},
      {"Nominated Node", "string", "",
       "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot "
       "be scheduled right away as preemption victims receive their graceful termination periods.",
       1},
      {"Readiness Gates", "string", "",
       "If specified, all readiness gates will be evaluated for pod readiness.", 1}};
  pods.cells = pod_cells;
  out.push_back(std::move(pods));

  ResourceType events;
  events.version = "v1";
  events.resource = "events";
  events.singular = "event";
  events.kind = "Event";
  events.short_names = {"ev"};
  events.field_labels = {"involvedObject.kind",
                         "involvedObject.namespace",
                         "involvedObject.name",
                         "involvedObject.uid",
                         "involvedObject.apiVersion",
                         "involvedObject.resourceVersion",
                         "involvedObject.fieldPath",
                         "reason",
                         "reportingComponent",
                         "source",
                         "type"};
  events.admit = admit_any;
  events.columns = {
      {"Last Seen", "string", "", "", 0},
      {"Type", "string", "",
       "Type of this event (Normal, Warning), new types could be added in the future.", 0},
      {"Reason", "string", "",
       "A short, machine understandable string that gives the reason for the transition into the "
       "object's current status.",
       0},
      {"Object", "string", "", "", 0},
      {"Subobject", "string", "", "", 1},
      {"Source", "string", "", "", 1},
      {"Message", "string", "", "A human-readable description of the status of this operation.", 0},
      {"First Seen", "string", "", "", 1},
      {"Count", "string", "", "The number of times this event has occurred.", 1},
      {"Name", "string", "name", "", 1}};
  events.cells = event_cells;
  // events.k8s.io/v1: the same objects in the newer shape (regarding, note, ...).
  ResourceType events_v1 = events;
  events_v1.group = "events.k8s.io";
  events_v1.storage_group = std::string();  // the core group's
  events_v1.field_labels = {};
  events_v1.to_storage = event_v1_to_core;
  events_v1.from_storage = event_core_to_v1;
  out.push_back(std::move(events));

  ResourceType deployments;
  deployments.group = "apps";
  deployments.version = "v1";
  deployments.resource = "deployments";
  deployments.singular = "deployment";
  deployments.kind = "Deployment";
  deployments.short_names = {"deploy"};
  deployments.categories = {"all"};
  deployments.status_subresource = true;
  deployments.scale_subresource = true;
  deployments.admit = admit_deployment;
  deployments.columns = {
      name_column(),
      {"Ready", "string", "", "Number of the pod with ready state", 0},
      {"Up-to-date", "integer", "",
       "Total number of non-terminated pods targeted by this deployment that have the desired "
       "template spec.",
       0},
      {"Available", "integer", "",
       "Total number of available pods (ready for at least minReadySeconds) targeted by this "
       "deployment.",
       0},
      age_column(),
      {"Containers", "string", "", "Names of each container in the template.", 1},
      {"Images", "string", "", "Images referenced by each container in the template.", 1},
      {"Selector", "string", "",
       "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
       "ones affected by this deployment.",
       1}};
  deployments.cells = deployment_cells;
  out.push_back(std::move(deployments));

  ResourceType hpas;
  hpas.group = "autoscaling";
  hpas.version = "v2";
  hpas.resource = "horizontalpodautoscalers";
  hpas.singular = "horizontalpodautoscaler";
  hpas.kind = "HorizontalPodAutoscaler";
  hpas.short_names = {"hpa"};
  hpas.categories = {"all"};
  hpas.status_subresource = true;
  hpas.admit = admit_hpa;
  hpas.columns = {
      name_column(),
      {"Reference", "string", "", "reference to scaled resource", 0},
      {"Targets", "string", "", "the target utilization of the scaled resource", 0},
      {"MinPods", "string", "", "minimum number of replicas of the scaled resource", 0},
      {"MaxPods", "integer", "", "maximum number of replicas of the scaled resource", 0},
      {"Replicas", "integer", "", "current number of replicas of the scaled resource", 0},
      age_column()};
  hpas.cells = hpa_cells;
  // autoscaling/v1: the same objects, converted (the v2 storage version is listed first, so it
  // is the group's preferred version, as on kube-apiserver).
  ResourceType hpas_v1 = hpas;
  hpas_v1.version = "v1";
  hpas_v1.to_storage = hpa_v1_to_v2;
  hpas_v1.from_storage = hpa_v2_to_v1;
  out.push_back(std::move(hpas));
  out.push_back(std::move(hpas_v1));

  ResourceType leases;
  leases.group = "coordination.k8s.io";
  leases.version = "v1";
  leases.resource = "leases";
  leases.singular = "lease";
  leases.kind = "Lease";
  leases.admit = admit_any;
  leases.columns = {
      name_column(), {"Holder", "string", "", "The holder of the lease", 0}, age_column()};
  leases.cells = [](const Json& o, core::Time now) -> std::vector<Json> {
    std::string holder = string_at(o, "spec.holderIdentity");
    return {string_at(o, "metadata.name"), holder.empty() ? "<none>" : holder,
            age(o, "metadata.creationTimestamp", now)};
  };
  out.push_back(std::move(leases));

  ResourceType monitorings;
  monitorings.group = "monitoring.googleapis.com";
  monitorings.version = "v1";
  monitorings.resource = "podmonitorings";
  monitorings.singular = "podmonitoring";
  monitorings.kind = "PodMonitoring";
  monitorings.status_subresource = true;
  monitorings.admit = admit_any;
  out.push_back(std::move(monitorings));

  out.push_back(std::move(events_v1));
  return out;
}

}  // namespace llmscale::apiserver
