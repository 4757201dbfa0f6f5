// Engine scheduler behaviour, step by step: continuous batching, chunked prefill, limits, FCFS,
// preemption by recompute, prefix caching, stop conditions, abort, observations and stats.
#include "engine/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "core/clock.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::tiny;
using testing::TinyOptions;

const core::Time kT0 = core::SimulatedClock::default_start();

std::unique_ptr<Engine> make(const Profile& p, EngineOptions o = {}) {
  auto e = Engine::create(p, o);
  EXPECT_TRUE(e) << (e ? "" : e.error().message);
  return std::move(*e);
}

RequestSpec req(std::int64_t prompt, std::int64_t max_tokens) {
  RequestSpec s;
  s.prompt_tokens = prompt;
  s.max_tokens = max_tokens;
  s.ignore_eos = true;
  return s;
}

struct Trace {
  std::vector<EngineEvent> events;
  std::vector<StepRecord> steps;
  core::Time end;
};

// Steps until idle (or max_steps), checking invariants after every step.
Trace run(Engine& e, core::Time t = kT0, int max_steps = 100000) {
  Trace r;
  for (int i = 0; i < max_steps && e.has_work(); ++i) {
    const StepResult& s = e.step(t);
    EXPECT_TRUE(e.check_invariants());
    if (s.idle()) break;
    r.events.insert(r.events.end(), s.events.begin(), s.events.end());
    r.steps.push_back(s.record);
    t = s.end();
  }
  r.end = t;
  return r;
}

std::vector<EventKind> kinds_of(const Trace& r, RequestId id) {
  std::vector<EventKind> k;
  for (const auto& e : r.events) {
    if (e.id == id) k.push_back(e.kind);
  }
  return k;
}

class RecordingObserver : public EngineObserver {
 public:
  void on_step(const StepRecord& s) override { steps.push_back(s); }
  void on_token(const TokenRecord& t) override { tokens.push_back(t); }
  void on_request_finished(const RequestRecord& r) override { finished[r.id] = r; }
  std::vector<StepRecord> steps;
  std::vector<TokenRecord> tokens;
  std::map<RequestId, RequestRecord> finished;
};

TEST(EngineTest, OneRequestPrefillsThenDecodesOneTokenPerStep) {
  RecordingObserver obs;
  auto e = make(tiny(), {.observer = &obs});
  auto id = e->submit(req(100, 5), kT0);
  ASSERT_TRUE(id);
  Trace r = run(*e);
  ASSERT_EQ(r.steps.size(), 5u);
  EXPECT_EQ(r.steps[0].prefill_tokens, 100);
  EXPECT_EQ(r.steps[0].num_new_seqs, 1);
  EXPECT_EQ(r.steps[1].decode_tokens, 1);
  EXPECT_THAT(kinds_of(r, *id), ElementsAre(EventKind::kScheduled, EventKind::kFirstToken,
                                            EventKind::kToken, EventKind::kToken, EventKind::kToken,
                                            EventKind::kToken, EventKind::kFinished));
  const RequestRecord& rec = obs.finished.at(*id);
  EXPECT_EQ(rec.output_tokens, 5);
  EXPECT_EQ(rec.reason, FinishReason::kLength);
  EXPECT_EQ(*rec.ttft(), r.steps[0].duration);
  EXPECT_EQ(rec.queue_time(), core::Duration::zero());
  EXPECT_EQ(rec.e2e(), r.end - kT0);
  EXPECT_EQ(obs.tokens.size(), 5u);
  EXPECT_EQ(obs.tokens[1].since_previous, r.steps[1].duration);
  EngineStats s = e->stats();
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.requests_finished_length, 1u);
  EXPECT_EQ(s.generation_tokens_total, 5u);
  EXPECT_EQ(s.prompt_tokens_total, 100u);
  EXPECT_EQ(s.steps_total, 5u);
}

TEST(EngineTest, ChunkedPrefillSplitsAPromptOverTheTokenBudget) {
  auto e = make(tiny({.max_num_batched_tokens = 256}));
  ASSERT_TRUE(e->submit(req(600, 2), kT0));
  Trace r = run(*e);
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[0].prefill_tokens, 256);
  EXPECT_EQ(r.steps[1].prefill_tokens, 256);
  EXPECT_EQ(r.steps[2].prefill_tokens, 88);
  EXPECT_EQ(r.steps[3].decode_tokens, 1);
  // No token before the last chunk.
  EXPECT_EQ(r.events[1].kind, EventKind::kFirstToken);
  EXPECT_EQ(r.events[1].time,
            r.steps[0].start + r.steps[0].duration + r.steps[1].duration + r.steps[2].duration);
}

