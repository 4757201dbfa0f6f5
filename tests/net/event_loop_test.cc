// EventLoop: running until a condition, block_on, spawn, clock-driven sleeps, signals, and a
// server + client on a multi-threaded loop.
#include "net/event_loop.h"

#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "net/client.h"
#include "net/server.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopTest, RunUntilAndPost) {
  EventLoop loop;
  EXPECT_FALSE(loop.run_until([] { return false; }, 30ms));
  int n = 0;
  std::thread other([&] { loop.post([&] { ++n; }); });
  other.join();
  EXPECT_TRUE(loop.run_until([&] { return n == 1; }, 5s));
}

TEST(EventLoopTest, BlockOnReportsExceptionsAndTimeouts) {
  EventLoop loop;
  auto threw = loop.block_on(
      []() -> Awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
      }(),
      5s);
  ASSERT_FALSE(threw.has_value());
  EXPECT_EQ(threw.error().code, core::ErrorCode::kInternal);
  EXPECT_NE(threw.error().message.find("boom"), std::string::npos);
  core::SimulatedClock never;  // not advanced: the task cannot finish
  auto slow = loop.block_on(sleep_for(never, std::chrono::hours(1)), 20ms);
  ASSERT_FALSE(slow.has_value());
  EXPECT_EQ(slow.error().code, core::ErrorCode::kDeadlineExceeded);
}

TEST(EventLoopTest, SpawnedExceptionsAreLoggedNotFatal) {
  EventLoop loop;
  bool after = false;
  spawn(
      loop,
      []() -> Awaitable<void> {
        throw std::runtime_error("escaped");
        co_return;
      }(),
      "thrower");
  loop.post([&] { after = true; });
  EXPECT_TRUE(loop.run_until([&] { return after; }, 5s));
}

TEST(EventLoopTest, SleepOnASimulatedClockWaitsForAdvance) {
  EventLoop loop;
  core::SimulatedClock clock;
  bool woke = false;
  spawn(loop, [](core::SimulatedClock& c, bool& w) -> Awaitable<void> {
    co_await sleep_for(c, 5s);
    w = true;
  }(clock, woke));
  ASSERT_TRUE(loop.run_until([&] { return clock.pending() == 1u; }, 5s));
  clock.advance(4s);
  EXPECT_FALSE(loop.run_until([&] { return woke; }, 20ms));
  clock.advance(1s);
  EXPECT_TRUE(loop.run_until([&] { return woke; }, 5s));
}

TEST(EventLoopTest, StopSignals) {
  EventLoop loop;
  int received = 0;
  bool waiting = false;
  spawn(loop, [](bool& ready, int& out) -> Awaitable<void> {
    ready = true;
    out = co_await wait_for_stop_signal();
  }(waiting, received));
  ASSERT_TRUE(loop.run_until([&] { return waiting; }, 5s));
  ::raise(SIGTERM);
  ASSERT_TRUE(loop.run_until([&] { return received != 0; }, 5s));
  EXPECT_EQ(received, SIGTERM);

  EventLoop cli_loop;
  int handled = 0;
  stop_on_signals(cli_loop, [&](int signal) { handled = signal; });
  ::raise(SIGINT);
  ASSERT_TRUE(cli_loop.run_until([&] { return handled != 0; }, 5s));
  EXPECT_EQ(handled, SIGINT);
}

TEST(EventLoopTest, MultiThreadedLoopServesConcurrently) {
  EventLoop loop(2);
  std::mutex mutex;
  std::set<std::thread::id> handler_threads;
  HttpServer server(loop, ServerOptions());
  ASSERT_OK(server.start([&](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    {
      std::lock_guard lock(mutex);
      handler_threads.insert(std::this_thread::get_id());
    }
    co_await writer.send(Response::text(200, request.raw_query));
  }));
  ClientOptions options;
  options.max_connections_per_host = 64;
  HttpClient client(loop, options);
  constexpr int kRequests = 2000;
  std::atomic<int> ok{0};
  std::atomic<int> finished{0};
  std::promise<void> all_done;
  loop.start();
  for (int i = 0; i < kRequests; ++i) {
    spawn(loop,
          [](HttpClient& c, std::string target, std::string expected, std::atomic<int>& good,
             std::atomic<int>& done, std::promise<void>& signal) -> Awaitable<void> {
            auto r = co_await c.request(Request::get(target));
            if (r && r->body == expected) ++good;
            if (++done == kRequests) signal.set_value();
          }(client, server.url("/n?i=" + std::to_string(i)), "i=" + std::to_string(i), ok, finished,
                                                                 all_done));
  }
  auto outcome = all_done.get_future().wait_for(60s);
  server.close();
  loop.stop();
  loop.join();
  ASSERT_EQ(outcome, std::future_status::ready);
  EXPECT_EQ(ok.load(), kRequests);
  EXPECT_LE(client.stats().connections_opened, 64u);
  std::lock_guard lock(mutex);
  EXPECT_GE(handler_threads.size(), 1u);
}

}  // namespace
}  // namespace llmscale::net
