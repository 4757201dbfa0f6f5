// The router end to end on loopback: real HttpServer backends (fast, slow, failing, SSE, raw TCP
// peers that misbehave), the Proxy in front, HttpClient as the user. Queue timeouts run on a
// SimulatedClock; streams are gated by the test instead of timed, so nothing sleeps.
#include "router/proxy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "net/client.h"
#include "net/gzip.h"
#include "net/server.h"
#include "net/tcp.h"
#include "net/test_util.h"
#include "router/wait.h"
#include "support/process.h"

namespace llmscale::router {
namespace {

using namespace std::chrono_literals;
using net::Awaitable;
using net::testing::wait_until;

class ProxyTest : public ::testing::Test {
 protected:
  ~ProxyTest() override { proxy.reset(); }

  static ProxyOptions default_options() {
    ProxyOptions o;
    o.balancer.queue_timeout = 30s;
    o.balancer.policy = PolicyKind::kRoundRobin;
    return o;
  }

  void start(ProxyOptions options = default_options()) {
    proxy = std::make_unique<Proxy>(loop, clock, std::move(options));
    ASSERT_OK(proxy->start());
  }

  // A backend server; returns its base URL.
  std::string serve(net::Handler handler) {
    servers.push_back(std::make_unique<net::HttpServer>(loop, net::ServerOptions()));
    auto started = servers.back()->start(std::move(handler));
    EXPECT_TRUE(started.has_value());
    return "http://127.0.0.1:" + std::to_string(servers.back()->port());
  }

  // A raw TCP backend running `script` on each connection; returns its base URL.
  std::string serve_raw(std::function<Awaitable<void>(net::TcpStream)> script) {
    auto listener = net::TcpListener::listen(loop);
    EXPECT_TRUE(listener.has_value());
    auto shared = std::make_shared<net::TcpListener>(std::move(*listener));
    std::uint16_t port = shared->port();
    listeners.push_back(shared);
    net::spawn(
        loop,
        [](std::shared_ptr<net::TcpListener> l, std::function<Awaitable<void>(net::TcpStream)> s,
           net::EventLoop& lp) -> Awaitable<void> {
          while (true) {
            auto connection = co_await l->accept();
            if (!connection) co_return;
            net::spawn(lp, s(std::move(*connection)));
          }
        }(shared, std::move(script), loop));
    return "http://127.0.0.1:" + std::to_string(port);
  }

  // A URL nothing listens on.
  std::string refused_url() {
    auto listener = net::TcpListener::listen(loop);
    EXPECT_TRUE(listener.has_value());
    std::uint16_t port = listener->port();
    listener->close();
    return "http://127.0.0.1:" + std::to_string(port);
  }

  void add(const std::string& id, const std::string& url,
           BackendState state = BackendState::kReady) {
    ASSERT_OK(proxy->balancer().add_backend(id, url, state));
  }

  net::Response call(net::Request request) {
    net::Response out;
    out.status = 0;
    net::testing::run(loop, [&]() -> Awaitable<void> {
      auto response = co_await client.request(std::move(request));
      CO_ASSERT_OK(response);
      out = std::move(*response);
    }());
    return out;
  }

  net::Request completion(std::string body = R"({"prompt":"hi","max_tokens":8})") {
    return net::Request::post(proxy->url("/v1/completions"), std::move(body), "application/json");
  }

  // Spawns a request whose response lands in `out`.
  void spawn_call(net::Request request, std::optional<core::Result<net::Response>>& out) {
    net::spawn(loop,
               [](net::HttpClient& c, net::Request r,
                  std::optional<core::Result<net::Response>>& o) -> Awaitable<void> {
                 o = co_await c.request(std::move(r));
               }(client, std::move(request), out));
  }

  bool run_until(const std::function<bool()>& done) { return loop.run_until(done, 10s); }

  std::string metrics() { return call(net::Request::get(proxy->url("/metrics"))).body; }

  bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos;
  }

  net::EventLoop loop;
  core::SimulatedClock clock;
  std::vector<std::unique_ptr<net::HttpServer>> servers;
  std::vector<std::shared_ptr<net::TcpListener>> listeners;
  std::unique_ptr<Proxy> proxy;
  net::HttpClient client{loop};
};

// An OpenAI-style backend that echoes what it received.
struct Echo {
  std::string method, target, body, forwarded_for, host, authorization;
  bool saw_hop = false;
  int requests = 0;

