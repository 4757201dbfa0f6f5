// The API server's three patch types, applied to an object's JSON:
//   application/merge-patch+json            RFC 7386 JSON merge patch
//   application/json-patch+json             RFC 6902 JSON patch
//   application/strategic-merge-patch+json  Kubernetes' strategic merge patch: maps merge as
//     in a merge patch; lists with a patch merge key (containers by name, conditions by type,
//     ...) merge element by element; other lists are replaced. Directives: `$patch: replace`
//     and `$patch: delete` (in maps and list elements), `$setElementOrder/<list>`,
//     `$deleteFromPrimitiveList/<list>`, `$retainKeys`.
// Errors are the API server's 400/422 answers. Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "apiserver/status.h"
#include "core/json.h"

namespace llmscale::apiserver {

enum class PatchType { kMerge, kJson, kStrategic, kApply };

// The patch type of a Content-Type header; UnsupportedMediaType (415) for anything else.
ApiResult<PatchType> patch_type(std::string_view content_type);

ApiResult<core::Json> apply_merge_patch(const core::Json& object, const core::Json& patch);
ApiResult<core::Json> apply_json_patch(const core::Json& object, const core::Json& patch);
ApiResult<core::Json> apply_strategic_merge_patch(const core::Json& object,
                                                  const core::Json& patch);

// The merge key of a list field under strategic merge ("" when the list is atomic), from the
// field's name and its parent's (Kubernetes' `patchMergeKey` tags for the served types).
std::string patch_merge_key(std::string_view parent_field, std::string_view field);

}  // namespace llmscale::apiserver
