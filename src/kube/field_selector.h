// Field selectors (k8s.io/apimachinery/pkg/fields): `metadata.name=x,status.phase!=Running`,
// parsed against the field labels a resource supports, and matched against an object's JSON.
// Errors carry the API server's messages ("field label not supported: spec.x"). Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace llmscale::kube {

struct FieldRequirement {
  std::string field;
  std::string value;
  bool equal = true;  // `=`/`==`; false for `!=`
};

using FieldSelector = std::vector<FieldRequirement>;

// `supported`: the field labels accepted besides metadata.name and metadata.namespace, which
// every resource supports.
core::Result<FieldSelector> parse_field_selector(std::string_view text,
                                                 const std::vector<std::string>& supported);

// The value a field label reads from an object: the dotted path's string, integer or boolean
// as text; "" when absent.
std::string field_value(const core::Json& object, std::string_view field);

bool matches(const FieldSelector& selector, const core::Json& object);

}  // namespace llmscale::kube
