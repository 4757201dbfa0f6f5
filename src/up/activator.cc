// Scale from zero on a request's arrival (activator.h).
#include "up/activator.h"

#include "core/duration.h"
#include "core/log.h"

namespace llmscale::up {

Activator::Activator(core::Clock& clock, ActivatorHooks hooks)
    : clock_(clock), hooks_(std::move(hooks)) {}

std::size_t Activator::add_fleet(ActivatorFleet fleet) {
  fleets_.push_back(std::move(fleet));
  warned_.push_back(false);
  return fleets_.size() - 1;
}

std::size_t Activator::pending_requests(std::size_t index) const {
  const ActivatorFleet& f = fleets_.at(index);
  return (f.queued ? f.queued() : 0) + (f.in_flight ? f.in_flight() : 0);
}

// The HPA that opted the fleet into scale-to-zero (minReplicas 0), if any.
std::optional<kube::HorizontalPodAutoscaler> Activator::scale_to_zero_hpa(
    const ActivatorFleet& f) const {
  if (!hooks_.hpas) return std::nullopt;
  for (kube::HorizontalPodAutoscaler& hpa : hooks_.hpas()) {
    if (hpa.metadata.namespace_ == f.namespace_ && hpa.spec.scale_target_ref.name == f.name &&
        hpa.spec.min_replicas.value_or(1) == 0)
      return std::move(hpa);
  }
  return std::nullopt;
}

bool Activator::would_wake(std::size_t index) const {
  const ActivatorFleet& f = fleets_.at(index);
  if (f.target == nullptr) return false;
  auto scale = f.target->get_scale();
  return scale && scale->spec_replicas == 0 && scale_to_zero_hpa(f).has_value();
}

bool Activator::wake(std::size_t index) {
  ActivatorFleet& f = fleets_.at(index);
  if (f.target == nullptr) return false;
  auto scale = f.target->get_scale();
  if (!scale) {
    core::log_warn("activator: fleet " + f.name + ": " + scale.error().message);
    return false;
  }
  if (scale->spec_replicas > 0) {  // replicas are on their way: the router waits for them
    warned_[index] = false;
    return false;
  }
  auto hpa = scale_to_zero_hpa(f);
  if (!hpa) {
    if (!warned_[index])
      core::log_warn("activator: fleet " + f.name +
                     " is at 0 replicas and no HorizontalPodAutoscaler with minReplicas: 0 "
                     "targets it, so it was scaled to zero by hand (autoscaling disabled): "
                     "requests wait in its router until a replica is started");
    warned_[index] = true;
    return false;
  }
  if (auto set = f.target->set_replicas(1); !set) {
    core::log_warn("activator: fleet " + f.name +
                   ": scaling from 0 to 1 failed: " + set.error().message);
    return false;
  }
  warned_[index] = false;
  std::string message =
      "New size: 1; reason: a request is waiting at the router and no replica is running";
  core::log_info("activator: fleet " + f.name + " scaled from 0 to 1 for a request waiting at " +
                 "its router (HPA " + hpa->metadata.name + " takes over" +
                 (f.cold_start ? ", cold start about " + core::format_go_duration(*f.cold_start)
                               : std::string()) +
                 ")");
  core::Time now = clock_.now();
  std::string key = hpa->metadata.namespace_ + "/" + hpa->metadata.name;
  auto [it, inserted] = events_.try_emplace(key);
  controller::RecordedEvent& event = it->second;
  if (inserted) {
    event.type = "Normal";
    event.reason = kScaledFromZeroReason;
    event.message = message;
    event.first_timestamp = event.last_timestamp = now;
  } else {
    ++event.count;
    event.last_timestamp = now;
  }
  if (hooks_.record_event) hooks_.record_event(*hpa, event);
  if (hooks_.reconcile) hooks_.reconcile(hpa->metadata.namespace_, hpa->metadata.name);
  return true;
}

core::Status Activator::check_scale(const std::string& ns, const std::string& name,
                                    std::int32_t replicas) const {
  if (replicas != 0) return {};
  for (const ActivatorFleet& f : fleets_) {
    if (f.namespace_ != ns || f.name != name || !f.queued) continue;
    std::size_t queued = f.queued();
    if (queued == 0) return {};
    return core::make_error(
        core::ErrorCode::kFailedPrecondition,
        std::to_string(queued) + " request" + (queued == 1 ? " is" : "s are") +
            " waiting at the router of fleet " + name +
            " for a replica; it is not scaled to zero until they are served (llmscale up "
            "activator)");
  }
  return {};
}

std::vector<std::string> Activator::cold_start_warnings(
    const std::vector<kube::HorizontalPodAutoscaler>& hpas, core::Duration queue_timeout) const {
  std::vector<std::string> warnings;
  if (queue_timeout == core::Duration::zero()) return warnings;
  for (const kube::HorizontalPodAutoscaler& hpa : hpas) {
    if (hpa.spec.min_replicas.value_or(1) != 0) continue;
    for (const ActivatorFleet& f : fleets_) {
      if (f.namespace_ != hpa.metadata.namespace_ || f.name != hpa.spec.scale_target_ref.name ||
          !f.cold_start || *f.cold_start < queue_timeout)
        continue;
      warnings.push_back("fleet " + f.name + ": HPA " + hpa.metadata.name +
                         " may scale it to zero, but its cold start (" +
                         core::format_go_duration(*f.cold_start) +
                         ") is not shorter than --router-queue-timeout (" +
                         core::format_go_duration(queue_timeout) +
                         "): a request that wakes it gets 503 before a replica is ready");
    }
  }
  return warnings;
}

}  // namespace llmscale::up
