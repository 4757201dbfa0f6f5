// SimulatedClock and the Asio-backed real clock.
#include "core/clock.h"

#include <cassert>
#include <mutex>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

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

// Timers live in a map shared with their completion handlers, so a handler that runs after
// the clock is destroyed finds the state still alive and does nothing harmful.
struct AsioClock::State {
  std::mutex mutex;
  std::uint64_t next_id = 1;
  std::unordered_map<TimerId, std::shared_ptr<boost::asio::steady_timer>> timers;
};

AsioClock::AsioClock(boost::asio::io_context& io) : io_(io), state_(std::make_shared<State>()) {}

AsioClock::~AsioClock() {
  std::lock_guard lock(state_->mutex);
  for (auto& [id, timer] : state_->timers) timer->cancel();
  state_->timers.clear();
}

Time AsioClock::now() const {
  return wall_now();
}

Clock::TimerId AsioClock::call_after(Duration delay, Callback callback) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  timer->expires_after(delay < Duration(0) ? Duration(0) : delay);
  TimerId id;
  {
    std::lock_guard lock(state_->mutex);
    id = state_->next_id++;
    state_->timers.emplace(id, timer);
  }
  std::weak_ptr<State> weak = state_;
  timer->async_wait(
      [weak, id, timer, callback = std::move(callback)](const boost::system::error_code& ec) {
        auto state = weak.lock();
        if (!state) return;
        {
          std::lock_guard lock(state->mutex);
          if (state->timers.erase(id) == 0) return;  // cancelled
        }
        if (!ec) callback();
      });
  return id;
}

bool AsioClock::cancel(TimerId id) {
  std::shared_ptr<boost::asio::steady_timer> timer;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->timers.find(id);
    if (it == state_->timers.end()) return false;
    timer = it->second;
    state_->timers.erase(it);
  }
  timer->cancel();
  return true;
}

}  // namespace llmscale::core
