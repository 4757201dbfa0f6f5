// metav1.Status bodies, with apimachinery's messages (k8s.io/apimachinery/pkg/api/errors).
#include "apiserver/status.h"

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace llmscale::apiserver {
namespace {

// field.ErrorType -> metav1.CauseType.
const char* cause_type(kube::FieldError::Type type) {
  switch (type) {
    case kube::FieldError::Type::kRequired: return "FieldValueRequired";
    case kube::FieldError::Type::kInvalid: return "FieldValueInvalid";
    case kube::FieldError::Type::kNotSupported: return "FieldValueNotSupported";
    case kube::FieldError::Type::kForbidden: return "FieldValueForbidden";
    case kube::FieldError::Type::kDuplicate: return "FieldValueDuplicate";
    case kube::FieldError::Type::kTooLong: return "FieldValueTooLong";
  }
  return "FieldValueInvalid";
}

ApiStatus make(int code, std::string reason, std::string message) {
  ApiStatus status;
  status.code = code;
  status.reason = std::move(reason);
  status.message = std::move(message);
  return status;
}

ApiStatus with_details(ApiStatus status, const GroupResource& resource, const std::string& name) {
  StatusDetails details;
  details.name = name;
  details.group = resource.group;
  details.kind = resource.resource;
  status.details = std::move(details);
  return status;
}

}  // namespace

core::Json ApiStatus::to_json() const {
  core::Json out = core::Json::object();
  out["kind"] = "Status";
  out["apiVersion"] = "v1";
  out["metadata"] = core::Json::object();
  out["status"] = code >= 200 && code < 300 ? "Success" : "Failure";
  if (!message.empty()) out["message"] = message;
  if (!reason.empty()) out["reason"] = reason;
  if (details) {
    core::Json d = core::Json::object();
    if (!details->name.empty()) d["name"] = details->name;
    if (!details->group.empty()) d["group"] = details->group;
    if (!details->kind.empty()) d["kind"] = details->kind;
    if (!details->causes.empty()) {
      core::Json causes = core::Json::array();
      for (const StatusCause& c : details->causes) {
        core::Json cause = core::Json::object();
        if (!c.reason.empty()) cause["reason"] = c.reason;
        if (!c.message.empty()) cause["message"] = c.message;
        if (!c.field.empty()) cause["field"] = c.field;
        causes.push_back(std::move(cause));
      }
      d["causes"] = std::move(causes);
    }
    if (details->retry_after_seconds > 0) d["retryAfterSeconds"] = details->retry_after_seconds;
    out["details"] = std::move(d);
  }
  out["code"] = code;
  return out;
}

std::string ApiStatus::body() const {
  return core::to_compact_json(to_json()) + "\n";
}

ApiStatus not_found(const GroupResource& resource, const std::string& name) {
  return with_details(
      make(404, "NotFound", resource.to_string() + " " + core::go_quote(name) + " not found"),
      resource, name);
}

ApiStatus already_exists(const GroupResource& resource, const std::string& name) {
  return with_details(make(409, "AlreadyExists",
                           resource.to_string() + " " + core::go_quote(name) + " already exists"),
                      resource, name);
}

ApiStatus conflict(const GroupResource& resource, const std::string& name, const std::string& why) {
  return with_details(make(409, "Conflict",
                           "Operation cannot be fulfilled on " + resource.to_string() + " " +
                               core::go_quote(name) + ": " + why),
                      resource, name);
}

ApiStatus stale_conflict(const GroupResource& resource, const std::string& name) {
  // apiserver/pkg/storage: OptimisticLockErrorMsg.
  return conflict(resource, name,
                  "the object has been modified; please apply your changes to the latest "
                  "version and try again");
}

ApiStatus invalid(const std::string& group, const std::string& kind, const std::string& name,
                  const kube::FieldErrors& errors) {
  std::string qualified = group.empty() ? kind : kind + "." + group;
  ApiStatus status =
      make(422, "Invalid",
           qualified + " " + core::go_quote(name) + " is invalid: " + kube::aggregate(errors));
  StatusDetails details;
  details.name = name;
  details.group = group;
  details.kind = kind;
  for (const kube::FieldError& e : errors) {
    // field.Error.ErrorBody(): the message without its "field: " prefix.
    std::string text = e.to_string();
    std::string prefix = e.field + ": ";
    if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
    details.causes.push_back({cause_type(e.type), std::move(text), e.field});
  }
  status.details = std::move(details);
  return status;
}

ApiStatus expired(std::uint64_t requested, std::uint64_t oldest) {
  // apiserver/pkg/storage/cacher: "too old resource version: %d (%d)".
  return make(410, "Expired",
              "too old resource version: " + std::to_string(requested) + " (" +
                  std::to_string(oldest) + ")");
}

ApiStatus bad_request(std::string message) {
  return make(400, "BadRequest", std::move(message));
}

ApiStatus method_not_allowed() {
  return make(405, "MethodNotAllowed",
              "the server does not allow this method on the requested resource");
}

ApiStatus not_acceptable(std::string message) {
  return make(406, "NotAcceptable", std::move(message));
}

ApiStatus unsupported_media_type(const std::string& content_type,
                                 const std::vector<std::string>& accepted) {
  (void)content_type;
  return make(415, "UnsupportedMediaType",
              "the body of the request was in an unknown format - accepted media types "
              "include: " +
                  core::join(accepted, ", "));
}

ApiStatus internal_error(std::string message) {
  ApiStatus status = make(500, "InternalError", "Internal error occurred: " + message);
  StatusDetails details;
  details.causes.push_back({"", std::move(message), ""});
  status.details = std::move(details);
  return status;
}

}  // namespace llmscale::apiserver
