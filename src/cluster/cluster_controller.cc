// The cluster-mode reconcile loop over the Kubernetes API; see cluster_controller.h.
#include "cluster/cluster_controller.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "cluster/pod_index.h"
#include "controller/monitor.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "core/strings.h"
#include "hpa/metric_requests.h"
#include "hpa/reconcile_io.h"
#include "kube/json_codec.h"

namespace llmscale::cluster {

using core::Json;
using kubeclient::ApiError;
using kubeclient::ResourceRef;
using namespace std::chrono_literals;

kubeclient::ResourceRef autoscalers_resource() {
  return {"autoscaling.llmscale.io", "v1alpha1", "llmautoscalers", true};
}

namespace {

// An informer's cache key, "namespace/name" (or "name"), as namespace and name.
std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

std::string meta_field(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const Json& meta = object["metadata"];
  return meta.is_object() ? meta.value(key, "") : "";
}

// The REST resource of a scaleTargetRef. Kubernetes resolves kinds through discovery (a
// RESTMapper); the kinds autoscalers target are mapped here, others by the lower-case plural.
ResourceRef target_resource(const kube::CrossVersionObjectReference& ref) {
  ResourceRef resource;
  auto slash = ref.api_version.find('/');
  if (slash == std::string::npos) {
    resource.version = ref.api_version;
  } else {
    resource.group = ref.api_version.substr(0, slash);
    resource.version = ref.api_version.substr(slash + 1);
  }
  std::string lower = core::to_lower(ref.kind);
  resource.resource = lower.ends_with("s") ? lower + "es" : lower + "s";
  return resource;
}

std::string group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// Records the engine's write; the controller performs it afterwards, over the network.
class CapturingWriter final : public hpa::ScaleWriter {
 public:
  core::Status set_replicas(std::int32_t replicas) override {
    requested = replicas;
    return {};
  }
  std::optional<std::int32_t> requested;
};

class FailingWriter final : public hpa::ScaleWriter {
 public:
  explicit FailingWriter(std::string message) : message_(std::move(message)) {}
  core::Status set_replicas(std::int32_t) override {
    return core::make_error(core::ErrorCode::kUnavailable, message_);
  }

 private:
  std::string message_;
};

// An autoscaling/v1 Scale as the API serves it.
core::Result<kube::Scale> decode_scale_object(const Json& object) {
  kube::Scale scale;
  const Json& spec = object.contains("spec") ? object["spec"] : Json::object();
  const Json& status = object.contains("status") ? object["status"] : Json::object();
  if (!spec.is_object() || !status.is_object()) {
    return core::invalid_argument("scale: spec and status must be objects");
  }
  scale.spec_replicas = spec.value("replicas", 0);
  scale.status_replicas = status.value("replicas", 0);
  scale.selector = status.value("selector", "");
  return scale;
}

Json event_object(const Json& involved, const hpa::Event& event, const std::string& component,
                  core::Time now) {
  std::string name = meta_field(involved, "name");
  std::string ns = meta_field(involved, "namespace");
  Json ref = {{"apiVersion", involved.value("apiVersion", "")},
              {"kind", involved.value("kind", "")},
              {"name", name},
              {"namespace", ns},
              {"uid", meta_field(involved, "uid")},
              {"resourceVersion", meta_field(involved, "resourceVersion")}};
  std::string stamp = std::to_string(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
  Json object = {{"apiVersion", "v1"},
                 {"kind", "Event"},
                 {"metadata", {{"name", name + "." + stamp}, {"namespace", ns}}},
                 {"involvedObject", ref},
                 {"reason", event.reason},
                 {"message", event.message},
                 {"type", event.type},
                 {"source", {{"component", component}}},
                 {"firstTimestamp", core::format_rfc3339(now)},
                 {"lastTimestamp", core::format_rfc3339(now)},
                 {"count", 1}};
  return object;
}

}  // namespace

struct ClusterController::State {
  State(kubeclient::RestClient& client, adapter::AsyncMetricsProvider& metrics,
        std::unique_ptr<adapter::SyncMetricsProvider> owned, ClusterControllerOptions options,
        std::function<bool()> may_act)
      : client(client),
        owned_provider(std::move(owned)),
        provider(metrics),
        options(std::move(options)),
        may_act(std::move(may_act)) {}

