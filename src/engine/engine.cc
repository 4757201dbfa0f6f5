// vLLM V1-style scheduler and request lifecycle; the rules are listed in engine.h.
#include "engine/engine.h"
#include "core/hash.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace llmscale::engine {
namespace {

using core::splitmix64;

BlockHash chain(BlockHash parent, std::uint64_t content) {
  return splitmix64(parent * 0x100000001B3ULL ^ splitmix64(content));
}

constexpr BlockHash kRootHash = 0x6C6C6D7363616C65ULL;  // "llmscale"
constexpr std::uint64_t kUniqueTag = 0xA5A5A5A5A5A5A5A5ULL;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

std::string_view finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
  }
  return "stop";
}

std::string_view event_kind_name(EventKind kind) {
  switch (kind) {
    case EventKind::kScheduled: return "scheduled";
    case EventKind::kFirstToken: return "first_token";
    case EventKind::kToken: return "token";
    case EventKind::kFinished: return "finished";
    case EventKind::kPreempted: return "preempted";
  }
  return "token";
}

core::Duration RequestRecord::prefill_time() const {
  if (!scheduled || !first_token) return core::Duration::zero();
  return *first_token - *scheduled;
}

core::Duration RequestRecord::decode_time() const {
  if (!first_token) return core::Duration::zero();
  return finished - *first_token;
}

core::Duration RequestRecord::inference_time() const {
  if (!scheduled) return core::Duration::zero();
  return finished - *scheduled;
}

std::optional<core::Duration> RequestRecord::ttft() const {
  if (!first_token) return std::nullopt;
  return *first_token - arrival;
}

std::optional<core::Duration> RequestRecord::mean_time_per_output_token() const {
  if (!first_token || output_tokens < 2) return std::nullopt;
  return decode_time() / (output_tokens - 1);
}

core::Result<std::unique_ptr<Engine>> Engine::create(const Profile& profile,
                                                     EngineOptions options) {
  if (auto status = validate_profile(profile); !status) return tl::unexpected(status.error());
  MemoryPlan memory = memory_plan(profile);
  return std::unique_ptr<Engine>(new Engine(profile, memory, options));
}

Engine::Engine(const Profile& profile, const MemoryPlan& memory, EngineOptions options)
    : profile_(profile),
      memory_(memory),
      model_(profile),
      options_(options),
      kv_(memory.num_blocks, profile.scheduler.block_size, profile.scheduler.enable_prefix_caching),
      max_model_len_(profile.max_model_len()),
      block_size_(profile.scheduler.block_size),
      max_num_seqs_(profile.scheduler.max_num_seqs),
      max_num_batched_tokens_(profile.scheduler.max_num_batched_tokens),
      chunked_prefill_(profile.scheduler.enable_chunked_prefill),
      policy_(profile.scheduler.policy),
      prefill_first_(policy_ != SchedulerPolicy::kVllmV1 && policy_ != SchedulerPolicy::kTrtLlm),
      max_batch_total_tokens_(
          profile.scheduler.max_batch_total_tokens > 0 ? profile.scheduler.max_batch_total_tokens
          : policy_ == SchedulerPolicy::kTgi ? memory.num_blocks * profile.scheduler.block_size
                                             : 0),
      rng_state_(splitmix64(options.seed)) {
  running_.reserve(std::size_t(max_num_seqs_));
  scheduled_.reserve(std::size_t(max_num_seqs_));
  events_.reserve(std::size_t(max_num_seqs_) * 3);
}

