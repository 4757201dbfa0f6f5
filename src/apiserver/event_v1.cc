// events.k8s.io/v1 <-> core/v1 Event conversion (event_v1.h).
#include "apiserver/event_v1.h"

#include <nlohmann/json.hpp>

namespace llmscale::apiserver {
namespace {

using core::Json;

// core/v1 field -> events.k8s.io/v1 field.
constexpr std::pair<const char*, const char*> kRenamed[] = {
    {"involvedObject", "regarding"},
    {"message", "note"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
    {"reportingComponent", "reportingController"},
};

Json rename(const Json& in, bool to_v1) {
  Json out = Json::object();
  for (auto it = in.begin(); it != in.end(); ++it) {
    std::string key = it.key();
    for (const auto& [core_name, v1_name] : kRenamed) {
      if (to_v1 && key == core_name)
        key = v1_name;
      else if (!to_v1 && key == v1_name)
        key = core_name;
    }
    out[key] = it.value();
  }
  return out;
}

}  // namespace

ApiResult<Json> event_v1_to_core(const Json& event) {
  if (!event.is_object()) return tl::unexpected(bad_request("the object must be a JSON object"));
  Json out = rename(event, /*to_v1=*/false);
  out["apiVersion"] = "v1";
  return out;
}

Json event_core_to_v1(const Json& stored) {
  Json out = rename(stored, /*to_v1=*/true);
  out["apiVersion"] = "events.k8s.io/v1";
  return out;
}

}  // namespace llmscale::apiserver
