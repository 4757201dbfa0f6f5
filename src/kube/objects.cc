// Small behaviours of the object types.
#include "kube/objects.h"

namespace llmscale::kube {

const PodCondition* Pod::ready_condition() const {
  for (const auto& c : conditions) {
    if (c.type == "Ready") return &c;
  }
  return nullptr;
}

}  // namespace llmscale::kube
