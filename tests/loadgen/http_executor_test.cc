// HttpExecutor against tiny in-test servers on loopback (net::HttpServer, raw TCP) that answer
// properly or misbehave on purpose: every fault ends as a counted error class, and a whole run
// against a faulty server still ends on time.
#include "loadgen/http_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "loadgen/prompt.h"
#include "loadgen/runner.h"
#include "net/router.h"
#include "net/server.h"
#include "net/tcp.h"

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;

// Runs `task` to completion on `loop` (bounded).
void run(net::EventLoop& loop, net::Awaitable<void> task) {
  auto status = loop.block_on(std::move(task), 20s);
  EXPECT_TRUE(status.has_value()) << status.error().to_string();
}

class HttpExecutorTest : public ::testing::Test {
 protected:
  void serve(net::Router& router) {
    server = std::make_unique<net::HttpServer>(loop, net::ServerOptions{});
    ASSERT_TRUE(server->start(router.handler()).has_value());
  }

  RequestResult execute(HttpTarget target, std::int64_t input_tokens = 8,
                        std::int64_t output_tokens = 5, core::Duration time_left = 10s) {
    net::HttpClient client(loop);
    HttpExecutor executor(client, std::move(target));
    PlannedRequest request;
    request.arrival.input_tokens = input_tokens;
    request.arrival.output_tokens = output_tokens;
    request.arrival.prompt_seed = 3;
    RequestResult result;
    run(loop,
        [](HttpExecutor& e, PlannedRequest& r, core::Duration left,
           RequestResult& out) -> net::Awaitable<void> {
          out = co_await e.execute(r, left);
        }(executor, request, time_left, result));
    return result;
  }

  HttpTarget target(Api api, bool streaming, std::string_view path = "") {
    HttpTarget t;
    t.api.api = api;
    t.api.streaming = streaming;
    t.api.model = "m";
    t.url = server->url(path.empty() ? default_endpoint(api, streaming) : path);
    return t;
  }

  net::EventLoop loop;
  std::unique_ptr<net::HttpServer> server;
  std::string last_body;
  core::SimulatedClock stalled;  // never advanced: handlers waiting on it never answer
};

// An OpenAI chat server streaming `tokens` chunks (a few ms apart), usage, then [DONE].
net::Awaitable<void> stream_chat(net::ServerRequest& request, net::ResponseWriter& writer,
                                 std::string* body, int tokens, bool done) {
  *body = request.body;
  if (!co_await writer.begin_sse()) co_return;
  std::string first = R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})";
  co_await writer.send_data(first);
  for (int i = 0; i < tokens; ++i) {
    co_await net::sleep_for(2ms);
    std::string chunk =
        R"({"choices":[{"index":0,"delta":{"content":" w)" + std::to_string(i) + R"("}}]})";
    if (!co_await writer.send_data(chunk)) co_return;
  }
  if (!done) co_return;  // the server stops mid-stream: chunked end without [DONE]
  std::string usage = R"({"choices":[],"usage":{"prompt_tokens":8,"completion_tokens":)" +
                      std::to_string(tokens) + "}}";
  co_await writer.send_data(usage);
  co_await writer.send_data("[DONE]");
}

TEST_F(HttpExecutorTest, ChatStreamingMeasuresEveryToken) {
  net::Router router;
  router.post("/v1/chat/completions", [&](net::ServerRequest& r, net::ResponseWriter& w) {
    return stream_chat(r, w, &last_body, 5, true);
  });
  serve(router);
  RequestResult result = execute(target(Api::kOpenAiChat, true), 12, 5);
  ASSERT_TRUE(result.ok) << result.error_kind << ": " << result.error_detail;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.output_tokens, 5);
  ASSERT_TRUE(result.ttft.has_value());
  EXPECT_GE(*result.ttft, 2ms);  // the first content chunk, not the role chunk
  ASSERT_EQ(result.token_gaps.size(), 4u);
  for (auto gap : result.token_gaps) EXPECT_GT(gap, 0ns);
  EXPECT_GE(result.e2e, *result.ttft);
  // The body the server received: the prompt has exactly 12 words.
  auto body = nlohmann::json::parse(last_body);
  EXPECT_EQ(body["model"], "m");
  EXPECT_EQ(body["max_tokens"], 5);
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(count_words(body["messages"][0]["content"].get<std::string>()), 12);
}

TEST_F(HttpExecutorTest, ServerStopsMidStream) {
  net::Router router;
  router.post("/v1/chat/completions", [&](net::ServerRequest& r, net::ResponseWriter& w) {
    return stream_chat(r, w, &last_body, 2, false);
  });
  serve(router);
  RequestResult result = execute(target(Api::kOpenAiChat, true));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "incomplete stream");
}

