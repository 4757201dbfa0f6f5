// Engine: one simulated inference replica — a vLLM V1-style scheduler over a paged KV cache
// with prefix caching, timed by the roofline StepTimeModel.
//
// Pure and clock-agnostic: the caller passes the time in. submit(spec, now) queues a request;
// step(now) forms the next continuous batch (running requests first, then the FCFS waiting
// queue, within max_num_batched_tokens and max_num_seqs, chunking prefills), applies it, and
// returns how long the step takes and what it produced. Tokens produced by a step exist at
// `now + duration`; drivers deliver them then (driver.h does this on a core::Clock). Same inputs,
// same seed → same outputs, bit for bit.
//
// vLLM V1 rules (vllm/v1/core/sched/scheduler.py) modelled:
//  * a running request is scheduled for all its missing tokens (prompt not yet computed, or one
//    decode token), capped by the remaining token budget;
//  * when its KV blocks cannot be allocated the newest running request is preempted (its blocks
//    freed, its computed tokens forgotten, itself put back at the head of the waiting queue);
//    that repeats until the allocation fits or the request preempted itself; a preempted
//    request later recomputes prompt + generated tokens, reusing whatever of its blocks the
//    prefix cache still holds;
//  * waiting requests are admitted in FCFS order only in steps without preemption, while budget,
//    max_num_seqs and free blocks allow; the head of the queue blocks the rest;
//  * prefix-cache hits cover whole blocks and leave at least one token to compute;
//  * a token is sampled when a request's computed tokens reach its length; stopping checks
//    min_tokens, then length (max_tokens, context window), then EOS.
// Other engines (SchedulerConfig::policy; defaults in apply_engine_defaults()):
//  * vLLM V0, SGLang, TGI, JetStream are prefill-first: a step is either a prefill step (new or
//    preempted requests' prompts, and chunks of a prompt in progress) or a decode step, never
//    both. vLLM V0 (core/scheduler.py _schedule_default) and SGLang (get_next_batch_to_run) run a
//    prefill step whenever a waiting request can be admitted; TGI's router
//    (router/src/infer/v3/scheduler.rs batching_task) pauses decoding only when the queue holds
//    at least waiting_served_ratio × batch size requests or max_waiting_tokens decode steps
//    passed, and admits while Σ (prompt + max_new_tokens) stays within max_batch_total_tokens;
//    JetStream inserts one prefilled request per step into a free decode slot;
//  * vLLM V1 and TensorRT-LLM (NIM) mix prefill chunks into decode steps (the rules above).
//
// No lock-step (issue 15): with EngineOptions' seeded variance — step-time noise, per-request
// natural-length spread and a serial frontend admission delay — equal requests of a closed-loop
// population stop moving as one cohort; all off by default (exact, as before).
//
// Ownership: the Engine copies the Profile; the observer (optional) must outlive it.
// Not thread-safe: one thread (the driver's) calls everything.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "engine/kv_cache.h"
#include "engine/profile.h"
#include "engine/request.h"
#include "engine/step_time.h"