  kubeclient::RestClient& client;
  std::unique_ptr<adapter::SyncMetricsProvider> owned_provider;  // a synchronous one, wrapped
  // Asked in each pass's fetch phase (timed for the HPA monitor's families) and for the
  // pod-deletion-cost reads (which they do not count).
  adapter::AsyncMetricsProvider& provider;
  ClusterControllerOptions options;
  std::function<bool()> may_act;
  ControllerMetrics metrics;
  // kube-controller-manager's horizontal_pod_autoscaler_controller_* families (monitor.h).
  controller::HpaControllerMetrics hpa_metrics;
  std::unique_ptr<kubeclient::Informer> objects;
  // Native HPAs for the conflict check (not in advisory mode, where `objects` holds them).
  std::unique_ptr<kubeclient::Informer> native_hpas;
  // Pods, decoded and indexed by label (the HPA controller's pod lister): a pass reads its
  // target's pods from here instead of a LIST.
  std::unique_ptr<kubeclient::Informer> pods;
  PodIndex pod_index;
  std::map<std::string, core::Time> next_pass;  // key ns/name
  std::set<std::string> dirty;
  bool stopped = false;
  bool running = false;

  bool acting() {
    if (!may_act || may_act()) return true;
    ++metrics.skipped_not_leader;
    return false;
  }

  ResourceRef watched() const {
    return options.advisory ? kubeclient::hpas_resource() : autoscalers_resource();
  }

  net::Awaitable<void> post_events(const Json& involved, const std::vector<hpa::Event>& events) {
    for (const hpa::Event& event : events) {
      if (!acting()) co_return;
      Json object = event_object(involved, event, options.component, client.clock().now());
      auto created = co_await client.create(kubeclient::events_resource(),
                                            meta_field(involved, "namespace"), std::move(object));
      if (!created) {
        core::log_warn("controller: writing event " + event.reason +
                       " failed: " + created.error().to_string());
      }
    }
  }

  // The native HPA in `ns` that targets the same object, if any: from the informer's cache when
  // it has synced (as the HPA controller reads its listers), else one LIST.
  net::Awaitable<kubeclient::ApiResult<std::string>> conflicting_hpa(
      std::string ns, kube::CrossVersionObjectReference target) {
    std::vector<Json> items;
    if (native_hpas && native_hpas->has_synced()) {
      native_hpas->for_each(ns, [&](const Json& item) {
        const Json& ref = item["spec"]["scaleTargetRef"];
        if (ref.is_object() && ref.value("name", "") == target.name) items.push_back(item);
      });
    } else {
      auto hpas = co_await client.list(kubeclient::hpas_resource(), ns);
      if (!hpas) co_return tl::unexpected(hpas.error());
      for (Json& item : (*hpas)["items"]) items.push_back(std::move(item));
    }
    for (const Json& item : items) {
      const Json& ref = item["spec"]["scaleTargetRef"];
      if (!ref.is_object()) continue;
      if (ref.value("kind", "") == target.kind && ref.value("name", "") == target.name &&
          group_of(ref.value("apiVersion", "")) == group_of(target.api_version)) {
        co_return meta_field(item, "name");
      }
    }
    co_return std::string();
  }

