// Requests to the custom and external metrics APIs, parsed from their URL paths
// (adapter-and-peers.md §2.3), and the API errors they answer with (metav1.Status, §1.7).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "adapter/config.h"
#include "core/result.h"
#include "kube/label_selector.h"

namespace llmscale::adapter {

enum class MetricsApi { kCustomV1Beta1, kCustomV1Beta2, kExternalV1Beta1 };

struct MetricsRequest {
  MetricsApi api = MetricsApi::kCustomV1Beta2;
  std::string namespace_name;  // empty for root-scoped objects
  GroupResource resource;      // custom API: the described objects' kind
  std::string name;            // object name, or "*" for every object matching the selector
  std::string metric;
  kube::Selector object_selector;  // custom: labelSelector (which objects)
  kube::Selector metric_selector;  // custom: metricLabelSelector; external: labelSelector
  bool external() const { return api == MetricsApi::kExternalV1Beta1; }
  bool wildcard() const { return name == "*"; }
};

// An API error in metav1.Status terms.
struct ApiError {
  int code = 500;
  std::string reason;  // NotFound, BadRequest, InternalError, ...
  std::string message;
  // {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
  //  "reason":...,"code":...}
  std::string to_json() const;
};

ApiError not_found(std::string message);
ApiError bad_request(std::string message);
ApiError internal_error(std::string message);  // "Internal error occurred: <message>"

template <class T>
using ApiResult = tl::expected<T, ApiError>;

// Parses "/apis/<group>/<version>/..." with its raw query string. Unknown groups/versions and
// malformed paths are BadRequest ("invalid request path"); bad selectors are BadRequest with
// the selector's error.
ApiResult<MetricsRequest> parse_metrics_request(std::string_view path, std::string_view raw_query);

}  // namespace llmscale::adapter
