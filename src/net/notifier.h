// Notifier: an awaitable wake-up for one coroutine, set from callbacks.
//
// A coroutine that consumes events produced by timer or I/O callbacks (a token stream fed by an
// engine driver, a queue filled by another connection) co_awaits wait(); the producer calls
// notify(). A notify() with nobody waiting is remembered (one flag, not a count), so a wake-up
// cannot be lost between checking the queue and waiting:
//
//   while (true) {
//     while (!queue.empty()) { ... consume ... }
//     if (done) break;
//     co_await notifier.wait();           // resumes after the next notify() (or at once)
//   }
//
// The waiter resumes on its own executor (its strand), never inside notify(). At most one
// coroutine waits at a time (REQUIRES). Destroying a Notifier with a waiter destroys the waiting
// coroutine's frames unresumed (as destroying a pending Asio operation does), so owners notify
// and let waiters leave first.
//
// Thread-safety: notify() may be called from any thread; wait() from the waiting coroutine.
#pragma once

#include <functional>
#include <mutex>

#include "net/event_loop.h"

namespace llmscale::net {

class Notifier {
 public:
  Notifier() = default;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Completes after notify() was called since the previous wait() completed (at once if so).
  Awaitable<void> wait();
  // Wakes the waiter, or remembers the notification for the next wait().
  void notify();
  // Whether a coroutine is suspended in wait().
  bool waiting() const;

 private:
  mutable std::mutex mu_;
  bool notified_ = false;
  std::function<void()> resume_;
};

}  // namespace llmscale::net
