// Wakeup: lets a coroutine sleep until another party wakes it or a timeout passes.
//
// net offers one way to suspend on a clock, net::sleep_for(Clock&, d), which asks the clock for
// a timer and resumes the coroutine (by posting to its executor) when the timer's callback runs.
// Wakeup hands sleep_for a small Clock adapter whose single timer also fires when wake() is
// called, so a grant from the Balancer (or a drain notification) resumes the waiter at once,
// with no Asio in this module and SimulatedClock timeouts in tests.
//
// One-shot: wait() once per Wakeup. Thread-safety: wake() from any thread, also before wait()
// (wait() then returns at once) and after the Wakeup is gone (the state is shared).
#pragma once

#include <memory>

#include "core/clock.h"
#include "core/time.h"
#include "net/event_loop.h"

namespace llmscale::router::detail {

struct WakeupState;

class Wakeup {
 public:
  explicit Wakeup(core::Clock& clock);
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // A handle that can wake this Wakeup later from a callback, without owning it.
  class Waker {
   public:
    void wake() const;

   private:
    friend class Wakeup;
    std::shared_ptr<WakeupState> state_;
  };
  Waker waker() const;
  void wake() const { waker().wake(); }
  bool woken() const;

  // Suspends until wake() or until `timeout` of the clock has passed (zero or negative: no
  // timeout). Returns whether it was woken.
  net::Awaitable<bool> wait(core::Duration timeout);

 private:
  Waker waker_;
};

}  // namespace llmscale::router::detail
