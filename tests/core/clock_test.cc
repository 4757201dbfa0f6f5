// SimulatedClock: timers fire in deadline order, only when time is advanced.
#include "core/clock.h"

#include <gtest/gtest.h>

#include <vector>

namespace llmscale::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SimulatedClockTest, StartsAtFixedEpochAndNeverMovesByItself) {
  SimulatedClock clock;
  EXPECT_EQ(format_rfc3339(clock.now()), "2026-01-01T00:00:00Z");
  clock.call_after(seconds(1), [] {});
  EXPECT_EQ(clock.now(), SimulatedClock::default_start());
  EXPECT_EQ(clock.pending(), 1u);
}

TEST(SimulatedClockTest, FiresInDeadlineOrderWithTiesInSchedulingOrder) {
  SimulatedClock clock;
  std::vector<std::string> fired;
  clock.call_after(seconds(2), [&] { fired.push_back("b"); });
  clock.call_after(seconds(1), [&] { fired.push_back("a"); });
  clock.call_after(seconds(2), [&] { fired.push_back("c"); });
  clock.advance(milliseconds(1500));
  EXPECT_EQ(fired, (std::vector<std::string>{"a"}));
  clock.advance(seconds(1));
  EXPECT_EQ(fired, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(clock.now(), SimulatedClock::default_start() + milliseconds(2500));
}

TEST(SimulatedClockTest, CallbackSeesItsOwnDeadlineAsNow) {
  SimulatedClock clock;
  Time seen{};
  clock.call_after(seconds(3), [&] { seen = clock.now(); });
  clock.advance(seconds(10));
  EXPECT_EQ(seen, SimulatedClock::default_start() + seconds(3));
}

TEST(SimulatedClockTest, TimersScheduledByCallbacksFireWithinTheSameAdvance) {
  SimulatedClock clock;
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    clock.call_after(seconds(1), tick);
  };
  clock.call_after(seconds(1), tick);
  clock.advance(seconds(5));
  EXPECT_EQ(ticks, 5);
}

TEST(SimulatedClockTest, CancelledTimersNeverFire) {
  SimulatedClock clock;
  bool fired = false;
  auto id = clock.call_after(seconds(1), [&] { fired = true; });
  EXPECT_TRUE(clock.cancel(id));
  EXPECT_FALSE(clock.cancel(id));
  clock.advance(seconds(2));
  EXPECT_FALSE(fired);
}

TEST(SimulatedClockTest, RunNextJumpsToTheEarliestDeadline) {
  SimulatedClock clock;
  int fired = 0;
  clock.call_after(seconds(30), [&] { ++fired; });
  EXPECT_TRUE(clock.run_next());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(clock.now(), SimulatedClock::default_start() + seconds(30));
  EXPECT_FALSE(clock.run_next());
}

TEST(SimulatedClockTest, NegativeDelayFiresOnNextAdvanceNotInline) {
  SimulatedClock clock;
  bool fired = false;
  clock.call_after(seconds(-5), [&] { fired = true; });
  EXPECT_FALSE(fired);
  clock.advance(seconds(0));
  EXPECT_TRUE(fired);
}

}  // namespace
}  // namespace llmscale::core
