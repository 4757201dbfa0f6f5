// Loading HorizontalPodAutoscaler manifests the way `kubectl apply` + the API server would:
// YAML/JSON documents, strict decoding, the default namespace, API defaulting, validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "kube/hpa_validation.h"
#include "kube/objects.h"

namespace llmscale::kube {

struct HpaLoadOptions {
  ApiServerGates gates;
  bool strict = true;                         // unknown fields are errors
  std::string default_namespace = "default";  // what kubectl fills in
};

// One HPA from one JSON document: decode, namespace, defaults, validation. Errors read like
// the API server's answers:
//   HorizontalPodAutoscaler in version "v2" cannot be handled as a HorizontalPodAutoscaler:
//     strict decoding error: unknown field "spec.metrics[0].pods.averageValue"
//   The HorizontalPodAutoscaler "x" is invalid: spec.maxReplicas: Invalid value: 0: ...
core::Result<HorizontalPodAutoscaler> load_hpa(const core::Json& document,
                                               const HpaLoadOptions& options);

// Every HorizontalPodAutoscaler document in a manifest text; other kinds are skipped. Fails on
// the first invalid HPA, or when there is none.
core::Result<std::vector<HorizontalPodAutoscaler>> load_hpa_manifests(
    std::string_view text, const HpaLoadOptions& options);

}  // namespace llmscale::kube