TEST_F(HttpExecutorTest, NonStreamingCompletionsUseUsage) {
  net::Router router;
  router.post("/v1/completions",
              [&](net::ServerRequest& r, net::ResponseWriter& w) -> net::Awaitable<void> {
                last_body = r.body;
                co_await w.send(net::Response::json(
                    200, R"({"choices":[{"text":"a b c"}],"usage":{"completion_tokens":7}})"));
              });
  serve(router);
  RequestResult result = execute(target(Api::kOpenAiCompletions, false));
  ASSERT_TRUE(result.ok) << result.error_kind;
  EXPECT_EQ(result.output_tokens, 7);
  EXPECT_FALSE(result.ttft.has_value());
  EXPECT_TRUE(result.token_gaps.empty());
  EXPECT_GT(result.e2e, 0ns);
}

TEST_F(HttpExecutorTest, StreamingRequestAnsweredWithPlainJson) {
  net::Router router;
  router.post("/v1/completions",
              [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
                co_await w.send(net::Response::json(200, R"({"choices":[{"text":"a b"}]})"));
              });
  serve(router);
  RequestResult result = execute(target(Api::kOpenAiCompletions, true));
  ASSERT_TRUE(result.ok) << result.error_kind;
  EXPECT_EQ(result.output_tokens, 2);
}

TEST_F(HttpExecutorTest, ServerErrorsAreClassifiedByStatus) {
  net::Router router;
  router.post("/v1/chat/completions",
              [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
                co_await w.send(net::Response::json(
                    503, R"({"object":"error","message":"Service Unavailable"})"));
              });
  serve(router);
  RequestResult result = execute(target(Api::kOpenAiChat, true));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "http 503");
  EXPECT_EQ(result.http_status, 503);
  EXPECT_EQ(result.error_detail, R"({"object":"error","message":"Service Unavailable"})");
}

TEST_F(HttpExecutorTest, MalformedJsonAndSse) {
  net::Router router;
  router.post("/generate",
              [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
                co_await w.send(net::Response::json(200, "<html>oops</html>"));
              });
  router.post("/v1/chat/completions",
              [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
                co_await w.begin_sse();
                co_await w.send_data(R"({"choices":[{"delta":{"content":"x"}}]})");
                co_await w.send_data(R"({"choices":)");
              });
  serve(router);
  RequestResult json = execute(target(Api::kJetStream, false));
  EXPECT_EQ(json.error_kind, "malformed json");
  EXPECT_EQ(json.error_detail, "<html>oops</html>");
  RequestResult sse = execute(target(Api::kOpenAiChat, true));
  EXPECT_EQ(sse.error_kind, "malformed json");
}

TEST_F(HttpExecutorTest, TgiAndJetStreamStreams) {
  net::Router router;
  router.post("/generate_stream",
              [&](net::ServerRequest& r, net::ResponseWriter& w) -> net::Awaitable<void> {
                last_body = r.body;
                co_await w.begin_sse();
                for (int i = 1; i <= 3; ++i) {
                  std::string event =
                      R"({"index":)" + std::to_string(i) +
                      R"(,"token":{"id":1,"text":"t","special":false},)" +
                      (i == 3 ? R"("generated_text":"t t t","details":{"generated_tokens":3}})"
                              : R"("generated_text":null,"details":null})");
                  co_await w.send_data(event);
                }
              });
  router.post("/generate",
              [&](net::ServerRequest& r, net::ResponseWriter& w) -> net::Awaitable<void> {
                last_body = r.body;
                net::Headers headers;
                headers.set("Content-Type", "application/json");
                co_await w.begin_stream(200, headers);
                for (int i = 0; i < 4; ++i) {
                  std::string object = "{\n    \"id\": \"generate-" + std::to_string(i) +
                                       "\",\n    \"time_created\": 1.0,\n    \"text\": \" w\"\n}";
                  co_await w.write(object);
                }
              });
  serve(router);
  RequestResult tgi = execute(target(Api::kTgi, true));
  ASSERT_TRUE(tgi.ok) << tgi.error_kind << " " << tgi.error_detail;
  EXPECT_EQ(tgi.output_tokens, 3);
  EXPECT_EQ(tgi.token_gaps.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(last_body)["parameters"]["max_new_tokens"], 5);
  RequestResult jetstream = execute(target(Api::kJetStream, true));
  ASSERT_TRUE(jetstream.ok) << jetstream.error_kind << " " << jetstream.error_detail;
  EXPECT_EQ(jetstream.output_tokens, 4);
  EXPECT_EQ(nlohmann::json::parse(last_body)["stream"], true);
}

// A port nothing listens on: bind one, then close it.
std::uint16_t closed_port(net::EventLoop& loop) {
  auto listener = net::TcpListener::listen(loop);
  EXPECT_TRUE(listener.has_value());
  std::uint16_t port = listener->port();
  listener->close();
  return port;
}

TEST_F(HttpExecutorTest, ConnectionRefused) {
  HttpTarget t;
  t.url = "http://127.0.0.1:" + std::to_string(closed_port(loop)) + "/v1/chat/completions";
  RequestResult result = execute(t);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "connection refused");
  EXPECT_EQ(result.http_status, 0);
}

