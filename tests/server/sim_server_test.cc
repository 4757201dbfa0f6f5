// SimServer handlers on a SimulatedClock: golden SSE streams and bodies per API, tokens at the
// engine's times, cold start (503 until ready), client disconnect freeing the KV cache, the
// fault knobs, TGI's concurrency limit, drain, and other requests flowing while bad ones are
// refused.
#include "server/sim_server.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "net/sse.h"

namespace llmscale::server {
namespace {

using namespace std::chrono_literals;
using testing::Call;
using testing::expect_golden;
using testing::Harness;
using testing::test_options;
using Json = nlohmann::json;

std::string golden_exchange(const Call& call) {
  std::string out = "status: " + std::to_string(call.writer.status()) + "\n";
  for (const auto& [name, value] : call.writer.headers()) {
    if (net::iequals(name, "date")) continue;
    out += name + ": " + value + "\n";
  }
  out += "\n" + call.writer.body();
  return out;
}

struct GoldenCase {
  const char* name;
  Flavor flavor;
  const char* target;
  const char* body;
};

class GoldenStreamTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenStreamTest, MatchesGolden) {
  const GoldenCase& c = GetParam();
  Harness h(test_options(c.flavor));
  Call& call = h.post(c.target, c.body);
  h.finish(call);
  ASSERT_TRUE(call.done);
  expect_golden(std::string("api_") + c.name + ".txt", golden_exchange(call));
}

INSTANTIATE_TEST_SUITE_P(
    Apis, GoldenStreamTest,
    ::testing::Values(
        GoldenCase{
            "completions", Flavor::kVllmV1, "/v1/completions",
            R"({"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"San Francisco is a","max_tokens":7,"temperature":0})"},
        GoldenCase{
            "completions_stream_usage", Flavor::kVllmV1, "/v1/completions",
            R"({"prompt":"San Francisco is a","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}})"},
        GoldenCase{
            "completions_stream_stop", Flavor::kVllmV0, "/v1/completions",
            R"({"prompt":"x","max_tokens":10,"stream":true,"llmscale":{"prompt_tokens":100,"output_tokens":3}})"},
        GoldenCase{"chat", Flavor::kVllmV1, "/v1/chat/completions",
                   R"({"messages":[{"role":"user","content":"Hello!"}],"max_tokens":5})"},
        GoldenCase{
            "chat_stream_usage", Flavor::kNim, "/v1/chat/completions",
            R"({"messages":[{"role":"user","content":"Hello!"}],"max_tokens":3,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}})"},
        GoldenCase{"tgi_generate", Flavor::kTgi, "/generate",
                   R"({"inputs":"What is Deep Learning?","parameters":{"max_new_tokens":5}})"},
        GoldenCase{
            "tgi_generate_details", Flavor::kTgi, "/generate",
            R"({"inputs":"What is Deep Learning?","parameters":{"max_new_tokens":3,"details":true}})"},
        GoldenCase{
            "tgi_generate_stream", Flavor::kTgi, "/generate_stream",
            R"({"inputs":"What is Deep Learning?","parameters":{"max_new_tokens":4,"details":true}})"},
        GoldenCase{"tgi_compat", Flavor::kTgi, "/",
                   R"({"inputs":"Hi","parameters":{"max_new_tokens":2}})"},
        GoldenCase{"jetstream_generate", Flavor::kJetStream, "/generate",
                   R"({"prompt":"What are the top 5 programming languages","max_tokens":6})"},
        GoldenCase{"jetstream_v1_generate", Flavor::kJetStream, "/v1/generate",
                   R"({"max_tokens":3,"text_content":{"text":"Hello"}})"},
        GoldenCase{"sglang_completions_stream", Flavor::kSglang, "/v1/completions",
                   R"({"prompt":"Hi","max_tokens":2,"stream":true})"}),
    [](const ::testing::TestParamInfo<GoldenCase>& info) { return std::string(info.param.name); });

