// Scale-down in `llmscale up`: which replicas a fleet stops when its desired count drops
// (--scale-down), and how they drain through the fleet's router (RouterBridge).
//
//   replicaset   the ReplicaSet controller's ranking alone (fleet::delete_before): not-ready
//                first, then the most recently ready, newest... whatever they are serving.
//   drain-aware  (default) the same ranking, with each pod's controller.kubernetes.io/
//                pod-deletion-cost set just before from the router's in-flight tokens on it
//                (router::BackendStatus::in_flight_tokens: prompt words plus the tokens streamed
//                so far), so among ready pods the least loaded go first. Not-ready pods still go
//                before ready ones (the cost is upstream's step 4, after readiness), and equal
//                loads (an idle fleet) fall through to the ReplicaSet's own order.
//
// Either way a victim drains (RouterBridge): the router stops sending it requests and the fleet
// sends SIGTERM once its streams are done, or when terminationGracePeriodSeconds has passed
// (fleet.h).
//
// Runs on the fleet's thread (the event loop of `up`).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "core/result.h"
#include "fleet/fleet.h"

namespace llmscale::router {
class Balancer;
struct BackendStatus;
}  // namespace llmscale::router

namespace llmscale::up {

// Keeps a fleet's router backends in step with its pods: ready pods take requests, terminating
// ones drain (`drained` runs once the router has no request in flight on them; the fleet then
// sends SIGTERM), removed ones go, and `after_remove` runs (the proxy closes its idle
// connections to the gone replica). The Balancer must outlive it.
class RouterBridge final : public fleet::FleetListener {
 public:
  explicit RouterBridge(router::Balancer& balancer, std::function<void()> after_remove = {})
      : balancer_(balancer), after_remove_(std::move(after_remove)) {}

  void on_ready(const fleet::Endpoint& endpoint) override;
  void on_not_ready(const fleet::Endpoint& endpoint) override;
  // NOLINTNEXTLINE(performance-unnecessary-value-param): the callback is kept.
  void on_terminating(const kube::Pod& terminating, std::function<void()> drained) override;
  void on_removed(const kube::Pod& pod) override;

 private:
  router::Balancer& balancer_;
  std::function<void()> after_remove_;
};

enum class ScaleDownPolicy { kDrainAware, kReplicaSet };

// "drain-aware" or "replicaset"; kInvalidArgument otherwise.
core::Result<ScaleDownPolicy> parse_scale_down_policy(std::string_view name);
std::string_view scale_down_policy_name(ScaleDownPolicy policy);

// The pod-deletion-cost for a backend's load: its in-flight tokens, capped at int32's maximum.
std::int32_t deletion_cost_for(const router::BackendStatus& backend);

// Sets the deletion cost of every pod of `fleet` that is not terminating: from its backend in
// `balancer`, or 0 for a pod the router does not know (never ready). Returns how many were set.
std::size_t set_deletion_costs_from_load(fleet::Fleet& fleet, const router::Balancer& balancer);

}  // namespace llmscale::up
