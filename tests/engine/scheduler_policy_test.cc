// Per-engine scheduler rules and defaults (issue 15 item 3), one table row per rule: which engines
// mix prompt chunks into decode steps (vLLM V1, TensorRT-LLM) and which run prefill steps of
// their own first (vLLM V0, SGLang, TGI with its waiting-served ratio and batch token budget,
// JetStream one request at a time), and the defaults each engine's source sets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

using ::testing::HasSubstr;
using testing::shipped;
using testing::tiny;

const core::Time kT0 = core::Time(std::chrono::seconds(1000));

Profile with_policy(SchedulerPolicy policy, testing::TinyOptions o = {}) {
  Profile p = tiny(o);
  p.scheduler.policy = policy;
  return p;
}

std::unique_ptr<Engine> make(const Profile& p) {
  auto e = Engine::create(p);
  EXPECT_TRUE(e) << (e ? "" : e.error().message);
  return e ? std::move(*e) : nullptr;
}

RequestSpec request(std::int64_t prompt, std::int64_t max_tokens) {
  RequestSpec s;
  s.prompt_tokens = prompt;
  s.max_tokens = max_tokens;
  s.ignore_eos = true;
  return s;
}

struct DefaultsRow {
  SchedulerPolicy policy;
  int max_num_seqs;
  std::int64_t max_num_batched_tokens;
  bool chunked;
  int max_prefill_seqs;
};

TEST(SchedulerPolicyTest, EngineDefaultsOnAnH100) {
  const DefaultsRow rows[] = {
      {SchedulerPolicy::kVllmV1, 1024, 8192, true, 0},
      {SchedulerPolicy::kVllmV0, 256, 131072, false, 0},  // max(max_model_len, 2048)
      {SchedulerPolicy::kSglang, 1024, 8192, true, 0},
      {SchedulerPolicy::kTgi, 1024, 131072, false, 0},
      {SchedulerPolicy::kJetStream, 1024, 131072, false, 1},
      {SchedulerPolicy::kTrtLlm, 256, 8192, true, 0},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(scheduler_policy_name(row.policy)));
    Profile p = shipped("llama-3.1-8b-h100");
    apply_engine_defaults(p, row.policy);
    EXPECT_EQ(p.scheduler.policy, row.policy);
    EXPECT_EQ(p.scheduler.max_num_seqs, row.max_num_seqs);
    EXPECT_EQ(p.scheduler.max_num_batched_tokens, row.max_num_batched_tokens);
    EXPECT_EQ(p.scheduler.enable_chunked_prefill, row.chunked);
    EXPECT_EQ(p.scheduler.max_prefill_seqs, row.max_prefill_seqs);
    EXPECT_TRUE(validate_profile(p)) << validate_profile(p).error().message;
    EXPECT_EQ(parse_scheduler_policy(scheduler_policy_name(row.policy)), row.policy);
  }
  Profile a100 = shipped("llama-3.1-8b-a100");
  apply_engine_defaults(a100, SchedulerPolicy::kVllmV1);
  EXPECT_EQ(a100.scheduler.max_num_seqs, 256);
  EXPECT_EQ(a100.scheduler.max_num_batched_tokens, 2048);
}

// One request decoding, a second arrives: does the next step mix its prompt with the decode?
struct MixRow {
  SchedulerPolicy policy;
  bool mixes;
};

TEST(SchedulerPolicyTest, WhoMixesPromptsIntoDecodeSteps) {
  const MixRow rows[] = {
      {SchedulerPolicy::kVllmV1, true},  {SchedulerPolicy::kTrtLlm, true},
      {SchedulerPolicy::kVllmV0, false}, {SchedulerPolicy::kSglang, false},
      {SchedulerPolicy::kTgi, false},    {SchedulerPolicy::kJetStream, false},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(scheduler_policy_name(row.policy)));
    auto e = make(with_policy(row.policy));
    ASSERT_TRUE(e);
    ASSERT_TRUE(e->submit(request(64, 50), kT0));
    core::Time t = e->step(kT0).end();  // prefill of the first
    t = e->step(t).end();               // a decode step
    ASSERT_TRUE(e->submit(request(64, 50), t));
    const StepRecord first = e->step(t).record;
    if (row.mixes) {
      EXPECT_EQ(first.prefill_tokens, 64);
      EXPECT_EQ(first.decode_tokens, 1);
    } else {
      // A prefill step of its own: the decoding request waits one step.
      EXPECT_EQ(first.prefill_tokens, 64);
      EXPECT_EQ(first.decode_tokens, 0);
      const StepRecord second = e->step(first.start + first.duration).record;
      EXPECT_EQ(second.prefill_tokens, 0);
      EXPECT_EQ(second.decode_tokens, 2);
    }
    EXPECT_TRUE(e->check_invariants());
  }
}