  net::Handler handler() {
    return [this](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
      ++requests;
      method = r.method;
      target = r.target;
      body = r.body;
      forwarded_for = std::string(r.header("X-Forwarded-For"));
      host = std::string(r.header("Host"));
      authorization = std::string(r.header("Authorization"));
      saw_hop = r.headers.contains("X-Hop");
      net::Response response = net::Response::json(200, R"({"id":"cmpl-1","choices":[]})");
      response.headers.add("X-Model", "llama");
      response.headers.add("Keep-Alive", "timeout=5");
      co_await w.send(std::move(response));
    };
  }
};

TEST_F(ProxyTest, ForwardsACompletionWithProxyHeaders) {
  start();
  Echo echo;
  std::string url = serve(echo.handler());
  add("pod-a", url);
  net::Request request = completion();
  request.url = proxy->url("/v1/completions?trace=1");
  request.headers.add("Authorization", "Bearer t");
  request.headers.add("X-Forwarded-For", "10.0.0.1");
  request.headers.add("Connection", "keep-alive, X-Hop");
  request.headers.add("X-Hop", "1");
  auto response = call(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"id":"cmpl-1","choices":[]})");
  EXPECT_EQ(response.headers.value("Content-Length"), std::to_string(response.body.size()));
  EXPECT_EQ(response.headers.value("X-Model"), "llama");
  EXPECT_EQ(response.headers.value("X-Llmscale-Backend"), "pod-a");
  EXPECT_FALSE(response.headers.contains("Keep-Alive"));
  EXPECT_EQ(echo.method, "POST");
  EXPECT_EQ(echo.target, "/v1/completions?trace=1");
  EXPECT_EQ(echo.body, R"({"prompt":"hi","max_tokens":8})");
  EXPECT_EQ(echo.forwarded_for, "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(echo.host, url.substr(7));  // nginx: Host is the backend's
  EXPECT_EQ(echo.authorization, "Bearer t");
  EXPECT_FALSE(echo.saw_hop);  // named in Connection: hop-by-hop
  ASSERT_TRUE(run_until([&] { return proxy->balancer().in_flight("pod-a").value() == 0; }));
}

TEST_F(ProxyTest, PassesOtherPathsAndMethodsThrough) {
  start();
  Echo echo;
  add("pod-a", serve(echo.handler()));
  auto models = call(net::Request::get(proxy->url("/v1/models")));
  EXPECT_EQ(models.status, 200);
  EXPECT_EQ(echo.method, "GET");
  net::Request del = net::Request::get(proxy->url("/custom/path%2Fx?a=b"));
  del.method = "DELETE";
  EXPECT_EQ(call(del).status, 200);
  EXPECT_EQ(echo.method, "DELETE");
  EXPECT_EQ(echo.target, "/custom/path%2Fx?a=b");  // the raw path is kept
}

// The backend emits token i+1 only after the client has received token i through the router,
// so a router that buffered anything would stall here. Arrival times are recorded per chunk.
TEST_F(ProxyTest, StreamsSseChunkByChunk) {
  start();
  core::SimulatedClock gate;
  std::vector<std::chrono::steady_clock::time_point> sent_at;
  std::string url = serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
    core::Time begin = gate.now();
    co_await w.begin_sse();
    for (int i = 0; i < 5; ++i) {
      sent_at.push_back(std::chrono::steady_clock::now());
      std::string token = R"({"choices":[{"text":"t)" + std::to_string(i) + R"("}]})";
      if (!co_await w.send_data(token)) co_return;
      co_await wait_until(gate, begin + (i + 1) * 1s);
    }
    co_await w.send_data("[DONE]");
  });
  add("pod-a", url);

  std::vector<std::chrono::steady_clock::time_point> received_at;
  std::vector<std::uint64_t> tokens_seen;
  std::string stream_body;
  net::testing::run(loop, [&]() -> Awaitable<void> {
    net::Request request = completion(R"({"prompt":"hi","stream":true})");
    auto stream = co_await client.open(std::move(request));
    CO_ASSERT_OK(stream);
    EXPECT_EQ(stream->status(), 200);
    EXPECT_EQ(stream->headers().value("Content-Type"), "text/event-stream");
    EXPECT_EQ(stream->headers().value("X-Accel-Buffering"), "no");
    EXPECT_EQ(stream->headers().value("Transfer-Encoding"), "chunked");
    while (true) {
      auto chunk = co_await stream->read_chunk();
      CO_ASSERT_OK(chunk);
      if (chunk->data.empty()) break;
      received_at.push_back(chunk->received_at);
      stream_body += chunk->data;
      tokens_seen.push_back(proxy->balancer().backend("pod-a")->in_flight_tokens);
      gate.advance(1s);  // lets the backend produce the next token
    }
  }());
  ASSERT_EQ(received_at.size(), 6u);
  // In-flight tokens: the prompt's one word, then one per event forwarded. ([DONE] adds none;
  // by the time the client reads it the lease may be released already.)
  tokens_seen.pop_back();
  EXPECT_EQ(tokens_seen, (std::vector<std::uint64_t>{2, 3, 4, 5, 6}));
  ASSERT_TRUE(run_until([&] { return proxy->balancer().in_flight("pod-a").value() == 0; }));
  EXPECT_EQ(proxy->balancer().backend("pod-a")->in_flight_tokens, 0u);
  for (std::size_t i = 0; i + 1 < sent_at.size(); ++i) {
    // Token i reached the client before token i+1 existed.
    EXPECT_LT(received_at[i], sent_at[i + 1]) << "chunk " << i;
    EXPECT_GE(received_at[i], sent_at[i]);
  }
  EXPECT_NE(stream_body.find("data: [DONE]\n\n"), std::string::npos);
}

TEST_F(ProxyTest, ClientLeavingMidStreamCancelsTheUpstream) {
  start();
  core::SimulatedClock gate;
  bool upstream_saw_disconnect = false;
  bool upstream_done = false;
  add("pod-a", serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
        w.on_disconnect([&] { upstream_saw_disconnect = true; });
        core::Time begin = gate.now();
        co_await w.begin_sse();
        for (int i = 0;; ++i) {
          if (!co_await w.send_data("token " + std::to_string(i))) break;
          co_await wait_until(gate, begin + (i + 1) * 1s);
          if (!w.client_connected()) break;
        }
        upstream_done = true;
      }));
  net::testing::run(loop, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(completion(R"({"stream":true})"));
    CO_ASSERT_OK(stream);
    for (int i = 0; i < 2; ++i) {
      auto chunk = co_await stream->read_chunk();
      CO_ASSERT_OK(chunk);
      gate.advance(1s);
    }
  }());  // the stream is dropped: the client disconnects
  ASSERT_TRUE(run_until([&] { return upstream_saw_disconnect; }));
  gate.advance(1s);
  ASSERT_TRUE(run_until([&] { return upstream_done; }));
  ASSERT_TRUE(run_until([&] { return proxy->balancer().in_flight("pod-a").value() == 0; }));
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, R"(llmscale_router_errors_total{class="client_disconnect"} 1)"));
  EXPECT_TRUE(has_line(
      text, R"(llmscale_router_requests_total{route="completions",backend="pod-a",code="499"} 1)"));
}

