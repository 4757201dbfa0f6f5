// Saturation shape on Llama-3.1-8B / H100, closed-loop clients through the EngineDriver on a
// SimulatedClock: past capacity the inter-token latency plateaus (the batch cannot grow: KV
// cache and max_num_seqs are full) while TTFT and the waiting queue keep growing with load.
#include <gtest/gtest.h>

#include <map>

#include "load_helpers.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

TEST(SaturationTest, ItlPlateausWhileTtftAndQueueGrow) {
  // Prompt 256 / output 64: max_num_seqs (1024) binds before the KV cache does.
  Profile profile = testing::shipped("llama-3.1-8b-h100");
  std::map<int, testing::LoadResult> by_c;
  for (int c : {32, 1024, 2048, 4096}) {
    by_c[c] = testing::closed_loop(profile, c, 256, 64);
    const testing::LoadResult& r = by_c[c];
    std::printf(
        "concurrency %5d: ITL %6.2f ms  TTFT %8.1f ms  running %6.0f  waiting %6.0f  "
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
