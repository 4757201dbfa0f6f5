// Rendering of field errors (apimachinery/pkg/util/validation/field/errors.go).
#include "kube/field_error.h"

#include "core/strings.h"

namespace llmscale::kube {
namespace {

const char* type_text(FieldError::Type type) {
  switch (type) {
    case FieldError::Type::kRequired: return "Required value";
    case FieldError::Type::kInvalid: return "Invalid value";
    case FieldError::Type::kNotSupported: return "Unsupported value";
    case FieldError::Type::kForbidden: return "Forbidden";
    case FieldError::Type::kDuplicate: return "Duplicate value";
    case FieldError::Type::kTooLong: return "Too long";
  }
  return "Invalid value";
}

}  // namespace

std::string FieldError::to_string() const {
  std::string body = type_text(type);
  bool shows_value =
      type == Type::kInvalid || type == Type::kNotSupported || type == Type::kDuplicate;
  if (shows_value) body += ": " + (bad_value.empty() ? std::string("null") : bad_value);
  if (!detail.empty()) body += ": " + detail;
  return field + ": " + body;
}

std::string quoted_value(const std::string& value) {
  return core::go_quote(value);
}

FieldError required(std::string field, std::string detail) {
  return {FieldError::Type::kRequired, std::move(field), "", std::move(detail)};
}

FieldError invalid(std::string field, std::string rendered_value, std::string detail) {
  return {FieldError::Type::kInvalid, std::move(field), std::move(rendered_value),
          std::move(detail)};
}

FieldError not_supported(std::string field, std::string rendered_value,
                         const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    std::vector<std::string> quoted;
    quoted.reserve(supported.size());
    for (const auto& s : supported) quoted.push_back(core::go_quote(s));
    detail = "supported values: " + core::join(quoted, ", ");
  }
  return {FieldError::Type::kNotSupported, std::move(field), std::move(rendered_value),
          std::move(detail)};
}

FieldError forbidden(std::string field, std::string detail) {
  return {FieldError::Type::kForbidden, std::move(field), "", std::move(detail)};
}

std::string aggregate(const FieldErrors& errors) {
  if (errors.size() == 1) return errors[0].to_string();
  std::vector<std::string> parts;
  for (const auto& e : errors) parts.push_back(e.to_string());
  return "[" + core::join(parts, ", ") + "]";
}

std::string invalid_object_message(const std::string& kind, const std::string& name,
                                   const FieldErrors& errors) {
  std::string head = "The " + kind + " \"" + name + "\" is invalid: ";
  if (errors.size() == 1) return head + errors[0].to_string();
  std::string out = head;
  for (const auto& e : errors) out += "\n* " + e.to_string();
  return out;
}

}  // namespace llmscale::kube