namespace llmscale::engine {

// Receives raw observations for the metric flavours (histograms and counters). Calls happen
// inside Engine::step()/abort(), with the times the observations refer to (a token's time is
// its step's end, which may be later than the call on a real clock). Default: ignore.
class EngineObserver {
 public:
  virtual ~EngineObserver() = default;
  virtual void on_step(const StepRecord& /*step*/) {}
  virtual void on_token(const TokenRecord& /*token*/) {}
  virtual void on_request_finished(const RequestRecord& /*request*/) {}
};

struct EngineOptions {
  std::uint64_t seed = 0;
  // Relative standard deviation of a multiplicative noise on each step time (0: exact model).
  // Real servers show a few percent of step-to-step variation.
  double step_time_jitter = 0;
  EngineObserver* observer = nullptr;
  // Relative standard deviation of a request's natural output length (RequestSpec::eos_after):
  // each request draws its own factor from (seed, request id), so equal requests of a
  // closed-loop population finish in different steps and drift apart, as on a real server
  // (0: the length is exact). Caps stay exact: max_tokens, min_tokens, ignore_eos and the
  // context window are never jittered. Declared after `observer` to keep designated
  // initialisers of the older fields valid.
  double output_length_jitter = 0;
  // Mean time between a request's arrival and its entering the scheduler's waiting queue: the
  // API server's tokenisation and the hop to the engine loop (vLLM V1: AsyncLLM -> EngineCore
  // over ZMQ). Each request draws uniformly from [0.5, 1.5] × this mean from (seed, request id),
  // so requests that a closed-loop population sends at the same instant reach the scheduler a
  // little apart and stop moving as one cohort. TTFT counts from arrival, as a client sees it.
  // 0: requests are schedulable at once.
  double admission_delay_s = 0;
};

// The variance a serving replica shows by default (`llmscale serve-sim`; docs/engine-model.md,
// "Lock-step and variance"): 3 % step-time noise and a 2 ms mean frontend admission delay
// (NIM 1.8.0's 8B TTFT at concurrency 1 is ~4 ms above the model's prefill step). Reply lengths
// are not jittered: a trace's lengths already vary. Seeded, so a run stays reproducible.
inline constexpr double kServingStepTimeJitter = 0.03;
inline constexpr double kServingAdmissionDelaySeconds = 0.002;
inline EngineOptions serving_variance(std::uint64_t seed) {
  EngineOptions options;
  options.seed = seed;
  options.step_time_jitter = kServingStepTimeJitter;
  options.admission_delay_s = kServingAdmissionDelaySeconds;
  return options;
}

// Counters since construction and the current state, for every flavour's gauges and counters.
struct EngineStats {
  // Scheduler state (vLLM num_requests_running / _waiting; TGI batch_current_size /
  // queue_size; JetStream prefill_backlog_size; SGLang num_running_reqs / num_queue_reqs).
  std::int64_t num_running = 0;
  std::int64_t num_waiting = 0;
  std::int64_t num_waiting_preempted = 0;  // of num_waiting, requests put back by preemption
  std::int64_t num_arriving = 0;           // still in their admission delay (not in num_waiting)
  std::int64_t num_prefilling = 0;         // running requests whose prompt is not done yet
  std::int64_t prefill_backlog = 0;        // waiting + prefilling (JetStream's notion)
  std::int64_t max_num_seqs = 0;           // decode slots (JetStream, NIM num_request_max)
  // Σ over running requests of prompt + max_tokens (TGI batch_current_max_tokens).
  std::int64_t reserved_tokens = 0;
  // KV cache (vLLM kv_cache_usage_perc, SGLang token_usage / num_used_tokens /
  // max_total_num_tokens, TGI batch_max_total_tokens).
  std::int64_t kv_blocks_total = 0;
  std::int64_t kv_blocks_used = 0;
  std::int64_t kv_blocks_cached = 0;  // blocks findable by prefix hash
  std::int64_t kv_tokens_capacity = 0;
  std::int64_t kv_tokens_used = 0;  // tokens with KV held by running requests
  double kv_usage = 0;              // blocks used / total
  int block_size = 16;
  // Counters.
  std::uint64_t requests_submitted = 0;
  std::uint64_t requests_finished_stop = 0;
  std::uint64_t requests_finished_length = 0;
  std::uint64_t requests_aborted = 0;
  std::uint64_t prompt_tokens_total = 0;      // prompts of requests that got a first token
  std::uint64_t prefill_tokens_computed = 0;  // prompt + recompute tokens actually computed
  std::uint64_t generation_tokens_total = 0;
  std::uint64_t prefix_cache_queries = 0;  // tokens looked up (vLLM V1 counts tokens)
  std::uint64_t prefix_cache_hits = 0;     // tokens found
  std::uint64_t cached_prompt_tokens = 0;  // hits at first scheduling (SGLang cached_tokens)
  std::uint64_t preemptions_total = 0;
  std::uint64_t kv_evictions_total = 0;
  std::uint64_t steps_total = 0;
  std::uint64_t prefill_steps_total = 0;  // steps with prompt tokens
  double busy_seconds_total = 0;          // Σ step durations (accelerator duty cycle)
  // Last step.
  std::int64_t last_step_tokens = 0;
  double last_step_seconds = 0;
};

// What one step did. `events` points into the engine and is valid until the next call of a
// non-const method.
struct StepResult {
  core::Time start{};
  core::Duration duration{};  // zero when nothing was scheduled
  core::Time end() const { return start + duration; }
  bool idle() const { return duration == core::Duration::zero(); }
  StepRecord record;
  std::span<const EngineEvent> events;
};

class Engine {
 public:
  // Sizes the KV cache from the profile (memory_plan()). Fails when the profile is invalid.
  static core::Result<std::unique_ptr<Engine>> create(const Profile& profile,
                                                      EngineOptions options = {});

  // Queues a request arriving at `now`. Fails (kInvalidArgument) on an empty prompt, a prompt
  // plus max_tokens beyond the context window (vLLM's 400 message), min_tokens > max_tokens,
  // or a prefix block size that is not a multiple of the KV block size.
  core::Result<RequestId> submit(const RequestSpec& spec, core::Time now);

