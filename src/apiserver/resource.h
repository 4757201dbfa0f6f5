// ResourceType: one kind the embedded API server serves — its names for discovery, its
// subresources, how objects are admitted (defaulted and validated), how `kubectl get` prints
// it (server-side Table columns) and which field selectors it supports.
//
// The built-in set (builtin_resources()) is what an autoscaling user and a controller need:
// v1 namespaces, pods, events; apps/v1 deployments (with scale and status); autoscaling/v2
// horizontalpodautoscalers (with status; autoscaling/v1 too, converted: hpa_v1.h);
// coordination.k8s.io/v1 leases; monitoring.googleapis.com/v1 podmonitorings.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/status.h"
#include "core/json.h"
#include "core/time.h"

namespace llmscale::apiserver {

// metav1.TableColumnDefinition.
struct TableColumn {
  std::string name;
  std::string type;  // string, integer, date
  std::string format;
  std::string description;
  int priority = 0;  // > 0: shown by `-o wide` only
};

struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case
  std::string singular;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool status_subresource = false;
  // autoscaling/v1 Scale over spec.replicas, status.replicas and the label selector.
  bool scale_subresource = false;
  // Field selectors beyond metadata.name and metadata.namespace ("involvedObject.name", ...).
  std::vector<std::string> field_labels;

  // Defaults and validates an object about to be stored; `old` is the stored object on update,
  // null on create. May rewrite `object` into its canonical form. Unknown fields are errors
  // when `strict_fields` (fieldValidation=Strict, what kubectl sends), else dropped.
  std::function<ApiOutcome(core::Json& object, const core::Json* old, bool strict_fields)> admit;

  // Another version of a stored resource (autoscaling/v1 HPAs over autoscaling/v2 storage):
  // what a client sends is converted to the storage version before admission, and every
  // object answered is converted back. Both null for the storage version itself.
  std::function<ApiResult<core::Json>(const core::Json& object)> to_storage;
  std::function<core::Json(const core::Json& stored)> from_storage;

  std::vector<TableColumn> columns;  // empty: Name and Age, as for any resource
  std::function<std::vector<core::Json>(const core::Json& object, core::Time now)> cells;

  // Where the objects are kept: the group whose storage this version shares (events.k8s.io
  // Events are core Events), else its own.
  std::optional<std::string> storage_group;
  GroupResource group_resource() const { return {storage_group.value_or(group), resource}; }
  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
};

std::vector<ResourceType> builtin_resources();
// autoscaling.llmscale.io/v1alpha1 LLMAutoscaler (llmscale_resources.cc).
std::vector<ResourceType> llmscale_resources();

}  // namespace llmscale::apiserver
