// `llmscale up --feature-gates`: the Kubernetes feature gates that change HPAs, given once for the
// embedded API server and the HPA controller (a cluster passes the same list to kube-apiserver
// and kube-controller-manager). Defaults are v1.37's (kube::ApiServerGates): HPAScaleToZero and
// HPAConfigurableTolerance on.
//
// HPAScaleToZero off: spec.minReplicas 0 is refused as kube-apiserver refuses it, "must be
// greater than or equal to 1", except on an update of an HPA that already has minReplicas 0
// (upstream's ratchet in validationOptionsForHorizontalPodAutoscaler), and the controller never
// scales from zero. HPAConfigurableTolerance off: behavior.*.tolerance is dropped on admission.
#pragma once

#include <string_view>

#include "apiserver/resource.h"
#include "core/result.h"
#include "kube/hpa_validation.h"

namespace llmscale::up {

// "HPAScaleToZero=false,HPAConfigurableTolerance=true"; empty keeps the defaults. Errors name
// the flag and the item.
core::Result<kube::ApiServerGates> parse_feature_gates(std::string_view text);

// The HPA admission of the embedded API server under `gates`: wraps the builtin one (which
// admits with the defaults); a refusal names the type's own kind and group. REQUIRES: `type`
// is autoscaling's horizontalpodautoscalers or an object with an HPA spec (LLMAutoscaler).
void apply_hpa_gates(apiserver::ResourceType& type, const kube::ApiServerGates& gates);

}  // namespace llmscale::up