std::uint32_t Engine::new_slot() {
  if (!free_slots_.empty()) {
    std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  requests_.emplace_back();
  return std::uint32_t(requests_.size() - 1);
}

void Engine::release(std::uint32_t slot) {
  Request& r = requests_[slot];
  slot_of_.erase(r.id);
  r.state = State::kFree;
  r.blocks.clear();
  r.block_hashes.clear();
  r.prefix_ids.clear();
  free_slots_.push_back(slot);
}

core::Result<RequestId> Engine::submit(const RequestSpec& spec, core::Time now) {
  if (spec.prompt_tokens < 1) {
    return core::invalid_argument("the prompt must contain at least one token");
  }
  std::int64_t max_tokens = 0;
  if (spec.max_tokens) {
    max_tokens = *spec.max_tokens;
    if (max_tokens < 1) {
      return core::invalid_argument("max_tokens must be at least 1, got " +
                                    std::to_string(max_tokens));
    }
    if (spec.prompt_tokens + max_tokens > max_model_len_) {
      // The OpenAI server's wording (vllm/entrypoints/openai/serving_engine.py).
      return core::invalid_argument(
          "This model's maximum context length is " + std::to_string(max_model_len_) +
          " tokens. However, you requested " + std::to_string(spec.prompt_tokens + max_tokens) +
          " tokens (" + std::to_string(spec.prompt_tokens) + " in the messages, " +
          std::to_string(max_tokens) +
          " in the completion). Please reduce the length of the messages or completion.");
    }
  } else {
    max_tokens = max_model_len_ - spec.prompt_tokens;
    if (max_tokens < 1) {
      return core::invalid_argument(
          "This model's maximum context length is " + std::to_string(max_model_len_) +
          " tokens. However, your prompt is " + std::to_string(spec.prompt_tokens) +
          " tokens, which leaves no room for the completion.");
    }
  }
  if (spec.min_tokens < 0 || spec.min_tokens > max_tokens) {
    return core::invalid_argument(
        "min_tokens must be in [0, max_tokens=" + std::to_string(max_tokens) + "], got " +
        std::to_string(spec.min_tokens));
  }
  if (spec.eos_after && *spec.eos_after < 1) {
    return core::invalid_argument("eos_after must be at least 1");
  }
  if (!spec.prefix_hash_ids.empty() &&
      (spec.prefix_block_tokens < block_size_ || spec.prefix_block_tokens % block_size_ != 0)) {
    return core::invalid_argument(
        "prefix_block_tokens (" + std::to_string(spec.prefix_block_tokens) +
        ") must be a positive multiple of the KV block size (" + std::to_string(block_size_) + ")");
  }

  std::uint32_t slot = new_slot();
  Request& r = requests_[slot];
  r = Request{.blocks = std::move(r.blocks),
              .block_hashes = std::move(r.block_hashes),
              .prefix_ids = std::move(r.prefix_ids)};
  r.id = next_id_++;
  r.state = State::kWaiting;
  r.prompt_tokens = spec.prompt_tokens;
  r.max_tokens = max_tokens;
  // vLLM check_stop order: below min_tokens nothing stops; then length; then EOS. An EOS the
  // model would emit before min_tokens is suppressed; it stops at the first allowed position.
  r.target_output = max_tokens;
  r.target_reason = FinishReason::kLength;
  if (!spec.ignore_eos && spec.eos_after) {
    std::int64_t natural =
        std::max(natural_length(*spec.eos_after, r.id), std::max<std::int64_t>(spec.min_tokens, 1));
    if (natural < max_tokens) {
      r.target_output = natural;
      r.target_reason = FinishReason::kStop;
    }
  }
  r.arrival = now;
  r.prefix_ids.assign(spec.prefix_hash_ids.begin(), spec.prefix_hash_ids.end());
  r.prefix_block_tokens = spec.prefix_block_tokens;
  slot_of_.emplace(r.id, slot);
  core::Duration delay = admission_delay(r.id);
  if (delay > core::Duration::zero() || frontend_free_ > now) {
    // One frontend handles requests one after another (vLLM's API server tokenises on its
    // event loop): a burst of arrivals reaches the scheduler spread out by the sum of delays,
    // and waits while the frontend is still streaming earlier steps' tokens.
    r.state = State::kArriving;
    r.ready = std::max(now, frontend_free_) + delay;
    frontend_free_ = r.ready;
    arriving_.push_back(slot);
  } else {
    r.ready = now;
    waiting_.push_back(slot);
  }
  ++counters_.requests_submitted;
  return r.id;
}

BlockHash Engine::block_hash(Request& r, std::int64_t index) {
  while (std::int64_t(r.block_hashes.size()) <= index) {
    std::int64_t k = std::int64_t(r.block_hashes.size());
    BlockHash parent = k == 0 ? kRootHash : r.block_hashes.back();
    std::int64_t first = k * block_size_;
    std::int64_t end = first + block_size_;
    std::int64_t shared_end =
        std::min(r.prompt_tokens, std::int64_t(r.prefix_ids.size()) * r.prefix_block_tokens);
    std::uint64_t content;
    if (end <= shared_end) {
      std::uint64_t id = r.prefix_ids[std::size_t(first / r.prefix_block_tokens)];
      std::uint64_t sub = std::uint64_t((first % r.prefix_block_tokens) / block_size_);
      content = splitmix64(id) ^ sub;
    } else {
      // Content nobody else has: the rest of this request's prompt, or its own output.
      content = splitmix64(r.id ^ kUniqueTag) + std::uint64_t(k);
    }
    r.block_hashes.push_back(chain(parent, content));
  }
  return r.block_hashes[std::size_t(index)];
}

void Engine::cache_full_blocks(Request& r) {
  std::int64_t full =
      std::min<std::int64_t>(r.num_computed / block_size_, std::int64_t(r.blocks.size()));
  for (std::int64_t k = r.hashed_blocks; k < full; ++k) {
    kv_.cache_block(r.blocks[std::size_t(k)], block_hash(r, k));
  }
  if (full > r.hashed_blocks) r.hashed_blocks = full;
}

void Engine::preempt(std::uint32_t slot, core::Time now) {
  Request& r = requests_[slot];
  kv_.free(r.blocks);
  r.num_computed = 0;
  r.hashed_blocks = 0;
  ++r.num_preemptions;
  r.state = State::kWaiting;
  waiting_.push_front(slot);
  ++counters_.preemptions_total;
  events_.push_back(EngineEvent{r.id, EventKind::kPreempted, FinishReason::kStop,
                                std::int32_t(r.num_output), now});
}

RequestRecord Engine::record_of(const Request& r, FinishReason reason, core::Time when) const {
  RequestRecord rec;
  rec.id = r.id;
  rec.prompt_tokens = r.prompt_tokens;
  rec.output_tokens = r.num_output;
  rec.max_tokens = r.max_tokens;
  rec.cached_prompt_tokens = r.cached_prompt_tokens;
  rec.num_preemptions = r.num_preemptions;
  rec.reason = reason;
  rec.arrival = r.arrival;
  if (r.scheduled_once) rec.scheduled = r.scheduled;
  if (r.num_output > 0) rec.first_token = r.first_token;
  rec.finished = when;
  return rec;
}

void Engine::finish(std::uint32_t slot, FinishReason reason, core::Time when) {
  Request& r = requests_[slot];
  kv_.free(r.blocks);
  switch (reason) {
    case FinishReason::kStop: ++counters_.requests_finished_stop; break;
    case FinishReason::kLength: ++counters_.requests_finished_length; break;
    case FinishReason::kAbort: ++counters_.requests_aborted; break;
  }
  if (options_.observer != nullptr)
    options_.observer->on_request_finished(record_of(r, reason, when));
  r.state = State::kFree;  // removed from running_/waiting_ by the caller
}

bool Engine::abort(RequestId id, core::Time now) {
  auto it = slot_of_.find(id);
  if (it == slot_of_.end()) return false;
  std::uint32_t slot = it->second;
  Request& r = requests_[slot];
  if (r.state == State::kArriving) {
    arriving_.erase(std::find(arriving_.begin(), arriving_.end(), slot));
  } else if (r.state == State::kWaiting) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), slot));
  } else if (r.state == State::kRunning) {
    running_.erase(std::find(running_.begin(), running_.end(), slot));
  } else {
    return false;
  }
  finish(slot, FinishReason::kAbort, now);
  release(slot);
  return true;
}

