// The capacity model and the forecaster: Erlang C against textbook values, the batch-aware
// replica capacity against the ITL target, Holt's smoothing on a ramp.
#include "policy/capacity.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "engine/profile.h"
#include "policy/forecast.h"

namespace llmscale::policy {
namespace {

TEST(ErlangC, MatchesTextbookValues) {
  struct Case {
    int servers;
    double offered;
    double want;
  };
  for (const Case& c : {Case{1, 0.5, 0.5}, Case{2, 1.0, 1.0 / 3}, Case{1, 0.9, 0.9},
                        Case{3, 3.0, 1.0}, Case{5, 0.0, 0.0}}) {
    EXPECT_NEAR(erlang_c(c.servers, c.offered), c.want, 1e-9) << c.servers << " " << c.offered;
  }
  // Large fleets stay finite (the recursion, not factorials).
  double big = erlang_c(2000, 1900);
  EXPECT_GT(big, 0);
  EXPECT_LT(big, 1);
}

TEST(ServersForWait, GrowsWithRateAndTightness) {
  std::int32_t at10 = servers_for_wait(10, 2, 0.5, 0.01, 100);
  std::int32_t at40 = servers_for_wait(40, 2, 0.5, 0.01, 100);
  EXPECT_GE(at10, 6);  // 10/2 = 5 busy servers at least, plus headroom
  EXPECT_GT(at40, at10);
  EXPECT_GE(servers_for_wait(10, 2, 0.5, 0.001, 100), at10);
  EXPECT_EQ(servers_for_wait(0, 2, 0.5, 0.01, 100), 1);
  EXPECT_EQ(servers_for_wait(1000, 2, 0.5, 0.01, 30), 30);  // capped
  // The answer meets the bound and one fewer does not.
  EXPECT_LE(wait_tail(at40, 40, 2, 0.5), 0.01);
  EXPECT_GT(wait_tail(at40 - 1, 40, 2, 0.5), 0.01);
}

TEST(ReplicaCapacity, TighterItlMeansLessCapacity) {
  auto profile = engine::load_builtin_profile("llama-3.1-8b-h100");
  ASSERT_TRUE(profile) << profile.error().message;
  ReplicaCapacity loose = replica_capacity(*profile, 1000, 200, 0.1, 1.0);
  ReplicaCapacity tight = replica_capacity(*profile, 1000, 200, 0.03, 1.0);
  EXPECT_GT(loose.requests_per_s, 0);
  EXPECT_GT(loose.requests_per_s, tight.requests_per_s);
  EXPECT_LE(loose.batch, profile->scheduler.max_num_seqs);
  EXPECT_GT(loose.prefill_s, 0);
  // Longer outputs occupy the batch longer: fewer requests per second.
  EXPECT_GT(loose.requests_per_s, replica_capacity(*profile, 1000, 800, 0.1, 1.0).requests_per_s);
  // Headroom scales linearly.
  EXPECT_NEAR(replica_capacity(*profile, 1000, 200, 0.1, 0.5).requests_per_s,
              loose.requests_per_s / 2, 1e-9);
}

TEST(HoltForecaster, ExtrapolatesARamp) {
  core::SimulatedClock clock;
  HoltForecaster holt(0.5, 0.3);
  EXPECT_FALSE(holt.forecast(10));
  for (int i = 0; i <= 60; ++i) {
    holt.update(clock.now(), 10 + 0.5 * i * 5);  // +0.5/s, sampled every 5 s
    clock.advance(std::chrono::seconds(5));
  }
  EXPECT_NEAR(holt.trend_per_s(), 0.5, 0.05);
  EXPECT_NEAR(*holt.forecast(60), 10 + 0.5 * 300 + 30, 5);
  // Flat input: the trend decays and the forecast stays at the level.
  for (int i = 0; i < 200; ++i) {
    holt.update(clock.now(), 20);
    clock.advance(std::chrono::seconds(5));
  }
  EXPECT_NEAR(*holt.forecast(300), 20, 1);
}

}  // namespace
}  // namespace llmscale::policy