// A non-streaming completion sends no head until generation ends; the client leaving before
// that must still reach the backend (vLLM aborts the request and frees its KV cache).
TEST_F(ProxyTest, ClientLeavingBeforeTheHeadCancelsTheUpstream) {
  start();
  bool upstream_got_request = false;
  bool upstream_saw_disconnect = false;
  core::SimulatedClock gate;
  add("pod-a", serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
        upstream_got_request = true;
        w.on_disconnect([&] { upstream_saw_disconnect = true; });
        co_await wait_until(gate, gate.now() + 1h);  // "generating"
        co_await w.send(net::Response::json(200, "{}"));
      }));
  auto cancel = std::make_shared<net::CancelSignal>();
  net::Request request = completion();
  request.cancel = cancel;
  std::optional<core::Result<net::Response>> response;
  spawn_call(request, response);
  ASSERT_TRUE(run_until([&] { return upstream_got_request; }));
  cancel->cancel();
  ASSERT_TRUE(run_until([&] { return upstream_saw_disconnect && response.has_value(); }));
  EXPECT_EQ(response->error().code, core::ErrorCode::kCancelled);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().in_flight("pod-a").value() == 0; }));
  gate.advance(1h);
}

TEST_F(ProxyTest, ClientLeavingWhileQueuedLeavesTheQueue) {
  start();
  auto cancel = std::make_shared<net::CancelSignal>();
  net::Request request = completion();
  request.cancel = cancel;
  std::optional<core::Result<net::Response>> response;
  spawn_call(request, response);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  cancel->cancel();
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 0; }));
  ASSERT_TRUE(run_until([&] { return response.has_value(); }));
  // A backend arriving later gets nothing.
  Echo echo;
  add("pod-a", serve(echo.handler()));
  EXPECT_TRUE(has_line(metrics(), R"(llmscale_router_errors_total{class="client_disconnect"} 1)"));
  EXPECT_EQ(echo.requests, 0);
}

TEST_F(ProxyTest, RetriesAnotherBackendWhenTheConnectionIsRefused) {
  start();
  Echo echo;
  add("dead", refused_url());
  add("alive", serve(echo.handler()));
  auto response = call(completion());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers.value("X-Llmscale-Backend"), "alive");
  EXPECT_EQ(echo.requests, 1);
  // nginx max_fails=1: the dead backend is out of rotation, so the next requests go straight on.
  EXPECT_TRUE(proxy->balancer().backend("dead")->ejected_until.has_value());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(completion()).status, 200);
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, "llmscale_router_retries_total 1"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_errors_total{class="connect_failure"} 1)"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_ejections_total{backend="dead"} 1)"));
}

TEST_F(ProxyTest, RetriesWhenTheConnectionDiesBeforeAnyResponseByte) {
  start();
  Echo echo;
  int resets = 0;
  add("flaky", serve_raw([&](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        ++resets;
        stream.close();  // took the request, answered nothing
      }));
  add("alive", serve(echo.handler()));
  auto response = call(completion());
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(echo.requests, 1);
  EXPECT_TRUE(has_line(metrics(), R"(llmscale_router_errors_total{class="upstream_reset"} 1)"));
}

// Once the response head has been forwarded, a failing backend is never replayed elsewhere.
TEST_F(ProxyTest, NeverRetriesAfterTheResponseStarted) {
  start();
  Echo echo;
  add("breaks", serve_raw([](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        co_await stream.write(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: "
            "chunked\r\n\r\nf\r\ndata: token 0\n\n\r\n");
        stream.close();
      }));
  add("alive", serve(echo.handler()));
  std::string body;
  bool clean_end = false;
  net::testing::run(loop, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(completion(R"({"stream":true})"));
    CO_ASSERT_OK(stream);
    EXPECT_EQ(stream->status(), 200);
    EXPECT_EQ(stream->headers().value("X-Llmscale-Backend"), "breaks");
    while (true) {
      auto chunk = co_await stream->read_chunk();
      if (!chunk) break;
      if (chunk->data.empty()) {
        clean_end = true;
        break;
      }
      body += chunk->data;
    }
  }());
  EXPECT_EQ(body, "data: token 0\n\n");
  EXPECT_FALSE(clean_end);  // the event stream was not ended as if complete
  EXPECT_EQ(echo.requests, 0);
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, R"(llmscale_router_errors_total{class="upstream_aborted"} 1)"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_upstream_rq_rx_reset_total{backend="breaks"} 1)"));
  EXPECT_TRUE(has_line(text, "llmscale_router_retries_total 0"));
}