double Engine::jitter() {
  if (options_.step_time_jitter <= 0) return 1.0;
  // Box-Muller on two splitmix64 draws; clamped so a step never takes zero or negative time.
  rng_state_ = splitmix64(rng_state_);
  double u1 = (double(rng_state_ >> 11) + 0.5) * 0x1.0p-53;
  rng_state_ = splitmix64(rng_state_);
  double u2 = (double(rng_state_ >> 11) + 0.5) * 0x1.0p-53;
  double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  return std::clamp(1.0 + options_.step_time_jitter * z, 0.25, 4.0);
}

core::Duration Engine::admission_delay(RequestId id) const {
  if (options_.admission_delay_s <= 0) return core::Duration::zero();
  std::uint64_t a = splitmix64(options_.seed ^ 0xAD315510ULL ^ splitmix64(id));
  double u = (double(a >> 11) + 0.5) * 0x1.0p-53;
  return core::from_seconds(options_.admission_delay_s * (0.5 + u));
}

std::optional<core::Time> Engine::next_admission() const {
  if (arriving_.empty()) return std::nullopt;
  return requests_[arriving_.front()].ready;
}

void Engine::admit_arrivals(core::Time now) {
  while (!arriving_.empty() && requests_[arriving_.front()].ready <= now) {
    std::uint32_t slot = arriving_.front();
    arriving_.pop_front();
    requests_[slot].state = State::kWaiting;
    waiting_.push_back(slot);
  }
}

