// The Kubernetes-shaped loopback API of `llmscale up`: HPAs (list, get, watch), pods, events.
#include "controller/control_api.h"

#include <map>
#include <memory>

#include "adapter/request.h"
#include "core/json_reader.h"
#include "core/strings.h"
#include "core/time.h"
#include "kube/json_codec.h"
#include "kube/label_selector.h"
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

// fields.ParseSelector for the fields an events list can be filtered on.
struct FieldRequirement {
  std::string field;
  std::string value;
  bool equal = true;
};

adapter::ApiResult<std::vector<FieldRequirement>> parse_field_selector(std::string_view text) {
  std::vector<FieldRequirement> out;
  if (core::trim(text).empty()) return out;
  for (std::string_view part : core::split(text, ',')) {
    FieldRequirement r;
    std::size_t at = part.find("!=");
    std::size_t skip = 2;
    if (at != std::string_view::npos) {
      r.equal = false;
    } else if ((at = part.find("==")) == std::string_view::npos) {
      at = part.find('=');
      skip = 1;
    }
    if (at == std::string_view::npos)
      return tl::unexpected(adapter::bad_request("invalid selector: '" + std::string(text) +
                                                 "'; can't understand '" + std::string(part) +
                                                 "'"));
    r.field = std::string(core::trim(part.substr(0, at)));
    r.value = std::string(core::trim(part.substr(at + skip)));
    static const char* const kFields[] = {"involvedObject.kind",
                                          "involvedObject.namespace",
                                          "involvedObject.name",
                                          "involvedObject.uid",
                                          "involvedObject.apiVersion",
                                          "reason",
                                          "type",
                                          "metadata.name",
                                          "metadata.namespace"};
    bool known = false;
    for (const char* f : kFields) known = known || r.field == f;
    if (!known)
      return tl::unexpected(adapter::bad_request("field label not supported: " + r.field));
    out.push_back(std::move(r));
  }
  return out;
}

std::string field_value(const Json& event, const std::string& field) {
  const Json* node = &event;
  for (std::string_view part : core::split(field, '.')) {
    if (!node->is_object() || !node->contains(std::string(part))) return "";
    node = &(*node)[std::string(part)];
  }
  return node->is_string() ? node->get<std::string>() : "";
}

std::string watch_line(const char* type, const Json& object) {
  Json event = Json::object();
  event["type"] = type;
  event["object"] = object;
  return core::to_compact_json(event) + "\n";
}

// One watch connection: woken by every controller pass and by the client leaving.
struct WatchState {
  net::Notifier notifier;
  bool closed = false;
};

net::Awaitable<void> watch_hpas(net::ResponseWriter& writer, Controller& controller,
                                std::string ns) {
  auto state = std::make_shared<WatchState>();
  int listener = controller.subscribe([state](const HpaView&) { state->notifier.notify(); });
  writer.on_disconnect([state] {
    state->closed = true;
    state->notifier.notify();
  });
  net::Headers headers{{"Content-Type", "application/json"}, {"Cache-Control", "no-cache"}};
  std::map<std::string, std::string> sent;  // namespace/name -> last object sent
  bool ok = static_cast<bool>(co_await writer.begin_stream(200, headers));
  while (ok && !state->closed) {
    std::string chunk;
    for (const HpaView& view : controller.list()) {
      const auto& meta = view.hpa.metadata;
      if (!ns.empty() && meta.namespace_ != ns) continue;
      Json object = kube::encode_hpa(view.hpa);
      std::string text = core::to_compact_json(object);
      std::string key = meta.namespace_ + "/" + meta.name;
      auto it = sent.find(key);
      if (it != sent.end() && it->second == text) continue;
      chunk += watch_line(it == sent.end() ? "ADDED" : "MODIFIED", object);
      sent[key] = std::move(text);
    }
    if (!chunk.empty()) ok = static_cast<bool>(co_await writer.write(chunk));
    if (ok) co_await state->notifier.wait();
  }
  controller.unsubscribe(listener);
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

ControlApi::ControlApi(Controller& controller, PodLister pods)
    : controller_(controller), pods_(std::move(pods)) {}

void ControlApi::add_routes(net::Router& router) {
  auto list_hpas = [this](net::ServerRequest& request,
                          net::ResponseWriter& writer) -> net::Awaitable<void> {
    std::string ns = namespace_param(request);
    auto watch = request.query.get("watch");
    if (watch && (*watch == "true" || *watch == "1")) {
      co_await watch_hpas(writer, controller_, ns);
      co_return;
    }
    Json items = Json::array();
    for (const HpaView& view : controller_.list()) {
      if (ns.empty() || view.hpa.metadata.namespace_ == ns)
        items.push_back(kube::encode_hpa(view.hpa));
    }
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
                 : error_response(adapter::not_found("horizontalpodautoscalers.autoscaling \"" +
                                                     name + "\" not found"));
        co_await writer.send(std::move(response));
      });

  auto list_pods = [this](net::ServerRequest& request,
                          net::ResponseWriter& writer) -> net::Awaitable<void> {
    std::string ns = namespace_param(request);
    auto selector = kube::Selector::parse(request.query.get("labelSelector").value_or(""));
    if (!selector) {
      net::Response bad = error_response(adapter::bad_request(selector.error().message));
      co_await writer.send(std::move(bad));
      co_return;
    }
    Json items = Json::array();
    for (const kube::Pod& pod : pods_()) {
      if ((ns.empty() || pod.metadata.namespace_ == ns) && selector->matches(pod.metadata.labels))
        items.push_back(kube::encode_pod(pod));
    }
    net::Response response = json_response(200, list_of("PodList", "v1", items));
    co_await writer.send(std::move(response));
  };
  router.get("/api/v1/pods", list_pods);
  router.get("/api/v1/namespaces/{ns}/pods", list_pods);

  router.get(
      "/api/v1/namespaces/{ns}/events",
      [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        std::string ns = namespace_param(request);
        auto fields = parse_field_selector(request.query.get("fieldSelector").value_or(""));
        if (!fields) {
          net::Response bad = error_response(fields.error());
          co_await writer.send(std::move(bad));
          co_return;
        }
        Json items = Json::array();
        for (const HpaView& view : controller_.list()) {
          if (view.hpa.metadata.namespace_ != ns) continue;
          for (Json& event : encode_hpa_events(view.hpa, view.events)) {
            bool match = true;
            for (const FieldRequirement& f : *fields)
              match = match && ((field_value(event, f.field) == f.value) == f.equal);
            if (match) items.push_back(std::move(event));
          }
        }
        net::Response response = json_response(200, list_of("EventList", "v1", items));
        co_await writer.send(std::move(response));
      });

  router.get("/healthz",
             [](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
               co_await writer.send(net::Response::text(200, "ok"));
             });
}

}  // namespace llmscale::controller