  // Before a scale-down: each pod's controller.kubernetes.io/pod-deletion-cost from its value of
  // the autoscaler's first Pods metric (milli-units, capped to int32), PATCHed where it changed,
  // so the ReplicaSet's ranking (lower cost first, after readiness) removes the least loaded.
  // Pods without a value keep theirs. Failures are logged; the scale-down goes on.
  net::Awaitable<void> set_deletion_costs(std::string ns, const hpa::ReconcileInput& input) {
    const kube::PodsMetricSource* source = nullptr;
    for (const auto& m : input.hpa.spec.metrics) {
      if (m.type == "Pods" && m.pods) {
        source = &*m.pods;
        break;
      }
    }
    if (source == nullptr || !input.scale) co_return;
    auto selector = kube::Selector::parse(input.scale->selector);
    auto metric_selector = kube::to_selector(source->metric.selector);
    if (!selector || !metric_selector) co_return;
    hpa::MetricRequest request =
        hpa::MetricRequest::of(hpa::MetricRequest::Api::kPods, ns, source->metric.name, *selector,
                               *metric_selector, kube::CrossVersionObjectReference());
    hpa::RecordedMetrics answer;
    co_await provider.fetch(request, answer);
    auto values = answer.pods_metric(ns, source->metric.name, *selector, *metric_selector);
    if (!values) {
      core::log_warn("controller: pod-deletion-cost: " + source->metric.name + ": " +
                     values.error().message);
      co_return;
    }
    std::map<std::string, std::int64_t> load;
    for (const kube::MetricValue& v : *values)
      load[v.described_object.name] = v.value.milli_value();
    for (const kube::Pod& pod : input.pods) {
      auto it = load.find(pod.metadata.name);
      if (pod.metadata.deletion_timestamp || it == load.end()) continue;
      std::string cost = std::to_string(
          std::clamp<std::int64_t>(it->second, std::numeric_limits<std::int32_t>::min(),
                                   std::numeric_limits<std::int32_t>::max()));
      auto current = pod.metadata.annotations.find(std::string(kube::kPodDeletionCost));
      if (current != pod.metadata.annotations.end() && current->second == cost) continue;
      if (!acting()) co_return;
      Json patch = {{"metadata", {{"annotations", {{kube::kPodDeletionCost, cost}}}}}};
      auto patched =
          co_await client.patch(kubeclient::pods_resource(), ns, pod.metadata.name,
                                kubeclient::PatchType::kMerge, core::to_compact_json(patch));
      if (!patched) {
        core::log_warn("controller: pod-deletion-cost of pod " + ns + "/" + pod.metadata.name +
                       ": " + patched.error().to_string());
        continue;
      }
      ++metrics.deletion_costs_set;
    }
  }

  // Writes the target's scale, conditional on the version read; re-read and retried on 409.
  net::Awaitable<core::Status> write_scale(ResourceRef resource, std::string ns, std::string name,
                                           Json scale, std::int32_t replicas) {
    for (int attempt = 0;; ++attempt) {
      if (!acting()) {
        co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not the leader");
      }
      scale["spec"]["replicas"] = replicas;
      auto written = co_await client.update(resource, ns, scale, "scale");
      if (written) {
        ++metrics.scale_writes;
        co_return core::Status();
      }
      if (!written.error().conflict() || attempt >= options.max_conflict_retries) {
        co_return tl::unexpected(written.error().error());
      }
      ++metrics.conflicts_retried;
      auto fresh = co_await client.get(resource, ns, name, "scale");
      if (!fresh) co_return tl::unexpected(fresh.error().error());
      scale = std::move(*fresh);
    }
  }

  // Writes status (HPA status + history), re-reading the object on 409.
  net::Awaitable<core::Status> write_status(Json object, Json status) {
    std::string ns = meta_field(object, "namespace");
    std::string name = meta_field(object, "name");
    for (int attempt = 0;; ++attempt) {
      if (!acting()) {
        co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not the leader");
      }
      object["status"] = status;
      auto written = co_await client.update(autoscalers_resource(), ns, object, "status");
      if (written) co_return core::Status();
      if (!written.error().conflict() || attempt >= options.max_conflict_retries) {
        co_return tl::unexpected(written.error().error());
      }
      ++metrics.conflicts_retried;
      auto fresh = co_await client.get(autoscalers_resource(), ns, name);
      if (!fresh) co_return tl::unexpected(fresh.error().error());
      object = std::move(*fresh);
    }
  }

  // One pass. Kubernetes (reconcileAutoscaler) records each pass once, whatever path it
  // returns by: the pass fills `outcome` once it has an object to reconcile, and it is observed
  // here with the pass's whole duration; a failed pass whose outcome says no error is "internal".
  net::Awaitable<core::Status> reconcile(std::string ns, std::string name) {
    ++metrics.reconciles;
    core::Clock& clock = client.clock();
    const core::MonotonicTime started = clock.monotonic_now();
    std::optional<controller::ReconciliationResult> outcome;
    core::Status result;
    // (No co_await inside a conditional expression: g++ 12 destroys its temporaries early.)
    if (options.advisory) {
      result = co_await advise(ns, name, outcome);
    } else {
      result = co_await act(ns, name, outcome);
    }
    const core::Duration took = clock.monotonic_now() - started;
    metrics.reconcile_seconds_sum += core::to_seconds(took);
    if (!result && result.error().code == core::ErrorCode::kFailedPrecondition &&
        result.error().message == "not the leader") {
      outcome.reset();  // leadership lost mid-pass: a follower's pass is not the controller's
    }
    if (outcome) {
      outcome->duration = took;
      if (!result && outcome->error == controller::kErrorNone) {
        outcome->error = controller::kErrorInternal;
      }
      hpa_metrics.observe(*outcome);
    }
    if (!result) {
      ++metrics.errors;
      core::log_warn("controller: " + ns + "/" + name + ": " + result.error().message);
    }
    co_return result;
  }

