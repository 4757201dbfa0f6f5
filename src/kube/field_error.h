// field.Error and field.ErrorList as the Kubernetes API server reports validation failures.
//
// Each error names a field path ("spec.metrics[0].pods.target.averageValue"), a type and a
// detail, and prints exactly like apimachinery's (*field.Error).Error():
//   spec.metrics[0].pods.target.averageValue: Required value: must specify a positive target
//   averageValue spec.minReplicas: Invalid value: 0: must be greater than or equal to 1
#pragma once

#include <string>
#include <vector>

namespace llmscale::kube {

struct FieldError {
  enum class Type { kRequired, kInvalid, kNotSupported, kForbidden, kDuplicate, kTooLong };

  Type type = Type::kInvalid;
  std::string field;      // path, or "<nil>" as upstream prints a missing path
  std::string bad_value;  // already rendered: 0, "text" (quoted), null; empty when omitted
  std::string detail;

  std::string to_string() const;
};

using FieldErrors = std::vector<FieldError>;

// A Go-%q-quoted string as a bad value.
std::string quoted_value(const std::string& value);

FieldError required(std::string field, std::string detail);
FieldError invalid(std::string field, std::string rendered_value, std::string detail);
FieldError not_supported(std::string field, std::string rendered_value,
                         const std::vector<std::string>& supported);
FieldError forbidden(std::string field, std::string detail);

// utilerrors.NewAggregate(errs).Error(): one error as itself, several as "[a, b]".
std::string aggregate(const FieldErrors& errors);

// The API server's Invalid status message as kubectl prints it:
//   The HorizontalPodAutoscaler "x" is invalid: spec.maxReplicas: Invalid value: 0: ...
// and, for several causes, one "* cause" line each.
std::string invalid_object_message(const std::string& kind, const std::string& name,
                                   const FieldErrors& errors);

}  // namespace llmscale::kube
