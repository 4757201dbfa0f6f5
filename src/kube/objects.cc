// Small behaviours of the object types, and the pod-deletion-cost annotation.
#include "kube/objects.h"

#include <limits>

namespace llmscale::kube {

const PodCondition* Pod::ready_condition() const {
  for (const auto& c : conditions) {
    if (c.type == "Ready") return &c;
  }
  return nullptr;
}

core::Result<std::int32_t> pod_deletion_cost(
    const std::map<std::string, std::string>& annotations) {
  // Kubernetes: GetDeletionCostFromPodAnnotations. Absent: 0. A leading '+' or a leading zero
  // ("+10", "008") is invalid; so is anything strconv.ParseInt(value, 10, 32) refuses.
  auto it = annotations.find(kPodDeletionCost);
  if (it == annotations.end()) return 0;
  const std::string& value = it->second;
  auto invalid = [&] { return core::invalid_argument("invalid value \"" + value + "\""); };
  bool first_ok =
      !value.empty() && (value[0] == '-' || value == "0" || (value[0] >= '1' && value[0] <= '9'));
  if (!first_ok) return invalid();
  std::size_t i = value[0] == '-' ? 1 : 0;
  if (i == value.size()) return invalid();
  std::int64_t magnitude = 0;
  for (; i < value.size(); ++i) {
    char c = value[i];
    if (c < '0' || c > '9') return invalid();
    magnitude = magnitude * 10 + (c - '0');
    if (magnitude > std::int64_t{1} << 31) return invalid();  // out of int32 range either way
  }
  std::int64_t parsed = value[0] == '-' ? -magnitude : magnitude;
  if (parsed > std::numeric_limits<std::int32_t>::max() ||
      parsed < std::numeric_limits<std::int32_t>::min())
    return invalid();
  return static_cast<std::int32_t>(parsed);
}

}  // namespace llmscale::kube
