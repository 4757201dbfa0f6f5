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

// kube-apiserver refuses request bodies above 3 MiB (k8s.io/apiserver server.Config
// MaxRequestBodyBytes) before decoding them: "Request entity too large: limit is 3145728".
// A document larger than that could never become an HPA, so nothing of it is looked at.
inline constexpr std::size_t kMaxRequestBodyBytes = 3u * 1024 * 1024;

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

// What the API server does to a decoded HPA before storing it: the default namespace, dropping
// fields of disabled gates, defaulting, validation (messages as load_hpa's).
core::Result<HorizontalPodAutoscaler> admit_hpa(HorizontalPodAutoscaler hpa,
                                                const HpaLoadOptions& options);

// The request-body limit above, on a document's compact JSON size (counted without writing it).
core::Status check_request_size(const core::Json& document);

// Every HorizontalPodAutoscaler document in a manifest text; other kinds are skipped. Fails on
// the first invalid HPA, or when there is none.
core::Result<std::vector<HorizontalPodAutoscaler>> load_hpa_manifests(
    std::string_view text, const HpaLoadOptions& options);

}  // namespace llmscale::kube