std::int64_t Engine::natural_length(std::int64_t eos_after, RequestId id) const {
  if (options_.output_length_jitter <= 0) return eos_after;
  // A draw of its own per request (not from the step stream), so a request's length does not
  // depend on how many steps ran before it arrived. Normal factor, clamped to [0.1, 3].
  std::uint64_t a = splitmix64(options_.seed ^ splitmix64(id * core::kGoldenGamma));
  std::uint64_t b = splitmix64(a);
  double u1 = (double(a >> 11) + 0.5) * 0x1.0p-53;
  double u2 = (double(b >> 11) + 0.5) * 0x1.0p-53;
  double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  double factor = std::clamp(1.0 + options_.output_length_jitter * z, 0.1, 3.0);
  return std::max<std::int64_t>(1, std::llround(double(eos_after) * factor));
}

bool Engine::want_prefill_step() const {
  for (std::uint32_t slot : running_) {
    const Request& r = requests_[slot];
    const bool decoding = r.num_output > 0 && r.num_computed == r.num_tokens() - 1;
    if (!decoding && r.num_computed < r.num_tokens()) return true;  // a prompt in progress
  }
  if (waiting_.empty() || std::int64_t(running_.size()) >= max_num_seqs_) return false;
  if (policy_ == SchedulerPolicy::kTgi && !running_.empty()) {
    // TGI: min_size = floor(batch × waiting_served_ratio) unless max_waiting_tokens decode
    // steps ran since the last prefill.
    if (decode_steps_since_prefill_ >= profile_.scheduler.max_waiting_tokens) return true;
    auto min_size = std::int64_t(double(running_.size()) * profile_.scheduler.waiting_served_ratio);
    return std::int64_t(waiting_.size()) >= std::max<std::int64_t>(min_size, 1);
  }
  return true;
}