  // The fetch phase: every metric request the pass will make (hpa::metric_requests), asked in
  // order and co_awaited, each timed on the clock's monotonic reading; failed fetches are
  // recorded as such, so the engine reports them as it would have live.
  net::Awaitable<controller::FetchedMetrics> fetch_metrics(const hpa::ReconcileInput& input) {
    core::Clock& clock = client.clock();
    controller::FetchedMetrics fetched;
    const std::vector<hpa::MetricRequest> requests = hpa::metric_requests(input);
    for (const hpa::MetricRequest& request : requests) {
      const core::MonotonicTime started = clock.monotonic_now();
      co_await provider.fetch(request, fetched.answers);
      controller::MetricFetch& fetch = fetched.fetches.emplace_back();
      fetch.api = request.api;
      fetch.metric = request.metric;
      fetch.duration = clock.monotonic_now() - started;
    }
    co_return fetched;
  }

  // The HPA monitor's labels for a pass that decided `decision` on `hpa`, with the metrics'
  // fetch times.
  static controller::ReconciliationResult monitored(const kube::HorizontalPodAutoscaler& hpa,
                                                    const hpa::Decision& decision,
                                                    const controller::FetchedMetrics& fetched) {
    return controller::reconciliation_result(hpa, decision, fetched.fetches, {});
  }

  // Reads what one pass needs; nullopt status when the pass must be skipped.
  struct PassInputs {
    hpa::ReconcileInput input;
    Json scale_json;
    ResourceRef target;
  };

  net::Awaitable<core::Result<PassInputs>> gather(const Json& object, std::string ns,
                                                  const std::string& history_json) {
    PassInputs pass;
    Json as_hpa = object;
    as_hpa["apiVersion"] = "autoscaling/v2";
    as_hpa["kind"] = "HorizontalPodAutoscaler";
    if (as_hpa.contains("status") && as_hpa["status"].is_object()) {
      as_hpa["status"].erase("history");
    }
    auto hpa = kube::decode_hpa(as_hpa, /*strict=*/false);
    if (!hpa) co_return tl::unexpected(hpa.error());
    pass.input.hpa = std::move(*hpa);
    pass.input.config = options.hpa;
    if (!history_json.empty()) {
      auto parsed = core::parse_json(history_json);
      if (parsed && parsed->is_object()) {
        core::JsonReader reader(*parsed, "history", /*strict=*/false);
        hpa::decode_history(reader, pass.input.history);
      }
    }
    pass.target = target_resource(pass.input.hpa.spec.scale_target_ref);
    auto scale =
        co_await client.get(pass.target, ns, pass.input.hpa.spec.scale_target_ref.name, "scale");
    if (!scale) {
      // Kubernetes: a failed scale GET is the engine's FailedGetScale path.
      pass.input.scale = tl::unexpected(scale.error().error());
    } else {
      pass.scale_json = *scale;
      auto decoded = decode_scale_object(*scale);
      if (!decoded) co_return tl::unexpected(decoded.error());
      pass.input.scale = *decoded;
      if (pods && pods->has_synced()) {
        auto selector = kube::Selector::parse(decoded->selector);
        if (!selector) co_return tl::unexpected(selector.error());
        pass.input.pods = pod_index.select(ns, *selector);
        pass.input.now = client.clock().now();
        co_return pass;
      }
      kubeclient::ListOptions pod_options;
      pod_options.label_selector = decoded->selector;
      auto pods = co_await client.list(kubeclient::pods_resource(), ns, pod_options);
      if (!pods) {
        // Never decide on missing data: no pod list, no pass.
        co_return core::make_error(core::ErrorCode::kUnavailable,
                                   "listing pods: " + pods.error().to_string());
      }
      for (const Json& item : (*pods)["items"]) {
        auto pod = kube::decode_pod(item, "pod");
        if (pod) pass.input.pods.push_back(std::move(*pod));
      }
    }
    pass.input.now = client.clock().now();
    co_return pass;
  }