TEST(SimServerTest, TokensArriveAtEngineTimes) {
  Harness h(test_options(Flavor::kVllmV1));
  core::Time start = h.clock().now();
  Call& call =
      h.post("/v1/completions",
             R"({"prompt":"x","max_tokens":5,"stream":true,"llmscale":{"prompt_tokens":2000}})");
  // Chunks are written as their steps end: after the first step (prefill) one chunk, then one
  // per decode step.
  std::vector<double> chunk_times;
  std::size_t seen = 0;
  while (!call.done && h.clock().run_next()) {
    h.settle();
    while (seen < call.writer.chunks().size()) {
      chunk_times.push_back(core::to_seconds(h.clock().now() - start));
      ++seen;
    }
  }
  ASSERT_TRUE(call.done);
  ASSERT_EQ(chunk_times.size(), 5u);  // one write per token; [DONE] goes with the last
  double ttft = chunk_times[0];
  EXPECT_GT(ttft, 0.005);  // a 2000-token prefill on an H100 takes milliseconds
  EXPECT_LT(ttft, 0.5);
  for (std::size_t i = 1; i < 5; ++i) {
    double itl = chunk_times[i] - chunk_times[i - 1];
    EXPECT_GT(itl, 0.003);  // one decode step of Llama 8B
    EXPECT_LT(itl, 0.05);
  }
}

TEST(SimServerTest, ColdStartAnswers503UntilReady) {
  SimServerOptions o = test_options(Flavor::kVllmV1);
  o.startup = std::vector<engine::StartupPhase>{{"weights_load", 20}, {"cuda_graph_capture", 10}};
  o.accelerator_metrics = AcceleratorMetrics::kDcgm;
  o.pod = PodIdentity{"vllm-0", "vllm", "default", ""};
  Harness h(o);
  EXPECT_FALSE(h.server().ready());
  EXPECT_EQ(h.server().phase(), "weights_load");
  Call& health = h.get("/health");
  EXPECT_EQ(health.writer.status(), 503);
  Call& early = h.post("/v1/completions", R"({"prompt":"x","max_tokens":2})");
  EXPECT_EQ(early.writer.status(), 503);
  EXPECT_EQ(Json::parse(early.writer.body())["error"]["type"], "ServiceUnavailableError");
  // Metrics are served from the start (cache_config_info appears once the engine is up).
  Call& metrics = h.get("/metrics");
  EXPECT_EQ(metrics.writer.status(), 200);
  EXPECT_NE(metrics.writer.body().find("vllm:num_requests_waiting"), std::string::npos);
  EXPECT_EQ(metrics.writer.body().find("vllm:cache_config_info"), std::string::npos);
  h.advance(10s);
  EXPECT_NE(h.server().accelerator_metrics_text().find("DCGM_FI_DEV_FB_USED"), std::string::npos);
  h.advance(15s);
  EXPECT_EQ(h.server().phase(), "cuda_graph_capture");
  EXPECT_FALSE(h.server().ready());
  h.advance(5s);
  EXPECT_TRUE(h.server().ready());
  EXPECT_EQ(h.get("/health").writer.status(), 200);
  EXPECT_NE(h.get("/metrics").writer.body().find("vllm:cache_config_info"), std::string::npos);
  Call& ok = h.post("/v1/completions", R"({"prompt":"x","max_tokens":2})");
  h.finish(ok);
  EXPECT_EQ(ok.writer.status(), 200);
}

