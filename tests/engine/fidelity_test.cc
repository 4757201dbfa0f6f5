// Fidelity table of docs/engine-model.md as a regression test: the model against published
// measurements (each with its source) and our own H100 run. Every row prints
// "model / measured / error"; the assertion bounds are the errors the document states, so a
// change to the model or a profile that moves a row past its bound fails here first.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>

#include "engine/step_time.h"
#include "load_helpers.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

using testing::shipped;

struct Row {
  const char* what;
  const char* source;
  double model;
  double measured;
  double bound;  // |relative error| allowed
};

void check(const Row& r) {
  double error = (r.model - r.measured) / r.measured;
  std::printf("| %s | %.4g | %.4g | %+.0f%% | %s |\n", r.what, r.model, r.measured, error * 100,
              r.source);
  EXPECT_LT(std::abs(error), r.bound) << r.what;
}

// Llama-3.1-8B with another accelerator, as for the published runs on hardware we ship no
// profile for.
Profile with_accelerator(Profile p, const std::string& name, double memory_gib, double bandwidth_gb,
                         double tflops) {
  p.accelerator.name = name;
  p.accelerator.memory_bytes = memory_gib * 1024 * 1024 * 1024;
  p.accelerator.memory_bandwidth = bandwidth_gb * 1e9;
  p.accelerator.peak_flops = tflops * 1e12;
  return p;
}

TEST(FidelityTest, DecodeStepTimes) {
  // vLLM CI on H200 (buildkite vllm/performance-benchmark build 9515, traces-and-perf.md §2.3):
  // 32 in / 128 out at batch 8 -> 833 ms per request (8B TP1), 2,078 ms (70B TP4).
  Profile h200_8b = shipped("llama-3.1-8b-h200");
  auto r8 = testing::closed_loop(h200_8b, 8, 32, 128);
  double e2e_8b = 1.0 / r8.requests_per_s * 8;
  check({"8B H200 TP1, batch 8, 32/128: request latency (s)", "vLLM CI H200", e2e_8b, 0.833, 0.30});
  Profile h200_70b = shipped("llama-3.1-70b-4xh100");  // TP4 on the H200 accelerator file
  h200_70b.accelerator = h200_8b.accelerator;
  auto r70 = testing::closed_loop(h200_70b, 8, 32, 128);
  double e2e_70b = 1.0 / r70.requests_per_s * 8;
  check(
      {"70B H200 TP4, batch 8, 32/128: request latency (s)", "vLLM CI H200", e2e_70b, 2.078, 0.15});

  // A100 40GB, vLLM 0.23, 1024 in / 128 out, ignore_eos (johnmusgrave.com sweep): 75 tok/s at
  // concurrency 1 (13.3 ms per token).
  Profile a100_40 = with_accelerator(shipped("llama-3.1-8b-a100"), "a100-40gb", 39.4, 1555, 312);
  a100_40.scheduler.max_model_len = 32768;
  auto c1 = testing::closed_loop(a100_40, 1, 1024, 128);
  check({"8B A100-40GB, C=1, 1024/128: ITL (ms)", "johnmusgrave.com vLLM sweep",
         c1.mean_itl_s * 1e3, 13.3, 0.15});
  // "Throughput grows 6.6x up to concurrency 8 with almost no extra latency."
  auto c8 = testing::closed_loop(a100_40, 8, 1024, 128);
  check({"8B A100-40GB, throughput C=8 / C=1", "johnmusgrave.com vLLM sweep",
         c8.output_tokens_per_s / c1.output_tokens_per_s, 6.6, 0.15});

  // SplitwiseSim perf_model.csv, DGX-H100, Llama-2-70B TP4 token_time: 29.7 ms at batch 1,
  // 52.4 ms at batch 64 (older, overhead-heavy stack: the model is expected to be faster; the
  // growth with batch is the check).
  Profile llama2_70b = shipped("llama-3.1-70b-4xh100");
  llama2_70b.model.vocab_size = 32000;
  StepTimeModel m70(llama2_70b);
  double b1 = m70.step_seconds(StepTimeModel::decode_shape(1, 512)) * 1e3;
  double b64 = m70.step_seconds(StepTimeModel::decode_shape(64, 512)) * 1e3;
  check({"70B H100 TP4 decode step, batch 1 (ms)", "SplitwiseSim DGX-H100", b1, 29.7, 0.40});
  check({"70B H100 TP4 decode step, batch 64 / batch 1", "SplitwiseSim DGX-H100", b64 / b1,
         52.4 / 29.7, 0.40});

  // Our H100 run (profiles/measured/h100-pytorch-llama.csv), CPU term removed (CUDA graphs):
  Profile h100 = shipped("llama-3.1-8b-h100");
  h100.efficiency.cpu_overhead_s = 0;
  h100.efficiency.cpu_overhead_per_seq_s = 0;
  StepTimeModel mh(h100);
  check({"8B H100 decode step, batch 1, ctx 512 (ms)", "our H100 PyTorch run",
         mh.step_seconds(StepTimeModel::decode_shape(1, 512)) * 1e3, 7.64, 0.25});
  check({"8B H100 decode step, batch 256, ctx 2048 (ms)", "our H100 PyTorch run",
         mh.step_seconds(StepTimeModel::decode_shape(256, 2048)) * 1e3, 32.84, 0.15});
  check({"8B H100 decode step, batch 512, ctx 512 (ms)", "our H100 PyTorch run",
         mh.step_seconds(StepTimeModel::decode_shape(512, 512)) * 1e3, 27.23, 0.15});
}

