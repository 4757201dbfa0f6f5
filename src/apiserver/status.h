// metav1.Status: how the embedded API server says no, in the API server's exact shapes.
//
// Every error a client can see is one of these (k8s.io/apimachinery/pkg/api/errors):
//   404 NotFound         horizontalpodautoscalers.autoscaling "x" not found
//   409 AlreadyExists    horizontalpodautoscalers.autoscaling "x" already exists
//   409 Conflict         Operation cannot be fulfilled on ...: the object has been modified; ...
//   422 Invalid          HorizontalPodAutoscaler.autoscaling "x" is invalid: <field errors>
//   410 Expired          too old resource version: 5 (12)
//   400 BadRequest, 405 MethodNotAllowed, 406 NotAcceptable, 415 UnsupportedMediaType,
//   500 InternalError
// Plain values; `to_json()` writes the body with Go's field order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "kube/field_error.h"

namespace llmscale::apiserver {

// A resource's name in messages and details: {group "autoscaling", resource
// "horizontalpodautoscalers"} prints "horizontalpodautoscalers.autoscaling"; core group "pods".
struct GroupResource {
  std::string group;
  std::string resource;
  std::string to_string() const { return group.empty() ? resource : resource + "." + group; }
};

struct StatusCause {
  std::string reason;  // FieldValueInvalid, FieldValueRequired, ...
  std::string message;
  std::string field;
};

struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;
};

struct ApiStatus {
  int code = 500;
  std::string reason;
  std::string message;
  std::optional<StatusDetails> details;

  core::Json to_json() const;
  std::string body() const;  // compact JSON with a trailing newline
};

template <class T>
using ApiResult = tl::expected<T, ApiStatus>;
using ApiOutcome = ApiResult<void>;

ApiStatus not_found(const GroupResource& resource, const std::string& name);
ApiStatus already_exists(const GroupResource& resource, const std::string& name);
ApiStatus conflict(const GroupResource& resource, const std::string& name, const std::string& why);
// "the object has been modified; please apply your changes to the latest version and try again"
ApiStatus stale_conflict(const GroupResource& resource, const std::string& name);
// `kind` is the object's Kind ("HorizontalPodAutoscaler"); `group` its API group.
ApiStatus invalid(const std::string& group, const std::string& kind, const std::string& name,
                  const kube::FieldErrors& errors);
ApiStatus expired(std::uint64_t requested, std::uint64_t oldest);
ApiStatus bad_request(std::string message);
ApiStatus method_not_allowed();
ApiStatus not_acceptable(std::string message);
ApiStatus unsupported_media_type(const std::string& content_type,
                                 const std::vector<std::string>& accepted);
ApiStatus internal_error(std::string message);

}  // namespace llmscale::apiserver