// Issue 11 item 3: a backend body cut off or malformed mid-chunk used to end the client's
// response with a clean last chunk (curl exited 0 with a partial body). The client's
// connection is now aborted: no last chunk, and the router counts the reset.
TEST_F(ProxyTest, TruncatedOrMalformedUpstreamBodiesAbortTheClient) {
  start();
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n";
  add("cut", serve_raw([&](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        co_await stream.write(head + "a\r\nwor");  // 10 bytes announced, 3 sent
        stream.close();
      }));
  add("garbled", serve_raw([&](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        co_await stream.write(head + "zz\r\nworld\r\n0\r\n\r\n");  // not a chunk size
        co_await stream.read_until_eof(10s);
      }));
  for (int i = 0; i < 2; ++i) {
    std::string answer;
    net::testing::run(loop, [&]() -> Awaitable<void> {
      auto raw = co_await net::TcpStream::connect("127.0.0.1", proxy->port(), 5s);
      CO_ASSERT_OK(raw);
      CO_ASSERT_OK(co_await raw->write(
          "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
      auto all = co_await raw->read_until_eof(10s);
      CO_ASSERT_OK(all);
      answer = std::move(*all);
    }());
    EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("\r\n0\r\n\r\n"), std::string::npos) << answer;  // no last chunk
  }
  // HttpClient (as curl) reports the failure instead of a short body.
  net::testing::run(loop, [&]() -> Awaitable<void> {
    auto response = co_await client.request(completion());
    EXPECT_FALSE(response.has_value());
  }());
  // Three requests over the two backends (round robin): each counted against its backend.
  std::string text = metrics();
  const std::string cut = R"(llmscale_router_upstream_rq_rx_reset_total{backend="cut"} )";
  const std::string garbled = R"(llmscale_router_upstream_rq_rx_reset_total{backend="garbled"} )";
  EXPECT_TRUE((has_line(text, cut + "2") && has_line(text, garbled + "1")) ||
              (has_line(text, cut + "1") && has_line(text, garbled + "2")))
      << text;
  EXPECT_TRUE(has_line(text, R"(llmscale_router_errors_total{class="upstream_aborted"} 3)"));
}

// A body with a length, read whole before answering, that breaks off: 502, and counted.
TEST_F(ProxyTest, TruncatedBufferedBodyAnswers502) {
  start();
  add("short", serve_raw([](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        co_await stream.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\":");
        stream.close();
      }));
  auto response = call(completion());
  EXPECT_EQ(response.status, 502);
  EXPECT_TRUE(
      has_line(metrics(), R"(llmscale_router_upstream_rq_rx_reset_total{backend="short"} 1)"));
}

// Issue 11 item 2 through the router: a request whose body the router cannot frame is refused
// (400) and the bytes after it never reach a backend as a request of their own.
TEST_F(ProxyTest, SmuggledRequestsNeverReachTheBackend) {
  start();
  Echo echo;
  add("pod-a", serve(echo.handler()));
  for (std::string te : {"identity", "xchunked", "chunked, gzip"}) {
    SCOPED_TRACE(te);
    std::string answer;
    net::testing::run(loop, [&]() -> Awaitable<void> {
      auto raw = co_await net::TcpStream::connect("127.0.0.1", proxy->port(), 5s);
      CO_ASSERT_OK(raw);
      CO_ASSERT_OK(co_await raw->write(
          "POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
          "\r\n\r\nDELETE /admin HTTP/1.1\r\nHost: x\r\n\r\n"));
      auto all = co_await raw->read_until_eof(10s);
      CO_ASSERT_OK(all);
      answer = std::move(*all);
    }());
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << answer;
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << answer;
  }
  EXPECT_EQ(echo.requests, 0);
}

// Responses are framed by the same rules: a backend's Transfer-Encoding that is not plain
// chunked is a bad response (502), never a body read some other way.
TEST_F(ProxyTest, BadlyFramedUpstreamResponsesAnswer502) {
  start();
  add("gzip-te", serve_raw([](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        co_await stream.write(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}");
        co_await stream.read_until_eof(10s);
      }));
  auto response = call(completion());
  EXPECT_EQ(response.status, 502);
  EXPECT_TRUE(has_line(metrics(), R"(llmscale_router_errors_total{class="bad_response"} 1)"));
}

TEST_F(ProxyTest, GivesUpAfterMaxRetriesWith502) {
  ProxyOptions options = default_options();
  options.max_retries = 2;
  options.balancer.max_fails = 0;  // keep the dead backend in rotation
  start(options);
  add("dead", refused_url());
  auto response = call(completion());
  EXPECT_EQ(response.status, 502);
  EXPECT_EQ(response.headers.value("Content-Type"), "application/json");
  EXPECT_NE(response.body.find(R"("type":"BadGatewayError")"), std::string::npos);
  EXPECT_NE(response.body.find("connection refused"), std::string::npos);
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, "llmscale_router_retries_total 2"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_errors_total{class="connect_failure"} 3)"));
  EXPECT_TRUE(has_line(
      text, R"(llmscale_router_requests_total{route="completions",backend="dead",code="502"} 1)"));
}

TEST_F(ProxyTest, UpstreamHeadTimeoutAnswers504) {
  ProxyOptions options = default_options();
  options.upstream_response_timeout = 200ms;
  start(options);
  add("stuck", serve_raw([](net::TcpStream stream) -> Awaitable<void> {
        co_await stream.read_until("\r\n\r\n", 10s);
        co_await stream.read_until_eof(10s);
      }));
  auto response = call(completion());
  EXPECT_EQ(response.status, 504);
  EXPECT_NE(response.body.find("GatewayTimeoutError"), std::string::npos);
  EXPECT_TRUE(has_line(metrics(), R"(llmscale_router_errors_total{class="upstream_timeout"} 1)"));
}

