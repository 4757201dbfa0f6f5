// What the engine is asked to do (RequestSpec), what it reports while doing it (EngineEvent)
// and the per-request and per-step records its observer receives (RequestRecord, StepRecord).
// Plain values; no behaviour beyond small derived quantities.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace llmscale::engine {

using RequestId = std::uint64_t;

// vLLM's finished_reason label values: stop (EOS or a stop string), length (max_tokens or the
// context window), abort (client went away or the server aborted it).
enum class FinishReason : std::uint8_t { kStop, kLength, kAbort };
std::string_view finish_reason_name(FinishReason reason);

struct RequestSpec {
  std::int64_t prompt_tokens = 0;  // REQUIRES >= 1
  // Output cap; absent: the rest of the context window (vLLM's default for max_tokens).
  std::optional<std::int64_t> max_tokens;
  std::int64_t min_tokens = 0;  // EOS is suppressed before this many tokens
  bool ignore_eos = false;
  // Output length at which the model would emit EOS on its own (the reply's natural length,
  // e.g. a trace's output length). Absent: the model never stops by itself.
  std::optional<std::int64_t> eos_after;
  // Shared-prefix identity (Mooncake traces): ids of consecutive `prefix_block_tokens`-token
  // blocks of the prompt; equal leading ids mean an identical prompt prefix. Expanded to the
  // engine's 16-token blocks with chained hashes. REQUIRES: prefix_block_tokens is a multiple of
  // the profile's block_size.
  std::vector<std::uint64_t> prefix_hash_ids;
  std::int64_t prefix_block_tokens = 512;
};

enum class EventKind : std::uint8_t {
  kScheduled,   // first time the request enters the running batch (time: step start)
  kFirstToken,  // first output token (time: step end)
  kToken,       // a later output token (time: step end)
  kFinished,    // after its last token, or on abort (time: step end, or abort time)
  kPreempted,   // KV blocks taken back; will recompute (time: step start)
};
std::string_view event_kind_name(EventKind kind);

struct EngineEvent {
  RequestId id = 0;
  EventKind kind = EventKind::kToken;
  FinishReason reason = FinishReason::kStop;  // kFinished only
  std::int32_t output_tokens = 0;             // output tokens so far, this one included
  core::Time time{};
};

// Everything the metric flavours derive per finished request. Times follow vLLM V1's
// RequestStateStats: arrival (submit), scheduled (first entered the batch), first token, last
// token.
struct RequestRecord {
  RequestId id = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t max_tokens = 0;            // the effective cap
  std::int64_t cached_prompt_tokens = 0;  // prefix-cache hits at first scheduling
  std::int32_t num_preemptions = 0;
  FinishReason reason = FinishReason::kStop;
  core::Time arrival{};
  std::optional<core::Time> scheduled;  // absent when aborted while waiting
  std::optional<core::Time> first_token;
  core::Time finished{};  // last token, or abort time

  // vLLM: request_queue_time_seconds (arrival -> first scheduled).
  core::Duration queue_time() const { return (scheduled ? *scheduled : finished) - arrival; }
  // vLLM: request_prefill_time_seconds (scheduled -> first token).
  core::Duration prefill_time() const;
  // vLLM: request_decode_time_seconds (first token -> last token).
  core::Duration decode_time() const;
  // vLLM: request_inference_time_seconds (scheduled -> last token).
  core::Duration inference_time() const;
  core::Duration e2e() const { return finished - arrival; }
  std::optional<core::Duration> ttft() const;
  // vLLM: request_time_per_output_token_seconds = decode time / (output tokens - 1).
  std::optional<core::Duration> mean_time_per_output_token() const;
};

// One engine step, as the metric flavours need it (vLLM iteration_tokens_total, TGI
// batch_inference_duration{method}, batch_next_size...).
struct StepRecord {
  core::Time start{};
  core::Duration duration{};
  std::int64_t scheduled_tokens = 0;  // prefill + decode tokens
  std::int64_t prefill_tokens = 0;    // prompt (or recompute) tokens
  std::int64_t decode_tokens = 0;     // one per decoding sequence
  std::int32_t num_seqs = 0;
  std::int32_t num_prefill_seqs = 0;  // sequences with prompt tokens in this step
  std::int32_t num_new_seqs = 0;      // taken from the waiting queue this step
  std::int32_t num_preempted = 0;
  std::int32_t num_finished = 0;
  std::int32_t num_running = 0;  // after the step
  std::int32_t num_waiting = 0;  // after the step
  double kv_usage = 0;           // after scheduling
  bool is_prefill() const { return prefill_tokens > 0; }
};

// One output token, for inter-token latency histograms.
struct TokenRecord {
  RequestId id = 0;
  std::int32_t index = 0;  // 1-based output token index
  core::Time time{};
  core::Duration since_previous{};  // ITL; for index 1 the TTFT
};

}  // namespace llmscale::engine
