// Flag semantics of `llmscale load`: URLs and endpoints, sweeps with warm-up, default bounds,
// workload exclusivity, traces, and the error for each bad flag.
#include "loadgen/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;

LoadFlags flags(std::string url = "http://127.0.0.1:8000") {
  LoadFlags f;
  f.url = std::move(url);
  return f;
}

TEST(ConfigTest, DefaultsAreOneUserForSixtySeconds) {
  auto plan = build_load_plan(flags());
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  EXPECT_EQ(plan->target.url, "http://127.0.0.1:8000/v1/chat/completions");
  ASSERT_EQ(plan->run.stages.size(), 1u);
  EXPECT_EQ(plan->run.stages[0].workload.kind, WorkloadKind::kClosedLoop);
  EXPECT_EQ(plan->run.stages[0].workload.concurrency, 1);
  EXPECT_EQ(plan->run.stages[0].duration, 60s);
  EXPECT_EQ(plan->run.stages[0].workload.input.mean, 550);
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_EQ(plan->max_connections, 1u);
}

TEST(ConfigTest, ThreadsDefaultToCoresButNotMoreThanConnections) {
  auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  LoadFlags f = flags();
  EXPECT_EQ(build_load_plan(f)->threads, 1);  // one user: one thread
  f.concurrency = "1,200";
  EXPECT_EQ(build_load_plan(f)->threads, std::min(cores, 200));
  f.concurrency = "2";
  EXPECT_EQ(build_load_plan(f)->threads, std::min(cores, 2));
  f.concurrency.clear();
  f.rate = "5";  // open loop: up to --max-inflight connections
  f.max_inflight = 3;
  EXPECT_EQ(build_load_plan(f)->threads, std::min(cores, 3));
  f.threads = 7;
  EXPECT_EQ(build_load_plan(f)->threads, 7);
}

TEST(ConfigTest, UrlForms) {
  LoadFlags f = flags("localhost:8000");
  f.api = "jetstream";
  EXPECT_EQ(build_load_plan(f)->target.url, "http://localhost:8000/generate");
  f = flags("http://vllm:8000/v1/completions");
  f.api = "openai-completions";
  EXPECT_EQ(build_load_plan(f)->target.url, "http://vllm:8000/v1/completions");
  f = flags("https://gateway.example/");
  f.api = "tgi";
  f.streaming = true;
  EXPECT_EQ(build_load_plan(f)->target.url, "https://gateway.example/generate_stream");
  f.endpoint = "/custom/path";
  EXPECT_EQ(build_load_plan(f)->target.url, "https://gateway.example/custom/path");
  f.endpoint = "nope";
  EXPECT_EQ(build_load_plan(f).error().message, "--endpoint must start with '/'");
  EXPECT_EQ(build_load_plan(flags("")).error().message, "--url is required");
  EXPECT_FALSE(build_load_plan(flags("ftp://x/")).has_value());
}

TEST(ConfigTest, ConcurrencySweepWarmsUpEachStage) {
  LoadFlags f = flags();
  f.concurrency = "10, 100,200";
  f.requests = 500;
  f.streaming = true;
  auto plan = build_load_plan(f);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  ASSERT_EQ(plan->run.stages.size(), 3u);
  EXPECT_EQ(plan->run.stages[1].workload.concurrency, 100);
  EXPECT_EQ(plan->run.stages[1].warmup_requests, 100u);
  EXPECT_EQ(plan->run.stages[2].requests, 500u);
  EXPECT_FALSE(plan->run.stages[2].duration.has_value());
  EXPECT_EQ(plan->max_connections, 200u);
  f.warmup_requests = 0;
  EXPECT_EQ(build_load_plan(f)->run.stages[1].warmup_requests, 0u);
}

TEST(ConfigTest, RateSweepGammaAndBounds) {
  LoadFlags f = flags();
  f.rate = "2.5,5";
  f.arrival = "gamma";
  f.burstiness = 0.5;
  f.duration = "30s";
  f.warmup = "5s";
  f.max_inflight = 300;
  auto plan = build_load_plan(f);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  ASSERT_EQ(plan->run.stages.size(), 2u);
  EXPECT_EQ(plan->run.stages[0].workload.rate, 2.5);
  EXPECT_EQ(plan->run.stages[0].workload.arrival, ArrivalProcess::kGamma);
  EXPECT_EQ(plan->run.stages[0].duration, 30s);
  EXPECT_EQ(plan->run.stages[0].warmup, 5s);
  EXPECT_EQ(plan->run.stages[0].warmup_requests, 0u);
  EXPECT_EQ(plan->max_connections, 300u);
}

TEST(ConfigTest, BurstLikeSeed000StopsByItself) {
  LoadFlags f = flags("localhost:8000");
  f.api = "jetstream";
  f.burst = 100;
  f.output_tokens_mean = 200;
  auto plan = build_load_plan(f);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  EXPECT_FALSE(plan->run.stages[0].duration.has_value());
  EXPECT_TRUE(plan->notes.empty());
  f.burst_interval = "30s";
  EXPECT_EQ(build_load_plan(f)->run.stages[0].duration, 60s);
}

