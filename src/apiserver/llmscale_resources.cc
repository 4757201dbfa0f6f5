// llmscale's own API group for the embedded API server: autoscaling.llmscale.io/v1alpha1
// LLMAutoscaler, the object `llmscale controller` reconciles. Its spec is the autoscaling/v2
// HorizontalPodAutoscaler spec verbatim (defaulted and validated exactly as an HPA's), its
// status the HPA status plus `history` (the engine's stabilization and scale-event history, so a
// restarted or failed-over controller keeps it). `kubectl get llmautoscalers` prints the same
// columns as `kubectl get hpa`. deploy/controller/crd.yaml is the same type as a
// CustomResourceDefinition for real clusters.
#include <nlohmann/json.hpp>

#include "apiserver/resource.h"

namespace llmscale::apiserver {

std::vector<ResourceType> llmscale_resources() {
  ResourceType hpa_type;
  for (ResourceType& type : builtin_resources()) {
    if (type.resource == "horizontalpodautoscalers") hpa_type = std::move(type);
  }
  ResourceType autoscalers;
  autoscalers.group = "autoscaling.llmscale.io";
  autoscalers.version = "v1alpha1";
  autoscalers.resource = "llmautoscalers";
  autoscalers.singular = "llmautoscaler";
  autoscalers.kind = "LLMAutoscaler";
  autoscalers.short_names = {"llmhpa"};
  autoscalers.categories = {"all"};
  autoscalers.status_subresource = true;
  auto admit_hpa = hpa_type.admit;
  autoscalers.admit = [admit_hpa](core::Json& object, const core::Json* old,
                                  bool strict) -> ApiOutcome {
    // The HPA's admission on the same spec, under the HPA's apiVersion and kind; llmscale's
    // status.history rides along untouched.
    core::Json history;
    if (object.contains("status") && object["status"].is_object() &&
        object["status"].contains("history")) {
      history = object["status"]["history"];
      object["status"].erase("history");
    }
    object["apiVersion"] = "autoscaling/v2";
    object["kind"] = "HorizontalPodAutoscaler";
    ApiOutcome outcome = admit_hpa(object, old, strict);
    object["apiVersion"] = "autoscaling.llmscale.io/v1alpha1";
    object["kind"] = "LLMAutoscaler";
    if (outcome && !history.is_null()) object["status"]["history"] = std::move(history);
    return outcome;
  };
  autoscalers.columns = hpa_type.columns;
  autoscalers.cells = hpa_type.cells;
  return {std::move(autoscalers)};
}

}  // namespace llmscale::apiserver
