// The real-time clock path of the event loop: sleep_for on the steady clock and AsioClock timers.
// Real time by nature, so it runs with the integration tests, not the unit tests.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "net/event_loop.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;

TEST(EventLoopTest, RealSleepAndClock) {
  EventLoop loop;
  core::Time before = loop.clock().now();
  auto started = std::chrono::steady_clock::now();
  testing::run(loop, sleep_for(20ms));
  EXPECT_GE(testing::ms_since(started), 19.0);
  EXPECT_GT(loop.clock().now(), before);
  bool fired = false;
  loop.clock().call_after(1ms, [&] { fired = true; });
  EXPECT_TRUE(loop.run_until([&] { return fired; }, 5s));
}

}  // namespace
}  // namespace llmscale::net