TEST(ConfigTest, TraceReplay) {
  LoadFlags f = flags();
  f.trace = std::string(LLMSCALE_SOURCE_DIR) + "/tests/loadgen/testdata/azure2023_code_head30.csv";
  f.time_scale = 0.5;
  auto plan = build_load_plan(f);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  ASSERT_TRUE(plan->trace.has_value());
  EXPECT_EQ(plan->trace->rows, 30u);
  EXPECT_EQ(plan->trace->format, "azure");
  EXPECT_EQ(plan->run.stages[0].workload.kind, WorkloadKind::kTrace);
  EXPECT_FALSE(plan->run.stages[0].duration.has_value());
  f.trace = "/nonexistent.csv";
  EXPECT_EQ(build_load_plan(f).error().code, core::ErrorCode::kNotFound);
}

TEST(ConfigTest, HeadersExtrasAndSlo) {
  LoadFlags f = flags();
  f.headers = {"Authorization: Bearer x", "X-Empty:"};
  f.extra_inputs = {"ignore_eos:true"};
  f.slo = "ttft=2s,itl=100ms";
  f.fail_on_goodput = 0.9;
  auto plan = build_load_plan(f);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  ASSERT_EQ(plan->target.headers.size(), 2u);
  EXPECT_EQ(plan->target.headers[0].second, "Bearer x");
  EXPECT_EQ(plan->target.headers[1].second, "");
  EXPECT_EQ(*plan->run.slo.ttft, 2s);
  EXPECT_EQ(*plan->gates.min_goodput_fraction, 0.9);
}

TEST(ConfigTest, BadFlagsNameTheFlag) {
  struct Case {
    std::function<void(LoadFlags&)> set;
    std::string message;
  };
  std::vector<Case> cases = {
      {[](LoadFlags& f) { f.api = "grpc"; },
       "--api: unknown API \"grpc\" (openai-chat, openai-completions, tgi, jetstream)"},
      {[](LoadFlags& f) { f.concurrency = "10,x"; },
       "--concurrency: invalid value \"x\" in \"10,x\""},
      {[](LoadFlags& f) { f.concurrency = "0"; },
       "stage 1 (concurrency=0): --concurrency must be >= 1"},
      {[](LoadFlags& f) {
         f.concurrency = "1";
         f.rate = "2";
       },
       "choose one workload: --concurrency, --rate, --burst or --trace"},
      {[](LoadFlags& f) { f.duration = "10"; },
       "--duration: time: missing unit in duration \"10\""},
      {[](LoadFlags& f) { f.duration = "0s"; }, "--duration: must be positive, got \"0s\""},
      {[](LoadFlags& f) { f.requests = 0; }, "--requests must be >= 1"},
      {[](LoadFlags& f) { f.threads = -1; }, "--threads must be 0 (auto) to 256"},
      {[](LoadFlags& f) { f.threads = 257; }, "--threads must be 0 (auto) to 256"},
      {[](LoadFlags& f) { f.cert_file = "c.pem"; }, "--cert and --key go together"},
      {[](LoadFlags& f) { f.slo = "ttfb=1s"; },
       "--slo: unknown objective \"ttfb\" (ttft, itl, itl_max, tpot, e2e)"},
      {[](LoadFlags& f) { f.fail_on_errors = 2; }, "--fail-on-errors must be a fraction in [0, 1]"},
      {[](LoadFlags& f) { f.fail_on_goodput = 0.5; }, "--fail-on-goodput needs --slo"},
      {[](LoadFlags& f) { f.headers = {"novalue"}; },
       "--header \"novalue\": expected \"Name: value\""},
      {[](LoadFlags& f) { f.extra_inputs = {"x"}; }, "--extra-inputs \"x\": expected name:value"},
      {[](LoadFlags& f) {
         f.rate = "1";
         f.arrival = "uniform";
       },
       "--arrival: unknown arrival process \"uniform\" (poisson, gamma, constant)"},
      {[](LoadFlags& f) { f.input_tokens_mean = 0; },
       "stage 1 (concurrency=1): input tokens: mean must be >= 1 and stddev >= 0"},
      {[](LoadFlags& f) { f.request_timeout = "-1s"; },
       "--request-timeout: must be positive, got \"-1s\""},
      {[](LoadFlags& f) {
         f.trace = "x.csv";
         f.on_bad_row = "ignore";
       },
       "--on-bad-row: unknown bad-row policy \"ignore\" (skip, fail)"},
  };
  for (const Case& c : cases) {
    LoadFlags f = flags();
    c.set(f);
    auto plan = build_load_plan(f);
    ASSERT_FALSE(plan.has_value()) << c.message;
    EXPECT_EQ(plan.error().code, core::ErrorCode::kInvalidArgument) << c.message;
    EXPECT_EQ(plan.error().message, c.message);
  }
}

}  // namespace
}  // namespace llmscale::loadgen