// Scale from zero: requests wait while the only replica cold-starts and all succeed once it is
// ready, in arrival order (one at a time here, so the backend sees the grant order).
TEST_F(ProxyTest, QueuesWhileNoReplicaIsReadyAndReleasesInOrder) {
  ProxyOptions options = default_options();
  options.balancer.max_in_flight_per_backend = 1;
  start(options);
  std::vector<std::string> order;
  add("cold", serve([&](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
        order.push_back(r.body);
        co_await w.send(net::Response::json(200, "{}"));
      }),
      BackendState::kNotReady);
  std::vector<std::optional<core::Result<net::Response>>> responses(5);
  for (int i = 0; i < 5; ++i) {
    spawn_call(completion(std::to_string(i)), responses[i]);
    ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == std::size_t(i) + 1; }));
    clock.advance(1s);
  }
  EXPECT_TRUE(has_line(metrics(), "llmscale_router_queue_length 5"));
  ASSERT_OK(proxy->balancer().set_state("cold", BackendState::kReady));
  ASSERT_TRUE(run_until([&] {
    for (auto& r : responses) {
      if (!r) return false;
    }
    return true;
  }));
  for (auto& r : responses) {
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->status, 200);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, "llmscale_router_queue_wait_seconds_count 5"));
  EXPECT_TRUE(has_line(text, "llmscale_router_queue_wait_seconds_sum 15"));  // 5+4+3+2+1 s
}

TEST_F(ProxyTest, FullQueueAnswers503WithRetryAfter) {
  ProxyOptions options = default_options();
  options.balancer.max_queue = 1;
  options.retry_after_seconds = 3;
  start(options);
  std::optional<core::Result<net::Response>> queued;
  spawn_call(completion(), queued);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  net::Request chat = net::Request::post(proxy->url("/v1/chat/completions"), R"({"messages":[]})",
                                         "application/json");
  auto refused = call(chat);
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers.value("Retry-After"), "3");
  EXPECT_NE(refused.body.find(R"("type":"ServiceUnavailableError")"), std::string::npos);
  EXPECT_NE(refused.body.find("queue full"), std::string::npos);
  EXPECT_TRUE(has_line(
      metrics(),
      R"(llmscale_router_requests_total{route="chat_completions",backend="",code="503"} 1)"));
  clock.advance(30s);
  ASSERT_TRUE(run_until([&] { return queued.has_value(); }));
}

// The queue is bounded by bytes as well as by count: prompts wait there while a replica starts.
TEST_F(ProxyTest, QueueIsBoundedByRequestBytes) {
  ProxyOptions options = default_options();
  options.max_queued_bytes = 100;
  options.retry_after_seconds = 2;
  start(options);
  std::optional<core::Result<net::Response>> first;
  spawn_call(completion(std::string(80, 'a')), first);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  auto refused = call(completion(std::string(40, 'b')));
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.headers.value("Retry-After"), "2");
  EXPECT_NE(refused.body.find("bytes of requests already wait (limit 100)"), std::string::npos)
      << refused.body;
  std::optional<core::Result<net::Response>> small;
  spawn_call(completion(std::string(5, 'c')), small);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 2; }));
  EXPECT_TRUE(has_line(metrics(), R"(llmscale_router_errors_total{class="queue_full"} 1)"));
  clock.advance(60s);  // both time out; their bytes leave the queue with them
  ASSERT_TRUE(run_until([&] { return first.has_value() && small.has_value(); }));
  std::optional<core::Result<net::Response>> again;
  spawn_call(completion(std::string(90, 'd')), again);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  clock.advance(60s);
  ASSERT_TRUE(run_until([&] { return again.has_value(); }));
}

// Scale from zero: a request that has to wait while no replica is ready is the wake-up signal.
TEST_F(ProxyTest, WaitingWithoutAReadyBackendWakesTheOwner) {
  ProxyOptions options = default_options();
  int wakeups = 0;
  options.on_wait_without_ready_backend = [&] { ++wakeups; };
  options.balancer.max_in_flight_per_backend = 1;
  start(options);
  add("cold", serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
        co_await w.send(net::Response::json(200, "{}"));
      }),
      BackendState::kNotReady);
  std::optional<core::Result<net::Response>> first;
  spawn_call(completion("1"), first);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  EXPECT_EQ(wakeups, 1);
  ASSERT_OK(proxy->balancer().set_state("cold", BackendState::kReady));
  ASSERT_TRUE(run_until([&] { return first.has_value(); }));
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->status, 200);
  // With a ready backend nobody is woken.
  auto second = call(completion("2"));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(wakeups, 1);
}

TEST_F(ProxyTest, QueueTimeoutAnswers503) {
  start();
  std::optional<core::Result<net::Response>> response;
  net::Request tgi =
      net::Request::post(proxy->url("/generate"), R"({"inputs":"hi"})", "application/json");
  spawn_call(tgi, response);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  clock.advance(30s);
  ASSERT_TRUE(run_until([&] { return response.has_value(); }));
  ASSERT_TRUE(response->has_value());
  EXPECT_EQ((*response)->status, 503);
  EXPECT_EQ((*response)->headers.value("Retry-After"), "1");
  EXPECT_EQ(
      (*response)->body,
      R"({"error":"queue timeout: no backend could take the request within 30s","error_type":"overloaded"})");
  EXPECT_TRUE(has_line(metrics(), R"(llmscale_router_errors_total{class="queue_timeout"} 1)"));
}

