// autoscaling/v1 HorizontalPodAutoscalers over autoscaling/v2 storage, converted as
// kube-apiserver converts them (pkg/apis/autoscaling/v1/conversion.go): the CPU utilization
// target is spec.targetCPUUtilizationPercentage (and status.currentCPUUtilizationPercentage);
// every other metric, the behavior, the current metrics and the conditions travel in the
// annotations autoscaling.alpha.kubernetes.io/{metrics,behavior,current-metrics,conditions}, in
// autoscaling/v1's own MetricSpec/MetricStatus shapes (metricName, targetAverageValue, ...).
#pragma once

#include "apiserver/status.h"
#include "core/json.h"

namespace llmscale::apiserver {

// A v1 object (as a client sends it) in v2 form. BadRequest when an annotation does not decode,
// as the API server's conversion fails.
ApiResult<core::Json> hpa_v1_to_v2(const core::Json& v1);

// A stored v2 object as a v1 client reads it.
core::Json hpa_v2_to_v1(const core::Json& v2);

}  // namespace llmscale::apiserver