// Raw TCP peers for faults HttpServer will not commit.
std::uint16_t serve_raw(net::EventLoop& loop,
                        std::function<net::Awaitable<void>(net::TcpStream)> script) {
  auto listener = net::TcpListener::listen(loop);
  EXPECT_TRUE(listener.has_value());
  auto shared = std::make_shared<net::TcpListener>(std::move(*listener));
  std::uint16_t port = shared->port();
  net::spawn(loop,
             [](std::shared_ptr<net::TcpListener> l, decltype(script) s,
                net::EventLoop& lp) -> net::Awaitable<void> {
               while (true) {
                 auto connection = co_await l->accept();
                 if (!connection) co_return;
                 net::spawn(lp, s(std::move(*connection)));
               }
             }(shared, std::move(script), loop));
  return port;
}

const char* kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_F(HttpExecutorTest, ConnectionDroppedMidStream) {
  std::uint16_t port = serve_raw(loop, [](net::TcpStream s) -> net::Awaitable<void> {
    co_await s.read_until("\r\n\r\n", 5s);
    std::string event = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n";
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", event.size());
    co_await s.write(std::string(kSseHead) + size + event + "\r\n");
    s.close();  // no terminating chunk
  });
  HttpTarget t;
  t.api.streaming = true;
  t.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions";
  RequestResult result = execute(t);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_kind, "connection reset");
  EXPECT_EQ(result.http_status, 200);
}

TEST_F(HttpExecutorTest, IdleStreamAndFirstByteTimeouts) {
  std::uint16_t stall = serve_raw(loop, [](net::TcpStream s) -> net::Awaitable<void> {
    co_await s.read_until("\r\n\r\n", 5s);
    co_await s.write(std::string(kSseHead));
    co_await s.read_until_eof(10s);
  });
  std::uint16_t silent = serve_raw(loop, [](net::TcpStream s) -> net::Awaitable<void> {
    co_await s.read_until("\r\n\r\n", 5s);
    co_await s.read_until_eof(10s);
  });
  HttpTarget t;
  t.api.streaming = true;
  t.idle_timeout = 100ms;
  t.url = "http://127.0.0.1:" + std::to_string(stall) + "/v1/chat/completions";
  EXPECT_EQ(execute(t).error_kind, "idle timeout");
  t.first_byte_timeout = 100ms;
  t.url = "http://127.0.0.1:" + std::to_string(silent) + "/v1/chat/completions";
  EXPECT_EQ(execute(t).error_kind, "response head timeout");
  // Without a first-byte timeout the request's time left bounds it.
  t.first_byte_timeout = {};
  RequestResult total = execute(t, 8, 5, 150ms);
  EXPECT_EQ(total.error_kind, "total timeout");
  EXPECT_LT(total.e2e, 2s);
}

// A whole run against a server that fails one request in three and stalls one in five ends on
// time, with every request accounted for.
TEST_F(HttpExecutorTest, RunAgainstAFaultyServerEndsOnTime) {
  std::atomic<int> counter{0};
  net::Router router;
  router.post("/v1/completions",
              [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
                int n = counter++;
                if (n % 5 == 4) {
                  co_await net::sleep_for(stalled, 24h);  // never answers: the deadline cuts it
                } else if (n % 3 == 2) {
                  co_await w.send(net::Response::json(500, R"({"error":"boom"})"));
                } else {
                  co_await w.send(net::Response::json(200, R"({"choices":[{"text":"a b"}]})"));
                }
              });
  serve(router);
  net::HttpClient client(loop);
  HttpExecutor executor(client, target(Api::kOpenAiCompletions, false));
  RunOptions options;
  StageSpec stage;
  stage.workload.kind = WorkloadKind::kOpenLoop;
  stage.workload.rate = 40;
  stage.duration = 500ms;
  stage.drain_timeout = 300ms;
  options.stages.push_back(stage);
  options.abandon_grace = 200ms;
  Runner runner(loop, loop.clock(), executor, options);
  auto started = std::chrono::steady_clock::now();
  runner.start();
  ASSERT_TRUE(loop.run_until([&] { return runner.done(); }, 10s));
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_LT(elapsed, 1.5);  // 0.5 s + 0.3 s drain (+ slack); never the 30 s stall
  auto stages = runner.stages();
  const StageStats& s = stages[0];
  EXPECT_GT(s.succeeded, 0u);
  EXPECT_GT(s.errors.at("http 500"), 0u);
  EXPECT_GT(s.errors.at("total timeout"), 0u);
  EXPECT_EQ(s.measured(), static_cast<std::uint64_t>(counter.load()));
  server->close();
}

TEST(ClassifyTest, NonClientErrorsUseTheCodeName) {
  core::Error error{core::ErrorCode::kInternal, "x"};
  EXPECT_EQ(classify_client_error(error), "internal");
}

}  // namespace
}  // namespace llmscale::loadgen