TEST_F(ProxyTest, StopAnswersQueuedRequestsAndFinishesThoseInFlight) {
  start();
  core::SimulatedClock gate;
  bool started = false;
  add("a", serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
        started = true;
        co_await wait_until(gate, gate.now() + 1s);
        co_await w.send(net::Response::json(200, "{}"));
      }),
      BackendState::kReady);
  std::optional<core::Result<net::Response>> in_flight, queued;
  spawn_call(completion(), in_flight);
  ASSERT_TRUE(run_until([&] { return started; }));
  ASSERT_OK(proxy->balancer().set_state("a", BackendState::kNotReady));
  spawn_call(completion(), queued);
  ASSERT_TRUE(run_until([&] { return proxy->balancer().queue_length() == 1; }));
  bool stopped = false;
  net::spawn(loop, [](Proxy& p, bool& done) -> Awaitable<void> {
    co_await p.stop(10s);
    done = true;
  }(*proxy, stopped));
  ASSERT_TRUE(run_until([&] { return queued.has_value(); }));
  ASSERT_TRUE(queued->has_value());
  EXPECT_EQ((*queued)->status, 503);
  EXPECT_NE((*queued)->body.find("router shutting down"), std::string::npos);
  EXPECT_FALSE(in_flight.has_value());
  gate.advance(1s);
  ASSERT_TRUE(run_until([&] { return stopped && in_flight.has_value(); }));
  ASSERT_TRUE(in_flight->has_value());
  EXPECT_EQ((*in_flight)->status, 200);
}

// Scale-down: the draining replica gets no new request and finishes the one it has.
TEST_F(ProxyTest, DrainingWaitsForRequestsInFlight) {
  start();
  core::SimulatedClock gate;
  bool slow_started = false;
  add("old", serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
        slow_started = true;
        co_await wait_until(gate, gate.now() + 5s);
        co_await w.send(net::Response::json(200, R"({"from":"old"})"));
      }));
  Echo echo;
  add("new", serve(echo.handler()));
  std::optional<core::Result<net::Response>> slow;
  spawn_call(completion(), slow);  // round-robin: "old" first
  ASSERT_TRUE(run_until([&] { return slow_started; }));
  ASSERT_OK(proxy->balancer().set_state("old", BackendState::kDraining));
  std::optional<core::Result<bool>> drained;
  net::spawn(
      loop,
      [](Balancer& b, core::Clock& c, std::optional<core::Result<bool>>& out) -> Awaitable<void> {
        out = co_await wait_drained(b, c, "old", 1min);
      }(proxy->balancer(), clock, drained));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(call(completion()).headers.value("X-Llmscale-Backend"), "new");
  }
  EXPECT_FALSE(drained.has_value());
  EXPECT_EQ(proxy->balancer().in_flight("old").value(), 1u);
  gate.advance(5s);
  ASSERT_TRUE(run_until([&] { return drained.has_value() && slow.has_value(); }));
  EXPECT_TRUE(drained->value());
  EXPECT_EQ((*slow)->body, R"({"from":"old"})");
  ASSERT_OK(proxy->balancer().remove_backend("old"));
}

// What `llmscale up` does as the HPA scales, all on the proxy's loop thread and without
// restarting the proxy: scale from zero (a queued request waits for the first replica's
// readiness), a second replica joins, the first drains while it streams (new requests avoid
// it; a notification when its stream ends), is removed and its idle connections closed, a new
// replica reuses its name, and a replica whose probe fails leaves the rotation.
TEST_F(ProxyTest, ReplicaLifecycleWithoutRestartingTheProxy) {
  start();
  core::SimulatedClock gate;
  bool streaming = false;
  auto replica = [&](std::string name) -> net::Handler {
    return [&, name](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
      if (r.body.find("\"stream\":true") == std::string::npos) {
        co_await w.send(net::Response::json(200, R"({"from":")" + name + R"("})"));
        co_return;
      }
      co_await w.begin_sse();
      if (!co_await w.send_data(R"({"text":"t0"})")) co_return;
      streaming = true;
      co_await wait_until(gate, gate.now() + 1s);
      co_await w.send_data("[DONE]");
    };
  };
  auto backend_of = [&](net::Request request) {
    return std::string(call(std::move(request)).headers.value("X-Llmscale-Backend"));
  };
  Balancer& b = proxy->balancer();

  // Scale from zero: the request waits while the pod starts, is sent once its probe passes.
  std::optional<core::Result<net::Response>> first;
  spawn_call(completion(), first);
  ASSERT_TRUE(run_until([&] { return b.queue_length() == 1; }));
  ASSERT_OK(b.add_backend("pod-a", serve(replica("a"))));  // Pending: not ready
  EXPECT_EQ(b.queue_length(), 1u);
  ASSERT_OK(b.set_state("pod-a", BackendState::kReady));
  ASSERT_TRUE(run_until([&] { return first.has_value(); }));
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->body, R"({"from":"a"})");

  // pod-a streams; pod-b starts and becomes ready meanwhile.
  std::string stream_body;
  bool stream_done = false;
  net::spawn(
      loop,
      [](net::HttpClient& c, net::Request r, std::string& body, bool& done) -> Awaitable<void> {
        auto stream = co_await c.open(std::move(r));
        CO_ASSERT_OK(stream);
        while (true) {
          auto chunk = co_await stream->read_chunk();
          CO_ASSERT_OK(chunk);
          if (chunk->data.empty()) break;
          body += chunk->data;
        }
        done = true;
      }(client, completion(R"({"prompt":"hi","stream":true})"), stream_body, stream_done));
  ASSERT_TRUE(run_until([&] { return streaming; }));
  ASSERT_OK(b.add_backend("pod-b", serve(replica("b"))));
  ASSERT_OK(b.set_state("pod-b", BackendState::kReady));

  // Scale down pod-a: no new requests; notified when its stream has ended.
  ASSERT_OK(b.set_state("pod-a", BackendState::kDraining));
  int drained = 0;
  auto watch = b.on_drained("pod-a", [&] { ++drained; });
  ASSERT_OK(watch);
  EXPECT_NE(*watch, 0u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(backend_of(completion()), "pod-b");
  EXPECT_EQ(b.backend("pod-a")->state, BackendState::kDraining);
  EXPECT_EQ(b.backend("pod-a")->in_flight, 1u);
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, R"(llmscale_router_backends{state="draining"} 1)"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_backend_in_flight{backend="pod-a"} 1)"));
  EXPECT_EQ(drained, 0);
  gate.advance(1s);
  ASSERT_TRUE(run_until([&] { return drained == 1 && stream_done; }));
  EXPECT_NE(stream_body.find("data: [DONE]"), std::string::npos);
  ASSERT_OK(b.remove_backend("pod-a"));
  EXPECT_EQ(b.remove_backend("pod-a").error().code, core::ErrorCode::kNotFound);
  proxy->close_idle_connections();
  EXPECT_EQ(proxy->idle_upstream_connections(), 0u);
  // Its in-flight gauge goes away; its counters stay (requests it answered still count).
  text = metrics();
  EXPECT_EQ(text.find(R"(backend_in_flight{backend="pod-a"})"), std::string::npos);
  EXPECT_NE(text.find(R"(requests_total{route="completions",backend="pod-a",code="200"} 2)"),
            std::string::npos);

  // Scale up again: a new pod under the same name (a new record: its counts start at zero).
  ASSERT_OK(b.add_backend("pod-a", serve(replica("a2")), BackendState::kNotReady));
  EXPECT_EQ(b.backend("pod-a")->requests, 0u);
  ASSERT_OK(b.set_state("pod-a", BackendState::kReady));
  std::map<std::string, int> picks;
  for (int i = 0; i < 4; ++i) ++picks[backend_of(completion())];
  EXPECT_EQ(picks["pod-a"], 2);
  EXPECT_EQ(picks["pod-b"], 2);

  // pod-b's probe fails: it leaves the rotation, then is removed with nothing in flight (the
  // drain notification runs at once).
  ASSERT_OK(b.set_state("pod-b", BackendState::kNotReady));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(call(completion()).body, R"({"from":"a2"})");
  ASSERT_OK(b.set_state("pod-b", BackendState::kDraining));
  EXPECT_EQ(b.on_drained("pod-b", [&] { ++drained; }).value(), 0u);
  EXPECT_EQ(drained, 2);
  ASSERT_OK(b.remove_backend("pod-b"));
  ASSERT_EQ(b.backends().size(), 1u);
  EXPECT_EQ(b.stats().queue_length, 0u);
  EXPECT_EQ(b.in_flight("pod-a").value(), 0u);
}

