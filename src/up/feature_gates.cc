// Kubernetes feature gates of `llmscale up` (feature_gates.h).
#include "up/feature_gates.h"

#include <nlohmann/json.hpp>

#include "apiserver/status.h"
#include "core/strings.h"
#include "kube/json_codec.h"

namespace llmscale::up {
namespace {

// spec.minReplicas when the object sets it to an integer.
std::optional<std::int64_t> min_replicas(const core::Json* object) {
  if (object == nullptr || !object->is_object()) return std::nullopt;
  auto spec = object->find("spec");
  if (spec == object->end() || !spec->is_object()) return std::nullopt;
  auto min = spec->find("minReplicas");
  if (min == spec->end() || !min->is_number_integer()) return std::nullopt;
  return min->get<std::int64_t>();
}

}  // namespace

core::Result<kube::ApiServerGates> parse_feature_gates(std::string_view text) {
  kube::ApiServerGates gates;
  if (text.empty()) return gates;
  for (std::string_view item : core::split(text, ',')) {
    auto kv = core::split(item, '=');
    if (kv.size() != 2 || (kv[1] != "true" && kv[1] != "false"))
      return core::invalid_argument("--feature-gates: expected Gate=true|false, got \"" +
                                    std::string(item) + "\"");
    bool on = kv[1] == "true";
    if (kv[0] == "HPAScaleToZero") {
      gates.hpa_scale_to_zero = on;
    } else if (kv[0] == "HPAConfigurableTolerance") {
      gates.hpa_configurable_tolerance = on;
    } else {
      return core::invalid_argument("--feature-gates: unknown gate \"" + std::string(kv[0]) +
                                    "\" (known: HPAScaleToZero, HPAConfigurableTolerance)");
    }
  }
  return gates;
}

void apply_hpa_gates(apiserver::ResourceType& type, const kube::ApiServerGates& gates) {
  auto admit = type.admit;
  type.admit = [admit, gates, group = type.group, kind = type.kind](
                   core::Json& object, const core::Json* old,
                   bool strict) -> apiserver::ApiOutcome {
    if (!gates.hpa_configurable_tolerance && object.is_object() && object.contains("spec") &&
        object["spec"].is_object() && object["spec"].contains("behavior") &&
        object["spec"]["behavior"].is_object()) {
      for (const char* direction : {"scaleUp", "scaleDown"}) {
        core::Json& behavior = object["spec"]["behavior"];
        if (behavior.contains(direction) && behavior[direction].is_object())
          behavior[direction].erase("tolerance");
      }
    }
    // Kubernetes: the lower bound of minReplicas is 0 with the gate on, or when the stored
    // object already has 0 (so turning the gate off does not strand existing HPAs).
    std::optional<std::int64_t> min = min_replicas(&object);
    if (gates.hpa_scale_to_zero || min_replicas(old) == 0 || !min || *min >= 1)
      return admit(object, old, strict);
    // Refused: every error upstream would list, the minReplicas one with the gate's bound.
    // Decoded as the HPA it carries (an LLMAutoscaler's spec is an HPA's).
    core::Json as_hpa = object;
    as_hpa["apiVersion"] = "autoscaling/v2";
    as_hpa["kind"] = "HorizontalPodAutoscaler";
    auto hpa = kube::decode_hpa(as_hpa, /*strict=*/false);
    if (!hpa) return admit(object, old, strict);  // the builtin admission says what is wrong
    kube::apply_hpa_defaults(*hpa);
    kube::FieldErrors errors = kube::validate_hpa(*hpa, gates);
    return tl::unexpected(apiserver::invalid(group, kind, hpa->metadata.name, errors));
  };
}

}  // namespace llmscale::up