TEST(FidelityTest, PrefillThroughput) {
  Profile h100 = shipped("llama-3.1-8b-h100");
  h100.efficiency.cpu_overhead_s = 0;
  h100.efficiency.cpu_overhead_per_seq_s = 0;
  StepTimeModel mh(h100);
  for (auto [tokens, ms] : {std::pair{1024, 24.66}, {4096, 97.91}, {16384, 508.77}}) {
    double model = tokens / mh.step_seconds(StepTimeModel::prefill_shape(tokens));
    std::string what = "8B H100 prefill " + std::to_string(tokens) + " tokens (tok/s)";
    check({what.c_str(), "our H100 PyTorch run", model, tokens / (ms / 1e3), 0.10});
  }
  // Splitwise (ISCA'24) DGX-H100, Llama-2-70B, 8,192-token prompt in 954 ms at TP4.
  Profile llama2_70b = shipped("llama-3.1-70b-4xh100");
  llama2_70b.model.vocab_size = 32000;
  llama2_70b.model.max_position_embeddings = 4096;
  llama2_70b.scheduler.max_model_len = 4096;
  StepTimeModel m70(llama2_70b);
  // An older stack than the profile models: our own run of one TP4 shard (below) plus the
  // all-reduce agrees with the model; Splitwise's number does not.
  check({"70B H100 TP4 prefill 8192 tokens (tok/s)", "Splitwise paper",
         8192 / m70.step_seconds(StepTimeModel::prefill_shape(8192)), 8192 / 0.954, 0.65});
  // Our H100 run of one Llama-3.1-70B TP4 shard (no all-reduce, no CPU term).
  Profile shard = shipped("llama-3.1-70b-4xh100");
  shard.accelerator.allreduce_latency_s = 0;
  shard.accelerator.allreduce_bandwidth = 0;
  shard.efficiency.cpu_overhead_s = 0;
  shard.efficiency.cpu_overhead_per_seq_s = 0;
  StepTimeModel ms(shard);
  check({"70B TP4 shard prefill 8192 tokens, one H100 (ms)", "our H100 PyTorch run",
         ms.step_seconds(StepTimeModel::prefill_shape(8192)) * 1e3, 462.65, 0.10});
  check({"70B TP4 shard decode batch 128, ctx 2048, one H100 (ms)", "our H100 PyTorch run",
         ms.step_seconds(StepTimeModel::decode_shape(128, 2048)) * 1e3, 27.39, 0.10});
  // Vidur H100 Llama-2-7B TP1 linear ops: 4,096 tokens in 83.5 ms (GEMM term only).
  Profile llama2_7b = h100;
  llama2_7b.model.num_key_value_heads = 32;
  llama2_7b.model.intermediate_size = 11008;
  llama2_7b.model.vocab_size = 32000;
  StepTimeModel m7(llama2_7b);
  double gemm = m7.breakdown(StepTimeModel::prefill_shape(4096)).gemm * 1e3;
  check({"7B H100 linear ops, 4096 tokens (ms)", "Vidur h100 mlp.csv", gemm, 83.5, 0.10});
}

