// API-server behaviour for autoscaling/v2 HorizontalPodAutoscaler objects: defaulting
// (SetDefaults_HorizontalPodAutoscaler, including behavior rules), dropping fields of disabled
// feature gates, and validation (ValidateHorizontalPodAutoscaler) with upstream's field paths
// and messages. Pure functions.
#pragma once

#include "kube/field_error.h"
#include "kube/objects.h"

namespace llmscale::kube {

// kube-apiserver v1.37's feature gates that change HPA admission (pkg/features/kube_features.go).
struct ApiServerGates {
  bool hpa_scale_to_zero = true;           // beta and on since v1.37: minReplicas may be 0
  bool hpa_configurable_tolerance = true;  // beta and on since v1.35: behavior.*.tolerance kept
};

// minReplicas -> 1, no metrics -> CPU 80% utilization, behavior rules filled field by field.
void apply_hpa_defaults(HorizontalPodAutoscaler& hpa);

// The default rules for one direction with the fields `rules` sets copied over (upstream's
// GenerateHPAScaleUpRules / GenerateHPAScaleDownRules).
HPAScalingRules default_scale_up_rules(const std::optional<HPAScalingRules>& rules);
HPAScalingRules default_scale_down_rules(const std::optional<HPAScalingRules>& rules);

// Clears behavior.*.tolerance when the HPAConfigurableTolerance gate is off.
void drop_disabled_fields(HorizontalPodAutoscaler& hpa, const ApiServerGates& gates);

FieldErrors validate_hpa(const HorizontalPodAutoscaler& hpa, const ApiServerGates& gates);

}  // namespace llmscale::kube