  // The object from the informer's cache when it has synced (a stale resourceVersion costs a
  // 409 and a re-read on the status write), else one GET.
  net::Awaitable<kubeclient::ApiResult<Json>> read_object(ResourceRef resource, std::string ns,
                                                          std::string name) {
    if (objects && objects->has_synced()) {
      const Json* cached = objects->get(ns, name);
      if (cached == nullptr) co_return tl::unexpected(ApiError{404, "NotFound", "not found"});
      co_return *cached;
    }
    co_return co_await client.get(resource, ns, name);
  }

  net::Awaitable<core::Status> act(std::string ns, std::string name,
                                   std::optional<controller::ReconciliationResult>& outcome) {
    if (!acting()) co_return core::Status();
    auto object = co_await read_object(autoscalers_resource(), ns, name);
    if (!object) {
      if (object.error().not_found()) co_return core::Status();
      co_return tl::unexpected(object.error().error());
    }
    // From here on the pass counts, failed or not.
    outcome.emplace();
    std::string history_json;
    if ((*object).contains("status") && (*object)["status"].is_object() &&
        (*object)["status"].contains("history")) {
      history_json = core::to_compact_json((*object)["status"]["history"]);
    }
    auto pass = co_await gather(*object, ns, history_json);
    if (!pass) co_return tl::unexpected(pass.error());

    // Refuse a target a native HPA also scales.
    auto native = co_await conflicting_hpa(ns, pass->input.hpa.spec.scale_target_ref);
    if (!native) co_return tl::unexpected(native.error().error());
    if (!native->empty()) {
      ++metrics.refused_native_hpa;
      // Recorded as upstream records a pass stopped by a conflict between autoscalers (its
      // AmbiguousSelector): no action, an internal error.
      outcome->error = controller::kErrorInternal;
      const auto& ref = pass->input.hpa.spec.scale_target_ref;
      std::string message = "the HorizontalPodAutoscaler " + *native + " also targets " + ref.kind +
                            "/" + ref.name +
                            "; llmscale does not act on a target a native HPA scales";
      kube::HorizontalPodAutoscalerStatus status = pass->input.hpa.status;
      kube::HorizontalPodAutoscalerCondition condition;
      condition.type = "AbleToScale";
      condition.status = "False";
      condition.reason = "ConflictingNativeHPA";
      condition.message = message;
      condition.last_transition_time = client.clock().now();
      bool changed = true;
      for (auto& existing : status.conditions) {
        if (existing.type == "AbleToScale") {
          changed = existing.reason != condition.reason || existing.status != condition.status;
          if (!changed) condition.last_transition_time = existing.last_transition_time;
          existing = condition;
          condition.type.clear();
        }
      }
      if (!condition.type.empty()) status.conditions.insert(status.conditions.begin(), condition);
      if (changed) {
        Json status_json = kube::encode_hpa_status(status);
        if (!history_json.empty()) status_json["history"] = (*object)["status"]["history"];
        auto written = co_await write_status(*object, status_json);
        if (!written) co_return written;
        std::vector<hpa::Event> events;
        events.push_back(hpa::Event{"Warning", "ConflictingNativeHPA", message});
        co_await post_events(*object, events);
      }
      co_return core::Status();
    }

    // Fetch first, then decide on the recorded answers.
    controller::FetchedMetrics fetched = co_await fetch_metrics(pass->input);
    CapturingWriter capture;
    hpa::Decision decision = hpa::reconcile(pass->input, fetched.answers, capture);
    outcome = monitored(pass->input.hpa, decision, fetched);
    if (capture.requested && pass->input.scale) {
      if (options.deletion_cost_from_load && *capture.requested < pass->input.scale->spec_replicas)
        co_await set_deletion_costs(ns, pass->input);
      auto written =
          co_await write_scale(pass->target, ns, pass->input.hpa.spec.scale_target_ref.name,
                               pass->scale_json, *capture.requested);
      if (!written) {
        if (written.error().code == core::ErrorCode::kFailedPrecondition &&
            written.error().message == "not the leader") {
          outcome.reset();  // a follower's pass is not the controller's
          co_return core::Status();
        }
        // Kubernetes: a failed scale update is FailedRescale (event, AbleToScale=False), and the
        // pass is recorded with no action and an internal error; the metrics as first fetched.
        FailingWriter failing(written.error().message);
        decision = hpa::reconcile(pass->input, fetched.answers, failing);
        outcome->action = controller::kActionNone;
        outcome->error = controller::kErrorInternal;
      }
    }
    Json status = kube::encode_hpa_status(decision.status);
    status["history"] = hpa::encode_history(decision.history);
    auto written = co_await write_status(*object, status);
    co_await post_events(*object, decision.events);
    if (!written) co_return written;
    if (decision.error) {
      co_return core::make_error(core::ErrorCode::kUnavailable, *decision.error);
    }
    co_return core::Status();
  }

