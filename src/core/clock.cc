// SimulatedClock: the clock tests and the fleet simulator drive.
#include "core/clock.h"

#include <cassert>

namespace llmscale::core {

Time SimulatedClock::default_start() {
  return Time(std::chrono::sys_days(std::chrono::year(2026) / 1 / 1).time_since_epoch());
}

Clock::TimerId SimulatedClock::call_after(Duration delay, Callback callback) {
  if (delay < Duration(0)) delay = Duration(0);
  TimerId id = next_id_++;
  Key key{now_ + delay, id};
  timers_.emplace(key, std::make_pair(id, std::move(callback)));
  by_id_.emplace(id, key);
  return id;
}

bool SimulatedClock::cancel(TimerId id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  timers_.erase(it->second);
  by_id_.erase(it);
  return true;
}

bool SimulatedClock::fire_one_due_by(Time limit) {
  if (timers_.empty()) return false;
  auto it = timers_.begin();
  if (it->first.deadline > limit) return false;
  now_ = std::max(now_, it->first.deadline);
  Callback callback = std::move(it->second.second);
  by_id_.erase(it->second.first);
  timers_.erase(it);
  callback();
  return true;
}

void SimulatedClock::advance_to(Time target) {
  assert(target >= now_);
  while (fire_one_due_by(target)) {
  }
  now_ = target;
}

bool SimulatedClock::run_next() {
  auto deadline = next_deadline();
  if (!deadline) return false;
  Time when = std::max(*deadline, now_);
  while (fire_one_due_by(when)) {
  }
  now_ = when;
  return true;
}

std::optional<Time> SimulatedClock::next_deadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.deadline;
}

}  // namespace llmscale::core
