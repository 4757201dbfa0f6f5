// EngineDriver on a SimulatedClock: events arrive at the model's times, aborts drop pending
// events, callbacks may submit more work, the loop goes idle and wakes up again.
#include "engine/driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "test_profiles.h"

namespace llmscale::engine {
namespace {

using ::testing::ElementsAre;

RequestSpec req(std::int64_t prompt, std::int64_t max_tokens) {
  RequestSpec s;
  s.prompt_tokens = prompt;
  s.max_tokens = max_tokens;
  s.ignore_eos = true;
  return s;
}

struct Fixture {
  core::SimulatedClock clock;
  std::unique_ptr<Engine> engine = std::move(*Engine::create(testing::tiny()));
  EngineDriver driver{*engine, clock};
};

TEST(DriverTest, DeliversEventsAtTheirModelTimes) {
  Fixture f;
  std::vector<EngineEvent> seen;
  std::vector<core::Time> delivered_at;
  auto id = f.driver.submit(req(100, 3), [&](const EngineEvent& e) {
    seen.push_back(e);
    delivered_at.push_back(f.clock.now());
  });
  ASSERT_TRUE(id);
  EXPECT_TRUE(f.driver.stepping());
  // The scheduled event is delivered at once (step start); tokens wait for the step's end.
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].kind, EventKind::kScheduled);
  while (f.clock.run_next()) {
  }
  std::vector<EventKind> kinds;
  for (const auto& e : seen) kinds.push_back(e.kind);
  EXPECT_THAT(kinds, ElementsAre(EventKind::kScheduled, EventKind::kFirstToken, EventKind::kToken,
                                 EventKind::kToken, EventKind::kFinished));
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].time, delivered_at[i]);
  EXPECT_FALSE(f.driver.stepping());
  EXPECT_EQ(f.driver.stats().steps, 3u);
  EXPECT_EQ(f.driver.stats().lag_seconds_max, 0);
  EXPECT_EQ(f.engine->stats().kv_blocks_used, 0);
}

TEST(DriverTest, IdleDriverWakesUpOnSubmit) {
  Fixture f;
  ASSERT_TRUE(f.driver.submit(req(10, 1)));
  while (f.clock.run_next()) {
  }
  EXPECT_FALSE(f.driver.stepping());
  f.clock.advance(std::chrono::seconds(5));
  int tokens = 0;
  ASSERT_TRUE(f.driver.submit(req(10, 2), [&](const EngineEvent& e) {
    if (e.kind == EventKind::kToken || e.kind == EventKind::kFirstToken) ++tokens;
  }));
  while (f.clock.run_next()) {
  }
  EXPECT_EQ(tokens, 2);
}

TEST(DriverTest, AbortDropsPendingEventsAndFreesTheRequest) {
  Fixture f;
  int a_events = 0, sink_events_for_a = 0;
  auto a = f.driver.submit(req(100, 50), [&](const EngineEvent&) { ++a_events; });
  f.driver.set_event_sink([&](const EngineEvent& e) {
    if (e.id == *a && e.kind != EventKind::kScheduled) ++sink_events_for_a;
  });
  ASSERT_TRUE(a);
  f.clock.run_next();  // first token
  f.clock.run_next();  // second
  int before = a_events;
  EXPECT_TRUE(f.driver.abort(*a));  // mid-step: the step's token for a is pending
  while (f.clock.run_next()) {
  }
  EXPECT_EQ(a_events, before);
  EXPECT_EQ(sink_events_for_a, 2);  // the two tokens delivered before the abort
  EXPECT_EQ(f.engine->stats().requests_aborted, 1u);
  EXPECT_EQ(f.engine->stats().kv_blocks_used, 0);
  EXPECT_TRUE(f.engine->check_invariants());
}

TEST(DriverTest, CallbacksMaySubmitAndAbort) {
  Fixture f;
  int finished = 0;
  std::optional<RequestId> victim;
  std::function<void(const EngineEvent&)> chain = [&](const EngineEvent& e) {
    if (e.kind == EventKind::kFirstToken && victim) {
      f.driver.abort(*victim);
      victim.reset();
    }
    if (e.kind == EventKind::kFinished && ++finished < 3) {
      ASSERT_TRUE(f.driver.submit(req(20, 2), chain));
    }
  };
  victim = *f.driver.submit(req(20, 100));
  ASSERT_TRUE(f.driver.submit(req(20, 2), chain));
  while (f.clock.run_next()) {
  }
  EXPECT_EQ(finished, 3);
  EXPECT_EQ(f.engine->stats().requests_aborted, 1u);
  EXPECT_FALSE(f.engine->has_work());
}

TEST(DriverTest, RejectedSubmitReportsTheError) {
  Fixture f;
  auto id = f.driver.submit(req(0, 1));
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(f.driver.stepping());
}

}  // namespace
}  // namespace llmscale::engine
