// EngineDriver: steps an Engine on a Clock and delivers events at their model times.
#include "engine/driver.h"

#include <algorithm>

namespace llmscale::engine {

EngineDriver::EngineDriver(Engine& engine, core::Clock& clock) : engine_(engine), clock_(clock) {}

EngineDriver::~EngineDriver() {
  if (timer_) clock_.cancel(*timer_);
  if (admission_timer_) clock_.cancel(*admission_timer_);
}

core::Result<RequestId> EngineDriver::submit(const RequestSpec& spec, EventCallback on_event) {
  auto id = engine_.submit(spec, clock_.now());
  if (!id) return id;
  if (on_event) callbacks_.emplace(*id, std::move(on_event));
  kick();
  return id;
}

bool EngineDriver::abort(RequestId id) {
  callbacks_.erase(id);
  // Tombstone the request's undelivered events (ids start at 1).
  for (EngineEvent& e : pending_) e.id = e.id == id ? 0 : e.id;
  for (EngineEvent& e : immediate_) e.id = e.id == id ? 0 : e.id;
  bool aborted = engine_.abort(id, clock_.now());
  kick();
  return aborted;
}

void EngineDriver::kick() {
  if (timer_ || in_step_ || !engine_.has_work()) return;
  // A newer request may be ready before the one the admission timer waits for: step now (an
  // idle step re-arms the timer for the earliest).
  if (admission_timer_) {
    clock_.cancel(*admission_timer_);
    admission_timer_.reset();
  }
  start_step();
}

void EngineDriver::deliver(const EngineEvent& event) {
  if (sink_) sink_(event);
  auto it = callbacks_.find(event.id);
  if (it == callbacks_.end()) return;
  if (event.kind == EventKind::kFinished) {
    EventCallback callback = std::move(it->second);
    callbacks_.erase(it);
    callback(event);
  } else {
    it->second(event);
  }
}

void EngineDriver::start_step() {
  in_step_ = true;
  const StepResult& step = engine_.step(clock_.now());
  if (step.idle()) {
    in_step_ = false;
    // Only requests still in their admission delay: step again when the first is ready.
    if (auto ready = engine_.next_admission()) {
      admission_timer_ =
          clock_.call_after(std::max(*ready - clock_.now(), core::Duration(1)), [this] {
            admission_timer_.reset();
            kick();
          });
    }
    return;
  }
  ++stats_.steps;
  pending_end_ = step.end();
  pending_.clear();
  immediate_.clear();
  for (const EngineEvent& e : step.events) {
    if (e.kind == EventKind::kScheduled || e.kind == EventKind::kPreempted) {
      immediate_.push_back(e);
    } else {
      pending_.push_back(e);
    }
  }
  timer_ = clock_.call_after(step.duration, [this] { end_step(); });
  // Callbacks may submit() (the next step starts after the timer) or abort().
  for (std::size_t i = 0; i < immediate_.size(); ++i) {
    if (immediate_[i].id != 0) deliver(immediate_[i]);
  }
  immediate_.clear();
  in_step_ = false;
}

void EngineDriver::end_step() {
  timer_.reset();
  double lag = std::max(0.0, core::to_seconds(clock_.now() - pending_end_));
  stats_.last_lag_seconds = lag;
  stats_.lag_seconds_total += lag;
  stats_.lag_seconds_max = std::max(stats_.lag_seconds_max, lag);
  in_step_ = true;
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (pending_[i].id != 0) deliver(pending_[i]);
  }
  pending_.clear();
  in_step_ = false;
  kick();
}

}  // namespace llmscale::engine
