// AsioClock: timers on steady_timer; now() from the system clock.
#include "net/asio_clock.h"

#include <mutex>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace llmscale::net {

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

core::Time AsioClock::now() const {
  return core::wall_now();
}

core::MonotonicTime AsioClock::monotonic_now() const {
  return std::chrono::time_point_cast<core::Duration>(std::chrono::steady_clock::now());
}

core::Clock::TimerId AsioClock::call_after(core::Duration delay, Callback callback) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  timer->expires_after(delay < core::Duration(0) ? core::Duration(0) : delay);
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

}  // namespace llmscale::net
