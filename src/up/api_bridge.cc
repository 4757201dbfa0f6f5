// ApiBridge: the embedded Kubernetes API and the fleets/controller of `up` kept in step
// (api_bridge.h).
#include "up/api_bridge.h"

#include <cstdio>
#include <functional>

#include <nlohmann/json.hpp>

#include "controller/events.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/time.h"
#include "fleet/fleet.h"
#include "kube/json_codec.h"

namespace llmscale::up {
namespace {

using core::Json;

const apiserver::GroupResource kHpas{"autoscaling", "horizontalpodautoscalers"};
const apiserver::GroupResource kDeployments{"apps", "deployments"};
const apiserver::GroupResource kPods{"", "pods"};
const apiserver::GroupResource kEvents{"", "events"};
const apiserver::GroupResource kNamespaces{"", "namespaces"};

std::string key_of(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

// FNV-1a: a stable name for an event from what makes it the same event (type, reason,
// message), so repeats update one object's count as the event recorder does.
std::string event_suffix(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

// Writes `object` over the stored one whatever its resourceVersion (the bridge owns the fields it
// writes); a write that changes nothing is a no-op in the store.
void overwrite(apiserver::Store& store, const apiserver::GroupResource& resource, Json object,
               const std::string& what) {
  object["metadata"].erase("resourceVersion");
  if (auto updated = store.update(resource, std::move(object)); !updated)
    core::log_warn("api: " + what + ": " + updated.error().message);
}

int replicas_of(const Json& deployment) {
  const Json* spec = deployment.contains("spec") ? &deployment["spec"] : nullptr;
  if (spec == nullptr || !spec->contains("replicas") || !(*spec)["replicas"].is_number_integer())
    return 1;
  return (*spec)["replicas"].get<int>();
}

// A Deployment condition, keeping the transition time of the stored one when its status did
// not change (deployment controller: util.SetDeploymentCondition).
Json condition(const Json* old_status, const std::string& type, bool ok, const std::string& reason,
               const std::string& message, const std::string& now) {
  std::string status = ok ? "True" : "False";
  std::string transition = now;
  std::string update = now;
  if (old_status != nullptr && old_status->contains("conditions")) {
    for (const Json& c : (*old_status)["conditions"]) {
      if (c.value("type", "") != type) continue;
      if (c.value("status", "") == status) transition = c.value("lastTransitionTime", now);
      if (c.value("status", "") == status && c.value("reason", "") == reason)
        update = c.value("lastUpdateTime", now);
    }
  }
  return Json{{"type", type},
              {"status", status},
              {"lastUpdateTime", update},
              {"lastTransitionTime", transition},
              {"reason", reason},
              {"message", message}};
}

}  // namespace

// The HPA's scale target: spec.replicas lives in the store (the Deployment's scale
// subresource), status and pods come from the fleet.
class ApiBridge::DeploymentTarget final : public controller::ScaleTarget {
 public:
  DeploymentTarget(apiserver::Store& store, fleet::Fleet& fleet, const ScaleCheck& check)
      : store_(store), fleet_(fleet), check_(check) {}

  core::Result<kube::Scale> get_scale() override {
    const auto& spec = fleet_.spec();
    auto stored = store_.get(kDeployments, spec.namespace_, spec.name);
    if (!stored)
      return core::make_error(core::ErrorCode::kNotFound,
                              "deployments.apps \"" + spec.name + "\" not found");
    auto scale = fleet_.get_scale();
    if (!scale) return scale;
    scale->spec_replicas = replicas_of(**stored);
    return scale;
  }

  core::Status set_replicas(std::int32_t replicas) override {
    const auto& spec = fleet_.spec();
    auto stored = store_.get(kDeployments, spec.namespace_, spec.name);
    if (!stored)
      return core::make_error(core::ErrorCode::kNotFound,
                              "deployments.apps \"" + spec.name + "\" not found");
    if (check_) {
      if (auto allowed = check_(spec.namespace_, spec.name, replicas); !allowed) return allowed;
    }
    // The fleet first: what it refuses (above --max-replicas) is the caller's error and never
    // reaches the store. The store's change then finds the fleet at that size already.
    if (auto set = fleet_.set_replicas(replicas); !set) return set;
    Json object = **stored;
    object["spec"]["replicas"] = replicas;
    object["metadata"].erase("resourceVersion");
    auto updated = store_.update(kDeployments, std::move(object));
    if (!updated) return core::make_error(core::ErrorCode::kUnavailable, updated.error().message);
    return {};
  }

  std::vector<kube::Pod> pods() override { return fleet_.pods(); }

 private:
  apiserver::Store& store_;
  fleet::Fleet& fleet_;
  const ScaleCheck& check_;  // the bridge's
};

ApiBridge::ApiBridge(apiserver::ApiServer& api, apiserver::Store& store, core::Clock& clock)
    : api_(api), store_(store), clock_(clock) {}

ApiBridge::~ApiBridge() {
  if (subscription_ != 0) store_.unsubscribe(subscription_);
}

void ApiBridge::add_fleet(fleet::Fleet& fleet, const core::Json* manifest) {
  fleets_.push_back(
      {&fleet, manifest, std::make_unique<DeploymentTarget>(store_, fleet, scale_check_)});
}

core::Status ApiBridge::ensure_namespace(const std::string& name) {
  if (store_.get(kNamespaces, "", name)) return {};
  const apiserver::ResourceType* type = api_.find("", "namespaces");
  if (type == nullptr) return core::make_error(core::ErrorCode::kInternal, "no namespaces");
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  if (auto created = api_.create(*type, std::move(ns)); !created)
    return core::invalid_argument("namespace " + name + ": " + created.error().message);
  return {};
}

// The fleet as the Deployment that would run it: its labels, selector, pod template (one
// container named like the fleet, its "image" what it runs) and its current replicas.
core::Status ApiBridge::create_deployment(const FleetEntry& entry) {
  fleet::Fleet& fleet = *entry.fleet;
  const fleet::FleetSpec& spec = fleet.spec();
  if (store_.get(kDeployments, spec.namespace_, spec.name)) return {};
  const apiserver::ResourceType* type = api_.find("apps", "deployments");
  if (type == nullptr) return core::make_error(core::ErrorCode::kInternal, "no deployments");
  auto scale = fleet.get_scale();
  if (entry.manifest != nullptr) {
    Json deployment = *entry.manifest;
    deployment.erase("status");
    deployment["metadata"]["namespace"] = spec.namespace_;
    deployment["spec"]["replicas"] = scale ? scale->spec_replicas : spec.replicas;
    if (auto created = api_.create(*type, std::move(deployment)); !created)
      return core::invalid_argument("Deployment " + spec.name + ": " + created.error().message);
    return {};
  }
  std::string image = spec.template_.serve_sim ? "serve-sim/" + spec.template_.serve_sim->flavor
                      : spec.template_.command.empty() ? std::string("local")
                                                       : spec.template_.command.front();
  Json container = {{"name", spec.name}, {"image", image}};
  Json ports = Json::array();
  for (const auto& port : spec.template_.ports) {
    Json p = {{"containerPort", port.container_port}, {"protocol", "TCP"}};
    if (!port.name.empty()) p["name"] = port.name;
    ports.push_back(std::move(p));
  }
  if (!ports.empty()) container["ports"] = std::move(ports);
  Json meta = {{"name", spec.name}, {"namespace", spec.namespace_}};
  if (!spec.labels.empty()) meta["labels"] = spec.labels;
  Json deployment = {{"apiVersion", "apps/v1"},
                     {"kind", "Deployment"},
                     {"metadata", meta},
                     {"spec",
                      {{"replicas", scale ? scale->spec_replicas : spec.replicas},
                       {"selector", kube::encode_label_selector(spec.selector)},
                       {"template",
                        {{"metadata", {{"labels", spec.template_.labels}}},
                         {"spec",
                          {{"containers", Json::array({container})},
                           {"terminationGracePeriodSeconds",
                            spec.template_.termination_grace_period_seconds}}}}}}}};
  if (auto created = api_.create(*type, std::move(deployment)); !created)
    return core::invalid_argument("Deployment " + spec.name + ": " + created.error().message);
  return {};
}

core::Status ApiBridge::start(controller::Controller& controller,
                              const std::vector<kube::HorizontalPodAutoscaler>& hpas) {
  controller_ = &controller;
  if (auto ok = ensure_namespace("default"); !ok) return ok;
  for (FleetEntry& entry : fleets_) {
    if (auto ok = ensure_namespace(entry.fleet->spec().namespace_); !ok) return ok;
    if (auto ok = create_deployment(entry); !ok) return ok;
  }
  subscription_ =
      store_.subscribe([this](const apiserver::StoreEvent& event) { on_store_event(event); });
  const apiserver::ResourceType* type = api_.find("autoscaling", "horizontalpodautoscalers");
  if (type == nullptr) return core::make_error(core::ErrorCode::kInternal, "no HPAs");
  for (const kube::HorizontalPodAutoscaler& hpa : hpas) {
    if (auto ok = ensure_namespace(hpa.metadata.namespace_); !ok) return ok;
    Json object = kube::encode_hpa(hpa);
    object["metadata"] = {{"name", hpa.metadata.name}, {"namespace", hpa.metadata.namespace_}};
    if (!hpa.metadata.labels.empty()) object["metadata"]["labels"] = hpa.metadata.labels;
    if (!hpa.metadata.annotations.empty())
      object["metadata"]["annotations"] = hpa.metadata.annotations;
    object.erase("status");
    // As if `kubectl apply -f` had created it, so a later `kubectl apply` of an edited file
    // merges three ways instead of warning about a missing annotation.
    object["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        core::to_compact_json(object) + "\n";
    if (auto created = api_.create(*type, std::move(object)); !created)
      return core::invalid_argument("HorizontalPodAutoscaler " + hpa.metadata.name + ": " +
                                    created.error().message);
  }
  sync();
  return {};
}

// Store changes are handled on the next turn of the loop (one handling per object however many
// changes came in between), never inside the store's own write.
void ApiBridge::on_store_event(const apiserver::StoreEvent& event) {
  enum Kind { kHpa, kDeployment, kPod, kPodUpdate };
  Kind kind;
  if (event.resource == kHpas.to_string()) {
    kind = kHpa;
  } else if (event.resource == kDeployments.to_string()) {
    kind = kDeployment;
  } else if (event.resource == kPods.to_string() && event.type == apiserver::EventType::kDeleted) {
    kind = kPod;
  } else if (event.resource == kPods.to_string() && event.type == apiserver::EventType::kModified) {
    kind = kPodUpdate;
  } else {
    return;
  }
  std::string key = event.resource + " " + key_of(event.namespace_, event.name);
  if (kind == kPod && deleting_pods_.erase(key_of(event.namespace_, event.name)) > 0) return;
  if (!pending_.insert(key).second) return;
  clock_.call_after(core::Duration::zero(),
                    [this, kind, key, ns = event.namespace_, name = event.name] {
                      pending_.erase(key);
                      if (kind == kHpa) apply_hpa(ns, name);
                      if (kind == kDeployment) apply_deployment(ns, name);
                      if (kind == kPod) delete_pod(ns, name);
                      if (kind == kPodUpdate) update_pod(ns, name);
                    });
}

void ApiBridge::apply_hpa(const std::string& ns, const std::string& name) {
  std::string key = key_of(ns, name);
  auto stored = store_.get(kHpas, ns, name);
  if (!stored) {
    if (applied_specs_.erase(key) > 0) controller_->remove(ns, name);
    return;
  }
  const Json& object = **stored;
  std::string spec = object.contains("spec") ? core::to_compact_json(object["spec"]) : "";
  auto it = applied_specs_.find(key);
  if (it != applied_specs_.end() && it->second == spec) return;  // a status write
  auto hpa = kube::decode_hpa(object, /*strict=*/false);
  if (!hpa) {
    // Admission validated it; only a bug gets here. Keep running the spec applied before.
    core::log_warn("api: HorizontalPodAutoscaler " + key + ": " + hpa.error().message);
    return;
  }
  applied_specs_[key] = spec;
  controller_->apply(std::move(*hpa));
}

void ApiBridge::apply_deployment(const std::string& ns, const std::string& name) {
  FleetEntry* entry = find_fleet(ns, name);
  if (entry == nullptr) return;  // a Deployment without a fleet: nothing runs it (docs/up.md)
  auto stored = store_.get(kDeployments, ns, name);
  int replicas = stored ? replicas_of(**stored) : 0;
  auto scale = entry->fleet->get_scale();
  if (scale && scale->spec_replicas == replicas) {
    if (stored) sync_deployment(*entry);  // observedGeneration follows a new generation
    return;
  }
  if (auto set = entry->fleet->set_replicas(replicas); !set)
    core::log_warn("api: Deployment " + key_of(ns, name) + ": " + set.error().message);
  if (stored) sync_deployment(*entry);
}

void ApiBridge::delete_pod(const std::string& ns, const std::string& name) {
  for (FleetEntry& entry : fleets_) {
    if (entry.fleet->spec().namespace_ != ns) continue;
    if (entry.fleet->delete_pod(name)) {
      mirrored_pods_.erase(key_of(ns, name));
      sync_pods(entry);
      return;
    }
  }
}

// A client's change of a pod's annotations (`kubectl annotate pod`, a PATCH of
// controller.kubernetes.io/pod-deletion-cost) reaches the fleet's pod, as the kubelet would
// keep it; the bridge's own writes compare equal and change nothing.
void ApiBridge::update_pod(const std::string& ns, const std::string& name) {
  for (FleetEntry& entry : fleets_) {
    if (entry.fleet->spec().namespace_ != ns) continue;
    if (import_annotations(entry, ns, name)) {
      sync_pods(entry);
      return;
    }
  }
}

bool ApiBridge::import_annotations(FleetEntry& entry, const std::string& ns,
                                   const std::string& name) {
  std::string key = key_of(ns, name);
  auto written = written_annotations_.find(key);
  if (written == written_annotations_.end()) return false;
  auto stored = store_.get(kPods, ns, name);
  if (!stored) return false;
  const Json& meta = (*stored)->at("metadata");
  Json annotations = meta.contains("annotations") && meta["annotations"].is_object()
                         ? meta["annotations"]
                         : Json::object();
  if (annotations == written->second) return false;
  for (const auto& [k, v] : annotations.items()) {
    if (!v.is_string()) continue;
    if (written->second.contains(k) && written->second[k] == v) continue;
    if (auto set = entry.fleet->annotate_pod(name, k, v.get<std::string>()); !set) return false;
  }
  for (const auto& [k, v] : written->second.items()) {
    if (!annotations.contains(k)) (void)entry.fleet->annotate_pod(name, k, std::nullopt);
  }
  written->second = std::move(annotations);
  return true;
}

ApiBridge::FleetEntry* ApiBridge::find_fleet(const std::string& ns, const std::string& name) {
  for (FleetEntry& entry : fleets_) {
    const auto& spec = entry.fleet->spec();
    if (spec.namespace_ == ns && spec.name == name) return &entry;
  }
  return nullptr;
}

core::Result<controller::ScaleTarget*> ApiBridge::resolve(
    const std::string& ns, const kube::CrossVersionObjectReference& ref) {
  if (ref.kind == "Deployment" || ref.kind == "Fleet") {
    if (FleetEntry* entry = find_fleet(ns, ref.name))
      return static_cast<controller::ScaleTarget*>(entry->target.get());
  }
  std::string resource =
      ref.kind == "Deployment" ? "deployments.apps" : core::to_lower(ref.kind) + "s";
  return core::make_error(core::ErrorCode::kNotFound, resource + " \"" + ref.name + "\" not found");
}

void ApiBridge::sync() {
  for (FleetEntry& entry : fleets_) {
    sync_pods(entry);
    sync_deployment(entry);
  }
}

// What the Deployment controller writes into status (deployment/sync.go: calculateStatus):
// counts over the non-terminating pods; available = ready (minReadySeconds 0).
void ApiBridge::sync_deployment(FleetEntry& entry) {
  const auto& spec = entry.fleet->spec();
  auto stored = store_.get(kDeployments, spec.namespace_, spec.name);
  if (!stored) return;
  const Json& object = **stored;
  int desired = replicas_of(object);
  int replicas = 0;
  int ready = 0;
  for (const kube::Pod& pod : entry.fleet->pods()) {
    if (pod.metadata.deletion_timestamp) continue;
    ++replicas;
    const kube::PodCondition* condition = pod.ready_condition();
    if (condition != nullptr && condition->status == "True") ++ready;
  }
  const Json* old_status = object.contains("status") ? &object["status"] : nullptr;
  std::string now = core::format_rfc3339(clock_.now());
  Json status = Json::object();
  status["observedGeneration"] = object["metadata"].value("generation", std::int64_t{1});
  if (replicas > 0) status["replicas"] = replicas;
  if (replicas > 0) status["updatedReplicas"] = replicas;
  if (ready > 0) status["readyReplicas"] = ready;
  if (ready > 0) status["availableReplicas"] = ready;
  if (replicas - ready > 0) status["unavailableReplicas"] = replicas - ready;
  // maxUnavailable 25% of desired, rounded down (intstr.GetScaledValueFromIntOrPercent).
  int max_unavailable = desired / 4;
  bool available = ready >= desired - max_unavailable;
  std::string rs = spec.name + "-" + entry.fleet->pod_template_hash();
  Json conditions = Json::array();
  conditions.push_back(
      condition(old_status, "Available", available,
                available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                available ? "Deployment has minimum availability."
                          : "Deployment does not have minimum availability.",
                now));
  bool complete = replicas == desired && ready == desired;
  conditions.push_back(condition(old_status, "Progressing", true,
                                 complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                                 complete ? "ReplicaSet \"" + rs + "\" has successfully progressed."
                                          : "ReplicaSet \"" + rs + "\" is progressing.",
                                 now));
  status["conditions"] = std::move(conditions);
  if (old_status != nullptr) {
    // Same counts and condition states: keep the stored status (no new resourceVersion).
    Json a = status;
    Json b = *old_status;
    for (Json* s : {&a, &b})
      if (s->contains("conditions"))
        for (Json& c : (*s)["conditions"]) c.erase("lastUpdateTime"), c.erase("lastTransitionTime");
    if (a == b) return;
  }
  Json updated = object;
  updated["status"] = std::move(status);
  overwrite(store_, kDeployments, std::move(updated), "Deployment " + spec.name);
}

// The fleet's pods as the kubelet reports them, owned by the fleet's ReplicaSet.
void ApiBridge::sync_pods(FleetEntry& entry) {
  const auto& spec = entry.fleet->spec();
  std::string rs = spec.name + "-" + entry.fleet->pod_template_hash();
  std::set<std::string> present;
  std::vector<std::string> pending_imports;
  // What clients wrote into the pods' annotations since the last sync goes to the fleet first,
  // so the overwrite below keeps it.
  for (const auto& [key, _] : written_annotations_) {
    std::size_t slash = key.find('/');
    if (key.compare(0, slash, spec.namespace_) == 0 && slash == spec.namespace_.size() &&
        key.compare(slash + 1, spec.name.size() + 1, spec.name + "-") == 0)
      pending_imports.push_back(key.substr(slash + 1));
  }
  for (const std::string& name : pending_imports)
    (void)import_annotations(entry, spec.namespace_, name);
  for (const kube::Pod& pod : entry.fleet->pods()) {
    std::string key = key_of(pod.metadata.namespace_, pod.metadata.name);
    present.insert(key);
    Json object = kube::encode_pod(pod);
    written_annotations_[key] = object["metadata"].contains("annotations")
                                    ? object["metadata"]["annotations"]
                                    : Json::object();
    object["metadata"]["ownerReferences"] = Json::array({Json{{"apiVersion", "apps/v1"},
                                                              {"kind", "ReplicaSet"},
                                                              {"name", rs},
                                                              {"uid", ""},
                                                              {"controller", true},
                                                              {"blockOwnerDeletion", true}}});
    object["spec"]["nodeName"] = "localhost";
    object["spec"]["terminationGracePeriodSeconds"] =
        spec.template_.termination_grace_period_seconds;
    if (!object["status"].contains("hostIP") && object["status"].contains("podIP"))
      object["status"]["hostIP"] = object["status"]["podIP"];
    std::string text = core::to_compact_json(object);
    auto it = mirrored_pods_.find(key);
    if (it != mirrored_pods_.end() && it->second == text) continue;
    auto stored = store_.get(kPods, pod.metadata.namespace_, pod.metadata.name);
    if (stored) {
      overwrite(store_, kPods, std::move(object), "Pod " + key);
    } else if (auto created = store_.create(kPods, std::move(object), /*keep_identity=*/true);
               !created) {
      core::log_warn("api: Pod " + key + ": " + created.error().message);
    }
    mirrored_pods_[key] = std::move(text);
  }
  // Pods the fleet no longer has: gone from the API too.
  for (auto it = mirrored_pods_.begin(); it != mirrored_pods_.end();) {
    const std::string& key = it->first;
    std::size_t slash = key.find('/');
    std::string ns = key.substr(0, slash);
    if (ns != spec.namespace_ || present.count(key) != 0 ||
        key.compare(slash + 1, spec.name.size() + 1, spec.name + "-") != 0) {
      ++it;
      continue;
    }
    std::string name = key.substr(slash + 1);
    written_annotations_.erase(key);
    deleting_pods_.insert(key);
    if (!store_.remove(kPods, ns, name)) deleting_pods_.erase(key);
    it = mirrored_pods_.erase(it);
  }
}

void ApiBridge::on_pass(const controller::HpaView& view) {
  const auto& meta = view.hpa.metadata;
  auto stored = store_.get(kHpas, meta.namespace_, meta.name);
  if (!stored) return;
  Json status = kube::encode_hpa_status(view.hpa.status);
  if (!(*stored)->contains("status") || (**stored)["status"] != status) {
    Json object = **stored;
    object["status"] = std::move(status);
    overwrite(store_, kHpas, std::move(object), "HorizontalPodAutoscaler " + meta.name);
  }
  // Events: one object per distinct (type, reason, message); repeats update its count.
  std::set<std::string>& names = hpa_events_[key_of(meta.namespace_, meta.name)];
  std::set<std::string> current;
  // kubectl describe finds an object's events by involvedObject.uid too.
  std::string uid = (*stored)->at("metadata").value("uid", "");
  for (Json& event : controller::encode_hpa_events(view.hpa, view.events))
    current.insert(store_event(meta.namespace_, uid, std::move(event)));
  // The controller keeps the newest events of each HPA; older ones leave the API with them
  // (kube-apiserver expires events after --event-ttl, an hour).
  for (const std::string& name : names)
    if (current.count(name) == 0) (void)store_.remove(kEvents, meta.namespace_, name);
  names = std::move(current);
}

std::string ApiBridge::store_event(const std::string& ns, const std::string& uid, Json event) {
  event["involvedObject"]["uid"] = uid;
  std::string name = event["involvedObject"].value("name", "") + "." +
                     event_suffix(event.value("type", "") + "\n" + event.value("reason", "") +
                                  "\n" + event.value("message", ""));
  event["metadata"]["name"] = name;
  auto existing = store_.get(kEvents, ns, name);
  if (!existing) {
    if (auto created = store_.create(kEvents, std::move(event)); !created)
      core::log_warn("api: Event " + name + ": " + created.error().message);
    return name;
  }
  Json merged = **existing;
  for (const char* field : {"count", "lastTimestamp", "firstTimestamp", "involvedObject"})
    merged[field] = event[field];
  if (merged != **existing) overwrite(store_, kEvents, std::move(merged), "Event " + name);
  return name;
}

void ApiBridge::record_event(const kube::HorizontalPodAutoscaler& hpa,
                             const controller::RecordedEvent& event, const std::string& component) {
  const auto& meta = hpa.metadata;
  auto stored = store_.get(kHpas, meta.namespace_, meta.name);
  if (!stored) return;
  Json events = controller::encode_hpa_events(hpa, {event});
  Json object = std::move(events.at(0));
  object["source"]["component"] = component;
  // Not in hpa_events_: the HPA's passes leave it alone (it has its own reason).
  (void)store_event(meta.namespace_, (*stored)->at("metadata").value("uid", ""), std::move(object));
}

}  // namespace llmscale::up
