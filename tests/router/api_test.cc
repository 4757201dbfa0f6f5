// Route classification and the API-shaped error bodies the router sends itself (golden files:
// the exact bytes an OpenAI SDK, a TGI client or a FastAPI client parses).
#include "router/api.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace llmscale::router {
namespace {

std::string golden(const std::string& name) {
  std::ifstream in(std::string(LLMSCALE_SOURCE_DIR) + "/tests/router/golden/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

TEST(ApiTest, ClassifiesInferenceRoutes) {
  EXPECT_EQ(classify_route("/v1/completions"), Route::kCompletions);
  EXPECT_EQ(classify_route("/v1/chat/completions"), Route::kChatCompletions);
  EXPECT_EQ(classify_route("/v1/models"), Route::kModels);
  EXPECT_EQ(classify_route("/generate"), Route::kGenerate);
  EXPECT_EQ(classify_route("/v1/generate"), Route::kGenerate);
  EXPECT_EQ(classify_route("/generate_stream"), Route::kGenerateStream);
  EXPECT_EQ(classify_route("/health"), Route::kOther);
  EXPECT_EQ(classify_route("/v1/completions/"), Route::kOther);
  EXPECT_EQ(route_label(Route::kChatCompletions), "chat_completions");
  EXPECT_EQ(route_label(Route::kGenerateStream), "generate_stream");
}

TEST(ApiTest, StatusesFollowGateways) {
  EXPECT_EQ(router_error_status(RouterError::kQueueFull), 503);
  EXPECT_EQ(router_error_status(RouterError::kQueueTimeout), 503);
  EXPECT_EQ(router_error_status(RouterError::kUpstreamUnreachable), 502);
  EXPECT_EQ(router_error_status(RouterError::kUpstreamTimeout), 504);
}

TEST(ApiTest, OpenAiErrorsLookLikeVllms) {
  auto r = router_error_response("/v1/chat/completions", R"({"messages":[]})",
                                 RouterError::kQueueFull, "queue full: 1024 requests wait", 2);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.headers.value("Content-Type"), "application/json");
  EXPECT_EQ(r.headers.value("Retry-After"), "2");
  EXPECT_EQ(r.body, golden("openai_queue_full.json"));
  auto gateway = router_error_response("/v1/completions", "{}", RouterError::kUpstreamTimeout,
                                       "response head timeout", 2);
  EXPECT_EQ(gateway.status, 504);
  EXPECT_FALSE(gateway.headers.contains("Retry-After"));  // only on 503
  EXPECT_EQ(gateway.body, golden("openai_upstream_timeout.json"));
}

TEST(ApiTest, TgiErrorsLookLikeTgis) {
  auto stream =
      router_error_response("/generate_stream", "", RouterError::kQueueTimeout, "queue timeout", 1);
  EXPECT_EQ(stream.body, golden("tgi_queue_timeout.json"));
  auto generate =
      router_error_response("/generate", R"({"inputs":"hi","parameters":{"max_new_tokens":20}})",
                            RouterError::kUpstreamUnreachable, "connection refused", 1);
  EXPECT_EQ(generate.status, 502);
  EXPECT_EQ(generate.body, golden("tgi_unreachable.json"));
}

TEST(ApiTest, JetStreamHttpErrorsLookLikeFastApis) {
  auto r = router_error_response("/generate", R"({"prompt":"hi","max_tokens":200})",
                                 RouterError::kQueueFull, "queue full", 1);
  EXPECT_EQ(r.body, golden("jetstream_queue_full.json"));
  // A body that is not JSON at all is not TGI's.
  auto broken = router_error_response("/generate", "not json", RouterError::kQueueFull, "full", 1);
  EXPECT_EQ(broken.body, R"({"detail":"full"})");
}

TEST(ApiTest, OtherPathsGetPlainText) {
  auto r =
      router_error_response("/health", "", RouterError::kShuttingDown, "router shutting down", 0);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "router shutting down\n");
  EXPECT_EQ(r.headers.value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(r.headers.contains("Retry-After"));
}

TEST(ApiTest, PromptTokensAreTheBodysWords) {
  // llmscale load sends N words for N prompt tokens; JSON punctuation sticks to the words.
  EXPECT_EQ(estimate_prompt_tokens(R"({"model":"m","prompt":"a b c","max_tokens":5})"), 3u);
  EXPECT_EQ(estimate_prompt_tokens("{\"prompt\":\"one\ttwo\nthree  four\"}"), 4u);
  EXPECT_EQ(estimate_prompt_tokens(""), 1u);  // every request weighs something
  EXPECT_EQ(estimate_prompt_tokens("   "), 1u);
}

TEST(ApiTest, StreamEventsCountTokensButNotDone) {
  EXPECT_EQ(count_stream_events("data: {\"a\":1}\n\ndata: {\"a\":2}\n\n"), 2u);
  EXPECT_EQ(count_stream_events("data:{}\n\n"), 1u);
  EXPECT_EQ(count_stream_events("data: [DONE]\n\n"), 0u);
  EXPECT_EQ(count_stream_events(": keep-alive comment\n\nevent: x\n"), 0u);
  EXPECT_EQ(count_stream_events("{\"text\": \"data: inside\"}"), 0u);  // not at a line start
  EXPECT_EQ(count_stream_events(""), 0u);
}

}  // namespace
}  // namespace llmscale::router