TEST(SimServerTest, DisconnectAbortsAndFreesKvCache) {
  Harness h(test_options(Flavor::kVllmV1));
  Call& call =
      h.post("/v1/completions",
             R"({"prompt":"x","max_tokens":1000,"stream":true,"llmscale":{"prompt_tokens":4000}})");
  h.advance(200ms);
  ASSERT_FALSE(call.done);
  EXPECT_GT(h.server().engine_stats().kv_blocks_used, 200);
  EXPECT_EQ(h.server().engine_stats().num_running, 1);
  call.writer.disconnect();
  h.settle();
  EXPECT_TRUE(call.done);
  engine::EngineStats s = h.server().engine_stats();
  EXPECT_EQ(s.num_running, 0);
  EXPECT_EQ(s.kv_blocks_used, 0);
  EXPECT_EQ(s.requests_aborted, 1u);
  EXPECT_EQ(h.server().stats().requests_cancelled, 1u);
  EXPECT_NE(
      h.get("/metrics")
          .writer.body()
          .find(
              R"(vllm:request_success_total{engine="0",finished_reason="abort",model_name="meta-llama/Llama-3.1-8B-Instruct"} 1.0)"),
      std::string::npos);
}

TEST(SimServerTest, BadInputIsRefusedWhileOthersFlow) {
  Harness h(test_options(Flavor::kVllmV1));
  Call& good = h.post("/v1/completions", R"({"prompt":"x","max_tokens":50,"stream":true})");
  Call& invalid = h.post("/v1/completions", "{not json");
  Call& context = h.post("/v1/completions",
                         R"({"prompt":"x","max_tokens":131000,"llmscale":{"prompt_tokens":100}})");
  Call& unknown = h.get("/v2/nothing");
  Call& method = h.get("/v1/completions");
  EXPECT_EQ(invalid.writer.status(), 400);
  EXPECT_EQ(Json::parse(invalid.writer.body())["error"]["type"], "Bad Request");
  EXPECT_EQ(context.writer.status(), 400);
  EXPECT_EQ(Json::parse(context.writer.body())["error"]["message"],
            "This model's maximum context length is 131072 tokens. However, you requested 131100 "
            "tokens (100 in the messages, 131000 in the completion). Please reduce the length of "
            "the messages or completion.");
  EXPECT_EQ(unknown.writer.status(), 404);
  EXPECT_EQ(unknown.writer.body(), R"({"detail":"Not Found"})");
  EXPECT_EQ(method.writer.status(), 405);
  h.finish(good);
  EXPECT_EQ(good.writer.status(), 200);
  EXPECT_NE(good.writer.body().find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(h.server().stats().requests_rejected, 2u);
}

TEST(SimServerTest, TgiContentTypeAndConcurrencyLimit) {
  SimServerOptions o = test_options(Flavor::kTgi);
  o.max_concurrent_requests = 2;
  Harness h(o);
  Call& form =
      h.send("POST", "/generate", R"({"inputs":"x"})", "application/x-www-form-urlencoded");
  EXPECT_EQ(form.writer.status(), 415);
  Call& a = h.post("/generate", R"({"inputs":"x","parameters":{"max_new_tokens":20}})");
  Call& b = h.post("/generate", R"({"inputs":"x","parameters":{"max_new_tokens":20}})");
  Call& c = h.post("/generate", R"({"inputs":"x","parameters":{"max_new_tokens":20}})");
  EXPECT_EQ(c.writer.status(), 429);
  EXPECT_EQ(c.writer.body(), R"({"error":"Model is overloaded","error_type":"overloaded"})");
  h.finish_all();
  EXPECT_EQ(a.writer.status(), 200);
  EXPECT_EQ(b.writer.status(), 200);
  std::string metrics = h.get("/metrics").writer.body();
  EXPECT_NE(metrics.find("tgi_request_failure{err=\"overloaded\"} 1"), std::string::npos);
  EXPECT_NE(metrics.find("tgi_request_count 3"), std::string::npos);
  EXPECT_NE(metrics.find("tgi_request_success 2"), std::string::npos);
}

TEST(SimServerTest, CrashAfterRequests) {
  SimServerOptions o = test_options(Flavor::kVllmV1);
  o.faults.crash_after_requests = 3;
  o.faults.crash_exit_code = 42;
  int exit_code = 0;
  o.on_crash = [&](int code) { exit_code = code; };
  Harness h(o);
  Call& first = h.post("/v1/completions", R"({"prompt":"x","max_tokens":100,"stream":true})");
  h.post("/v1/completions", R"({"prompt":"x","max_tokens":2})");
  EXPECT_EQ(exit_code, 0);
  h.post("/v1/completions", R"({"prompt":"x","max_tokens":2})");
  EXPECT_EQ(exit_code, 42);
  EXPECT_TRUE(h.server().crashed());
  EXPECT_FALSE(h.server().ready());
  h.settle();
  EXPECT_TRUE(first.done);  // the stream in flight was cut
  EXPECT_EQ(h.server().engine_stats().num_running, 0);
}

TEST(SimServerTest, CrashAtATime) {
  SimServerOptions o = test_options(Flavor::kJetStream);
  o.faults.crash_after = 90s;
  int exit_code = 0;
  o.on_crash = [&](int code) { exit_code = code; };
  Harness h(o);
  h.advance(89s);
  EXPECT_EQ(exit_code, 0);
  h.advance(1s);
  EXPECT_EQ(exit_code, 1);
}

TEST(SimServerTest, HangStopsEveryAnswer) {
  SimServerOptions o = test_options(Flavor::kVllmV1);
  o.faults.hang_after = 10s;
  Harness h(o);
  Call& stream = h.post("/v1/completions", R"({"prompt":"x","max_tokens":100000,"stream":true})");
  h.advance(10s);
  std::size_t chunks = stream.writer.chunks().size();
  EXPECT_GT(chunks, 10u);
  Call& health = h.get("/health");
  Call& metrics = h.get("/metrics");
  h.advance(30s);
  EXPECT_EQ(stream.writer.chunks().size(), chunks);
  EXPECT_FALSE(health.done);
  EXPECT_EQ(health.writer.status(), 0);
  EXPECT_FALSE(metrics.done);
}

TEST(SimServerTest, SlowAndGarbageMetrics) {
  SimServerOptions o = test_options(Flavor::kSglang);
  o.faults.metrics_delay = 5s;
  Harness h(o);
  Call& slow = h.get("/metrics");
  h.advance(4s);
  EXPECT_FALSE(slow.done);
  h.advance(1s);
  EXPECT_TRUE(slow.done);
  EXPECT_EQ(slow.writer.status(), 200);

  SimServerOptions g = test_options(Flavor::kVllmV1);
  g.faults.garbage_metrics = true;
  Harness garbage(g);
  Call& bad = garbage.get("/metrics");
  EXPECT_EQ(bad.writer.status(), 200);
  EXPECT_NE(bad.writer.body().find("not { metrics"), std::string::npos);
}

TEST(SimServerTest, ErrorRate) {
  SimServerOptions o = test_options(Flavor::kVllmV1);
  o.faults.error_rate = 0.5;
  Harness h(o);
  int failed = 0;
  for (int i = 0; i < 200; ++i) {
    Call& c = h.post("/v1/completions", R"({"prompt":"x","max_tokens":1})");
    h.finish(c);
    if (c.writer.status() == 500) {
      ++failed;
      EXPECT_EQ(Json::parse(c.writer.body())["error"]["type"], "InternalServerError");
    } else {
      EXPECT_EQ(c.writer.status(), 200);
    }
  }
  EXPECT_GT(failed, 70);
  EXPECT_LT(failed, 130);
}

TEST(SimServerTest, StopDrainsThenAborts) {
  Harness h(test_options(Flavor::kVllmV1));
  Call& short_one = h.post("/v1/completions", R"({"prompt":"x","max_tokens":10,"stream":true})");
  Call& long_one = h.post("/v1/completions", R"({"prompt":"x","max_tokens":100000,"stream":true})");
  bool stopped = false;
  net::spawn(h.loop(), [](SimServer& s, bool& done) -> net::Awaitable<void> {
    co_await s.stop(5s);
    done = true;
  }(h.server(), stopped));
  h.settle();
  EXPECT_EQ(h.get("/health").writer.status(), 503);
  Call& refused = h.post("/v1/completions", R"({"prompt":"x","max_tokens":1})");
  EXPECT_EQ(refused.writer.status(), 503);
  h.advance(1s);
  EXPECT_TRUE(short_one.done);
  EXPECT_NE(short_one.writer.body().find("[DONE]"), std::string::npos);
  EXPECT_FALSE(long_one.done);
  h.advance(5s);
  EXPECT_TRUE(long_one.done);
  EXPECT_EQ(long_one.writer.body().find("[DONE]"), std::string::npos);
  EXPECT_EQ(h.server().engine_stats().num_running, 0);
  EXPECT_TRUE(stopped);
}

TEST(SimServerTest, HealthModelsAndExtras) {
  Harness nim(test_options(Flavor::kNim));
  EXPECT_EQ(nim.get("/v1/health/ready").writer.body(),
            R"({"object":"health.response","message":"Service is ready."})");
  EXPECT_NE(nim.get("/v1/metrics").writer.body().find("num_request_max"), std::string::npos);
  Json models = Json::parse(nim.get("/v1/models").writer.body());
  EXPECT_EQ(models["data"][0]["id"], "meta-llama/Llama-3.1-8B-Instruct");
  Harness js(test_options(Flavor::kJetStream));
  EXPECT_EQ(js.get("/v1/health").writer.status(), 200);
  EXPECT_EQ(js.post("/v1/completions", "{}").writer.status(), 404);  // no OpenAI routes
  Harness tgi(test_options(Flavor::kTgi));
  EXPECT_EQ(Json::parse(tgi.get("/info").writer.body())["max_total_tokens"], 131072);
  Json stats = Json::parse(tgi.get("/llmscale/stats").writer.body());
  EXPECT_EQ(stats["ready"], true);
  EXPECT_EQ(stats["flavor"], "tgi");
}

TEST(SimServerTest, StatsCountTokenWritesAndLag) {
  // On a simulated clock tokens reach the writer exactly at their model time: zero lag. A
  // streaming request writes one chunk per step; a non-streaming one writes its body once.
  Harness h(test_options(Flavor::kVllmV1));
  Call& streamed = h.post("/v1/completions", R"({"prompt":"a b","max_tokens":8,"stream":true})");
  h.finish(streamed);
  SimServerStats s = h.server().stats();
  EXPECT_EQ(s.tokens_sent, 8u);
  EXPECT_EQ(s.token_writes, 8u);
  Call& whole = h.post("/v1/completions", R"({"prompt":"a b","max_tokens":8})");
  h.finish(whole);
  s = h.server().stats();
  EXPECT_EQ(s.tokens_sent, 16u);
  EXPECT_EQ(s.token_writes, 9u);
  EXPECT_EQ(s.token_lag_seconds_max, 0.0);
  Json stats = Json::parse(h.get("/llmscale/stats").writer.body());
  EXPECT_EQ(stats["token_writes"], 9);
  EXPECT_EQ(stats["token_lag_seconds_mean"], 0.0);
}

TEST(SimServerTest, RefusesMultiThreadedLoopsAndBadOptions) {
  net::EventLoop loop(2);
  core::SimulatedClock clock;
  auto created = SimServer::create(loop, clock, test_options(Flavor::kVllmV1));
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, core::ErrorCode::kFailedPrecondition);
  net::EventLoop one;
  SimServerOptions o = test_options(Flavor::kVllmV1);
  o.faults.error_rate = 2;
  EXPECT_FALSE(SimServer::create(one, clock, o).has_value());
  o = test_options(Flavor::kVllmV1);
  o.startup = std::vector<engine::StartupPhase>{{"x", -1}};
  EXPECT_FALSE(SimServer::create(one, clock, o).has_value());
}

}  // namespace
}  // namespace llmscale::server
