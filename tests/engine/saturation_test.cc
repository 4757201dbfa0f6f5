// Saturation shape on Llama-3.1-8B / H100, closed-loop clients through the EngineDriver on a
// SimulatedClock: past capacity the inter-token latency plateaus (the batch cannot grow: KV
// cache and max_num_seqs are full) while TTFT and the waiting queue keep growing with load.
#include <gtest/gtest.h>

#include <map>

#include "core/clock.h"
#include "engine/driver.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

struct LoadResult {
  double mean_itl_s = 0;
  double mean_ttft_s = 0;
  double mean_waiting = 0;
  double mean_running = 0;
  double output_tokens_per_s = 0;
  std::uint64_t preemptions = 0;
};

// `concurrency` clients, each sending prompt 256 / output 64 (ignore_eos) back to back. Warms
// up until 2 × concurrency requests have finished (every client has cycled through the FCFS
// queue twice: steady state), then measures until another `concurrency` have finished.
LoadResult closed_loop(int concurrency) {
  core::SimulatedClock clock;
  auto engine = Engine::create(testing::shipped("llama-3.1-8b-h100"));
  EXPECT_TRUE(engine);
  EngineDriver driver(**engine, clock);

  bool measuring = false, done = false;
  std::int64_t finished = 0;
  core::Time measure_from{};
  double itl_sum = 0, ttft_sum = 0;
  std::int64_t itl_n = 0, ttft_n = 0, tokens = 0;
  std::map<RequestId, core::Time> last_token;
  std::function<void()> send;
  send = [&] {
    RequestSpec spec;
    spec.prompt_tokens = 256;
    spec.max_tokens = 64;
    spec.ignore_eos = true;
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
        if (!measuring && finished >= 2 * std::int64_t(concurrency)) {
          measuring = true;
          measure_from = clock.now();
        }
        if (finished >= 3 * std::int64_t(concurrency)) done = true;
        if (!done) send();
      }
    });
    EXPECT_TRUE(id);
  };
  for (int i = 0; i < concurrency; ++i) send();

  double waiting_sum = 0, running_sum = 0;
  std::int64_t samples = 0;
  while (!done && clock.run_next()) {
    if (measuring) {
      EngineStats s = (*engine)->stats();
      waiting_sum += double(s.num_waiting);
      running_sum += double(s.num_running);
      ++samples;
    }
  }
  double window_s = core::to_seconds(clock.now() - measure_from);
  LoadResult r;
  r.mean_itl_s = itl_n ? itl_sum / double(itl_n) : 0;
  r.mean_ttft_s = ttft_n ? ttft_sum / double(ttft_n) : 0;
  r.mean_waiting = samples ? waiting_sum / double(samples) : 0;
  r.mean_running = samples ? running_sum / double(samples) : 0;
  r.output_tokens_per_s = window_s > 0 ? double(tokens) / window_s : 0;
  r.preemptions = (*engine)->stats().preemptions_total;
  EXPECT_TRUE((*engine)->check_invariants());
  return r;
}

TEST(SaturationTest, ItlPlateausWhileTtftAndQueueGrow) {
  std::map<int, LoadResult> by_c;
  for (int c : {32, 1024, 2048, 4096}) {
    by_c[c] = closed_loop(c);
    const LoadResult& r = by_c[c];
    std::printf("concurrency %5d: ITL %6.2f ms  TTFT %8.1f ms  running %6.0f  waiting %6.0f  "
                "%7.0f tok/s  preemptions %llu\n",
                c, r.mean_itl_s * 1e3, r.mean_ttft_s * 1e3, r.mean_running, r.mean_waiting,
                r.output_tokens_per_s, static_cast<unsigned long long>(r.preemptions));
  }
  // Light load: small batch, ITL near the weight-streaming floor, no queue.
  EXPECT_LT(by_c[32].mean_itl_s, 0.010);
  EXPECT_LT(by_c[32].mean_waiting, 1);
  // Past capacity the batch stops growing, so ITL stays put...
  EXPECT_NEAR(by_c[2048].mean_itl_s / by_c[1024].mean_itl_s, 1.0, 0.15);
  EXPECT_NEAR(by_c[4096].mean_itl_s / by_c[2048].mean_itl_s, 1.0, 0.15);
  EXPECT_NEAR(by_c[4096].mean_running, by_c[2048].mean_running, 0.1 * by_c[2048].mean_running);
  // ...throughput stays put...
  EXPECT_NEAR(by_c[4096].output_tokens_per_s / by_c[2048].output_tokens_per_s, 1.0, 0.15);
  // ...and the excess queues: waiting and TTFT grow with the offered concurrency.
  EXPECT_GT(by_c[2048].mean_waiting, by_c[1024].mean_waiting + 500);
  EXPECT_GT(by_c[4096].mean_waiting, by_c[2048].mean_waiting + 1500);
  EXPECT_GT(by_c[2048].mean_ttft_s, 1.5 * by_c[1024].mean_ttft_s);
  EXPECT_GT(by_c[4096].mean_ttft_s, 1.5 * by_c[2048].mean_ttft_s);
  EXPECT_GT(by_c[1024].mean_itl_s, 2 * by_c[32].mean_itl_s);
}

}  // namespace
}  // namespace llmscale::engine