const StepResult& Engine::step(core::Time now) {
  admit_arrivals(now);
  events_.clear();
  scheduled_.clear();
  StepRecord rec;
  rec.start = now;
  BatchShape shape;
  const bool caching = kv_.prefix_caching();
  std::int64_t budget = max_num_batched_tokens_;
  bool preempted = false;
  // Prefill-first engines: this step is a prefill step (no decode tokens) or a decode step (no
  // prompt tokens, no admission).
  const bool prefill_step = prefill_first_ && want_prefill_step();
  // Reserved Σ (prompt + max_tokens) of the running batch (TGI's max_batch_total_tokens).
  std::int64_t reserved = 0;
  if (max_batch_total_tokens_ > 0) {
    for (std::uint32_t slot : running_) {
      reserved += requests_[slot].prompt_tokens + requests_[slot].max_tokens;
    }
  }

  auto schedule = [&](std::uint32_t slot, std::int64_t num_new) {
    Request& r = requests_[slot];
    std::int64_t before = r.num_computed;
    r.num_computed += num_new;
    shape.new_tokens += num_new;
    ++shape.num_seqs;
    if (r.num_computed == r.num_tokens()) ++shape.sampled_seqs;
    if (num_new == 1 && r.num_output > 0 && before == r.num_tokens() - 1) {
      shape.decode_context_tokens += double(before + 1);
      ++rec.decode_tokens;
    } else {
      shape.prefill_context_tokens += double(before);
      shape.prefill_attention_units += double(num_new) * (double(before) + double(num_new) / 2);
      rec.prefill_tokens += num_new;
      ++rec.num_prefill_seqs;
    }
    if (caching && r.num_computed >= (r.hashed_blocks + 1) * block_size_) cache_full_blocks(r);
    scheduled_.push_back(Scheduled{slot, num_new});
    budget -= num_new;
  };

  // 1. Running requests, in batch order (prefill-first engines: only the kind of this step).
  auto schedule_running = [&](bool prefill_mode) {
    for (std::size_t i = 0; i < running_.size() && budget > 0;) {
      std::uint32_t slot = running_[i];
      Request& r = requests_[slot];
      std::int64_t num_new = std::min(r.num_tokens() - r.num_computed, budget);
      const bool decoding = r.num_output > 0 && r.num_computed == r.num_tokens() - 1;
      if (num_new <= 0 || (prefill_first_ && decoding == prefill_mode)) {
        ++i;
        continue;
      }
      std::int64_t need = ceil_div(r.num_computed + num_new, block_size_);
      bool self_preempted = false;
      bool deferred = false;
      while (!kv_.allocate(r.blocks, need)) {
        // Prefill-first engines do not preempt for a prompt chunk: the chunk waits (a decode
        // step runs instead and frees blocks as requests finish). SGLang retracts decoding
        // requests only when decoding itself runs out of memory.
        if (prefill_first_ && prefill_mode) {
          deferred = true;
          break;
        }
        // vLLM V1 (FCFS policy): preempt the most recently admitted running request.
        std::uint32_t victim = running_.back();
        running_.pop_back();
        preempt(victim, now);
        ++rec.num_preempted;
        preempted = true;
        if (victim == slot) {
          self_preempted = true;
          break;
        }
      }
      if (self_preempted) break;
      if (deferred) {
        ++i;
        continue;
      }
      schedule(slot, num_new);
      ++i;
    }
  };
  schedule_running(prefill_step);

  // 2. Waiting requests, FCFS, only when nothing was preempted in this step.
  const int max_new_seqs = prefill_first_ && profile_.scheduler.max_prefill_seqs > 0
                               ? profile_.scheduler.max_prefill_seqs
                               : max_num_seqs_;
  if (!preempted && (!prefill_first_ || prefill_step)) {
    while (!waiting_.empty() && budget > 0 && std::int64_t(running_.size()) < max_num_seqs_ &&
           rec.num_new_seqs < max_new_seqs) {
      std::uint32_t slot = waiting_.front();
      Request& r = requests_[slot];
      if (max_batch_total_tokens_ > 0 &&
          reserved + r.prompt_tokens + r.max_tokens > max_batch_total_tokens_ &&
          !running_.empty()) {
        break;  // TGI: the batch's token budget is spent
      }
      hits_.clear();
      std::int64_t computed = 0;
      if (caching) {
        // Whole blocks only, and at least one token left to compute (it yields the logits).
        std::int64_t max_blocks = (r.num_tokens() - 1) / block_size_;
        // A request with no shared prefix that never ran cannot hit: its first block hash is
        // unique to it. Skip the hashing; the query still counts.
        bool may_hit = !r.prefix_ids.empty() || r.num_preemptions > 0;
        if (may_hit && max_blocks > 0) {
          block_hash(r, max_blocks - 1);
          kv_.find_prefix(
              std::span<const BlockHash>(r.block_hashes.data(), std::size_t(max_blocks)),
              int(max_blocks), hits_);
          computed = std::int64_t(hits_.size()) * block_size_;
        }
      }
      std::int64_t num_new = r.num_tokens() - computed;
      if (!chunked_prefill_ && num_new > budget) break;
      // Prefill-first engines admit a request only when the cache can hold its whole prompt
      // (SGLang's PrefillAdder checks the remaining tokens, not just this step's chunk), so a
      // chunked prompt is not starved half-way.
      if (prefill_first_ && kv_.num_free_blocks() < ceil_div(r.num_tokens(), block_size_) -
                                                        std::int64_t(hits_.size())) {
        break;
      }
      num_new = std::min(num_new, budget);
      std::int64_t need = ceil_div(computed + num_new, block_size_);
      if (!kv_.allocate(r.blocks, need, hits_)) break;
      if (caching) {
        counters_.prefix_cache_queries += std::uint64_t(r.num_tokens());
        counters_.prefix_cache_hits += std::uint64_t(computed);
      }
      waiting_.pop_front();
      r.num_computed = computed;
      r.hashed_blocks = std::int64_t(hits_.size());
      r.state = State::kRunning;
      running_.push_back(slot);
      if (!r.scheduled_once) {
        r.scheduled_once = true;
        r.scheduled = now;
        r.cached_prompt_tokens = computed;
        counters_.cached_prompt_tokens += std::uint64_t(computed);
        events_.push_back(EngineEvent{r.id, EventKind::kScheduled, FinishReason::kStop, 0, now});
      }
      ++rec.num_new_seqs;
      reserved += r.prompt_tokens + r.max_tokens;
      schedule(slot, num_new);
    }
  }

  // A prefill step that could admit nothing (no free blocks, TGI's token budget) decodes.
  if (prefill_step && scheduled_.empty() && !preempted) schedule_running(false);
  if (prefill_first_) {
    decode_steps_since_prefill_ = rec.prefill_tokens > 0 ? 0 : decode_steps_since_prefill_ + 1;
  }

  result_.start = now;
  result_.events = {};
  if (scheduled_.empty()) {
    result_.duration = core::Duration::zero();
    result_.record = rec;
    result_.record.num_running = std::int32_t(running_.size());
    result_.record.num_waiting = std::int32_t(waiting_.size());
    result_.record.kv_usage = kv_.usage();
    result_.events = std::span<const EngineEvent>(events_.data(), events_.size());
    return result_;
  }

  // Noise never takes a step below the hard roofline (peak bandwidth and FLOP/s).
  const double seconds =
      std::max(model_.step_seconds(shape) * jitter(), model_.lower_bound_seconds(shape));
  // A step lasts at least 1 ns and at most a day (absurd profiles must not overflow Duration).
  core::Duration duration =
      seconds < 86400.0 ? core::from_seconds(seconds) : core::Duration(std::chrono::hours(24));
  if (duration <= core::Duration::zero()) duration = core::Duration(1);
  const core::Time end = now + duration;
  // A detokenizer in the frontend process streams this step's tokens after the step; requests
  // arriving meanwhile queue behind that work (submit()).
  if (const double frontend = model_.frontend_seconds(shape); frontend > 0) {
    frontend_free_ = std::max(frontend_free_, end) + core::from_seconds(frontend);
  }
  rec.duration = duration;
  rec.scheduled_tokens = shape.new_tokens;
  rec.num_seqs = std::int32_t(shape.num_seqs);
  rec.kv_usage = kv_.usage();
  counters_.prefill_tokens_computed += std::uint64_t(rec.prefill_tokens);

  // 3. Tokens sampled at the end of the step; finished requests leave the batch.
  EngineObserver* observer = options_.observer;
  bool any_finished = false;
  for (const Scheduled& s : scheduled_) {
    Request& r = requests_[s.slot];
    if (r.num_computed != r.num_tokens()) continue;  // a prefill chunk: no token yet
    ++r.num_output;
    ++counters_.generation_tokens_total;
    core::Duration since;
    if (r.num_output == 1) {
      r.first_token = end;
      since = end - r.arrival;
      counters_.prompt_tokens_total += std::uint64_t(r.prompt_tokens);
      events_.push_back(EngineEvent{r.id, EventKind::kFirstToken, FinishReason::kStop, 1, end});
    } else {
      since = end - r.last_token;
      events_.push_back(EngineEvent{r.id, EventKind::kToken, FinishReason::kStop,
                                    std::int32_t(r.num_output), end});
    }
    r.last_token = end;
    if (observer != nullptr) {
      observer->on_token(TokenRecord{r.id, std::int32_t(r.num_output), end, since});
    }
    if (r.num_output >= r.target_output) {
      events_.push_back(EngineEvent{r.id, EventKind::kFinished, r.target_reason,
                                    std::int32_t(r.num_output), end});
      finish(s.slot, r.target_reason, end);
      ++rec.num_finished;
      any_finished = true;
    }
  }
  if (any_finished) {
    std::size_t kept = 0;
    for (std::uint32_t slot : running_) {
      if (requests_[slot].state == State::kRunning) {
        running_[kept++] = slot;
      } else {
        release(slot);
      }
    }
    running_.resize(kept);
  }

  rec.num_running = std::int32_t(running_.size());
  rec.num_waiting = std::int32_t(waiting_.size());
  ++counters_.steps_total;
  if (rec.prefill_tokens > 0) ++counters_.prefill_steps_total;
  counters_.busy_seconds_total += core::to_seconds(duration);
  counters_.last_step_tokens = rec.scheduled_tokens;
  counters_.last_step_seconds = core::to_seconds(duration);
  if (observer != nullptr) observer->on_step(rec);

  result_.duration = duration;
  result_.record = rec;
  result_.events = std::span<const EngineEvent>(events_.data(), events_.size());
  return result_;
}