TEST_F(ProxyTest, LeastOutstandingAvoidsTheBusyReplica) {
  ProxyOptions options = default_options();
  options.balancer.policy = PolicyKind::kLeastOutstanding;
  start(options);
  core::SimulatedClock gate;
  bool busy = false;
  add("a", serve([&](net::ServerRequest&, net::ResponseWriter& w) -> Awaitable<void> {
        busy = true;
        co_await wait_until(gate, gate.now() + 1s);
        co_await w.send(net::Response::json(200, "{}"));
      }));
  Echo echo;
  add("b", serve(echo.handler()));
  std::optional<core::Result<net::Response>> held;
  spawn_call(completion(), held);
  ASSERT_TRUE(run_until([&] { return busy; }));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(call(completion()).headers.value("X-Llmscale-Backend"), "b");
  }
  gate.advance(1s);
  ASSERT_TRUE(run_until([&] { return held.has_value(); }));
}

TEST_F(ProxyTest, StreamsLargeBodiesAndKeepsSmallOnesWhole) {
  ProxyOptions options = default_options();
  options.buffer_limit = 1000;
  start(options);
  std::string large(300 * 1000, 'x');
  for (std::size_t i = 0; i < large.size(); i += 97) large[i] = char('a' + i % 26);
  add("a", serve([&](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
        net::Response response =
            net::Response::text(200, r.path == "/large" ? large : std::string(999, 's'));
        co_await w.send(std::move(response));
      }));
  auto big = call(net::Request::get(proxy->url("/large")));
  EXPECT_EQ(big.body, large);
  EXPECT_EQ(big.headers.value("Transfer-Encoding"), "chunked");
  auto small = call(net::Request::get(proxy->url("/small")));
  EXPECT_EQ(small.body.size(), 999u);
  EXPECT_EQ(small.headers.value("Content-Length"), "999");
}

TEST_F(ProxyTest, EncodedBodiesPassThroughUntouched) {
  start();
  std::string plain = R"({"object":"list","data":[{"id":"llama"}]})";
  std::string gz = net::gzip_compress(plain);
  std::string accept_encoding;
  add("a", serve([&](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
        accept_encoding = std::string(r.header("Accept-Encoding"));
        net::Response response;
        response.headers.set("Content-Type", "application/json");
        response.headers.set("Content-Encoding", "gzip");
        response.body = gz;
        co_await w.send(std::move(response));
      }));
  net::ClientOptions raw;
  raw.decode_gzip = false;
  net::HttpClient raw_client(loop, raw);
  net::Request request = net::Request::get(proxy->url("/v1/models"));
  request.headers.add("Accept-Encoding", "gzip");
  std::optional<net::Response> response;
  net::testing::run(loop, [&]() -> Awaitable<void> {
    auto r = co_await raw_client.request(request);
    CO_ASSERT_OK(r);
    response = std::move(*r);
  }());
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(accept_encoding, "gzip");
  EXPECT_EQ(response->headers.value("Content-Encoding"), "gzip");
  EXPECT_EQ(response->body, gz);
}