TEST(FidelityTest, ThroughputAndLatencyUnderLoad) {
  // NVIDIA NIM 1.8.0 Llama-3.1-8B ITL on H100-class GPUs (docs.nvidia.com NIM benchmarking),
  // precision not stated (taken as FP8): 4.63 ms at concurrency 1.
  Profile fp8 = shipped("llama-3.1-8b-h100-fp8");  // W8A8 blocks, bf16 LM head
  auto nim = testing::closed_loop(fp8, 1, 200, 200);
  check({"8B H100 FP8, C=1: ITL (ms)", "NIM 1.8.0 docs", nim.mean_itl_s * 1e3, 4.63, 0.25});

  // Seed 003: vLLM on TPU v6e-8 serving Llama-3.1-70B generated ~2,000 tokens/s under the
  // seed's load (N clients, ~8-token prompts, max_tokens 100). N = 32 here (the seed does not
  // say): the check is the order of magnitude.
  auto tpu = testing::closed_loop(shipped("llama-3.1-70b-tpu-v6e-8"), 32, 8, 100);
  check({"70B TPU v6e-8, 32 clients, 8/100: output tok/s", "seed 003 observation",
         tpu.output_tokens_per_s, 2000, 0.50});

  // Max output throughput, 8B on one H100 (third-party summary of vLLM benchmarks: ~12,500
  // tok/s; workload not stated). Here: ShareGPT-like 256 in / 256 out at 1,024 clients.
  auto max = testing::closed_loop(shipped("llama-3.1-8b-h100"), 1024, 256, 256);
  check({"8B H100 max output tok/s (256/256, C=1024)", "morphllm.com vLLM benchmarks",
         max.output_tokens_per_s, 12500, 0.50});
}

// Seed 001: NIM for LLMs serving Llama-3.1-8B, genai-perf with ~200-token prompts and exactly
// 200 output tokens (ignore_eos), concurrency 100 and 400: KV-cache use 9.40 % and 40.9 %
// (Grafana, gpu_cache_usage_perc). The GPU is not stated; the H100 profile (436k tokens of KV)
// is the one checked. Not fitted: nothing in the profile was set from these two numbers.
TEST(FidelityTest, KvCacheUseSeed001) {
  Profile p = shipped("llama-3.1-8b-h100");
  // genai-perf --endpoint-type chat: the 200 synthetic tokens are one user message, which the
  // server wraps in Llama 3.1's chat template — BOS, the message's header and <|eot_id|>, the
  // assistant header (1 + 5 + 4, server/text.h) and the system block the template always
  // writes (5 + 20: profiles/models/llama-3.1-8b.yaml). vLLM counts and caches all of them.
  const std::int64_t prompt = 200 + 1 + 5 + 4 + 5 + p.model.chat_system_preamble_tokens;
  ASSERT_EQ(prompt, 235);
  auto c100 = testing::closed_loop(p, 100, prompt, 200);
  // The absolute level depends on the unknown GPU's KV capacity (9.40 % at 100 clients needs
  // ~330k tokens, ours holds 436k): -26 % and -32 %, bounded at 35 %. The ratio between the two
  // loads does not depend on capacity: within 15 %.
  check({"8B H100, C=100, 200/200 chat (235-token prompts): KV use (%)", "seed 001 (NIM Grafana)",
         c100.mean_kv_usage * 100, 9.40, 0.35});
  auto c400 = testing::closed_loop(p, 400, prompt, 200);
  check({"8B H100, C=400, 200/200 chat (235-token prompts): KV use (%)", "seed 001 (NIM Grafana)",
         c400.mean_kv_usage * 100, 40.9, 0.35});
  check({"8B, KV use C=400 / C=100", "seed 001 (NIM Grafana)",
         c400.mean_kv_usage / c100.mean_kv_usage, 40.9 / 9.40, 0.15});
}

