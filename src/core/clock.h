// Clock: the one source of "now" and of delayed work in llmscale.
//
// Everything that waits, schedules or measures a duration takes a Clock&. Two implementations:
//  * net::AsioClock (net/asio_clock.h): wall time, timers on the event loop (production).
//  * SimulatedClock: time moves only when advance()/advance_to() is called; timers fire in
//    deadline order, ties broken by the order they were scheduled. Tests and the fleet
//    simulator drive it, so they never sleep and are deterministic.
//
// now() is wall time (timestamps: samples, Kubernetes conditions); monotonic_now() never jumps and
// is what durations, deadlines and timeouts subtract.
//
// Thread-safety: SimulatedClock is single-threaded.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "core/time.h"

namespace llmscale::core {

// A reading of a clock that never jumps (NTP steps, manual changes): only differences between two
// readings of the same Clock mean anything. Durations, deadlines and timeouts use it, as Envoy's
// TimeSource separates SystemTime from MonotonicTime.
using MonotonicTime = std::chrono::time_point<std::chrono::steady_clock, Duration>;

class Clock {
 public:
  using Callback = std::function<void()>;
  using TimerId = std::uint64_t;

  virtual ~Clock() = default;

  virtual Time now() const = 0;
  // For measuring durations: only differences between two readings mean anything.
  virtual MonotonicTime monotonic_now() const = 0;

  // Runs `callback` once, `delay` from now (immediately-due when delay <= 0, but never inside
  // this call). Returns an id for cancel().
  virtual TimerId call_after(Duration delay, Callback callback) = 0;

  // Cancels a pending timer. Returns false if it already fired or was cancelled.
  virtual bool cancel(TimerId id) = 0;
};

class SimulatedClock final : public Clock {
 public:
  // 2026-01-01T00:00:00Z: a fixed, recognizable start so simulated logs are reproducible.
  static Time default_start();

  explicit SimulatedClock(Time start = default_start()) : now_(start) {}

  Time now() const override { return now_; }
  // Simulated time never jumps backwards, so its monotonic reading is the same instant.
  MonotonicTime monotonic_now() const override { return MonotonicTime(now_.time_since_epoch()); }
  TimerId call_after(Duration delay, Callback callback) override;
  bool cancel(TimerId id) override;

  // Moves time forward by `delta`, firing every timer due on the way, in order. Callbacks may
  // schedule further timers; those due within the window fire too.
  void advance(Duration delta) { advance_to(now_ + delta); }
  // REQUIRES: target >= now().
  void advance_to(Time target);

  // Jumps to the earliest pending deadline and fires every timer due then. Returns false when
  // nothing is pending.
  bool run_next();

  std::optional<Time> next_deadline() const;
  std::size_t pending() const { return timers_.size(); }

 private:
  struct Key {
    Time deadline;
    std::uint64_t sequence;
    bool operator<(const Key& other) const {
      return deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence;
    }
  };
  bool fire_one_due_by(Time limit);

  Time now_;
  std::uint64_t next_id_ = 1;
  std::map<Key, std::pair<TimerId, Callback>> timers_;
  std::map<TimerId, Key> by_id_;
};

}  // namespace llmscale::core
