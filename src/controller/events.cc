// The HPA controller's recorded events as core/v1 Event objects, and back (events.h).
#include "controller/events.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/time.h"

namespace llmscale::controller {

using core::Json;

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
    event["source"] = {{"component", e.source.empty() ? kHpaEventSource : e.source}};
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
    e.read_object("source", event.source, [](core::JsonReader& source, std::string& component) {
      source.read("component", component);
    });
    if (event.source.empty()) e.read("reportingComponent", event.source);
  });
  if (auto status = r.finish(); !status) return tl::unexpected(status.error());
  return events;
}

}  // namespace llmscale::controller
