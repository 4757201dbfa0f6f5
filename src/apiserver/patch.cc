// JSON merge patch, JSON patch and strategic merge patch (see patch.h).
#include "apiserver/patch.h"

#include <set>

#include <nlohmann/json.hpp>

#include "core/strings.h"

namespace llmscale::apiserver {
namespace {

using core::Json;

constexpr std::string_view kSetElementOrder = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList/";

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Json strategic_merge(const Json& original, const Json& patch, std::string_view field);

// Merges list `patch` into `original` by `key`; elements with `$patch: delete` remove theirs.
Json merge_list(const Json& original, const Json& patch, const std::string& key,
                std::string_view field) {
  Json out = original.is_array() ? original : Json::array();
  for (const Json& element : patch) {
    if (!element.is_object() || !element.contains(key)) {
      out.push_back(element);
      continue;
    }
    const Json& id = element.at(key);
    auto match = std::find_if(out.begin(), out.end(), [&](const Json& e) {
      return e.is_object() && e.contains(key) && e.at(key) == id;
    });
    auto directive = element.find("$patch");
    if (directive != element.end() && *directive == "delete") {
      if (match != out.end()) out.erase(match);
      continue;
    }
    if (match == out.end()) {
      out.push_back(strategic_merge(Json::object(), element, field));
    } else {
      *match = strategic_merge(*match, element, field);
    }
  }
  return out;
}

Json strategic_merge(const Json& original, const Json& patch, std::string_view field) {
  if (!patch.is_object()) return patch;
  auto directive = patch.find("$patch");
  if (directive != patch.end() && *directive == "replace") {
    Json replaced = patch;
    replaced.erase("$patch");
    return replaced;
  }
  if (directive != patch.end() && *directive == "delete") return Json();  // removed by caller
  Json out = original.is_object() ? original : Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& key = it.key();
    if (key == "$patch" || key == "$retainKeys" || starts_with(key, kSetElementOrder)) continue;
    if (starts_with(key, kDeleteFromPrimitiveList)) {
      std::string list = key.substr(kDeleteFromPrimitiveList.size());
      auto target = out.find(list);
      if (target != out.end() && target->is_array() && it->is_array()) {
        Json kept = Json::array();
        for (const Json& v : *target)
          if (std::find(it->begin(), it->end(), v) == it->end()) kept.push_back(v);
        *target = std::move(kept);
      }
      continue;
    }
    const Json& value = it.value();
    if (value.is_null()) {
      out.erase(key);
      continue;
    }
    if (value.is_object()) {
      auto d = value.find("$patch");
      if (d != value.end() && *d == "delete") {
        out.erase(key);
        continue;
      }
      auto existing = out.find(key);
      out[key] = strategic_merge(existing != out.end() ? *existing : Json::object(), value, key);
      continue;
    }
    if (value.is_array()) {
      std::string merge_key = patch_merge_key(field, key);
      bool replace = false;
      Json elements = Json::array();
      for (const Json& e : value) {
        if (e.is_object() && e.size() == 1 && e.value("$patch", "") == "replace") {
          replace = true;
        } else {
          elements.push_back(e);
        }
      }
      auto existing = out.find(key);
      if (merge_key.empty() || replace || existing == out.end()) {
        Json cleaned = Json::array();
        for (const Json& e : elements) {
          if (e.is_object() && e.value("$patch", "") == "delete") continue;
          cleaned.push_back(merge_key.empty() ? e : strategic_merge(Json::object(), e, key));
        }
        out[key] = std::move(cleaned);
      } else {
        out[key] = merge_list(*existing, elements, merge_key, key);
      }
      continue;
    }
    out[key] = value;
  }
  // $retainKeys: keys of the result not listed are dropped.
  auto retain = patch.find("$retainKeys");
  if (retain != patch.end() && retain->is_array()) {
    std::set<std::string> keep;
    for (const Json& k : *retain)
      if (k.is_string()) keep.insert(k.get<std::string>());
    for (auto it = out.begin(); it != out.end();) {
      if (keep.count(it.key()) == 0) {
        it = out.erase(it);
      } else {
        ++it;
      }
    }
  }
  return out;
}

}  // namespace

std::string patch_merge_key(std::string_view parent_field, std::string_view field) {
  // The patchMergeKey tags of the fields our served types have (core/v1, apps/v1,
  // autoscaling/v2, meta/v1). autoscaling/v2's metrics and policies are atomic lists.
  if (field == "containers" || field == "initContainers" || field == "ephemeralContainers" ||
      field == "env" || field == "volumes" || field == "imagePullSecrets" ||
      field == "resourceClaims")
    return "name";
  if (field == "ports") return parent_field == "spec" ? "port" : "containerPort";
  if (field == "volumeMounts") return "mountPath";
  if (field == "volumeDevices") return "devicePath";
  if (field == "conditions") return "type";
  if (field == "ownerReferences") return "uid";
  if (field == "hostAliases") return "ip";
  if (field == "topologySpreadConstraints") return "topologyKey";
  return "";
}

ApiResult<PatchType> patch_type(std::string_view content_type) {
  std::string_view base = content_type.substr(0, content_type.find(';'));
  base = core::trim(base);
  if (base == "application/merge-patch+json") return PatchType::kMerge;
  if (base == "application/json-patch+json") return PatchType::kJson;
  if (base == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  if (base == "application/apply-patch+yaml" || base == "application/apply-patch+cbor")
    return PatchType::kApply;
  return tl::unexpected(unsupported_media_type(
      std::string(content_type),
      {"application/json-patch+json", "application/merge-patch+json",
       "application/apply-patch+yaml", "application/strategic-merge-patch+json"}));
}

ApiResult<Json> apply_merge_patch(const Json& object, const Json& patch) {
  Json out = object;
  try {
    out.merge_patch(patch);
  } catch (const std::exception& e) {
    return tl::unexpected(bad_request(e.what()));
  }
  return out;
}

ApiResult<Json> apply_json_patch(const Json& object, const Json& patch) {
  if (!patch.is_array())
    return tl::unexpected(
        bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch"));
  try {
    return object.patch(patch);
  } catch (const nlohmann::detail::exception& e) {
    // evanphx/json-patch reports failures as 422 "the server rejected our request due to an
    // error in our request"; the detail differs.
    ApiStatus status;
    status.code = 422;
    status.reason = "Invalid";
    std::string what = e.what();
    auto at = what.find("] ");
    status.message = at == std::string::npos ? what : what.substr(at + 2);
    return tl::unexpected(std::move(status));
  }
}

ApiResult<Json> apply_strategic_merge_patch(const Json& object, const Json& patch) {
  if (!patch.is_object())
    return tl::unexpected(bad_request("unable to find api field in struct for the patch"));
  return strategic_merge(object, patch, "");
}

}  // namespace llmscale::apiserver
