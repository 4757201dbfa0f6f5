// Drain-aware scale-down: pod-deletion-cost from the router's in-flight tokens (scale_down.h).
#include "up/scale_down.h"

#include <algorithm>
#include <limits>
#include <string>

#include "core/log.h"
#include "fleet/fleet.h"
#include "router/balancer.h"

namespace llmscale::up {

void RouterBridge::on_ready(const fleet::Endpoint& endpoint) {
  if (!balancer_.backend(endpoint.pod)) {
    std::string url = "http://" + endpoint.host + ":" + std::to_string(endpoint.api_port);
    if (auto added = balancer_.add_backend(endpoint.pod, url); !added)
      core::log_warn("router: " + added.error().message);
  }
  (void)balancer_.set_state(endpoint.pod, router::BackendState::kReady);
}

void RouterBridge::on_not_ready(const fleet::Endpoint& endpoint) {
  (void)balancer_.set_state(endpoint.pod, router::BackendState::kNotReady);
}

// NOLINTNEXTLINE(performance-unnecessary-value-param): the callback is kept.
void RouterBridge::on_terminating(const kube::Pod& terminating, std::function<void()> drained) {
  const std::string& pod = terminating.metadata.name;
  // A pod that was never ready has no backend: on_drained fails and it is drained already.
  // Otherwise the callback runs once its in-flight requests are done (at once when none).
  (void)balancer_.set_state(pod, router::BackendState::kDraining);
  if (!balancer_.on_drained(pod, drained)) drained();
}

void RouterBridge::on_removed(const kube::Pod& pod) {
  (void)balancer_.remove_backend(pod.metadata.name);
  if (after_remove_) after_remove_();
}

core::Result<ScaleDownPolicy> parse_scale_down_policy(std::string_view name) {
  if (name == "drain-aware") return ScaleDownPolicy::kDrainAware;
  if (name == "replicaset") return ScaleDownPolicy::kReplicaSet;
  return core::invalid_argument("unknown scale-down policy \"" + std::string(name) +
                                "\" (drain-aware or replicaset)");
}

std::string_view scale_down_policy_name(ScaleDownPolicy policy) {
  return policy == ScaleDownPolicy::kDrainAware ? "drain-aware" : "replicaset";
}

std::int32_t deletion_cost_for(const router::BackendStatus& backend) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
  return static_cast<std::int32_t>(std::min(backend.in_flight_tokens, kMax));
}

std::size_t set_deletion_costs_from_load(fleet::Fleet& fleet, const router::Balancer& balancer) {
  std::size_t set = 0;
  for (const kube::Pod& pod : fleet.pods()) {
    if (pod.metadata.deletion_timestamp) continue;
    auto backend = balancer.backend(pod.metadata.name);
    std::int32_t cost = backend ? deletion_cost_for(*backend) : 0;
    if (auto ok = fleet.set_deletion_cost(pod.metadata.name, cost); !ok) {
      core::log_warn("fleet " + fleet.spec().name + ": " + ok.error().message);
      continue;
    }
    ++set;
  }
  return set;
}

}  // namespace llmscale::up
