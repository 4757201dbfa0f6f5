// Activator: scale from zero in `llmscale up`, as Knative's activator and KEDA's HTTP add-on do
// it on a cluster. A fleet's router calls wake() when a request has to wait while no replica is
// ready (router::ProxyOptions::on_wait_without_ready_backend). When the fleet is at zero replicas
// and an HPA with minReplicas 0 targets it, the activator scales it to 1 at once (through the
// same scale subresource the HPA writes), records a Normal `ScaledFromZero` Event on that HPA
// and asks for an HPA pass. The waiting request stays in the router's bounded queue and is
// served by the new replica once its readiness probe passes.
//
// From there on the HPA decides, on the router's demand: pending_requests() (queued + in flight)
// is what `up` writes to the TSDB as llmscale_router_pending_requests{namespace,fleet} (KEDA's
// HTTP add-on scales on the same count), so an External metric on it holds the fleet at 1 while
// requests wait, and the scale-down to 0 after they stop follows the HPA's stabilization window.
// check_scale_to_zero() is the backstop for HPAs on other metrics: the fleet is not scaled to
// zero while its router holds queued requests (the HPA gets the error and records FailedRescale).
//
// A fleet at zero that no minReplicas-0 HPA targets was scaled to zero by hand (upstream's
// "autoscaling disabled" case): it is not woken; that is logged once per fleet.
//
// Not thread-safe: everything runs on `up`'s event loop (post wake() there: the router calls its
// hook before the request enters the queue).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/scale_target.h"
#include "core/clock.h"
#include "core/result.h"
#include "kube/objects.h"

namespace llmscale::up {

// What the activator needs of one fleet and its router.
struct ActivatorFleet {
  std::string namespace_;
  std::string name;
  controller::ScaleTarget* target = nullptr;  // the fleet's scale subresource; outlives us
  std::function<std::size_t()> queued;        // requests waiting in its router's queue
  std::function<std::size_t()> in_flight;     // requests its router has sent to replicas
  std::optional<core::Duration> cold_start;   // expected, for the wake-up message
};

struct ActivatorHooks {
  // The HPAs as they are now (the controller's list).
  std::function<std::vector<kube::HorizontalPodAutoscaler>()> hpas;
  // Stores an event of `hpa` (repeats come with a higher count).
  std::function<void(const kube::HorizontalPodAutoscaler&, const controller::RecordedEvent&)>
      record_event;
  // Asks for an HPA pass now.
  std::function<void(const std::string& ns, const std::string& name)> reconcile;
};

inline constexpr const char* kScaledFromZeroReason = "ScaledFromZero";

class Activator {
 public:
  Activator(core::Clock& clock, ActivatorHooks hooks);

  // Returns the fleet's index for wake().
  std::size_t add_fleet(ActivatorFleet fleet);

  // The router's wake-up signal for fleet `index`. True when it scaled the fleet 0 -> 1.
  bool wake(std::size_t index);

  // Whether a request at the fleet's router now would wake it: at zero replicas, with an HPA of
  // minReplicas 0 targeting it.
  bool would_wake(std::size_t index) const;

  // Requests queued or in flight at the fleet's router.
  std::size_t pending_requests(std::size_t index) const;

  // kFailedPrecondition when `replicas` is 0 and the router of the fleet `ns/name` holds queued
  // requests (they would wait for a replica that never comes); otherwise ok.
  core::Status check_scale(const std::string& ns, const std::string& name,
                           std::int32_t replicas) const;

  // A request that wakes a fleet waits its whole cold start in the router's queue: one line for
  // each fleet that `hpas` may scale to zero whose expected cold start is not shorter than
  // `queue_timeout` (such a request would get 503 first). Zero timeout: waits without limit.
  std::vector<std::string> cold_start_warnings(
      const std::vector<kube::HorizontalPodAutoscaler>& hpas, core::Duration queue_timeout) const;

  std::size_t fleets() const { return fleets_.size(); }
  const ActivatorFleet& fleet(std::size_t index) const { return fleets_.at(index); }

 private:
  std::optional<kube::HorizontalPodAutoscaler> scale_to_zero_hpa(const ActivatorFleet& f) const;

  core::Clock& clock_;
  ActivatorHooks hooks_;
  std::vector<ActivatorFleet> fleets_;
  std::vector<bool> warned_;  // "not woken" logged since the fleet was last above zero
  std::map<std::string, controller::RecordedEvent> events_;  // ns/hpa -> the wake-up event
};

}  // namespace llmscale::up
