// EngineDriver: runs an Engine on a core::Clock, step after step, delivering each event at the
// time the model says. The simulated HTTP server drives it on the real clock (AsioClock) and
// streams a token when its callback fires; the fleet simulator can drive it on a
// SimulatedClock (or call Engine::step() itself for the last bit of speed).
//
// Loop: while the engine has work, start a step at clock.now(), deliver its start events
// (scheduled, preempted) at once, and arm a timer for the step's duration; when it fires,
// deliver the step's token/finished events, record how late the timer fired (lag), and start
// the next step. Requests submitted mid-step join at the next step, as in vLLM's busy loop.
// When only requests in their admission delay remain (EngineOptions::admission_delay_s), a timer
// wakes the loop when the first becomes schedulable.
//
// Callbacks run on the clock's thread, may call submit()/abort() (re-entrancy is safe) but must
// not destroy the driver. Ownership: the driver borrows the Engine and the Clock, which must
// outlive it. Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "engine/engine.h"

namespace llmscale::engine {

struct DriverStats {
  std::uint64_t steps = 0;
  // How late step-end timers fired relative to the model's end time (real clocks only; zero
  // on a SimulatedClock). A server that cannot keep up with real time shows it here.
  double lag_seconds_total = 0;
  double lag_seconds_max = 0;
  double last_lag_seconds = 0;
};

class EngineDriver {
 public:
  using EventCallback = std::function<void(const EngineEvent&)>;

  EngineDriver(Engine& engine, core::Clock& clock);
  ~EngineDriver();
  EngineDriver(const EngineDriver&) = delete;
  EngineDriver& operator=(const EngineDriver&) = delete;

  // Receives every event of every request (before the request's own callback).
  void set_event_sink(EventCallback sink) { sink_ = std::move(sink); }

  // Submits at clock.now(). `on_event` receives this request's events until kFinished.
  core::Result<RequestId> submit(const RequestSpec& spec, EventCallback on_event = {});

  // Aborts at clock.now(); pending events of the request are dropped. Its RequestRecord goes
  // to the engine's observer with reason abort; no event is delivered.
  bool abort(RequestId id);

  bool stepping() const { return timer_.has_value(); }
  const DriverStats& stats() const { return stats_; }
  Engine& engine() { return engine_; }
  core::Clock& clock() { return clock_; }

 private:
  void kick();
  void start_step();
  void end_step();
  void deliver(const EngineEvent& event);

  Engine& engine_;
  core::Clock& clock_;
  EventCallback sink_;
  std::unordered_map<RequestId, EventCallback> callbacks_;
  std::vector<EngineEvent> pending_;    // events due at the end of the running step
  std::vector<EngineEvent> immediate_;  // start-of-step events being delivered
  core::Time pending_end_{};
  std::optional<core::Clock::TimerId> timer_;
  // Armed while only requests in their admission delay are left (EngineOptions).
  std::optional<core::Clock::TimerId> admission_timer_;
  bool in_step_ = false;
  DriverStats stats_;
};

}  // namespace llmscale::engine
