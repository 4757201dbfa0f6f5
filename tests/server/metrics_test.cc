// /metrics per flavor after a fixed workload (a length-limited request, one that stops at its
// natural length, one aborted by its client, one refused): golden files pin the names, types,
// labels, HELP texts, buckets and values; our own parser accepts every one without warnings
// (promtool checks the same files in the integration tests). Plus the accelerator endpoints
// and the semantics behind the key autoscaling signals.
#include "server/flavor_metrics.h"

#include <gtest/gtest.h>

#include "harness.h"
#include "prom/exposition/parser.h"

namespace llmscale::server {
namespace {

using namespace std::chrono_literals;
using testing::Call;
using testing::expect_golden;
using testing::Harness;
using testing::test_options;

std::string body_for(Flavor flavor, int prompt_tokens, int max_tokens,
                     std::optional<int> output_tokens, bool stream) {
  std::string ext = "\"llmscale\":{\"prompt_tokens\":" + std::to_string(prompt_tokens) +
                    (output_tokens ? ",\"output_tokens\":" + std::to_string(*output_tokens) : "") +
                    "}";
  switch (flavor) {
    case Flavor::kTgi:
      return "{\"inputs\":\"x\",\"parameters\":{\"max_new_tokens\":" + std::to_string(max_tokens) +
             "}," + ext + "}";
    case Flavor::kJetStream:
      return "{\"prompt\":\"x\",\"max_tokens\":" + std::to_string(max_tokens) + "," + ext + "}";
    default:
      return "{\"prompt\":\"x\",\"max_tokens\":" + std::to_string(max_tokens) +
             ",\"stream\":" + (stream ? "true" : "false") + "," + ext + "}";
  }
}

std::string target_for(Flavor flavor, bool stream) {
  if (flavor == Flavor::kTgi) return stream ? "/generate_stream" : "/generate";
  if (flavor == Flavor::kJetStream) return stream ? "/v1/generate" : "/generate";
  return "/v1/completions";
}

// The fixed workload; returns the harness for further checks.
std::string run_workload(Flavor flavor, const std::string& profile = "llama-3.1-8b-h100") {
  SimServerOptions o = test_options(flavor, profile);
  o.instance_id = "sim-pod-0";
  Harness h(o);
  Call& a = h.post(target_for(flavor, false), body_for(flavor, 100, 20, std::nullopt, false));
  Call& b = h.post(target_for(flavor, false), body_for(flavor, 50, 30, 10, false));
  std::string abort_body = flavor == Flavor::kJetStream
                               ? R"({"max_tokens":1000,"text_content":{"text":"x"}})"
                               : body_for(flavor, 200, 1000, std::nullopt, true);
  Call& c = h.post(target_for(flavor, true), abort_body);
  Call& bad = h.post(target_for(flavor, false), R"({"prompt":)");
  h.advance(100ms);
  c.writer.disconnect();
  h.finish(a);
  h.finish(b);
  EXPECT_EQ(a.writer.status(), 200);
  EXPECT_EQ(b.writer.status(), 200);
  EXPECT_TRUE(c.done);
  EXPECT_GE(bad.writer.status(), 400);
  h.advance(1s);
  return h.server().metrics_text();
}

class FlavorGoldenTest : public ::testing::TestWithParam<Flavor> {};

TEST_P(FlavorGoldenTest, MetricsMatchGoldenAndParse) {
  Flavor flavor = GetParam();
  std::string text = run_workload(flavor);
  expect_golden("metrics_" + std::string(flavor_name(flavor)) + ".txt", text);
  auto parsed = prom::parse_exposition(text, prom::ExpositionFormat::kPrometheusText);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  EXPECT_TRUE(parsed->warnings.empty()) << parsed->warnings.front().message;
}

INSTANTIATE_TEST_SUITE_P(Flavors, FlavorGoldenTest,
                         ::testing::Values(Flavor::kVllmV1, Flavor::kVllmV0, Flavor::kTgi,
                                           Flavor::kJetStream, Flavor::kNim, Flavor::kSglang),
                         [](const ::testing::TestParamInfo<Flavor>& info) {
                           std::string name(flavor_name(info.param));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(AcceleratorMetricsTest, DcgmAndTpuGolden) {
  struct Case {
    AcceleratorMetrics kind;
    const char* profile;
    const char* golden;
  };
  for (const Case& c :
       {Case{AcceleratorMetrics::kDcgm, "llama-3.1-70b-4xh100", "accelerator_dcgm.txt"},
        Case{AcceleratorMetrics::kTpu, "gemma-7b-tpu-v5e-8", "accelerator_tpu.txt"}}) {
    SimServerOptions o = test_options(Flavor::kVllmV1, c.profile);
    o.accelerator_metrics = c.kind;
    o.pod = PodIdentity{"llm-7d9f-abcde", "inference-server", "serving", ""};
    Harness h(o);
    h.server().accelerator_metrics_text();  // first scrape: the rate window starts here
    for (int i = 0; i < 8; ++i) {
      h.post("/v1/completions",
             R"({"prompt":"x","max_tokens":200,"llmscale":{"prompt_tokens":1000}})");
    }
    h.advance(2s);
    std::string text = h.server().accelerator_metrics_text();
    expect_golden(c.golden, text);
    auto parsed = prom::parse_exposition(text, prom::ExpositionFormat::kPrometheusText);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().to_string();
  }
}

double sample_value(const std::string& text, const std::string& series_prefix) {
  auto pos = text.find("\n" + series_prefix);
  if (pos == std::string::npos) return -1;
  auto line_end = text.find('\n', pos + 1);
  std::string line = text.substr(pos + 1, line_end - pos - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

TEST(FlavorSignalsTest, GaugesFollowTheEngine) {
  // Concurrency 40 on a server with 16 decode slots: 16 run, 24 wait; every flavor's
  // queue and batch gauges say so in its own units.
  for (Flavor flavor :
       {Flavor::kVllmV1, Flavor::kTgi, Flavor::kJetStream, Flavor::kNim, Flavor::kSglang}) {
    SimServerOptions o = test_options(flavor);
    o.profile.scheduler.max_num_seqs = 16;
    o.max_concurrent_requests = 0;
    Harness h(o);
    for (int i = 0; i < 40; ++i) {
      h.post(target_for(flavor, false), body_for(flavor, 64, 2000, std::nullopt, false));
    }
    h.advance(500ms);
    std::string text = h.server().metrics_text();
    SCOPED_TRACE(std::string(flavor_name(flavor)));
    switch (flavor) {
      case Flavor::kVllmV1:
        EXPECT_EQ(sample_value(text, "vllm:num_requests_waiting{"), 24);
        EXPECT_EQ(sample_value(text, "vllm:num_requests_running{"), 16);
        EXPECT_GT(sample_value(text, "vllm:kv_cache_usage_perc{"), 0);
        EXPECT_EQ(sample_value(text, "vllm:kv_cache_usage_perc{"),
                  sample_value(text, "vllm:gpu_cache_usage_perc{"));
        break;
      case Flavor::kTgi:
        EXPECT_EQ(sample_value(text, "tgi_queue_size "), 24);
        EXPECT_EQ(sample_value(text, "tgi_batch_current_size "), 16);
        EXPECT_EQ(sample_value(text, "tgi_batch_current_max_tokens "), 16 * (64 + 2000));
        break;
      case Flavor::kJetStream:
        EXPECT_EQ(sample_value(text, "jetstream_prefill_backlog_size{"), 24);
        EXPECT_EQ(sample_value(text, "jetstream_slots_used_percentage{"), 1.0);  // 0-1
        EXPECT_EQ(sample_value(text, "kv_cache_utilization_perc{"), 100.0);      // 0-100
        EXPECT_EQ(sample_value(text, "jetstream_generate_backlog_size{"), 0);    // upstream bug
        break;
      case Flavor::kNim:
        EXPECT_EQ(sample_value(text, "num_requests_waiting{"), 24);
        EXPECT_EQ(sample_value(text, "num_request_max{"), 16);
        break;
      case Flavor::kSglang:
        EXPECT_EQ(sample_value(text, "sglang:num_queue_reqs{"), 24);
        EXPECT_EQ(sample_value(text, "sglang:num_running_reqs{"), 16);
        EXPECT_GT(sample_value(text, "sglang:gen_throughput{"), 0);
        break;
      default: break;
    }
  }
}

// vLLM V0 (<= 0.6) exports vllm:avg_generation_throughput_toks_per_s (seed 003's PromQL reads
// it): tokens over the last 5 s logging interval, updated when the interval has elapsed.
TEST(FlavorSignalsTest, VllmV0IntervalThroughput) {
  SimServerOptions o = test_options(Flavor::kVllmV0);
  Harness h(o);
  h.server().metrics_text();  // the interval starts now (ready)
  core::Time start = h.clock().now();
  Call& a = h.post(target_for(Flavor::kVllmV0, false),
                   body_for(Flavor::kVllmV0, 100, 40, std::nullopt, false));
  h.finish(a);
  EXPECT_EQ(a.writer.status(), 200);
  h.advance(2s);
  std::string early = h.server().metrics_text();
  EXPECT_EQ(sample_value(early, "vllm:avg_generation_throughput_toks_per_s{"), 0);
  h.advance(4s);
  double elapsed = core::to_seconds(h.clock().now() - start);
  std::string text = h.server().metrics_text();
  EXPECT_NEAR(sample_value(text, "vllm:avg_generation_throughput_toks_per_s{"), 40 / elapsed, 1e-9);
  EXPECT_NEAR(sample_value(text, "vllm:avg_prompt_throughput_toks_per_s{"), 100 / elapsed, 1e-9);
  // Nothing happened in the next interval: back to 0.
  h.advance(6s);
  EXPECT_EQ(sample_value(h.server().metrics_text(), "vllm:avg_generation_throughput_toks_per_s{"),
            0);
}

TEST(FlavorMetricsTest, Helpers) {
  EXPECT_EQ(one_two_five_buckets(100), (std::vector<double>{1, 2, 5, 10, 20, 50, 100}));
  EXPECT_EQ(jetstream_model_label("gemma-7b"), "gemma_7b");
  EXPECT_EQ(jetstream_model_label("google/gemma-7b"), "");
  EXPECT_EQ(jetstream_model_label("7b"), "");
}

}  // namespace
}  // namespace llmscale::server