// NVIDIA NIM 1.8.0, Llama-3.1-8B-Instruct on one H100, FP8 (docs.nvidia.com/nim/benchmarking/llm,
// "Performance"): a closed-loop genai-perf sweep from 1 to 250 clients, taken as 200 input / 200
// output tokens. The profile's frontend cost was fitted to the throughput plateau (C >= 150);
// everything else is a check. TTFT beyond C = 100 is NIM's frontend queue, which the model
// reproduces only in part (bounds below = the errors docs/engine-model.md states).
TEST(FidelityTest, NimLlama8bConcurrencySweep) {
  struct Point {
    int concurrency;
    double ttft_ms, itl_ms, tokens_per_s;
    double ttft_bound;
  };
  const Point points[] = {{1, 10.26, 4.63, 214.56, 0.25},      {5, 16.81, 4.58, 1076.88, 0.25},
                          {25, 36.34, 5.19, 4678.88, 0.40},    {50, 67.41, 5.91, 8018.23, 0.40},
                          {100, 119.97, 7.57, 12214.97, 0.45}, {150, 346.53, 9.81, 12988.89, 0.70},
                          {200, 465.18, 12.65, 13348.4, 0.70}, {250, 605.6, 16.14, 12964.72, 0.70}};
  Profile nim = shipped("llama-3.1-8b-h100-fp8-nim");
  for (const Point& pt : points) {
    auto r = testing::closed_loop(nim, pt.concurrency, 200, 200, 100, serving_variance(11));
    std::string c = "NIM 8B H100 FP8, C=" + std::to_string(pt.concurrency);
    check({(c + ": ITL (ms)").c_str(), "NIM 1.8.0 docs", r.mean_itl_s * 1e3, pt.itl_ms, 0.15});
    check({(c + ": output tok/s").c_str(), "NIM 1.8.0 docs", r.output_tokens_per_s, pt.tokens_per_s,
           0.15});
    check({(c + ": TTFT (ms)").c_str(), "NIM 1.8.0 docs", r.mean_ttft_s * 1e3, pt.ttft_ms,
           pt.ttft_bound});
  }
}

// NIM 1.8.0, Llama-3.3-70B-Instruct (the 3.1 70B architecture) on 2x H100 80G, FP8, TP2,
// 5,000 input / 500 output tokens (same page). No shipped profile has FP8 70B on H100s: the TP2
// profile with the H100 accelerator file and FP8 blocks. Checked, not fitted.
TEST(FidelityTest, Nim70bTp2Fp8) {
  Profile p = shipped("llama-3.1-70b-2xh200");
  p.accelerator = shipped("llama-3.1-70b-4xh100").accelerator;
  p.model.quantization = "fp8";
  p.scheduler.max_model_len = 32768;
  // At C = 25 the 8,192-token chunks of vLLM V1's budget take 25 × 5,000 prompt tokens over
  // ~15 steps; NIM's TensorRT-LLM backend admits them faster (TTFT +86 %, bound 0.9).
  for (auto [concurrency, ttft_ms, itl_ms, ttft_bound] :
       {std::tuple{1, 406.77, 18.58, 0.25}, {25, 688.69, 38.75, 0.9}}) {
    auto r = testing::closed_loop(p, concurrency, 5000, 500, 25, serving_variance(13));
    std::string c = "NIM 70B 2xH100 FP8 TP2, 5000/500, C=" + std::to_string(concurrency);
    check({(c + ": ITL (ms)").c_str(), "NIM 1.8.0 docs", r.mean_itl_s * 1e3, itl_ms, 0.20});
    check(
        {(c + ": TTFT (ms)").c_str(), "NIM 1.8.0 docs", r.mean_ttft_s * 1e3, ttft_ms, ttft_bound});
  }
}

}  // namespace
}  // namespace llmscale::engine