EngineStats Engine::stats() const {
  EngineStats s = counters_;
  s.num_running = std::int64_t(running_.size());
  s.num_waiting = std::int64_t(waiting_.size());
  s.num_arriving = std::int64_t(arriving_.size());
  s.max_num_seqs = max_num_seqs_;
  for (std::uint32_t slot : waiting_) {
    if (requests_[slot].num_preemptions > 0) ++s.num_waiting_preempted;
  }
  for (std::uint32_t slot : running_) {
    const Request& r = requests_[slot];
    if (r.num_output == 0) ++s.num_prefilling;
    s.reserved_tokens += r.prompt_tokens + r.max_tokens;
    s.kv_tokens_used += r.num_computed;
  }
  s.prefill_backlog = s.num_waiting + s.num_prefilling;
  s.kv_blocks_total = kv_.num_blocks();
  s.kv_blocks_used = kv_.num_used_blocks();
  s.kv_blocks_cached = kv_.num_cached_blocks();
  s.kv_tokens_capacity = kv_.num_blocks() * block_size_;
  s.kv_usage = kv_.usage();
  s.block_size = block_size_;
  s.kv_evictions_total = kv_.evictions();
  return s;
}

bool Engine::check_invariants() const {
  std::vector<const std::vector<BlockId>*> tables;
  std::size_t live = 0;
  for (const Request& r : requests_) {
    if (r.state == State::kFree) {
      if (!r.blocks.empty()) return false;
      continue;
    }
    ++live;
    tables.push_back(&r.blocks);
    if ((r.state == State::kWaiting || r.state == State::kArriving) && !r.blocks.empty()) {
      return false;
    }
    if (r.state == State::kRunning &&
        std::int64_t(r.blocks.size()) < ceil_div(r.num_computed, block_size_)) {
      return false;
    }
    if (r.num_output > r.target_output) return false;
  }
  if (live != running_.size() + waiting_.size() + arriving_.size() || live != slot_of_.size()) {
    return false;
  }
  if (std::int64_t(running_.size()) > max_num_seqs_) return false;
  return kv_.check_invariants(tables);
}

std::vector<RequestId> Engine::running_ids() const {
  std::vector<RequestId> ids;
  for (std::uint32_t slot : running_) ids.push_back(requests_[slot].id);
  return ids;
}

std::vector<RequestId> Engine::waiting_ids() const {
  std::vector<RequestId> ids;
  for (std::uint32_t slot : waiting_) ids.push_back(requests_[slot].id);
  return ids;
}

}  // namespace llmscale::engine
