// EventLoop on an Asio io_context; spawn, sleeps and signal handling.
#include "net/event_loop.h"

#include <csignal>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/log.h"
#include "net/asio_clock.h"

namespace llmscale::net {

namespace asio = boost::asio;

struct EventLoop::State {
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::optional<AsioClock> clock;
};

EventLoop::EventLoop(int threads)
    : threads_(threads < 1 ? 1 : threads),
      io_(std::make_unique<asio::io_context>(threads_)),
      state_(std::make_unique<State>()) {
  state_->work.emplace(io_->get_executor());
  state_->clock.emplace(*io_);
}

EventLoop::~EventLoop() {
  stop();
  join();
  state_->clock.reset();
  state_->work.reset();
}

void EventLoop::run() {
  if (io_->stopped()) io_->restart();
  std::vector<std::thread> helpers;
  for (int i = 1; i < threads_; ++i) helpers.emplace_back([this] { io_->run(); });
  io_->run();
  for (auto& t : helpers) t.join();
}

void EventLoop::start() {
  if (io_->stopped()) io_->restart();
  for (int i = 0; i < threads_; ++i) state_->threads.emplace_back([this] { io_->run(); });
}

void EventLoop::stop() {
  io_->stop();
}

void EventLoop::join() {
  for (auto& t : state_->threads) {
    if (t.joinable()) t.join();
  }
  state_->threads.clear();
}

bool EventLoop::stopped() const {
  return io_->stopped();
}

bool EventLoop::run_until(const std::function<bool()>& done, core::Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (io_->stopped()) io_->restart();
  // Handlers that are already due run before the first check, so a condition that is true
  // only transiently is still observed after every handler.
  while (!done()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    io_->run_one_for(std::min<std::chrono::steady_clock::duration>(deadline - now,
                                                                   std::chrono::milliseconds(50)));
    if (io_->stopped()) io_->restart();
  }
  return true;
}

core::Status EventLoop::block_on(Awaitable<void> task, core::Duration timeout) {
  struct Outcome {
    bool done = false;
    std::string error;
  };
  auto outcome = std::make_shared<Outcome>();
  asio::co_spawn(*io_, std::move(task), [outcome](const std::exception_ptr& e) {
    outcome->done = true;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      outcome->error = ex.what();
    } catch (...) {
      outcome->error = "unknown exception";
    }
    if (outcome->error.empty()) outcome->error = "exception";
  });
  if (!run_until([&] { return outcome->done; }, timeout)) {
    return core::make_error(core::ErrorCode::kDeadlineExceeded,
                            "block_on: task did not finish in time");
  }
  if (!outcome->error.empty()) {
    return core::make_error(core::ErrorCode::kInternal, "block_on: task threw: " + outcome->error);
  }
  return {};
}

void EventLoop::post(std::function<void()> fn) {
  asio::post(*io_, std::move(fn));
}

core::Clock& EventLoop::clock() {
  return *state_->clock;
}

std::size_t EventLoop::poll() {
  if (io_->stopped()) io_->restart();
  return io_->poll();
}

bool EventLoop::running_in_this_thread() const {
  return io_->get_executor().running_in_this_thread();
}

namespace detail {
asio::io_context& io_context_of(EventLoop& loop) {
  return *loop.io_;
}
}  // namespace detail

void spawn(EventLoop& loop, Awaitable<void> task, std::string_view name) {
  asio::co_spawn(detail::io_context_of(loop), std::move(task),
                 [name = std::string(name)](const std::exception_ptr& e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     core::log_error("coroutine " + name + " failed: " + ex.what());
                   } catch (...) {
                     core::log_error("coroutine " + name + " failed with a non-standard exception");
                   }
                 });
}

Awaitable<void> sleep_for(core::Duration duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

Awaitable<void> sleep_for(core::Clock& clock, core::Duration duration) {
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [&clock, duration](auto handler) {
        // Clock callbacks are copyable std::functions; the handler is move-only.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        clock.call_after(duration, [shared]() mutable { asio::post(std::move(*shared)); });
      },
      asio::use_awaitable);
}

Awaitable<int> wait_for_stop_signal() {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
  auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return ec ? 0 : signal;
}

void stop_on_signals(EventLoop& loop, std::function<void(int)> on_signal) {
  auto signals = std::make_shared<asio::signal_set>(detail::io_context_of(loop), SIGINT, SIGTERM);
  signals->async_wait([&loop, signals, on_signal = std::move(on_signal)](
                          const boost::system::error_code& ec, int signal) {
    if (ec) return;
    core::log_info("received signal " + std::to_string(signal) + ", shutting down");
    if (on_signal) {
      on_signal(signal);
    } else {
      loop.stop();
    }
    signals->async_wait([&loop, signals](const boost::system::error_code& ec2, int) {
      if (!ec2) loop.stop();
    });
  });
}

}  // namespace llmscale::net
