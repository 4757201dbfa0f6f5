// The event loop every network component runs on, and the coroutine primitives around it.
//
// Async code in llmscale is C++20 coroutines returning net::Awaitable<T>
// (boost::asio::awaitable<T>). An EventLoop owns one Asio io_context and the AsioClock on it
// (net/asio_clock.h); the io_context stays inside net (net/detail/ reaches it);
// it runs on the calling thread (run(), run_until()) or on N background threads (start()).
// This header includes only <boost/asio/awaitable.hpp> (about 0.8 s of parsing) and
// forward-declares io_context; Beast, the rest of Asio and OpenSSL stay inside net's .cc files.
//
// Thread-safety: post(), stop() and clock() may be called from any thread. With one thread, all
// coroutines run on it; with N threads, each server connection and each client request runs
// serialized on its own strand, but coroutines you spawn() may run on any loop thread, so state
// they share needs its own synchronisation.
//
// Example:
//   net::EventLoop loop;
//   net::spawn(loop, [](...) -> net::Awaitable<void> { co_await net::sleep_for(1s); }(...));
//   net::stop_on_signals(loop);
//   loop.run();
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "core/result.h"
#include "core/time.h"

namespace boost::asio {
class io_context;
}
namespace llmscale::core {
class Clock;
}  // namespace llmscale::core

namespace llmscale::net {

class EventLoop;
namespace detail {
// For net's own .cc files only (servers, clients, listeners need the executor).
boost::asio::io_context& io_context_of(EventLoop& loop);
}  // namespace detail

template <class T>
using Awaitable = boost::asio::awaitable<T>;

class EventLoop {
 public:
  // `threads` is how many threads will run the loop (a hint to Asio, and the count start()
  // uses). REQUIRES: threads >= 1.
  explicit EventLoop(int threads = 1);
  // Stops the loop and joins background threads. Pending coroutines are destroyed unresumed.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  int threads() const { return threads_; }

  // Runs the loop on the calling thread (plus threads()-1 helper threads) until stop().
  void run();
  // Runs the loop on threads() background threads; returns at once. join() or the destructor
  // waits for them.
  void start();
  // Makes run() return and background threads finish. Any thread.
  void stop();
  void join();
  bool stopped() const;

  // Runs the loop on the calling thread until `done()` is true (checked after every handler)
  // or `timeout` passes. Returns whether `done()` became true. For tests and command-line
  // tools; REQUIRES: the loop is not running elsewhere.
  bool run_until(const std::function<bool()>& done, core::Duration timeout);
  // Spawns `task` and runs the loop until it finishes. kDeadlineExceeded if it has not finished
  // within `timeout` (the task is then left suspended); kInternal if it threw.
  core::Status block_on(Awaitable<void> task, core::Duration timeout);

  // Runs `fn` on the loop. Any thread.
  void post(std::function<void()> fn);

  // Runs the handlers that are ready now, without blocking; returns how many ran. For tests and
  // benchmarks that drive the loop by hand (with a SimulatedClock). REQUIRES: not running
  // elsewhere.
  std::size_t poll();
  // Whether the calling thread is running this loop (a blocking wait there would deadlock).
  bool running_in_this_thread() const;

  // The loop's real clock (a net::AsioClock). Any thread.
  core::Clock& clock();

 private:
  friend boost::asio::io_context& detail::io_context_of(EventLoop& loop);

  int threads_;
  std::unique_ptr<boost::asio::io_context> io_;
  struct State;
  std::unique_ptr<State> state_;
};

// Runs `task` on the loop, detached. An exception escaping it is logged at error level with
// `name` (nothing else can observe it). Remember that a lambda coroutine's captures live in
// the lambda object: spawn a coroutine *function* taking its arguments by value, or keep the
// lambda alive, not `[&]() -> Awaitable<void> {...}()` on a temporary.
void spawn(EventLoop& loop, Awaitable<void> task, std::string_view name = "task");

// Suspends the calling coroutine for `duration` of real (steady) time.
Awaitable<void> sleep_for(core::Duration duration);
// Suspends until `clock` has advanced by `duration` (SimulatedClock: until a test or the
// simulator advances it). The coroutine resumes on its own executor.
Awaitable<void> sleep_for(core::Clock& clock, core::Duration duration);

// Waits for SIGINT or SIGTERM and returns its number.
Awaitable<int> wait_for_stop_signal();
// For command-line tools: on the first SIGINT/SIGTERM calls `on_signal` (default: loop.stop());
// a second signal stops the loop at once.
void stop_on_signals(EventLoop& loop, std::function<void(int)> on_signal = {});

}  // namespace llmscale::net
