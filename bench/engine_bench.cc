// Engine speed: simulated output tokens per CPU-second at a steady batch (goal >= 10 M at 256),
// steps per second by batch size, the EngineDriver on a SimulatedClock, and a mixed
// open-loop workload (simulated seconds per CPU second). Numbers: docs/benchmarks.md#engine.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/clock.h"
#include "engine/driver.h"
#include "engine/engine.h"

namespace {

using namespace llmscale;
using engine::Engine;
using engine::EventKind;
using engine::RequestSpec;

engine::Profile profile() {
  auto p = engine::load_builtin_profile("llama-3.1-8b-h100");
  if (!p) {
    std::fprintf(stderr, "cannot load profile: %s\n", p.error().message.c_str());
    std::abort();
  }
  return *p;
}

RequestSpec decode_request(std::int64_t output) {
  RequestSpec s;
  s.prompt_tokens = 64;
  s.max_tokens = output;
  s.ignore_eos = true;
  return s;
}

// A batch of `batch` sequences decoding continuously (prompt 64, output 256-319): a finished
// request is replaced at once, so the batch stays full (and the KV cache holds it, with no
// preemption). Counts output tokens.
void BM_SteadyDecode(benchmark::State& state) {
  const int batch = int(state.range(0));
  engine::Profile p = profile();
  p.scheduler.max_num_seqs = std::max(batch, 1);
  auto e = std::move(*Engine::create(p));
  core::Time now = core::SimulatedClock::default_start();
  for (int i = 0; i < batch; ++i) (void)e->submit(decode_request(256 + i % 64), now);
  std::int64_t tokens = 0, steps = 0;
  for (auto _ : state) {
    const auto& r = e->step(now);
    now = r.end();
    for (const auto& ev : r.events) {
      if (ev.kind == EventKind::kToken || ev.kind == EventKind::kFirstToken) ++tokens;
      if (ev.kind == EventKind::kFinished) (void)e->submit(decode_request(256), now);
    }
    ++steps;
  }
  state.SetItemsProcessed(tokens);
  state.counters["tokens_per_step"] = double(tokens) / double(std::max<std::int64_t>(steps, 1));
  state.counters["steps_per_s"] = benchmark::Counter(double(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SteadyDecode)->Arg(1)->Arg(32)->Arg(256)->Arg(1024);

// The same through the EngineDriver on a SimulatedClock, with a per-request callback (what the
// server and a callback-based simulator pay on top of Engine::step()).
void BM_DriverSimulatedClock(benchmark::State& state) {
  const int batch = int(state.range(0));
  engine::Profile p = profile();
  p.scheduler.max_num_seqs = batch;
  auto e = std::move(*Engine::create(p));
  core::SimulatedClock clock;
  engine::EngineDriver driver(*e, clock);
  std::int64_t tokens = 0;
  std::function<void(const engine::EngineEvent&)> on_event = [&](const engine::EngineEvent& ev) {
    if (ev.kind == EventKind::kToken || ev.kind == EventKind::kFirstToken) ++tokens;
    if (ev.kind == EventKind::kFinished) (void)driver.submit(decode_request(256), on_event);
  };
  for (int i = 0; i < batch; ++i) (void)driver.submit(decode_request(256 + i % 64), on_event);
  for (auto _ : state) clock.run_next();
  state.SetItemsProcessed(tokens);
}
BENCHMARK(BM_DriverSimulatedClock)->Arg(256);

// Open-loop Poisson arrivals at ~70% of capacity with conversation-like lengths (prompt ~1k,
// output ~200, exponential; Azure 2023 conv means), EOS on: how many simulated seconds one
// replica advances per CPU second. The fleet simulator needs tens of replicas × hours.
void BM_OpenLoopConversation(benchmark::State& state) {
  engine::Profile p = profile();
  auto e = std::move(*Engine::create(p));
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> gap(25.0);  // 25 req/s
  std::exponential_distribution<double> prompt_len(1.0 / 1155), output_len(1.0 / 211);
  core::Time now = core::SimulatedClock::default_start();
  const core::Time start = now;
  core::Time next_arrival = now;
  std::int64_t tokens = 0, requests = 0;
  for (auto _ : state) {
    while (next_arrival <= now) {
      RequestSpec s;
      s.prompt_tokens = 1 + std::int64_t(prompt_len(rng));
      s.max_tokens = 2048;
      s.eos_after = 1 + std::int64_t(output_len(rng));
      (void)e->submit(s, next_arrival);
      ++requests;
      next_arrival += core::from_seconds(gap(rng));
    }
    const auto& r = e->step(now);
    if (r.idle()) {
      now = next_arrival;
      continue;
    }
    for (const auto& ev : r.events) {
      tokens += ev.kind == EventKind::kToken || ev.kind == EventKind::kFirstToken;
    }
    now = r.end();
  }
  state.SetItemsProcessed(tokens);
  state.counters["simulated_s"] = core::to_seconds(now - start);
  state.counters["sim_s_per_cpu_s"] =
      benchmark::Counter(core::to_seconds(now - start), benchmark::Counter::kIsRate);
  state.counters["running"] = double(e->stats().num_running);
  state.counters["requests"] = double(requests);
}
BENCHMARK(BM_OpenLoopConversation);

void BM_StepTimeModel(benchmark::State& state) {
  engine::StepTimeModel model(profile());
  auto shape = engine::StepTimeModel::decode_shape(256, 1000);
  double sum = 0;
  for (auto _ : state) {
    shape.decode_context_tokens += 1;
    sum += model.step_seconds(shape);
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_StepTimeModel);

}  // namespace
