// The coroutine bridges: LeaseWait (queue, grant, cancel, timeout) and wait_drained, on a real
// event loop with a SimulatedClock for the timeouts.
#include "router/wait.h"

#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "net/test_util.h"
#include "router/detail/wakeup.h"

namespace llmscale::router {
namespace {

using namespace std::chrono_literals;

class WaitTest : public ::testing::Test {
 protected:
  WaitTest() : balancer(clock, options()) {}
  static BalancerOptions options() {
    BalancerOptions o;
    o.queue_timeout = 30s;
    return o;
  }
  bool run_until(const std::function<bool()>& done) { return loop.run_until(done, 10s); }

  net::EventLoop loop;
  core::SimulatedClock clock;
  Balancer balancer;
};

net::Awaitable<void> acquire_into(LeaseWait& wait, std::optional<core::Result<Lease>>& out) {
  out = co_await wait.acquire();
}

net::Awaitable<void> drained_into(Balancer& b, core::Clock& clock, std::string id,
                                  core::Duration timeout, std::optional<core::Result<bool>>& out) {
  out = co_await wait_drained(b, clock, std::move(id), timeout);
}

TEST_F(WaitTest, GrantsAtOnceWhenABackendIsReady) {
  ASSERT_TRUE(balancer.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  LeaseWait wait(balancer, clock);
  std::optional<core::Result<Lease>> result;
  net::spawn(loop, acquire_into(wait, result));
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ((*result)->backend_id(), "a");
}

TEST_F(WaitTest, ResumesWhenTheBackendBecomesReady) {
  ASSERT_TRUE(balancer.add_backend("a", "http://127.0.0.1:1"));
  LeaseWait wait(balancer, clock);
  std::optional<core::Result<Lease>> result;
  net::spawn(loop, acquire_into(wait, result));
  ASSERT_TRUE(run_until([&] { return balancer.queue_length() == 1; }));
  clock.advance(7s);
  ASSERT_TRUE(balancer.set_state("a", BackendState::kReady));
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ((*result)->queued_for(), 7s);
}

TEST_F(WaitTest, TimesOutOnTheInjectedClock) {
  LeaseWait wait(balancer, clock);
  std::optional<core::Result<Lease>> result;
  net::spawn(loop, acquire_into(wait, result));
  ASSERT_TRUE(run_until([&] { return balancer.queue_length() == 1; }));
  clock.advance(30s);
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  ASSERT_FALSE(result->has_value());
  EXPECT_EQ(result->error().code, core::ErrorCode::kDeadlineExceeded);
}

TEST_F(WaitTest, CancelLeavesTheQueue) {
  LeaseWait wait(balancer, clock);
  std::optional<core::Result<Lease>> result;
  net::spawn(loop, acquire_into(wait, result));
  ASSERT_TRUE(run_until([&] { return balancer.queue_length() == 1; }));
  loop.post([&] { wait.cancel(); });
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  EXPECT_EQ(result->error().code, core::ErrorCode::kCancelled);
  EXPECT_EQ(balancer.queue_length(), 0u);
  // Cancelled before it starts: fails at once without queueing.
  LeaseWait early(balancer, clock);
  early.cancel();
  std::optional<core::Result<Lease>> none;
  net::spawn(loop, acquire_into(early, none));
  ASSERT_TRUE(run_until([&] { return none.has_value(); }));
  EXPECT_EQ(none->error().code, core::ErrorCode::kCancelled);
  EXPECT_EQ(balancer.stats().queued, 1u);
}

TEST_F(WaitTest, WaitDrainedReportsDrainedOrTimeout) {
  ASSERT_TRUE(balancer.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto lease = balancer.try_acquire();
  ASSERT_TRUE(balancer.set_state("a", BackendState::kDraining));

  std::optional<core::Result<bool>> drained;
  net::spawn(loop, drained_into(balancer, clock, "a", 30s, drained));
  ASSERT_TRUE(run_until([&] { return clock.pending() == 1; }));  // its timeout is set
  EXPECT_FALSE(drained.has_value());
  clock.advance(10s);
  lease->release();
  ASSERT_TRUE(run_until([&] { return drained.has_value(); }));
  EXPECT_TRUE(drained->value());

  ASSERT_TRUE(balancer.set_state("a", BackendState::kReady));
  auto another = balancer.try_acquire();
  std::optional<core::Result<bool>> timed_out;
  net::spawn(loop, drained_into(balancer, clock, "a", 5s, timed_out));
  ASSERT_TRUE(run_until([&] { return clock.pending() == 1; }));
  clock.advance(5s);
  ASSERT_TRUE(run_until([&] { return timed_out.has_value(); }));
  EXPECT_FALSE(timed_out->value());
  another->release();  // the cancelled watch does not fire into the finished wait

  std::optional<core::Result<bool>> missing;
  net::spawn(loop, drained_into(balancer, clock, "zz", 5s, missing));
  ASSERT_TRUE(run_until([&] { return missing.has_value(); }));
  EXPECT_EQ(missing->error().code, core::ErrorCode::kNotFound);
}

net::Awaitable<void> wait_into(detail::Wakeup& wakeup, core::Duration timeout,
                               std::optional<bool>& out) {
  out = co_await wakeup.wait(timeout);
}

TEST_F(WaitTest, WakeupBeforeWaitReturnsAtOnce) {
  detail::Wakeup wakeup(clock);
  wakeup.wake();
  std::optional<bool> woken;
  net::spawn(loop, wait_into(wakeup, 0s, woken));
  ASSERT_TRUE(run_until([&] { return woken.has_value(); }));
  EXPECT_TRUE(*woken);
  EXPECT_EQ(clock.pending(), 0u);
}

// Without a timeout the waker touches no clock, so any thread may wake it.
TEST_F(WaitTest, WakeupFromAnotherThread) {
  detail::Wakeup wakeup(clock);
  auto waker = wakeup.waker();
  std::optional<bool> woken;
  net::spawn(loop, wait_into(wakeup, 0s, woken));
  std::thread other([waker] { waker.wake(); });
  ASSERT_TRUE(run_until([&] { return woken.has_value(); }));
  other.join();
  EXPECT_TRUE(*woken);
}

TEST_F(WaitTest, WakeupCancelsItsTimeout) {
  detail::Wakeup wakeup(clock);
  std::optional<bool> woken;
  net::spawn(loop, wait_into(wakeup, 1h, woken));
  ASSERT_TRUE(run_until([&] { return clock.pending() == 1; }));
  wakeup.wake();
  ASSERT_TRUE(run_until([&] { return woken.has_value(); }));
  EXPECT_TRUE(*woken);
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(WaitTest, WakeupTimesOut) {
  detail::Wakeup wakeup(clock);
  std::optional<bool> woken;
  net::spawn(loop, wait_into(wakeup, 2s, woken));
  ASSERT_TRUE(run_until([&] { return clock.pending() == 1; }));
  clock.advance(2s);
  ASSERT_TRUE(run_until([&] { return woken.has_value(); }));
  EXPECT_FALSE(*woken);
  wakeup.wake();  // late: harmless
}

}  // namespace
}  // namespace llmscale::router