  // Removes a waiting or running request (client disconnect); its blocks are freed and it
  // finishes with reason abort. False when unknown or already finished.
  bool abort(RequestId id, core::Time now);

  // Forms and applies one batch starting at `now`. Idle (zero duration, no events) when there
  // is nothing to schedule.
  const StepResult& step(core::Time now);

  // True while some request is arriving (admission delay), waiting or running.
  bool has_work() const { return !running_.empty() || !waiting_.empty() || !arriving_.empty(); }
  // When the next request still in its admission delay becomes schedulable; absent when none.
  // A step at an earlier time is idle if nothing else is waiting or running: step again then.
  std::optional<core::Time> next_admission() const;

  EngineStats stats() const;
  const Profile& profile() const { return profile_; }
  const MemoryPlan& memory() const { return memory_; }
  const StepTimeModel& step_time_model() const { return model_; }
  const KvCache& kv_cache() const { return kv_; }
  std::int64_t max_model_len() const { return max_model_len_; }

  // For tests: KV-cache and bookkeeping invariants (no leaked or double-owned block).
  bool check_invariants() const;
  // Running request ids in batch order, and waiting ids in queue order (tests, debugging).
  std::vector<RequestId> running_ids() const;
  std::vector<RequestId> waiting_ids() const;

 private:
  enum class State : std::uint8_t { kFree, kArriving, kWaiting, kRunning };
  struct Request {
    RequestId id = 0;
    State state = State::kFree;
    std::int64_t prompt_tokens = 0;
    std::int64_t max_tokens = 0;
    std::int64_t target_output = 0;  // output length at which it finishes
    FinishReason target_reason = FinishReason::kLength;
    std::int64_t num_output = 0;
    std::int64_t num_computed = 0;  // tokens whose KV is in the cache
    std::int64_t cached_prompt_tokens = 0;
    std::int32_t num_preemptions = 0;
    bool scheduled_once = false;
    core::Time arrival{};
    core::Time ready{};  // arrival + admission delay
    core::Time scheduled{};
    core::Time first_token{};
    core::Time last_token{};
    std::vector<BlockId> blocks;
    std::int64_t hashed_blocks = 0;       // leading blocks already given a hash in the cache
    std::vector<BlockHash> block_hashes;  // chain hashes, computed as blocks fill
    std::vector<std::uint64_t> prefix_ids;
    std::int64_t prefix_block_tokens = 0;

    std::int64_t num_tokens() const { return prompt_tokens + num_output; }
  };
  struct Scheduled {
    std::uint32_t slot;
    std::int64_t num_new;
  };

  Engine(const Profile& profile, const MemoryPlan& memory, EngineOptions options);
  std::uint32_t new_slot();
  void release(std::uint32_t slot);
  BlockHash block_hash(Request& r, std::int64_t index);
  void cache_full_blocks(Request& r);
  void preempt(std::uint32_t slot, core::Time now);
  void finish(std::uint32_t slot, FinishReason reason, core::Time when);
  RequestRecord record_of(const Request& r, FinishReason reason, core::Time when) const;
  double jitter();
  std::int64_t natural_length(std::int64_t eos_after, RequestId id) const;
  core::Duration admission_delay(RequestId id) const;
  void admit_arrivals(core::Time now);
  bool want_prefill_step() const;

  Profile profile_;
  MemoryPlan memory_;
  StepTimeModel model_;
  EngineOptions options_;
  KvCache kv_;
  std::int64_t max_model_len_;
  int block_size_;
  int max_num_seqs_;
  int max_num_batched_tokens_;
  bool chunked_prefill_;
  SchedulerPolicy policy_;
  bool prefill_first_;                   // prefills in steps of their own, before decodes
  std::int64_t max_batch_total_tokens_;  // TGI; 0: no limit
  int decode_steps_since_prefill_ = 0;   // TGI's waiting_tokens

  std::vector<Request> requests_;  // slots
  std::vector<std::uint32_t> free_slots_;
  boost::unordered_flat_map<RequestId, std::uint32_t> slot_of_;
  std::vector<std::uint32_t> running_;  // batch order (admission order)
  std::deque<std::uint32_t> waiting_;   // FCFS; preempted requests go to the front
  std::deque<std::uint32_t> arriving_;  // in admission delay, by ready time
  core::Time frontend_free_{};          // when the (serial) frontend finishes its last request
  RequestId next_id_ = 1;
  std::uint64_t rng_state_;

  // Per-step scratch, reused.
  std::vector<Scheduled> scheduled_;
  std::vector<EngineEvent> events_;
  std::vector<BlockId> hits_;
  StepResult result_;
  EngineStats counters_;
};

}  // namespace llmscale::engine