// TGI: with 10 requests decoding, one waiting request does not interrupt the batch (min_size =
// floor(10 × 0.3) = 3) until max_waiting_tokens (20) decode steps have passed; three do.
TEST(SchedulerPolicyTest, TgiWaitingServedRatio) {
  testing::TinyOptions o;
  o.max_num_seqs = 32;
  o.num_blocks = 256;
  auto e = make(with_policy(SchedulerPolicy::kTgi, o));
  ASSERT_TRUE(e);
  core::Time t = kT0;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(e->submit(request(16, 200), t));
  t = e->step(t).end();  // prefill of all ten (empty batch: no ratio)
  t = e->step(t).end();
  ASSERT_TRUE(e->submit(request(16, 10), t));
  int decode_steps = 0;
  for (;;) {
    const StepRecord s = e->step(t).record;
    t = s.start + s.duration;
    if (s.prefill_tokens > 0) break;
    ++decode_steps;
    ASSERT_LT(decode_steps, 100);
  }
  // One decode step ran before the arrival, so 19 more reach max_waiting_tokens = 20.
  EXPECT_EQ(decode_steps, 19);

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->submit(request(16, 10), t));
  const StepRecord next = e->step(t).record;
  EXPECT_EQ(next.prefill_tokens, 48);
  EXPECT_EQ(next.num_new_seqs, 3);
  EXPECT_TRUE(e->check_invariants());
}

// TGI admits while Σ (prompt + max_new_tokens) fits max_batch_total_tokens.
TEST(SchedulerPolicyTest, TgiBatchTotalTokens) {
  Profile p = with_policy(SchedulerPolicy::kTgi);
  p.scheduler.max_batch_total_tokens = 300;
  auto e = make(p);
  ASSERT_TRUE(e);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->submit(request(50, 50), kT0));
  const StepRecord s = e->step(kT0).record;
  EXPECT_EQ(s.num_new_seqs, 3);  // 3 × 100 = 300
  ASSERT_TRUE(e->submit(request(50, 50), s.start + s.duration));
  EXPECT_EQ(e->stats().num_waiting, 1);
  for (int i = 0; i < 200 && e->stats().num_waiting == 1; ++i) {
    auto step = e->step(s.start + s.duration * (i + 1)).record;
    if (e->stats().num_running == 3) EXPECT_EQ(step.num_new_seqs, 0);
  }
  EXPECT_TRUE(e->check_invariants());
}

// JetStream prefills one request per step into a free decode slot.
TEST(SchedulerPolicyTest, JetStreamPrefillsOneRequestAtATime) {
  Profile p = with_policy(SchedulerPolicy::kJetStream);
  p.scheduler.max_prefill_seqs = 1;  // apply_engine_defaults' JetStream value
  auto e = make(p);
  ASSERT_TRUE(e);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(e->submit(request(32, 5), kT0));
  core::Time t = kT0;
  for (int i = 0; i < 3; ++i) {
    const StepRecord s = e->step(t).record;
    EXPECT_EQ(s.num_new_seqs, 1);
    EXPECT_EQ(s.prefill_tokens, 32);
    EXPECT_EQ(s.decode_tokens, 0);
    t = s.start + s.duration;
  }
  EXPECT_EQ(e->stats().num_running, 3);
}

// SGLang chunks a long prompt over several prefill-only steps before decoding resumes.
TEST(SchedulerPolicyTest, SglangChunksPromptsInPrefillOnlySteps) {
  auto e = make(with_policy(SchedulerPolicy::kSglang, {.max_num_batched_tokens = 64}));
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->submit(request(16, 20), kT0));
  core::Time t = e->step(kT0).end();
  ASSERT_TRUE(e->submit(request(200, 5), t));
  std::vector<std::int64_t> prefill, decode;
  for (int i = 0; i < 5; ++i) {
    const StepRecord s = e->step(t).record;
    prefill.push_back(s.prefill_tokens);
    decode.push_back(s.decode_tokens);
    t = s.start + s.duration;
  }
  EXPECT_THAT(prefill, ::testing::ElementsAre(64, 64, 64, 8, 0));
  EXPECT_THAT(decode, ::testing::ElementsAre(0, 0, 0, 0, 2));
}

// A profile names its engine and the release it models; unknown names fail with the field.
TEST(SchedulerPolicyTest, ProfileNamesItsEngine) {
  const std::string base =
      "model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\nscheduler:\n  max_model_len: 8192\n";
  auto tgi = parse_profile(base + "  engine: tgi\n  engine_version: \"2.4.1\"\n", "t");
  ASSERT_TRUE(tgi) << tgi.error().message;
  EXPECT_EQ(tgi->scheduler.policy, SchedulerPolicy::kTgi);
  EXPECT_TRUE(tgi->scheduler.engine_explicit);
  EXPECT_EQ(tgi->scheduler.engine_version, "2.4.1");
  EXPECT_FALSE(tgi->scheduler.enable_chunked_prefill);
  // The profile's own fields win over the engine's defaults.
  auto v0 = parse_profile(base + "  engine: vllm-v0\n  max_num_seqs: 128\n", "v");
  ASSERT_TRUE(v0) << v0.error().message;
  EXPECT_EQ(v0->scheduler.max_num_seqs, 128);
  EXPECT_EQ(v0->scheduler.max_num_batched_tokens, 8192);
  auto plain = parse_profile(base, "p");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->scheduler.policy, SchedulerPolicy::kVllmV1);
  EXPECT_FALSE(plain->scheduler.engine_explicit);
  auto bad = parse_profile(base + "  engine: triton\n", "b");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("scheduler.engine: unknown engine \"triton\""));
}

}  // namespace
}  // namespace llmscale::engine