TEST_F(ProxyTest, TgiAndJetStreamRoutesPassThrough) {
  start();
  add("tgi", serve([](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
        if (r.path == "/generate_stream") {
          co_await w.begin_sse();
          net::SseEvent token{"", R"({"token":{"id":1,"text":"hi"}})", "", {}};
          co_await w.send_event(token);
          co_return;
        }
        co_await w.send(net::Response::json(200, R"({"response":"hi"})"));
      }));
  auto jetstream = call(net::Request::post(
      proxy->url("/generate"), R"({"prompt":"hi","max_tokens":200})", "application/json"));
  EXPECT_EQ(jetstream.body, R"({"response":"hi"})");
  auto tgi = call(
      net::Request::post(proxy->url("/generate_stream"), R"({"inputs":"hi"})", "application/json"));
  EXPECT_EQ(tgi.headers.value("Content-Type"), "text/event-stream");
  EXPECT_EQ(tgi.body, "data: {\"token\":{\"id\":1,\"text\":\"hi\"}}\n\n");
  std::string text = metrics();
  EXPECT_TRUE(has_line(
      text, R"(llmscale_router_requests_total{route="generate",backend="tgi",code="200"} 1)"));
  EXPECT_TRUE(has_line(
      text,
      R"(llmscale_router_requests_total{route="generate_stream",backend="tgi",code="200"} 1)"));
}

TEST_F(ProxyTest, MetricsDescribeTheBackendSet) {
  start();
  Echo echo;
  add("a", serve(echo.handler()));
  add("b", refused_url(), BackendState::kNotReady);
  add("c", refused_url(), BackendState::kDraining);
  EXPECT_EQ(call(completion()).status, 200);
  std::string text = metrics();
  EXPECT_TRUE(has_line(text, R"(llmscale_router_backends{state="ready"} 1)"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_backends{state="not-ready"} 1)"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_backends{state="draining"} 1)"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_backend_in_flight{backend="a"} 0)"));
  EXPECT_TRUE(has_line(text, "llmscale_router_queue_limit 1024"));
  EXPECT_TRUE(has_line(text, R"(llmscale_router_upstream_latency_seconds_count{backend="a"} 1)"));
  EXPECT_TRUE(
      has_line(text, R"(llmscale_router_request_duration_seconds_count{route="completions"} 1)"));
  // A removed backend's gauge goes away.
  ASSERT_OK(proxy->balancer().remove_backend("c"));
  EXPECT_EQ(metrics().find(R"(backend_in_flight{backend="c"})"), std::string::npos);
  // The exposition passes the real parser's lint.
  if (llmscale::testing::program_on_path("promtool")) {
    auto checked = llmscale::testing::run_process({"promtool", "check", "metrics"}, text, 30s);
    EXPECT_EQ(checked.exit_code, 0) << checked.output;
  }
}

// Several loop threads, many concurrent streaming and plain requests: all answered, counts
// return to zero.
TEST(ProxyThreadsTest, ManyConcurrentRequestsOnAMultiThreadedLoop) {
  net::EventLoop loop(4);
  core::SimulatedClock clock;  // no queueing here: its timers are never used
  std::vector<std::unique_ptr<net::HttpServer>> servers;
  ProxyOptions options;
  auto proxy = std::make_unique<Proxy>(loop, clock, options);
  ASSERT_OK(proxy->start());
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<net::HttpServer>(loop, net::ServerOptions()));
    ASSERT_OK(
        servers.back()->start([](net::ServerRequest& r, net::ResponseWriter& w) -> Awaitable<void> {
          if (r.body.find("stream") != std::string::npos) {
            co_await w.begin_sse();
            for (int t = 0; t < 5; ++t) co_await w.send_data("token");
            co_await w.send_data("[DONE]");
            co_return;
          }
          co_await w.send(net::Response::json(200, "{}"));
        }));
    ASSERT_OK(proxy->balancer().add_backend(
        "p" + std::to_string(i), "http://127.0.0.1:" + std::to_string(servers.back()->port()),
        BackendState::kReady));
  }
  loop.start();
  net::HttpClient client(loop);
  std::atomic<int> ok = 0;
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0;
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    net::Request request = net::Request::post(
        proxy->url("/v1/completions"), i % 2 ? R"({"stream":true})" : "{}", "application/json");
    net::spawn(loop,
               [](net::HttpClient& c, net::Request r, std::atomic<int>& ok_count, std::mutex& m,
                  std::condition_variable& cv, int& done_count) -> Awaitable<void> {
                 auto response = co_await c.request(std::move(r));
                 if (response && response->status == 200) ++ok_count;
                 std::lock_guard lock(m);
                 ++done_count;
                 cv.notify_all();
               }(client, std::move(request), ok, mutex, all_done, done));
  }
  {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(all_done.wait_for(lock, 20s, [&] { return done == n; }));
  }
  EXPECT_EQ(ok.load(), n);
  // A handler may still be finishing after its client got the last byte: wait for the drain.
  int drained = 0;
  for (const auto& b : proxy->balancer().backends()) {
    ASSERT_OK(proxy->balancer().on_drained(b.id, [&] {
      std::lock_guard lock(mutex);
      ++drained;
      all_done.notify_all();
    }));
  }
  {
    std::unique_lock lock(mutex);
    EXPECT_TRUE(all_done.wait_for(lock, 20s, [&] { return drained == 3; }));
  }
  loop.stop();
  loop.join();
}

}  // namespace
}  // namespace llmscale::router
