// OpenAPI v3 documents for the served resources, as kube-apiserver publishes them under
// /openapi/v3: an index of group-versions, and one document per group-version with the paths
// (operations tagged with x-kubernetes-group-version-kind and x-kubernetes-action, the
// fieldValidation/dryRun/fieldManager query parameters) and a schema per kind. kubectl reads
// them to learn that the server validates fields itself (`kubectl apply`, `edit`, `create`) and
// for `kubectl explain`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "apiserver/resource.h"
#include "core/json.h"

namespace llmscale::apiserver {

// GET /openapi/v3: {"paths": {"apis/apps/v1": {"serverRelativeURL":
// "/openapi/v3/apis/apps/v1?hash=..."}}}
core::Json openapi_v3_index(const std::vector<ResourceType>& resources);

// GET /openapi/v3/<api|apis/group>/<version>; nullopt for a group-version not served.
std::optional<core::Json> openapi_v3_document(const std::vector<ResourceType>& resources,
                                              const std::string& group, const std::string& version);

}  // namespace llmscale::apiserver
