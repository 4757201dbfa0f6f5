// Properties of the engine over random workloads (rapidcheck): no KV block leak, every request
// finishes with exactly the output it asked for, FCFS admission, no step faster than the
// roofline, determinism for a seed.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <vector>

#include "core/clock.h"
#include "engine/engine.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

const core::Time kT0 = core::SimulatedClock::default_start();

struct Workload {
  testing::TinyOptions options;
  struct Item {
    RequestSpec spec;
    std::int64_t arrival_us;  // offset from kT0
    std::int64_t expected_tokens;
  };
  std::vector<Item> items;
};

// Random small engines and workloads that stress the KV cache: few blocks, long outputs,
// shared prefixes, EOS, min_tokens.
rc::Gen<Workload> workloads() {
  return rc::gen::exec([] {
    Workload w;
    w.options.block_size = *rc::gen::element(4, 8, 16);
    w.options.max_model_len = *rc::gen::inRange(64, 400);
    // Capacity must hold one full-length request (vLLM refuses to start otherwise).
    int min_blocks = (w.options.max_model_len + w.options.block_size - 1) / w.options.block_size;
    w.options.num_blocks = *rc::gen::inRange(min_blocks, min_blocks * 4);
    w.options.max_num_seqs = *rc::gen::inRange(1, 12);
    w.options.chunked_prefill = *rc::gen::arbitrary<bool>();
    w.options.max_num_batched_tokens = w.options.chunked_prefill
                                           ? *rc::gen::inRange(8, 600)
                                           : *rc::gen::inRange(w.options.max_model_len, 1200);
    w.options.prefix_caching = *rc::gen::arbitrary<bool>();
    int n = *rc::gen::inRange(1, 30);
    std::int64_t t = 0;
    for (int i = 0; i < n; ++i) {
      Workload::Item item;
      std::int64_t prompt = *rc::gen::inRange<std::int64_t>(1, w.options.max_model_len - 1);
      std::int64_t max_tokens =
          *rc::gen::inRange<std::int64_t>(1, w.options.max_model_len - prompt + 1);
      item.spec.prompt_tokens = prompt;
      item.spec.max_tokens = max_tokens;
      item.spec.min_tokens = *rc::gen::inRange<std::int64_t>(0, max_tokens + 1);
      item.spec.ignore_eos = *rc::gen::arbitrary<bool>();
      if (*rc::gen::arbitrary<bool>())
        item.spec.eos_after = *rc::gen::inRange<std::int64_t>(1, 500);
      if (*rc::gen::arbitrary<bool>()) {
        item.spec.prefix_block_tokens = w.options.block_size * *rc::gen::inRange(1, 4);
        item.spec.prefix_hash_ids = *rc::gen::container<std::vector<std::uint64_t>>(
            *rc::gen::inRange(1, 6), rc::gen::inRange<std::uint64_t>(0, 3));
      }
      t += *rc::gen::inRange<std::int64_t>(0, 50'000);
      item.arrival_us = t;
      std::int64_t expected = max_tokens;
      if (!item.spec.ignore_eos && item.spec.eos_after) {
        std::int64_t natural =
            std::max(*item.spec.eos_after, std::max<std::int64_t>(item.spec.min_tokens, 1));
        expected = std::min(natural, max_tokens);
      }
      item.expected_tokens = expected;
      w.items.push_back(item);
    }
    return w;
  });
}

class Collector : public EngineObserver {
 public:
  void on_request_finished(const RequestRecord& r) override { finished[r.id] = r; }
  void on_step(const StepRecord& s) override { steps.push_back(s); }
  std::map<RequestId, RequestRecord> finished;
  std::vector<StepRecord> steps;
};

struct Outcome {
  std::vector<EngineEvent> events;
  std::vector<StepRecord> steps;
  std::map<RequestId, RequestRecord> finished;
  std::vector<RequestId> ids;
  bool invariants_held = true;
  bool drained = false;
};

// Replays the workload: submit arrivals as time passes, step until everything is done.
Outcome replay(const Workload& w, std::uint64_t seed = 0, double jitter = 0,
               double admission_delay_s = 0, SchedulerPolicy policy = SchedulerPolicy::kVllmV1) {
  Outcome out;
  Collector collector;
  Profile profile = testing::tiny(w.options);
  profile.scheduler.policy = policy;
  if (policy == SchedulerPolicy::kJetStream) profile.scheduler.max_prefill_seqs = 1;
  auto engine = Engine::create(profile, {.seed = seed,
                                         .step_time_jitter = jitter,
                                         .observer = &collector,
                                         .admission_delay_s = admission_delay_s});
  RC_ASSERT(engine.has_value());
  Engine& e = **engine;
  core::Time now = kT0;
  std::size_t next = 0;
  for (int guard = 0; guard < 200000; ++guard) {
    while (next < w.items.size() &&
           kT0 + std::chrono::microseconds(w.items[next].arrival_us) <= now) {
      auto id = e.submit(w.items[next].spec, now);
      RC_ASSERT(id.has_value());
      out.ids.push_back(*id);
      ++next;
    }
    if (!e.has_work()) {
      if (next == w.items.size()) {
        out.drained = true;
        break;
      }
      now = kT0 + std::chrono::microseconds(w.items[next].arrival_us);
      continue;
    }
    const StepResult& s = e.step(now);
    out.invariants_held = out.invariants_held && e.check_invariants();
    out.events.insert(out.events.end(), s.events.begin(), s.events.end());
    if (s.idle() && e.next_admission() && *e.next_admission() > now) {
      now = *e.next_admission();
    } else {
      now = s.idle() ? now + std::chrono::milliseconds(1) : s.end();
    }
  }
  out.invariants_held = out.invariants_held && e.stats().kv_blocks_used == 0;
  out.steps = collector.steps;
  out.finished = collector.finished;
  return out;
}

// Every engine's scheduler rules (prefill-first or mixed) keep the same guarantees.
RC_GTEST_PROP(EngineProperties, EveryPolicyKeepsEveryRequestsTokens, ()) {
  Workload w = *workloads();
  auto policy = *rc::gen::element(SchedulerPolicy::kVllmV1, SchedulerPolicy::kVllmV0,
                                  SchedulerPolicy::kSglang, SchedulerPolicy::kTgi,
                                  SchedulerPolicy::kJetStream, SchedulerPolicy::kTrtLlm);
  Outcome out = replay(w, 1, 0, 0, policy);
  RC_ASSERT(out.drained);
  RC_ASSERT(out.invariants_held);
  RC_ASSERT(out.finished.size() == w.items.size());
  for (std::size_t i = 0; i < w.items.size(); ++i) {
    RC_ASSERT(out.finished.at(out.ids[i]).output_tokens == w.items[i].expected_tokens);
  }
  if (policy != SchedulerPolicy::kVllmV1 && policy != SchedulerPolicy::kTrtLlm) {
    // A re-admitted (preempted) request whose whole context is still cached computes one token,
    // which StepRecord counts as a decode: the only "decode" a prefill step may hold.
    for (const auto& s : out.steps) {
      RC_ASSERT(s.prefill_tokens == 0 || s.decode_tokens <= s.num_new_seqs);
    }
  }
}

// The admission delay (EngineOptions) only postpones requests: still no leak, every request
// gets exactly its tokens, and the engine drains.
RC_GTEST_PROP(EngineProperties, AdmissionDelayKeepsEveryRequestsTokens, ()) {
  Workload w = *workloads();
  Outcome out = replay(w, 5, 0.05, 0.002);
  RC_ASSERT(out.drained);
  RC_ASSERT(out.invariants_held);
  RC_ASSERT(out.finished.size() == w.items.size());
  for (std::size_t i = 0; i < w.items.size(); ++i) {
    RC_ASSERT(out.finished.at(out.ids[i]).output_tokens == w.items[i].expected_tokens);
  }
}

RC_GTEST_PROP(EngineProperties, NoKvBlockLeaksAndEveryRequestGetsExactlyItsTokens, ()) {
  Workload w = *workloads();
  Outcome out = replay(w);
  RC_ASSERT(out.drained);
  RC_ASSERT(out.invariants_held);
  RC_ASSERT(out.finished.size() == w.items.size());
  std::map<RequestId, std::int64_t> tokens;
  for (const auto& e : out.events) {
    if (e.kind == EventKind::kToken || e.kind == EventKind::kFirstToken) {
      ++tokens[e.id];
      RC_ASSERT(e.output_tokens == tokens[e.id]);  // each index once, in order
    }
  }
  for (std::size_t i = 0; i < w.items.size(); ++i) {
    RequestId id = out.ids[i];
    RC_ASSERT(out.finished.at(id).output_tokens == w.items[i].expected_tokens);
    RC_ASSERT(tokens[id] == w.items[i].expected_tokens);
    RC_ASSERT(out.finished.at(id).reason != FinishReason::kAbort);
  }
}

RC_GTEST_PROP(EngineProperties, AdmissionIsFirstComeFirstServed, ()) {
  Workload w = *workloads();
  Outcome out = replay(w);
  std::vector<RequestId> first_scheduled;
  for (const auto& e : out.events) {
    if (e.kind == EventKind::kScheduled) first_scheduled.push_back(e.id);
  }
  RC_ASSERT(first_scheduled == out.ids);
}

RC_GTEST_PROP(EngineProperties, ThroughputNeverExceedsTheRoofline, ()) {
  Workload w = *workloads();
  Outcome out = replay(w, 3, 0.2);  // even with noise on the step times
  StepTimeModel model(testing::tiny(w.options));
  for (const StepRecord& s : out.steps) {
    BatchShape tokens_only;
    tokens_only.new_tokens = s.scheduled_tokens;
    RC_ASSERT(core::to_seconds(s.duration) >= model.lower_bound_seconds(tokens_only) * 0.999);
    RC_ASSERT(s.scheduled_tokens <= w.options.max_num_batched_tokens);
    RC_ASSERT(s.num_seqs <= w.options.max_num_seqs);
  }
}

RC_GTEST_PROP(EngineProperties, DeterministicForASeed, ()) {
  Workload w = *workloads();
  std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
  Outcome a = replay(w, seed, 0.05);
  Outcome b = replay(w, seed, 0.05);
  RC_ASSERT(a.events.size() == b.events.size());
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    RC_ASSERT(a.events[i].id == b.events[i].id);
    RC_ASSERT(a.events[i].kind == b.events[i].kind);
    RC_ASSERT(a.events[i].time == b.events[i].time);
    RC_ASSERT(a.events[i].output_tokens == b.events[i].output_tokens);
  }
}

}  // namespace
}  // namespace llmscale::engine