TEST(EngineTest, DecodesAndPrefillsShareAStep) {
  auto e = make(tiny({.max_num_batched_tokens = 256}));
  ASSERT_TRUE(e->submit(req(50, 10), kT0));
  const StepResult& first = e->step(kT0);
  core::Time t = first.end();
  ASSERT_TRUE(e->submit(req(400, 10), t));
  const StepResult& second = e->step(t);
  EXPECT_EQ(second.record.decode_tokens, 1);
  EXPECT_EQ(second.record.prefill_tokens, 255);  // the rest of the budget
  EXPECT_EQ(second.record.scheduled_tokens, 256);
}

TEST(EngineTest, WithoutChunkingAPromptWaitsForAStepWithRoom) {
  auto e =
      make(tiny({.max_num_batched_tokens = 256, .max_model_len = 256, .chunked_prefill = false}));
  ASSERT_TRUE(e->submit(req(200, 4), kT0));
  ASSERT_TRUE(e->submit(req(200, 4), kT0));
  const StepResult& s = e->step(kT0);
  EXPECT_EQ(s.record.prefill_tokens, 200);
  EXPECT_EQ(e->stats().num_waiting, 1);
}

TEST(EngineTest, MaxNumSeqsCapsTheBatch) {
  auto e = make(tiny({.max_num_seqs = 2}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->submit(req(10, 3), kT0));
  e->step(kT0);
  EXPECT_EQ(e->stats().num_running, 2);
  EXPECT_EQ(e->stats().num_waiting, 1);
  Trace r = run(*e);
  EXPECT_EQ(e->stats().requests_finished_length, 3u);
}

TEST(EngineTest, WaitingQueueIsFcfsWithHeadOfLineBlocking) {
  auto e = make(tiny({.num_blocks = 10, .max_model_len = 160}));
  auto r1 = e->submit(req(100, 50), kT0);  // 7 blocks
  e->step(kT0);
  auto r2 = e->submit(req(100, 50), kT0);  // needs 7, only 3 free
  auto r3 = e->submit(req(10, 5), kT0);    // would fit, but is behind r2
  e->step(kT0);
  EXPECT_THAT(e->running_ids(), ElementsAre(*r1));
  EXPECT_THAT(e->waiting_ids(), ElementsAre(*r2, *r3));
  Trace r = run(*e);
  std::vector<RequestId> scheduled;
  for (const auto& ev : r.events) {
    if (ev.kind == EventKind::kScheduled) scheduled.push_back(ev.id);
  }
  EXPECT_THAT(scheduled, ElementsAre(*r2, *r3));
}

TEST(EngineTest, PreemptsTheNewestRequestAndRecomputesIt) {
  RecordingObserver obs;
  auto e = make(tiny({.num_blocks = 12, .max_model_len = 192}), {.observer = &obs});
  auto r1 = e->submit(req(64, 100), kT0);
  auto r2 = e->submit(req(64, 100), kT0);
  Trace r = run(*e);
  EngineStats s = e->stats();
  EXPECT_GE(s.preemptions_total, 1u);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(obs.finished.at(*r1).output_tokens, 100);
  EXPECT_EQ(obs.finished.at(*r2).output_tokens, 100);
  EXPECT_EQ(obs.finished.at(*r1).num_preemptions, 0);  // the older request keeps running
  EXPECT_GE(obs.finished.at(*r2).num_preemptions, 1);
  // Progress survives preemption: token indices continue, none is emitted twice.
  std::int32_t last = 0;
  bool saw_preempted = false;
  for (const auto& ev : r.events) {
    if (ev.id != *r2) continue;
    if (ev.kind == EventKind::kPreempted) {
      saw_preempted = true;
      EXPECT_EQ(ev.output_tokens, last);
    }
    if (ev.kind == EventKind::kToken || ev.kind == EventKind::kFirstToken) {
      EXPECT_EQ(ev.output_tokens, last + 1);
      last = ev.output_tokens;
    }
  }
  EXPECT_TRUE(saw_preempted);
  EXPECT_EQ(last, 100);
  // The recompute found part of its own freed prefix still cached.
  EXPECT_GT(s.prefix_cache_hits, 0u);
  // Recompute tokens are prefill work beyond the prompts.
  EXPECT_GT(s.prefill_tokens_computed, 128u);
  EXPECT_EQ(s.prompt_tokens_total, 128u);
}

TEST(EngineTest, PreemptedRequestGoesBackAheadOfOlderWaitingRequests) {
  auto e = make(tiny({.num_blocks = 12, .max_model_len = 192}));
  auto r1 = e->submit(req(64, 100), kT0);
  auto r2 = e->submit(req(64, 100), kT0);
  auto r3 = e->submit(req(150, 10), kT0);  // needs 10 blocks: waits behind the two
  core::Time t = kT0;
  bool checked = false;
  for (int i = 0; i < 1000 && e->has_work(); ++i) {
    const StepResult& s = e->step(t);
    t = s.end();
    if (s.record.num_preempted > 0 && !checked) {
      EXPECT_THAT(e->running_ids(), ElementsAre(*r1));
      EXPECT_THAT(e->waiting_ids(), ElementsAre(*r2, *r3));
      checked = true;
    }
  }
  EXPECT_TRUE(checked);
  EXPECT_EQ(e->stats().requests_finished_length, 3u);
}

TEST(EngineTest, NoAdmissionInAStepThatPreempted) {
  auto e = make(tiny({.num_blocks = 12, .max_model_len = 192}));
  ASSERT_TRUE(e->submit(req(64, 120), kT0));
  ASSERT_TRUE(e->submit(req(64, 120), kT0));
  core::Time t = kT0;
  for (int i = 0; i < 1000 && e->has_work(); ++i) {
    const StepResult& s = e->step(t);
    if (s.record.num_preempted > 0) {
      EXPECT_EQ(s.record.num_new_seqs, 0);
    }
    t = s.end();
  }
}

TEST(EngineTest, SharedPrefixesHitTheCache) {
  auto with_prefix = [](std::vector<std::uint64_t> ids) {
    RequestSpec s = req(200, 2);
    s.prefix_hash_ids = std::move(ids);
    s.prefix_block_tokens = 64;
    return s;
  };
  RecordingObserver obs;
  auto e2 = make(tiny({.num_blocks = 64}), {.observer = &obs});
  auto a = e2->submit(with_prefix({1, 2, 3}), kT0);
  Trace first = run(*e2);
  auto b = e2->submit(with_prefix({1, 2, 3}), first.end);
  auto c = e2->submit(with_prefix({1, 9, 3}), first.end);
  auto d = e2->submit(with_prefix({7}), first.end);
  run(*e2, first.end);
  EXPECT_EQ(obs.finished.at(*a).cached_prompt_tokens, 0);
  EXPECT_EQ(obs.finished.at(*b).cached_prompt_tokens, 192);  // 3 × 64 shared tokens
  EXPECT_EQ(obs.finished.at(*c).cached_prompt_tokens, 64);   // diverges at the second id
  EXPECT_EQ(obs.finished.at(*d).cached_prompt_tokens, 0);
  EngineStats s = e2->stats();
  EXPECT_EQ(s.prefix_cache_queries, 800u);
  EXPECT_EQ(s.prefix_cache_hits, 256u);
  EXPECT_EQ(s.cached_prompt_tokens, 256u);
}

TEST(EngineTest, FullPrefixHitStillComputesOneToken) {
  RecordingObserver obs;
  auto e = make(tiny(), {.observer = &obs});
  RequestSpec s = req(64, 1);
  s.prefix_hash_ids = {5};
  s.prefix_block_tokens = 64;
  ASSERT_TRUE(e->submit(s, kT0));
  Trace first = run(*e);
  auto again = e->submit(s, first.end);
  Trace second = run(*e, first.end);
  EXPECT_EQ(obs.finished.at(*again).cached_prompt_tokens, 48);  // (64 - 1) / 16 blocks
  EXPECT_EQ(second.steps[0].prefill_tokens, 16);
}

TEST(EngineTest, WithoutPrefixCachingNothingIsShared) {
  RecordingObserver obs;
  auto e = make(tiny({.prefix_caching = false}), {.observer = &obs});
  RequestSpec s = req(200, 1);
  s.prefix_hash_ids = {1, 2, 3};
  s.prefix_block_tokens = 64;
  ASSERT_TRUE(e->submit(s, kT0));
  Trace first = run(*e);
  auto b = e->submit(s, first.end);
  run(*e, first.end);
  EXPECT_EQ(obs.finished.at(*b).cached_prompt_tokens, 0);
  EXPECT_EQ(e->stats().prefix_cache_queries, 0u);
}

struct StopCase {
  std::int64_t max_tokens, min_tokens;
  std::optional<std::int64_t> eos_after;
  bool ignore_eos;
  std::int64_t want_tokens;
  FinishReason want_reason;
};

TEST(EngineTest, StopConditionsFollowVllmCheckStop) {
  const StopCase cases[] = {
      {20, 0, 10, false, 10, FinishReason::kStop},
      {20, 0, 30, false, 20, FinishReason::kLength},
      {20, 0, 20, false, 20, FinishReason::kLength},  // length is checked before EOS
      {20, 0, 10, true, 20, FinishReason::kLength},   // ignore_eos
      {20, 15, 10, false, 15, FinishReason::kStop},   // EOS suppressed below min_tokens
      {20, 0, std::nullopt, false, 20, FinishReason::kLength},
      {20, 20, 5, false, 20, FinishReason::kLength},
  };
  for (const StopCase& c : cases) {
    RecordingObserver obs;
    auto e = make(tiny(), {.observer = &obs});
    RequestSpec s;
    s.prompt_tokens = 10;
    s.max_tokens = c.max_tokens;
    s.min_tokens = c.min_tokens;
    s.eos_after = c.eos_after;
    s.ignore_eos = c.ignore_eos;
    auto id = e->submit(s, kT0);
    ASSERT_TRUE(id);
    run(*e);
    EXPECT_EQ(obs.finished.at(*id).output_tokens, c.want_tokens);
    EXPECT_EQ(obs.finished.at(*id).reason, c.want_reason);
  }
}

TEST(EngineTest, DefaultMaxTokensIsTheRestOfTheContextWindow) {
  RecordingObserver obs;
  auto e = make(tiny({.max_model_len = 128}), {.observer = &obs});
  RequestSpec s;
  s.prompt_tokens = 100;
  auto id = e->submit(s, kT0);
  ASSERT_TRUE(id);
  run(*e);
  EXPECT_EQ(obs.finished.at(*id).output_tokens, 28);
  EXPECT_EQ(obs.finished.at(*id).max_tokens, 28);
}

TEST(EngineTest, RejectsInvalidRequests) {
  auto e = make(tiny({.max_model_len = 1024}));
  EXPECT_THAT(e->submit(req(0, 5), kT0).error().message, HasSubstr("at least one token"));
  EXPECT_THAT(e->submit(req(10, 0), kT0).error().message,
              HasSubstr("max_tokens must be at least 1"));
  EXPECT_EQ(e->submit(req(1000, 100), kT0).error().message,
            "This model's maximum context length is 1024 tokens. However, you requested 1100 "
            "tokens (1000 in the messages, 100 in the completion). Please reduce the length of "
            "the messages or completion.");
  RequestSpec s = req(10, 5);
  s.min_tokens = 6;
  EXPECT_THAT(e->submit(s, kT0).error().message, HasSubstr("min_tokens"));
  s = req(10, 5);
  s.prefix_hash_ids = {1};
  s.prefix_block_tokens = 24;
  EXPECT_THAT(e->submit(s, kT0).error().message, HasSubstr("multiple of the KV block size"));
  RequestSpec whole;
  whole.prompt_tokens = 1024;
  EXPECT_THAT(e->submit(whole, kT0).error().message, HasSubstr("leaves no room"));
  EXPECT_EQ(e->stats().requests_submitted, 0u);
}

TEST(EngineTest, AbortFreesBlocksAndReportsAbort) {
  RecordingObserver obs;
  auto e = make(tiny({.max_num_seqs = 1}), {.observer = &obs});
  auto running = e->submit(req(100, 50), kT0);
  auto waiting = e->submit(req(100, 50), kT0);
  const StepResult& s = e->step(kT0);
  core::Time t = s.end();
  EXPECT_GT(e->stats().kv_blocks_used, 0);
  EXPECT_TRUE(e->abort(*waiting, t));
  EXPECT_TRUE(e->abort(*running, t));
  EXPECT_FALSE(e->abort(*running, t));
  EXPECT_FALSE(e->abort(12345, t));
  EXPECT_TRUE(e->check_invariants());
  EXPECT_EQ(e->stats().kv_blocks_used, 0);
  EXPECT_FALSE(e->has_work());
  EXPECT_EQ(e->stats().requests_aborted, 2u);
  EXPECT_EQ(obs.finished.at(*running).reason, FinishReason::kAbort);
  EXPECT_EQ(obs.finished.at(*running).output_tokens, 1);
  EXPECT_FALSE(obs.finished.at(*waiting).scheduled.has_value());
  EXPECT_EQ(obs.finished.at(*waiting).queue_time(), t - kT0);
}

TEST(EngineTest, RecordTimesFollowVllmDefinitions) {
  RecordingObserver obs;
  auto e = make(tiny({.max_num_seqs = 1}), {.observer = &obs});
  auto a = e->submit(req(100, 3), kT0);
  auto b = e->submit(req(100, 3), kT0);
  Trace r = run(*e);
  const RequestRecord& rb = obs.finished.at(*b);
  // max_num_seqs = 1: b is scheduled in the step after a's last token.
  EXPECT_EQ(*rb.scheduled, obs.finished.at(*a).finished);
  EXPECT_EQ(rb.queue_time(), *rb.scheduled - kT0);
  EXPECT_EQ(rb.prefill_time(), *rb.first_token - *rb.scheduled);
  EXPECT_EQ(rb.decode_time(), rb.finished - *rb.first_token);
  EXPECT_EQ(rb.inference_time(), rb.prefill_time() + rb.decode_time());
  EXPECT_EQ(*rb.ttft(), rb.queue_time() + rb.prefill_time());
  EXPECT_EQ(*rb.mean_time_per_output_token(), rb.decode_time() / 2);
  EXPECT_EQ(obs.steps.size(), r.steps.size());
}

TEST(EngineTest, StatsExposeWhatEveryFlavourPublishes) {
  auto e = make(tiny({.max_num_seqs = 2, .max_num_batched_tokens = 64}));
  ASSERT_TRUE(e->submit(req(100, 10), kT0));
  ASSERT_TRUE(e->submit(req(30, 10), kT0));
  ASSERT_TRUE(e->submit(req(30, 10), kT0));
  e->step(kT0);  // first request: 64 of 100 prompt tokens; the budget is spent
  EngineStats s = e->stats();
  EXPECT_EQ(s.num_running, 1);
  EXPECT_EQ(s.num_waiting, 2);
  EXPECT_EQ(s.num_prefilling, 1);
  EXPECT_EQ(s.prefill_backlog, 3);
  EXPECT_EQ(s.reserved_tokens, 110);
  EXPECT_EQ(s.kv_tokens_used, 64);
  EXPECT_EQ(s.kv_blocks_used, 4);
  EXPECT_EQ(s.kv_blocks_total, 64);
  EXPECT_EQ(s.kv_tokens_capacity, 1024);
  EXPECT_DOUBLE_EQ(s.kv_usage, 4.0 / 64);
  EXPECT_EQ(s.max_num_seqs, 2);
  EXPECT_GT(s.busy_seconds_total, 0);
  EXPECT_EQ(s.prefill_steps_total, 1u);
  EXPECT_EQ(s.last_step_tokens, 64);
}

TEST(EngineTest, IdleEngineStepsInZeroTime) {
  auto e = make(tiny());
  const StepResult& s = e->step(kT0);
  EXPECT_TRUE(s.idle());
  EXPECT_TRUE(s.events.empty());
  EXPECT_EQ(e->stats().steps_total, 0u);
}

TEST(EngineTest, JitterIsDeterministicForASeed) {
  auto durations = [](std::uint64_t seed) {
    auto e = make(tiny(), {.seed = seed, .step_time_jitter = 0.05});
    EXPECT_TRUE(e->submit(req(100, 20), kT0));
    std::vector<core::Duration> d;
    for (const auto& s : run(*e).steps) d.push_back(s.duration);
    return d;
  };
  EXPECT_EQ(durations(7), durations(7));
  EXPECT_NE(durations(7), durations(8));
}

}  // namespace
}  // namespace llmscale::engine
