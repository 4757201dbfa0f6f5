// ScaleTarget: what the HPA controller scales — a Deployment's scale subresource and its pods.
//
// Implementations: the local process fleet (`llmscale up`), a Kubernetes Deployment through the
// API server, and the fleet simulator. Calls come from the controller's thread; an
// implementation that does I/O must answer from state it already holds (the controller never
// blocks on the network inside a reconcile pass).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/result.h"
#include "kube/objects.h"

namespace llmscale::controller {

class ScaleTarget {
 public:
  virtual ~ScaleTarget() = default;
  // The scale subresource: spec replicas, status replicas and the pod selector.
  virtual core::Result<kube::Scale> get_scale() = 0;
  // Updates spec replicas. The change takes effect asynchronously (pods start and stop later).
  virtual core::Status set_replicas(std::int32_t replicas) = 0;
  // The pods the target currently has, in Kubernetes' shape (labels, phase, Ready condition).
  virtual std::vector<kube::Pod> pods() = 0;
};

// Finds the target an HPA's scaleTargetRef names.
class ScaleTargetResolver {
 public:
  virtual ~ScaleTargetResolver() = default;
  virtual core::Result<ScaleTarget*> resolve(const std::string& namespace_name,
                                             const kube::CrossVersionObjectReference& ref) = 0;
};

}  // namespace llmscale::controller
