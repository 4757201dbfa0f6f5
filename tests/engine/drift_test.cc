// No lock-step (issue 15): a closed-loop population of equal requests on a deterministic engine
// admits, prefills and finishes as one cohort forever, so every request waits for the whole
// cohort's prefill. Real servers drift apart within seconds: requests reach the scheduler a
// little apart (tokenisation, the API-server -> engine hop) and natural reply lengths differ.
// With those modelled (seeded), TTFT at moderate concurrency falls to a few prefill steps, and
// the same seed still gives the same run, bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/clock.h"
#include "engine/driver.h"
#include "load_helpers.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

using testing::closed_loop;
using testing::shipped;

// vLLM V1's frontend parses, tokenises and hands a request to EngineCore in a millisecond or
// two; a few percent of step-time noise.
EngineOptions realistic(std::uint64_t seed) {
  EngineOptions o;
  o.seed = seed;
  o.step_time_jitter = 0.03;
  o.admission_delay_s = 0.002;
  return o;
}

// Natural reply lengths (EOS) vary around the request's eos_after: 16 clients sending equal
// 1,000-token prompts for 200-token replies. In lock-step, eight prompts arrive together and are
// prefilled in one 8,192-token step (TTFT ~0.16 s on an H100); drifting apart, a request is
// prefilled with a few others (TTFT ~0.03 s, the scale vLLM's published 8B/H100 runs show).
TEST(DriftTest, OutputLengthVarianceBreaksTheCohort) {
  Profile p = shipped("llama-3.1-8b-h100");
  auto lockstep = closed_loop(p, 16, 1000, 200, 100, {}, /*natural_length=*/true);
  EngineOptions o;
  o.seed = 3;
  o.step_time_jitter = 0.03;
  o.output_length_jitter = 0.2;
  auto drifting = closed_loop(p, 16, 1000, 200, 100, o, /*natural_length=*/true);
  EXPECT_GT(lockstep.mean_ttft_s, 3 * drifting.mean_ttft_s)
      << "lock-step " << lockstep.mean_ttft_s << " s, drifting " << drifting.mean_ttft_s << " s";
  EXPECT_LT(drifting.mean_ttft_s, 0.06);
  // The same work: throughput within a few percent, ITL unchanged within 15 %.
  EXPECT_NEAR(drifting.output_tokens_per_s / lockstep.output_tokens_per_s, 1.0, 0.1);
  EXPECT_NEAR(drifting.mean_itl_s / lockstep.mean_itl_s, 1.0, 0.15);
}

// Fixed lengths (ignore_eos, as `vllm bench serve --random-input-len 128 --random-output-len
// 128 --max-concurrency 64`): the frontend admits a burst one request after another, so the
// cohort no longer enters one step together and TTFT halves. (With long prompts the 8,192-token
// prefill steps re-collect what arrives during them; docs/engine-model.md, "Lock-step".)
TEST(DriftTest, AdmissionDelaySpreadsABurstOfEqualRequests) {
  Profile p = shipped("llama-3.1-8b-h100");
  auto lockstep = closed_loop(p, 64, 128, 128, 200);
  auto drifting = closed_loop(p, 64, 128, 128, 200, realistic(7));
  EXPECT_GT(lockstep.mean_ttft_s, 1.6 * drifting.mean_ttft_s)
      << "lock-step " << lockstep.mean_ttft_s << " s, drifting " << drifting.mean_ttft_s << " s";
  EXPECT_NEAR(drifting.output_tokens_per_s / lockstep.output_tokens_per_s, 1.0, 0.1);
}

struct Trace {
  std::vector<std::int64_t> times_ns;
  double mean_output = 0;
  std::vector<RequestId> ids;
  std::vector<std::int32_t> tokens;
  bool operator==(const Trace&) const = default;
};

Trace run(std::uint64_t seed) {
  EngineOptions o = realistic(seed);
  o.output_length_jitter = 0.2;
  core::SimulatedClock clock;
  auto engine = Engine::create(shipped("llama-3.1-8b-h100"), o);
  EXPECT_TRUE(engine);
  EngineDriver driver(**engine, clock);
  Trace trace;
  double outputs = 0, finished = 0;
  driver.set_event_sink([&](const EngineEvent& e) {
    if (e.kind == EventKind::kFinished) {
      outputs += e.output_tokens;
      ++finished;
    }
    trace.times_ns.push_back(e.time.time_since_epoch().count());
    trace.ids.push_back(e.id);
    trace.tokens.push_back(e.output_tokens);
  });
  for (int i = 0; i < 64; ++i) {
    RequestSpec spec;
    spec.prompt_tokens = 500;
    spec.max_tokens = 200;
    spec.eos_after = 50;
    EXPECT_TRUE(driver.submit(spec));
  }
  while (clock.run_next()) {
  }
  EXPECT_TRUE((*engine)->check_invariants());
  EXPECT_FALSE((*engine)->has_work());
  trace.mean_output = finished > 0 ? outputs / finished : 0;
  return trace;
}

TEST(DriftTest, SameSeedSameRunOtherSeedOtherRun) {
  Trace a = run(11);
  Trace b = run(11);
  Trace c = run(12);
  ASSERT_FALSE(a.ids.empty());
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  // Lengths vary around eos_after (50) with a mean close to it.
  EXPECT_NEAR(a.mean_output, 50, 4);
  EXPECT_NE(std::count(a.tokens.begin(), a.tokens.end(), 50), 64);
}

// Requests in their admission delay are neither waiting nor running; the engine is idle until
// the first is ready, and the driver wakes up then.
TEST(DriftTest, AdmissionDelayHoldsRequestsUntilReady) {
  EngineOptions o;
  o.admission_delay_s = 0.010;
  auto engine = Engine::create(testing::tiny(), o);
  ASSERT_TRUE(engine);
  Engine& e = **engine;
  core::Time t0{};
  RequestSpec spec;
  spec.prompt_tokens = 16;
  spec.max_tokens = 2;
  ASSERT_TRUE(e.submit(spec, t0));
  EXPECT_TRUE(e.has_work());
  EXPECT_EQ(e.stats().num_arriving, 1);
  EXPECT_EQ(e.stats().num_waiting, 0);
  auto ready = e.next_admission();
  ASSERT_TRUE(ready);
  EXPECT_GE(*ready - t0, core::from_seconds(0.005));
  EXPECT_LE(*ready - t0, core::from_seconds(0.015));
  EXPECT_TRUE(e.step(t0).idle());
  EXPECT_FALSE(e.step(*ready).idle());
  EXPECT_EQ(e.stats().num_arriving, 0);
  EXPECT_TRUE(e.check_invariants());

  // Through the driver on a simulated clock: the first token comes after the delay.
  core::SimulatedClock clock;
  auto engine2 = Engine::create(testing::tiny(), o);
  ASSERT_TRUE(engine2);
  EngineDriver driver(**engine2, clock);
  std::optional<core::Time> first;
  core::Time start = clock.now();
  ASSERT_TRUE(driver.submit(spec, [&](const EngineEvent& ev) {
    if (ev.kind == EventKind::kFirstToken) first = ev.time;
  }));
  while (clock.run_next()) {
  }
  ASSERT_TRUE(first);
  EXPECT_GE(*first - start, core::from_seconds(0.005));
  // Aborting a request still in its delay frees it.
  auto id = e.submit(spec, *ready);
  ASSERT_TRUE(id);
  EXPECT_TRUE(e.abort(*id, *ready));
  EXPECT_TRUE(e.check_invariants());
}

}  // namespace
}  // namespace llmscale::engine
