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

// metav1.StatusDetails (the fields the metrics APIs fill; empty ones are omitted).
struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;
};

// An API error in metav1.Status terms.
struct ApiError {
  int code = 500;
  std::string reason;  // NotFound, BadRequest, InternalError, ...
  std::string message;
  std::optional<StatusDetails> details;
  // {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":...,
  //  "reason":...,"details":{...},"code":...}
  std::string to_json() const;
};

ApiError not_found(std::string message);
ApiError bad_request(std::string message);
ApiError internal_error(std::string message);  // "Internal error occurred: <message>"
// apimachinery's errors.NewNotFound: `<resource>[.<group>] "<name>" not found` with details.
ApiError object_not_found(const std::string& group, const std::string& resource,
                          const std::string& name);

template <class T>
using ApiResult = tl::expected<T, ApiError>;

// The first value of `key` in a raw query string, percent-decoded ("" when absent or malformed).
std::string query_parameter(std::string_view raw_query, std::string_view key);

// Parses "/apis/<group>/<version>/..." with its raw query string. Unknown groups/versions and
// malformed paths are BadRequest ("invalid request path"); bad selectors are BadRequest with
// the selector's error.
ApiResult<MetricsRequest> parse_metrics_request(std::string_view path, std::string_view raw_query);

}  // namespace llmscale::adapter
