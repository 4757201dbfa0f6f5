// Closed-loop load on an engine through the EngineDriver on a SimulatedClock, as
// `vllm bench serve --max-concurrency C --request-rate inf` does: C clients, each sending its
// next request when the previous one finishes. Shared by the saturation and fidelity tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "core/clock.h"
#include "engine/driver.h"

namespace llmscale::engine::testing {

struct LoadResult {
  double mean_itl_s = 0;  // mean time between consecutive tokens of a request
  double mean_ttft_s = 0;
  double mean_waiting = 0;  // sampled at every step end
  double mean_running = 0;
  double mean_kv_usage = 0;  // sampled at every step end
  double output_tokens_per_s = 0;
  double mean_output_tokens = 0;  // per measured request
  double requests_per_s = 0;
  std::uint64_t preemptions = 0;
};

// Warms up until 2 × concurrency requests have finished (steady state: every client went
// through the FCFS queue twice), then measures until another max(concurrency, min_measured)
// have finished.
// `natural_length`: requests stop by EOS after `output` tokens (EngineOptions may jitter that)
// instead of ignore_eos with max_tokens = output.
inline LoadResult closed_loop(const Profile& profile, int concurrency, std::int64_t prompt,
                              std::int64_t output, int min_measured = 20,
                              EngineOptions options = {}, bool natural_length = false) {
  core::SimulatedClock clock;
  auto engine = Engine::create(profile, options);
  EXPECT_TRUE(engine) << (engine ? "" : engine.error().message);
  if (!engine) return {};
  EngineDriver driver(**engine, clock);
  const std::int64_t warmup = 2 * std::int64_t(concurrency);
  const std::int64_t stop = warmup + std::max(concurrency, min_measured);

  bool measuring = false, done = false;
  std::int64_t finished = 0, measured_requests = 0;
  core::Time measure_from{};
  double itl_sum = 0, ttft_sum = 0;
  std::int64_t itl_n = 0, ttft_n = 0, tokens = 0;
  std::map<RequestId, core::Time> last_token;
  std::function<void()> send;
  send = [&] {
    RequestSpec spec;
    spec.prompt_tokens = prompt;
    if (natural_length) {
      spec.max_tokens = 4 * output;
      spec.eos_after = output;
    } else {
      spec.max_tokens = output;
      spec.ignore_eos = true;
    }
    core::Time at = clock.now();
    auto id = driver.submit(spec, [&, at](const EngineEvent& e) {
      if (e.kind == EventKind::kFirstToken) {
        if (measuring) {
          ttft_sum += core::to_seconds(e.time - at);
          ++ttft_n;
          ++tokens;
        }
        last_token[e.id] = e.time;
      } else if (e.kind == EventKind::kToken) {
        if (measuring) {
          itl_sum += core::to_seconds(e.time - last_token[e.id]);
          ++itl_n;
          ++tokens;
        }
        last_token[e.id] = e.time;
      } else if (e.kind == EventKind::kFinished) {
        last_token.erase(e.id);
        ++finished;
        if (measuring) ++measured_requests;
        if (!measuring && finished >= warmup) {
          measuring = true;
          measure_from = clock.now();
        }
        if (finished >= stop) done = true;
        if (!done) send();
      }
    });
    EXPECT_TRUE(id) << (id ? "" : id.error().message);
  };
  for (int i = 0; i < concurrency; ++i) send();

  double waiting_sum = 0, running_sum = 0, kv_sum = 0;
  std::int64_t samples = 0;
  while (!done && clock.run_next()) {
    if (measuring) {
      EngineStats s = (*engine)->stats();
      waiting_sum += double(s.num_waiting);
      running_sum += double(s.num_running);
      kv_sum += s.kv_usage;
      ++samples;
    }
  }
  double window_s = core::to_seconds(clock.now() - measure_from);
  LoadResult r;
  r.mean_itl_s = itl_n ? itl_sum / double(itl_n) : 0;
  r.mean_ttft_s = ttft_n ? ttft_sum / double(ttft_n) : 0;
  r.mean_waiting = samples ? waiting_sum / double(samples) : 0;
  r.mean_running = samples ? running_sum / double(samples) : 0;
  r.mean_kv_usage = samples ? kv_sum / double(samples) : 0;
  r.output_tokens_per_s = window_s > 0 ? double(tokens) / window_s : 0;
  r.requests_per_s = window_s > 0 ? double(measured_requests) / window_s : 0;
  r.mean_output_tokens = ttft_n ? double(tokens) / double(ttft_n) : 0;
  r.preemptions = (*engine)->stats().preemptions_total;
  EXPECT_TRUE((*engine)->check_invariants());
  return r;
}

}  // namespace llmscale::engine::testing
