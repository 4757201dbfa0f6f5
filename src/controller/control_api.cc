// The Kubernetes-shaped loopback API of `llmscale up`: HPAs, pods, deployments and events (list,
// get, watch).
#include "controller/control_api.h"

#include <map>
#include <memory>

#include "adapter/request.h"
#include "core/json_reader.h"
#include "core/strings.h"
#include "core/time.h"
#include "kube/field_selector.h"
#include "kube/json_codec.h"
#include "kube/label_selector.h"
#include "kube/workloads.h"
#include "net/notifier.h"
#include "net/router.h"
#include "net/server.h"

namespace llmscale::controller {
namespace {

using core::Json;

net::Response json_response(int status, const Json& body) {
  return net::Response::json(status, core::to_compact_json(body) + "\n");
}

net::Response error_response(const adapter::ApiError& error) {
  return net::Response::json(error.code, error.to_json());
}

Json list_of(const std::string& kind, const std::string& api_version, Json items) {
  Json list = Json::object();
  list["kind"] = kind;
  list["apiVersion"] = api_version;
  list["metadata"] = {{"resourceVersion", ""}};
  list["items"] = std::move(items);
  return list;
}

std::string namespace_param(const net::ServerRequest& request) {
  auto ns = request.path_param("ns");
  return ns ? std::string(*ns) : std::string();
}

// The field labels an events list can be filtered on (besides metadata.name/namespace).
const std::vector<std::string>& event_field_labels() {
  static const std::vector<std::string> kFields = {"involvedObject.kind",
                                                   "involvedObject.namespace",
                                                   "involvedObject.name",
                                                   "involvedObject.uid",
                                                   "involvedObject.apiVersion",
                                                   "reason",
                                                   "type"};
  return kFields;
}

std::string watch_line(const char* type, const Json& object) {
  Json event = Json::object();
  event["type"] = type;
  event["object"] = object;
  return core::to_compact_json(event) + "\n";
}

// One watch connection: woken by every controller pass, by ControlApi::notify() and by the
// client leaving.
struct WatchState {
  net::Notifier notifier;
  bool closed = false;
};

// A snapshot of what a watch shows: namespace/name -> object.
using Snapshot = std::map<std::string, Json>;
using SnapshotFn = std::function<Snapshot()>;

std::string object_key(const Json& object) {
  const Json& meta = object.at("metadata");
  return meta.value("namespace", "") + "/" + meta.value("name", "");
}

// Kubernetes watch semantics over snapshots: ADDED for what is there at first and what appears,
// MODIFIED when an object's JSON changed, DELETED (with the last object) when it went.
// `snapshot` is the caller's (a named local in its frame): GCC 12 mishandles a temporary
// converted into a by-value coroutine parameter (its captures are freed twice).
net::Awaitable<void> run_watch(net::ResponseWriter& writer, Controller& controller,
                               ControlApi::Watches& watches, const SnapshotFn& snapshot);

}  // namespace

struct ControlApi::Watches {
  std::vector<std::weak_ptr<WatchState>> open;
  void notify() {
    std::vector<std::weak_ptr<WatchState>> alive;
    for (auto& weak : open) {
      if (auto state = weak.lock()) {
        state->notifier.notify();
        alive.push_back(weak);
      }
    }
    open = std::move(alive);
  }
};

namespace {

net::Awaitable<void> run_watch(net::ResponseWriter& writer, Controller& controller,
                               ControlApi::Watches& watches, const SnapshotFn& snapshot) {
  auto state = std::make_shared<WatchState>();
  watches.open.push_back(state);
  int listener = controller.subscribe([state](const HpaView&) { state->notifier.notify(); });
  writer.on_disconnect([state] {
    state->closed = true;
    state->notifier.notify();
  });
  net::Headers headers{{"Content-Type", "application/json"}, {"Cache-Control", "no-cache"}};
  std::map<std::string, std::pair<std::string, Json>> sent;  // key -> (text, object) last sent
  bool ok = static_cast<bool>(co_await writer.begin_stream(200, headers));
  while (ok && !state->closed) {
    std::string chunk;
    Snapshot now = snapshot();
    for (auto& [key, object] : now) {
      std::string text = core::to_compact_json(object);
      auto it = sent.find(key);
      if (it != sent.end() && it->second.first == text) continue;
      chunk += watch_line(it == sent.end() ? "ADDED" : "MODIFIED", object);
      sent[key] = {std::move(text), std::move(object)};
    }
    for (auto it = sent.begin(); it != sent.end();) {
      if (now.count(it->first) != 0) {
        ++it;
        continue;
      }
      chunk += watch_line("DELETED", it->second.second);
      it = sent.erase(it);
    }
    if (!chunk.empty()) ok = static_cast<bool>(co_await writer.write(chunk));
    if (ok) co_await state->notifier.wait();
  }
  controller.unsubscribe(listener);
}

bool wants_watch(const net::ServerRequest& request) {
  auto watch = request.query.get("watch");
  return watch && (*watch == "true" || *watch == "1");
}

// `resource "name" not found`, as the API server's NotFound Status.
net::Response not_found_response(const std::string& resource, const std::string& name) {
  return error_response(adapter::not_found(resource + " \"" + name + "\" not found"));
}

}  // namespace

Json encode_hpa_events(const kube::HorizontalPodAutoscaler& hpa,
                       const std::vector<RecordedEvent>& events) {
  Json items = Json::array();
  int index = 0;
  for (const RecordedEvent& e : events) {
    Json event = Json::object();
    event["kind"] = "Event";
    event["apiVersion"] = "v1";
    char suffix[20];
    std::snprintf(suffix, sizeof suffix, "%016x", ++index);
    event["metadata"] = {{"name", hpa.metadata.name + "." + suffix},
                         {"namespace", hpa.metadata.namespace_}};
    event["involvedObject"] = {{"kind", "HorizontalPodAutoscaler"},
                               {"namespace", hpa.metadata.namespace_},
                               {"name", hpa.metadata.name},
                               {"apiVersion", "autoscaling/v2"}};
    event["reason"] = e.reason;
    event["message"] = e.message;
    event["source"] = {{"component", "horizontal-pod-autoscaler"}};
    event["firstTimestamp"] = core::format_rfc3339(e.first_timestamp);
    event["lastTimestamp"] = core::format_rfc3339(e.last_timestamp);
    event["count"] = e.count;
    event["type"] = e.type;
    items.push_back(std::move(event));
  }
  return items;
}

core::Result<std::vector<RecordedEvent>> decode_event_list(const Json& list) {
  std::vector<RecordedEvent> events;
  core::JsonReader r(list, "", /*strict=*/false);
  r.read_list("items", events, [](core::JsonReader& e, RecordedEvent& event) {
    e.read("type", event.type);
    e.read("reason", event.reason);
    e.read("message", event.message);
    e.read("count", event.count);
    e.read("firstTimestamp", event.first_timestamp);
    e.read("lastTimestamp", event.last_timestamp);
  });
  if (auto status = r.finish(); !status) return tl::unexpected(status.error());
  return events;
}

ControlApi::ControlApi(Controller& controller, PodLister pods, DeploymentLister deployments)
    : controller_(controller),
      pods_(std::move(pods)),
      deployments_(std::move(deployments)),
      watches_(std::make_shared<Watches>()) {}

ControlApi::~ControlApi() = default;

void ControlApi::notify() {
  watches_->notify();
}

void ControlApi::add_routes(net::Router& router) {
  // ---- HPAs ----
  auto hpa_snapshot = [this](const std::string& ns) {
    Snapshot out;
    for (const HpaView& view : controller_.list()) {
      const auto& meta = view.hpa.metadata;
      if (ns.empty() || meta.namespace_ == ns)
        out[meta.namespace_ + "/" + meta.name] = kube::encode_hpa(view.hpa);
    }
    return out;
  };
  auto list_hpas = [this, hpa_snapshot](net::ServerRequest& request,
                                        net::ResponseWriter& writer) -> net::Awaitable<void> {
    std::string ns = namespace_param(request);
    if (wants_watch(request)) {
      SnapshotFn snapshot = [hpa_snapshot, ns] { return hpa_snapshot(ns); };
      co_await run_watch(writer, controller_, *watches_, snapshot);
      co_return;
    }
    Json items = Json::array();
    for (auto& [key, object] : hpa_snapshot(ns)) items.push_back(std::move(object));
    net::Response response =
        json_response(200, list_of("HorizontalPodAutoscalerList", "autoscaling/v2", items));
    co_await writer.send(std::move(response));
  };
  router.get("/apis/autoscaling/v2/horizontalpodautoscalers", list_hpas);
  router.get("/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers", list_hpas);

  router.get(
      "/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}",
      [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        std::string name(request.path_param("name").value_or(""));
        auto view = controller_.get(namespace_param(request), name);
        net::Response response =
            view ? json_response(200, kube::encode_hpa(view->hpa))
                 : not_found_response("horizontalpodautoscalers.autoscaling", name);
        co_await writer.send(std::move(response));
      });

  // ---- pods and deployments: lists filtered by namespace and label selector ----
  auto pod_snapshot = [this](const std::string& ns, const kube::Selector& selector) {
    Snapshot out;
    for (const kube::Pod& pod : pods_()) {
      if ((ns.empty() || pod.metadata.namespace_ == ns) && selector.matches(pod.metadata.labels))
        out[pod.metadata.namespace_ + "/" + pod.metadata.name] = kube::encode_pod(pod);
    }
    return out;
  };
  auto deployment_snapshot = [this](const std::string& ns, const kube::Selector& selector) {
    Snapshot out;
    if (!deployments_) return out;
    for (const kube::Deployment& d : deployments_()) {
      if ((ns.empty() || d.metadata.namespace_ == ns) && selector.matches(d.metadata.labels))
        out[d.metadata.namespace_ + "/" + d.metadata.name] = kube::encode_deployment(d);
    }
    return out;
  };
  auto list_handler =
      [this](const std::string& list_kind, const std::string& api_version,
             const std::function<Snapshot(const std::string&, const kube::Selector&)>& snapshot) {
        return [this, list_kind, api_version, snapshot](
                   net::ServerRequest& request,
                   net::ResponseWriter& writer) -> net::Awaitable<void> {
          std::string ns = namespace_param(request);
          auto selector = kube::Selector::parse(request.query.get("labelSelector").value_or(""));
          if (!selector) {
            net::Response bad = error_response(adapter::bad_request(selector.error().message));
            co_await writer.send(std::move(bad));
            co_return;
          }
          if (wants_watch(request)) {
            kube::Selector s = *selector;
            SnapshotFn watched = [snapshot, ns, s] { return snapshot(ns, s); };
            co_await run_watch(writer, controller_, *watches_, watched);
            co_return;
          }
          Json items = Json::array();
          for (auto& [key, object] : snapshot(ns, *selector)) items.push_back(std::move(object));
          net::Response response = json_response(200, list_of(list_kind, api_version, items));
          co_await writer.send(std::move(response));
        };
      };
  auto get_handler =
      [](const std::string& resource,
         const std::function<Snapshot(const std::string&, const kube::Selector&)>& snapshot) {
        return [resource, snapshot](net::ServerRequest& request,
                                    net::ResponseWriter& writer) -> net::Awaitable<void> {
          std::string ns = namespace_param(request);
          std::string name(request.path_param("name").value_or(""));
          Snapshot all = snapshot(ns, kube::Selector::everything());
          auto it = all.find(ns + "/" + name);
          net::Response response =
              it != all.end() ? json_response(200, it->second) : not_found_response(resource, name);
          co_await writer.send(std::move(response));
        };
      };
  router.get("/api/v1/pods", list_handler("PodList", "v1", pod_snapshot));
  router.get("/api/v1/namespaces/{ns}/pods", list_handler("PodList", "v1", pod_snapshot));
  router.get("/api/v1/namespaces/{ns}/pods/{name}", get_handler("pods", pod_snapshot));
  router.get("/apis/apps/v1/deployments",
             list_handler("DeploymentList", "apps/v1", deployment_snapshot));
  router.get("/apis/apps/v1/namespaces/{ns}/deployments",
             list_handler("DeploymentList", "apps/v1", deployment_snapshot));
  router.get("/apis/apps/v1/namespaces/{ns}/deployments/{name}",
             get_handler("deployments.apps", deployment_snapshot));

  // ---- events: the HPAs' recorded events, filtered by field selector ----
  auto event_snapshot = [this](const std::string& ns, const kube::FieldSelector& fields) {
    Snapshot out;
    for (const HpaView& view : controller_.list()) {
      if (!ns.empty() && view.hpa.metadata.namespace_ != ns) continue;
      for (Json& event : encode_hpa_events(view.hpa, view.events)) {
        if (!kube::matches(fields, event)) continue;
        std::string key = object_key(event);
        out[key] = std::move(event);
      }
    }
    return out;
  };
  auto list_events = [this, event_snapshot](net::ServerRequest& request,
                                            net::ResponseWriter& writer) -> net::Awaitable<void> {
    std::string ns = namespace_param(request);
    auto fields = kube::parse_field_selector(request.query.get("fieldSelector").value_or(""),
                                             event_field_labels());
    if (!fields) {
      net::Response bad = error_response(adapter::bad_request(fields.error().message));
      co_await writer.send(std::move(bad));
      co_return;
    }
    if (wants_watch(request)) {
      kube::FieldSelector f = *fields;
      SnapshotFn snapshot = [event_snapshot, ns, f] { return event_snapshot(ns, f); };
      co_await run_watch(writer, controller_, *watches_, snapshot);
      co_return;
    }
    // In recording order (the names' suffixes count up per HPA), as the API server lists them.
    Json items = Json::array();
    for (const HpaView& view : controller_.list()) {
      if (!ns.empty() && view.hpa.metadata.namespace_ != ns) continue;
      for (Json& event : encode_hpa_events(view.hpa, view.events)) {
        if (kube::matches(*fields, event)) items.push_back(std::move(event));
      }
    }
    net::Response response = json_response(200, list_of("EventList", "v1", items));
    co_await writer.send(std::move(response));
  };
  router.get("/api/v1/events", list_events);
  router.get("/api/v1/namespaces/{ns}/events", list_events);
  router.get("/api/v1/namespaces/{ns}/events/{name}",
             [event_snapshot](net::ServerRequest& request,
                              net::ResponseWriter& writer) -> net::Awaitable<void> {
               std::string ns = namespace_param(request);
               std::string name(request.path_param("name").value_or(""));
               Snapshot all = event_snapshot(ns, {});
               auto it = all.find(ns + "/" + name);
               net::Response response = it != all.end() ? json_response(200, it->second)
                                                        : not_found_response("events", name);
               co_await writer.send(std::move(response));
             });

  router.get("/healthz",
             [](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
               co_await writer.send(net::Response::text(200, "ok"));
             });
}

}  // namespace llmscale::controller
