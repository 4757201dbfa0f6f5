// Wakeup: a one-timer Clock adapter whose timer also fires on wake().
#include "router/detail/wakeup.h"

#include <mutex>
#include <utility>

namespace llmscale::router::detail {

struct WakeupState {
  explicit WakeupState(core::Clock& c) : base(c) {}

  core::Clock& base;
  std::mutex mutex;
  bool woken = false;
  bool fired = false;            // the pending callback ran (woken or timed out)
  core::Clock::Callback resume;  // sleep_for's callback, while it waits
  core::Clock::TimerId base_timer = 0;

  // Runs the pending callback once, if there is one.
  void fire(bool by_wake) {
    core::Clock::Callback callback;
    core::Clock::TimerId timer = 0;
    {
      std::lock_guard lock(mutex);
      if (by_wake) woken = true;
      if (fired || !resume) return;
      fired = true;
      callback = std::move(resume);
      resume = nullptr;
      // By wake: stop the timeout timer. By the timer: it has fired.
      timer = std::exchange(base_timer, 0);
      if (!by_wake) timer = 0;
    }
    if (timer != 0) base.cancel(timer);
    callback();
  }
};

namespace {

// The clock sleep_for sees: now() is the base clock's; its one timer fires on the base
// clock's timeout or on wake(), whichever comes first.
class WakeupClock final : public core::Clock {
 public:
  WakeupClock(std::shared_ptr<WakeupState> state, bool has_timeout)
      : state_(std::move(state)), has_timeout_(has_timeout) {}

  core::Time now() const override { return state_->base.now(); }
  core::MonotonicTime monotonic_now() const override { return state_->base.monotonic_now(); }

  TimerId call_after(core::Duration delay, Callback callback) override {
    {
      std::unique_lock lock(state_->mutex);
      if (state_->woken) {
        // Woken before the coroutine suspended: resume it at once (the callback only posts).
        state_->fired = true;
        lock.unlock();
        callback();
        return 1;
      }
      state_->resume = std::move(callback);
    }
    if (has_timeout_) {
      std::weak_ptr<WakeupState> weak = state_;
      auto timer = state_->base.call_after(delay, [weak] {
        if (auto s = weak.lock()) s->fire(false);
      });
      std::lock_guard lock(state_->mutex);
      if (state_->fired) {
        state_->base.cancel(timer);  // woken meanwhile
      } else {
        state_->base_timer = timer;
      }
    }
    return 1;
  }

  bool cancel(TimerId) override { return false; }

 private:
  std::shared_ptr<WakeupState> state_;
  bool has_timeout_;
};

}  // namespace

void Wakeup::Waker::wake() const {
  if (state_) state_->fire(true);
}

Wakeup::Wakeup(core::Clock& clock) {
  waker_.state_ = std::make_shared<WakeupState>(clock);
}

Wakeup::~Wakeup() {
  core::Clock::TimerId timer = 0;
  {
    std::lock_guard lock(waker_.state_->mutex);
    timer = std::exchange(waker_.state_->base_timer, 0);
  }
  if (timer != 0) waker_.state_->base.cancel(timer);
}

Wakeup::Waker Wakeup::waker() const {
  return waker_;
}

bool Wakeup::woken() const {
  std::lock_guard lock(waker_.state_->mutex);
  return waker_.state_->woken;
}

net::Awaitable<bool> Wakeup::wait(core::Duration timeout) {
  if (woken()) co_return true;
  bool has_timeout = timeout > core::Duration::zero();
  WakeupClock clock(waker_.state_, has_timeout);
  co_await net::sleep_for(clock, has_timeout ? timeout : core::Duration::zero());
  co_return woken();
}

}  // namespace llmscale::router::detail