  net::Awaitable<core::Status> advise(std::string ns, std::string name,
                                      std::optional<controller::ReconciliationResult>& outcome) {
    if (!acting()) co_return core::Status();
    auto object = co_await read_object(kubeclient::hpas_resource(), ns, name);
    if (!object) {
      if (object.error().not_found()) co_return core::Status();
      co_return tl::unexpected(object.error().error());
    }
    outcome.emplace();
    std::string history_json;
    if (auto it = (*object)["metadata"].find("annotations");
        it != (*object)["metadata"].end() && it->is_object()) {
      history_json = it->value(std::string(kAdvisoryHistoryAnnotation), "");
    }
    auto pass = co_await gather(*object, ns, history_json);
    if (!pass) co_return tl::unexpected(pass.error());
    controller::FetchedMetrics fetched = co_await fetch_metrics(pass->input);
    hpa::AcceptingScaleWriter nothing;  // advisory: nothing is scaled
    hpa::Decision decision = hpa::reconcile(pass->input, fetched.answers, nothing);
    outcome = monitored(pass->input.hpa, decision, fetched);
    // Advisory: the metrics' proposals are recorded, but no scale was written (upstream's action
    // label says what was written).
    outcome->action = controller::kActionNone;
    ++metrics.advisories;
    std::int32_t hpa_desired = pass->input.hpa.status.desired_replicas;
    Json advice = {{"desiredReplicas", decision.desired_replicas},
                   {"hpaDesiredReplicas", hpa_desired},
                   {"currentReplicas", decision.current_replicas},
                   {"time", core::format_rfc3339(client.clock().now())}};
    if (!decision.explanation.empty()) advice["explanation"] = decision.explanation;
    Json patch = {{"metadata",
                   {{"annotations",
                     {{std::string(kAdviceAnnotation), core::to_compact_json(advice)},
                      {std::string(kAdvisoryHistoryAnnotation),
                       core::to_compact_json(hpa::encode_history(decision.history))}}}}}};
    if (!acting()) co_return core::Status();
    auto patched =
        co_await client.patch(kubeclient::hpas_resource(), ns, name, kubeclient::PatchType::kMerge,
                              core::to_compact_json(patch));
    if (!patched) co_return tl::unexpected(patched.error().error());
    if (decision.desired_replicas != hpa_desired) {
      std::vector<hpa::Event> events;
      events.push_back(hpa::Event{"Normal", "LLMScaleAdvice",
                                  "llmscale would scale to " +
                                      std::to_string(decision.desired_replicas) +
                                      " replicas; the HPA wants " + std::to_string(hpa_desired)});
      co_await post_events(*patched, events);
    }
    co_return core::Status();
  }
};

namespace {

net::Awaitable<void> run_controller(std::shared_ptr<ClusterController::State> state) {
  state->running = true;
  core::Clock& clock = state->client.clock();
  while (!state->stopped) {
    // Kubernetes: a follower runs no controller loop; it starts with a full pass once it leads.
    if (state->objects && state->objects->has_synced() && state->acting()) {
      core::Time now = clock.now();
      std::set<std::string> present;
      // Keys, not copies of the objects: the pass reads each object from the cache when it runs.
      for (const std::string& key : state->objects->keys()) {
        // (No structured bindings across a co_await: g++ 12 coroutines mishandle them.)
        std::pair<std::string, std::string> ns_name = split_key(key);
        const std::string& ns = ns_name.first;
        const std::string& name = ns_name.second;
        present.insert(key);
        auto due = state->next_pass.find(key);
        if (due != state->next_pass.end() && due->second > now && !state->dirty.contains(key)) {
          continue;
        }
        state->dirty.erase(key);
        state->next_pass[key] = now + state->options.sync_period;
        co_await state->reconcile(ns, name);
        if (state->stopped) break;
      }
      std::erase_if(state->next_pass,
                    [&](const auto& entry) { return !present.contains(entry.first); });
    }
    if (state->stopped) break;
    co_await net::sleep_for(clock, 200ms);
  }
  state->running = false;
}

}  // namespace

ClusterController::ClusterController(kubeclient::RestClient& client,
                                     adapter::AsyncMetricsProvider& metrics,
                                     ClusterControllerOptions options,
                                     std::function<bool()> may_act)
    : state_(std::make_shared<State>(client, metrics, nullptr, std::move(options),
                                     std::move(may_act))) {}

ClusterController::ClusterController(kubeclient::RestClient& client, hpa::MetricsProvider& metrics,
                                     ClusterControllerOptions options,
                                     std::function<bool()> may_act) {
  auto owned = std::make_unique<adapter::SyncMetricsProvider>(metrics);
  adapter::AsyncMetricsProvider& provider = *owned;
  state_ = std::make_shared<State>(client, provider, std::move(owned), std::move(options),
                                   std::move(may_act));
}

ClusterController::~ClusterController() {
  stop();
}

void ClusterController::start(net::EventLoop& loop) {
  kubeclient::InformerOptions informer_options;
  informer_options.namespace_name = state_->options.namespace_name;
  kubeclient::InformerHandlers handlers;
  std::weak_ptr<State> weak = state_;
  auto mark = [weak](const Json& object) {
    if (auto state = weak.lock()) {
      state->dirty.insert(meta_field(object, "namespace") + "/" + meta_field(object, "name"));
    }
  };
  handlers.on_add = mark;
  handlers.on_update = [mark](const Json& old_object, const Json& object) {
    // Kubernetes: the HPA controller requeues on spec changes; status writes (ours) do not.
    if (old_object.value("spec", Json()) != object.value("spec", Json())) mark(object);
  };
  state_->objects = std::make_unique<kubeclient::Informer>(state_->client, state_->watched(),
                                                           informer_options, handlers);
  state_->objects->start(loop);
  if (!state_->options.advisory) {
    state_->native_hpas = std::make_unique<kubeclient::Informer>(
        state_->client, kubeclient::hpas_resource(), informer_options);
    state_->native_hpas->start(loop);
  }
  kubeclient::InformerHandlers pod_handlers;
  pod_handlers.on_add = [weak](const Json& pod) {
    if (auto state = weak.lock()) state->pod_index.upsert(pod);
  };
  pod_handlers.on_update = [weak](const Json&, const Json& pod) {
    if (auto state = weak.lock()) state->pod_index.upsert(pod);
  };
  pod_handlers.on_delete = [weak](const Json& pod) {
    if (auto state = weak.lock()) state->pod_index.remove(pod);
  };
  state_->pods = std::make_unique<kubeclient::Informer>(state_->client, kubeclient::pods_resource(),
                                                        informer_options, pod_handlers);
  state_->pods->start(loop);
  state_->stopped = false;
  net::spawn(loop, run_controller(state_), "cluster controller");
}

void ClusterController::stop() {
  state_->stopped = true;
  if (state_->objects) state_->objects->stop();
  if (state_->native_hpas) state_->native_hpas->stop();
  if (state_->pods) state_->pods->stop();
}

bool ClusterController::running() const {
  return state_->running || (state_->objects && state_->objects->running()) ||
         (state_->native_hpas && state_->native_hpas->running()) ||
         (state_->pods && state_->pods->running());
}

bool ClusterController::synced() const {
  return state_->objects && state_->objects->has_synced() &&
         (!state_->native_hpas || state_->native_hpas->has_synced()) && state_->pods &&
         state_->pods->has_synced();
}

net::Awaitable<core::Status> ClusterController::reconcile(std::string namespace_name,
                                                          std::string name) {
  std::shared_ptr<State> state = state_;
  co_return co_await state->reconcile(std::move(namespace_name), std::move(name));
}

std::optional<std::vector<kube::Pod>> ClusterController::cached_pods(
    const std::string& namespace_name, const kube::Selector& selector) const {
  if (!state_->pods || !state_->pods->has_synced()) return std::nullopt;
  return state_->pod_index.select(namespace_name, selector);
}

std::optional<std::vector<kube::Pod>> InformerPodLister::cached(
    const adapter::GroupResource& resource, const std::string& namespace_name,
    const kube::Selector& selector) const {
  if (controller_ == nullptr || namespace_name.empty() ||
      !(resource == adapter::GroupResource{"", "pods"})) {
    return std::nullopt;
  }
  return controller_->cached_pods(namespace_name, selector);
}

core::Result<std::vector<std::string>> InformerPodLister::list(
    const adapter::GroupResource& resource, const std::string& namespace_name,
    const kube::Selector& selector) {
  auto pods = cached(resource, namespace_name, selector);
  if (!pods) return fallback_.list(resource, namespace_name, selector);
  std::vector<std::string> names;
  names.reserve(pods->size());
  for (kube::Pod& pod : *pods) names.push_back(std::move(pod.metadata.name));
  return names;
}

core::Result<std::vector<adapter::ListedObject>> InformerPodLister::list_objects(
    const adapter::GroupResource& resource, const std::string& namespace_name,
    const kube::Selector& selector) {
  auto pods = cached(resource, namespace_name, selector);
  if (!pods) return fallback_.list_objects(resource, namespace_name, selector);
  std::vector<adapter::ListedObject> out;
  out.reserve(pods->size());
  for (kube::Pod& pod : *pods) {
    adapter::ListedObject& listed = out.emplace_back();
    listed.namespace_name = namespace_name;
    listed.name = std::move(pod.metadata.name);
    listed.labels = std::move(pod.metadata.labels);
  }
  return out;
}

const ControllerMetrics& ClusterController::metrics() const {
  return state_->metrics;
}

std::string ClusterController::metrics_text() const {
  const ControllerMetrics& m = state_->metrics;
  // The autoscalers this controller holds now, for the monitor's two gauges (none in advisory
  // mode: the native HPAs it watches are kube-controller-manager's).
  std::vector<controller::HpaControllerMetrics::Autoscaler> held;
  if (!state_->options.advisory && state_->objects) {
    for (const std::string& key : state_->objects->keys()) {
      auto [ns, name] = split_key(key);
      const Json* object = state_->objects->get(ns, name);
      std::int32_t desired = 0;
      if (object != nullptr && object->contains("status") && (*object)["status"].is_object()) {
        const Json& replicas = (*object)["status"].value("desiredReplicas", Json());
        if (replicas.is_number_integer()) desired = replicas.get<std::int32_t>();
      }
      held.push_back({ns, name, desired});
    }
  }
  state_->hpa_metrics.set_autoscalers(held);
  std::string out = state_->hpa_metrics.text();
  auto counter = [&out](const std::string& name, const std::string& help, double value) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " counter\n" + name + " " +
           core::go_format_float(value) + "\n";
  };
  counter("llmscale_controller_reconciles_total", "Reconcile passes.",
          static_cast<double>(m.reconciles));
  counter("llmscale_controller_reconcile_errors_total", "Reconcile passes that failed.",
          static_cast<double>(m.errors));
  counter("llmscale_controller_scale_writes_total", "Scale subresource updates written.",
          static_cast<double>(m.scale_writes));
  counter("llmscale_controller_conflicts_retried_total", "409 Conflicts re-read and retried.",
          static_cast<double>(m.conflicts_retried));
  counter("llmscale_controller_native_hpa_refusals_total",
          "Passes refused because a native HPA targets the same object.",
          static_cast<double>(m.refused_native_hpa));
  counter("llmscale_controller_advisories_total", "Advisory decisions recorded.",
          static_cast<double>(m.advisories));
  counter("llmscale_controller_reconcile_duration_seconds_total", "Time spent in reconcile passes.",
          m.reconcile_seconds_sum);
  out +=
      "# HELP llmscale_controller_api_requests_total Kubernetes API requests by verb.\n"
      "# TYPE llmscale_controller_api_requests_total counter\n";
  for (const auto& [verb, count] : state_->client.stats().requests_by_verb) {
    out += "llmscale_controller_api_requests_total{verb=\"" + verb + "\"} " +
           std::to_string(count) + "\n";
  }
  return out;
}

}  // namespace llmscale::cluster
