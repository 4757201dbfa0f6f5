// HttpClient against misbehaving raw TCP peers and HttpServer: error classification, the four
// timeouts, limits, gzip, pooling (per-host cap, stale keep-alive retry), cancellation.
#include "net/client.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/gzip.h"
#include "net/server.h"
#include "net/tcp.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;
using testing::ms_since;
using testing::run;

using Script = std::function<Awaitable<void>(TcpStream)>;

// A raw TCP peer: runs `script` on every accepted connection. Returns the port.
std::uint16_t serve_raw(EventLoop& loop, Script script) {
  auto listener = TcpListener::listen(loop);
  EXPECT_TRUE(listener.has_value());
  auto shared = std::make_shared<TcpListener>(std::move(*listener));
  std::uint16_t port = shared->port();
  spawn(loop, [](std::shared_ptr<TcpListener> l, Script s, EventLoop& lp) -> Awaitable<void> {
    while (true) {
      auto connection = co_await l->accept();
      if (!connection) co_return;
      spawn(lp, s(std::move(*connection)));
    }
  }(shared, std::move(script), loop));
  return port;
}

std::string local(std::uint16_t port, std::string_view path = "/") {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

// Reads the request head, then keeps the connection open without answering until the client
// leaves.
Awaitable<void> never_answer(TcpStream stream) {
  co_await stream.read_until("\r\n\r\n", 30s);
  co_await stream.read_until_eof(30s);
}

Awaitable<void> answer_then_stall(TcpStream stream) {
  co_await stream.read_until("\r\n\r\n", 30s);
  co_await stream.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  co_await stream.read_until_eof(30s);
}

// Sends a fixed byte string as the response, then closes.
Script reply_with(std::string bytes) {
  return [bytes](TcpStream stream) -> Awaitable<void> {
    co_await stream.read_until("\r\n\r\n", 30s);
    co_await stream.write(bytes);
    stream.close();
  };
}

struct Failure {
  std::string kind;
  core::ErrorCode code = core::ErrorCode::kInternal;
  std::string message;
  double elapsed_ms = 0;
};

Failure expect_failure(EventLoop& loop, HttpClient& client, Request request) {
  Failure failure;
  run(loop, [&]() -> Awaitable<void> {
    auto started = std::chrono::steady_clock::now();
    auto response = co_await client.request(std::move(request));
    failure.elapsed_ms = ms_since(started);
    CO_ASSERT_TRUE(!response.has_value());
    failure.kind = std::string(client_error_kind(response.error()));
    failure.code = response.error().code;
    failure.message = response.error().message;
  }());
  return failure;
}

TEST(ClientTest, ConnectionRefused) {
  EventLoop loop;
  std::uint16_t port;
  {
    auto listener = TcpListener::listen(loop);
    ASSERT_OK(listener);
    port = listener->port();
  }
  HttpClient client(loop);
  auto failure = expect_failure(loop, client, Request::get(local(port, "/metrics")));
  EXPECT_EQ(failure.kind, "connection refused");
  EXPECT_EQ(failure.code, core::ErrorCode::kUnavailable);
  EXPECT_EQ(failure.message, "connection refused: GET " + local(port, "/metrics") +
                                 ": connect 127.0.0.1:" + std::to_string(port));
}

TEST(ClientTest, DnsFailure) {
  EventLoop loop;
  HttpClient client(loop);
  auto failure = expect_failure(loop, client, Request::get("http://no-such-host.invalid/"));
  EXPECT_EQ(failure.kind, "dns");
  EXPECT_EQ(failure.code, core::ErrorCode::kUnavailable);
}

TEST(ClientTest, ConnectTimeout) {
  // A listener with a full accept queue drops further SYNs, so connecting hangs.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 0), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  std::uint16_t port = ntohs(address.sin_port);

  EventLoop loop;
  ClientOptions options;
  options.connect_timeout = 200ms;
  options.max_connections_per_host = 0;
  HttpClient client(loop, options);
  std::vector<Failure> failures;
  for (int i = 0; i < 3; ++i) {
    // The first connection fits in the accept queue (and then gets no answer).
    Request request = Request::post(local(port), "");
    request.response_head_timeout = 200ms;
    failures.push_back(expect_failure(loop, client, request));
    if (failures.back().kind == "connect timeout") break;
  }
  ::close(fd);
  ASSERT_EQ(failures.back().kind, "connect timeout") << failures.back().message;
  EXPECT_EQ(failures.back().code, core::ErrorCode::kDeadlineExceeded);
  EXPECT_GE(failures.back().elapsed_ms, 190);
  EXPECT_LT(failures.back().elapsed_ms, 2000);
}

TEST(ClientTest, ResponseHeadTimeout) {
  EventLoop loop;
  std::uint16_t port = serve_raw(loop, never_answer);
  HttpClient client(loop);
  Request request = Request::get(local(port));
  request.response_head_timeout = 200ms;
  auto failure = expect_failure(loop, client, request);
  EXPECT_EQ(failure.kind, "response head timeout");
  EXPECT_EQ(failure.code, core::ErrorCode::kDeadlineExceeded);
  EXPECT_GE(failure.elapsed_ms, 190);
  EXPECT_LT(failure.elapsed_ms, 2000);
}

TEST(ClientTest, IdleTimeoutWhenTheServerStallsMidStream) {
  EventLoop loop;
  std::uint16_t port = serve_raw(loop, answer_then_stall);
  ClientOptions options;
  options.idle_timeout = 200ms;
  HttpClient client(loop, options);
  run(loop, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(Request::get(local(port)));
    CO_ASSERT_OK(stream);
    auto first = co_await stream->read_chunk();
    CO_ASSERT_OK(first);
    EXPECT_EQ(first->data, "hello");
    auto started = std::chrono::steady_clock::now();
    auto stalled = co_await stream->read_chunk();
    CO_ASSERT_TRUE(!stalled.has_value());
    EXPECT_EQ(client_error_kind(stalled.error()), "idle timeout");
    EXPECT_GE(ms_since(started), 190);
    EXPECT_LT(ms_since(started), 2000);
  }());
  auto failure = expect_failure(loop, client, Request::get(local(port)));
  EXPECT_EQ(failure.kind, "idle timeout");
}

TEST(ClientTest, TotalTimeout) {
  EventLoop loop;
  std::uint16_t port = serve_raw(loop, answer_then_stall);
  HttpClient client(loop);
  Request request = Request::get(local(port));
  request.total_timeout = 300ms;
  auto failure = expect_failure(loop, client, request);
  EXPECT_EQ(failure.kind, "total timeout");
  EXPECT_EQ(failure.code, core::ErrorCode::kDeadlineExceeded);
  EXPECT_GE(failure.elapsed_ms, 290);
  EXPECT_LT(failure.elapsed_ms, 2000);
}

TEST(ClientTest, MalformedResponses) {
  EventLoop loop;
  HttpClient client(loop);
  for (const char* bytes :
       {"garbage\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 000 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nX: y"}) {
    std::uint16_t port = serve_raw(loop, reply_with(bytes));
    auto failure = expect_failure(loop, client, Request::get(local(port)));
    EXPECT_EQ(failure.kind, "malformed response") << bytes << " -> " << failure.message;
    EXPECT_EQ(failure.code, core::ErrorCode::kUnavailable);
  }
}

TEST(ClientTest, ResetMidBody) {
  EventLoop loop;
  std::uint16_t port =
      serve_raw(loop, reply_with("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"));
  HttpClient client(loop);
  auto failure = expect_failure(loop, client, Request::get(local(port)));
  EXPECT_EQ(failure.kind, "connection reset");
}

TEST(ClientTest, CloseDelimitedBodyAndInterimResponses) {
  EventLoop loop;
  std::uint16_t close_delimited = serve_raw(loop, reply_with("HTTP/1.1 200 OK\r\n\r\nhello"));
  std::uint16_t interim =
      serve_raw(loop, reply_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                                 "Content-Length: 2\r\n\r\nok"));
  HttpClient client(loop);
  run(loop, [&]() -> Awaitable<void> {
    auto a = co_await client.request(Request::get(local(close_delimited)));
    CO_ASSERT_OK(a);
    EXPECT_EQ(a->body, "hello");
    auto b = co_await client.request(Request::get(local(interim)));
    CO_ASSERT_OK(b);
    EXPECT_EQ(b->status, 201);
    EXPECT_EQ(b->body, "ok");
  }());
}

TEST(ClientTest, InvalidRequests) {
  EventLoop loop;
  HttpClient client(loop);
  EXPECT_EQ(expect_failure(loop, client, Request::get("ftp://x/")).kind, "invalid request");
  Request injected = Request::get("http://127.0.0.1:1/");
  injected.headers.add("X-Bad", "a\r\nInjected: yes");
  auto failure = expect_failure(loop, client, injected);
  EXPECT_EQ(failure.kind, "invalid request");
  EXPECT_EQ(failure.code, core::ErrorCode::kInvalidArgument);
}

class ClientServerTest : public ::testing::Test {
 protected:
  void start(Handler handler, ServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(loop_, std::move(options));
    ASSERT_OK(server_->start(std::move(handler)));
  }
  EventLoop loop_;
  core::SimulatedClock gate_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ClientServerTest, BodyLimits) {
  start([](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    if (request.path == "/bomb") {
      Response response = Response::text(200, gzip_compress(std::string(10 << 20, '\0')));
      response.headers.add("Content-Encoding", "gzip");
      co_await writer.send(std::move(response));
      co_return;
    }
    co_await writer.send(Response::text(200, std::string(1 << 20, 'x')));
  });
  ClientOptions options;
  options.max_body_bytes = 1000;
  HttpClient client(loop_, options);
  auto failure = expect_failure(loop_, client, Request::get(server_->url("/big")));
  EXPECT_EQ(failure.kind, "response too large");
  EXPECT_EQ(failure.code, core::ErrorCode::kResourceExhausted);

  Request bomb = Request::get(server_->url("/bomb"));
  bomb.headers.add("Accept-Encoding", "gzip");
  bomb.max_body_bytes = 1 << 20;
  auto bomb_failure = expect_failure(loop_, client, bomb);
  EXPECT_EQ(bomb_failure.kind, "response too large");
  EXPECT_EQ(bomb_failure.code, core::ErrorCode::kResourceExhausted);
}

TEST_F(ClientServerTest, GzipIsDecodedWhenAskedFor) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "vllm:num_requests_waiting{model=\"m\"} " + std::to_string(i) + "\n";
  start([&](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    Response response = Response::text(200, text);
    if (request.headers.has_token("Accept-Encoding", "gzip")) {
      response.body = gzip_compress(text);
      response.headers.add("Content-Encoding", "gzip");
    }
    co_await writer.send(std::move(response));
  });
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    Request gzipped = Request::get(server_->url("/metrics"));
    gzipped.headers.add("Accept-Encoding", "gzip");
    auto decoded = co_await client.request(gzipped);
    CO_ASSERT_OK(decoded);
    EXPECT_EQ(decoded->body, text);
    EXPECT_FALSE(decoded->headers.contains("Content-Encoding"));
    auto plain = co_await client.request(Request::get(server_->url("/metrics")));
    CO_ASSERT_OK(plain);
    EXPECT_EQ(plain->body, text);
  }());
}

TEST_F(ClientServerTest, PerHostCapQueuesRequests) {
  start([](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    co_await writer.send(Response::text(200, request.raw_query));
  });
  ClientOptions options;
  options.max_connections_per_host = 2;
  HttpClient client(loop_, options);
  int ok = 0;
  int finished = 0;
  for (int i = 0; i < 50; ++i) {
    spawn(loop_,
          [](HttpClient& c, std::string target, std::string expected, int& ok_count,
             int& done) -> Awaitable<void> {
            auto r = co_await c.request(Request::get(target));
            if (r && r->body == expected) ++ok_count;
            ++done;
          }(client, server_->url("/q?i=" + std::to_string(i)), "i=" + std::to_string(i), ok,
                        finished));
  }
  ASSERT_TRUE(loop_.run_until([&] { return finished == 50; }, 20s));
  EXPECT_EQ(ok, 50);
  EXPECT_EQ(client.stats().connections_opened, 2u);
  EXPECT_EQ(server_->stats().connections_accepted, 2u);
}

TEST_F(ClientServerTest, WaitingForAConnectionCountsTowardsTheTotalTimeout) {
  bool busy = false;
  start([&](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    busy = true;
    co_await sleep_for(gate_, 1s);
    co_await writer.send(Response::text(200, "late"));
  });
  ClientOptions options;
  options.max_connections_per_host = 1;
  HttpClient client(loop_, options);
  std::optional<core::Result<Response>> first;
  spawn(loop_,
        [](HttpClient& c, std::string target,
           std::optional<core::Result<Response>>& out) -> Awaitable<void> {
          out = co_await c.request(Request::get(target));
        }(client, server_->url("/a"), first));
  ASSERT_TRUE(loop_.run_until([&] { return busy; }, 10s));
  Request second = Request::get(server_->url("/b"));
  second.total_timeout = 200ms;
  auto failure = expect_failure(loop_, client, second);
  EXPECT_EQ(failure.kind, "total timeout");
  EXPECT_NE(failure.message.find("waiting for a connection"), std::string::npos);
  gate_.advance(1s);
  ASSERT_TRUE(loop_.run_until([&] { return first.has_value(); }, 10s));
  EXPECT_TRUE(first->has_value());
}

TEST_F(ClientServerTest, ServerClosedIdleConnectionIsNotReused) {
  ServerOptions options;
  options.idle_timeout = 100ms;
  start(
      [](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
        co_await writer.send(Response::text(200, "ok"));
      },
      options);
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    CO_ASSERT_OK(co_await client.request(Request::get(server_->url("/1"))));
  }());
  ASSERT_TRUE(loop_.run_until([&] { return server_->stats().idle_timeouts == 1; }, 10s));
  run(loop_, [&]() -> Awaitable<void> {
    auto again = co_await client.request(Request::get(server_->url("/2")));
    CO_ASSERT_OK(again);
    EXPECT_EQ(again->body, "ok");
  }());
  EXPECT_EQ(client.stats().connections_opened, 2u);
}

TEST(ClientTest, RetriesOnceWhenAReusedConnectionDiesBeforeAnswering) {
  // Each connection answers its first request and drops the second unanswered, which is what
  // a keep-alive connection closed by the server at the wrong moment looks like.
  EventLoop loop;
  std::uint16_t port = serve_raw(loop, [](TcpStream stream) -> Awaitable<void> {
    co_await stream.read_until("\r\n\r\n", 30s);
    co_await stream.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
    co_await stream.read_until("\r\n\r\n", 30s);
    stream.close();
  });
  HttpClient client(loop);
  run(loop, [&]() -> Awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      auto r = co_await client.request(Request::get(local(port)));
      CO_ASSERT_OK(r);
      EXPECT_EQ(r->body, "first");
    }
    // POST is not idempotent: no retry.
    auto post = co_await client.request(Request::post(local(port), ""));
    CO_ASSERT_TRUE(!post.has_value());
    EXPECT_EQ(client_error_kind(post.error()), "connection reset");
  }());
  EXPECT_EQ(client.stats().retries, 1u);
  EXPECT_EQ(client.stats().connections_opened, 2u);
}

TEST(ClientTest, CancelAbortsAPendingRead) {
  EventLoop loop;
  std::uint16_t port = serve_raw(loop, answer_then_stall);
  HttpClient client(loop);
  std::optional<ClientStream> stream;
  run(loop, [&]() -> Awaitable<void> {
    auto opened = co_await client.open(Request::get(local(port)));
    CO_ASSERT_OK(opened);
    stream = std::move(*opened);
    auto first = co_await stream->read_chunk();
    CO_ASSERT_OK(first);
  }());
  std::optional<core::Result<BodyChunk>> pending;
  spawn(loop, [](ClientStream& s, std::optional<core::Result<BodyChunk>>& out) -> Awaitable<void> {
    out = co_await s.read_chunk();
  }(*stream, pending));
  loop.post([&] { stream->cancel(); });
  ASSERT_TRUE(loop.run_until([&] { return pending.has_value(); }, 10s));
  ASSERT_FALSE(pending->has_value());
  EXPECT_EQ(pending->error().code, core::ErrorCode::kCancelled);
  EXPECT_EQ(client_error_kind(pending->error()), "cancelled");
}

// The peer sees the connection close while it still holds the request: what a proxy needs when
// its own client leaves during a long non-streaming generation.
TEST(ClientTest, CancelSignalAbortsAnExchangeWaitingForTheHead) {
  EventLoop loop;
  bool peer_got_request = false;
  bool peer_saw_close = false;
  std::uint16_t port = serve_raw(loop, [&](TcpStream stream) -> Awaitable<void> {
    co_await stream.read_until("\r\n\r\n", 30s);
    peer_got_request = true;
    co_await stream.read_until_eof(30s);
    peer_saw_close = true;
  });
  HttpClient client(loop);
  auto signal = std::make_shared<CancelSignal>();
  Request request = Request::post(local(port), "{}", "application/json");
  request.cancel = signal;
  std::optional<core::Result<ClientStream>> opened;
  spawn(loop,
        [](HttpClient& c, Request r, std::optional<core::Result<ClientStream>>& out)
            -> Awaitable<void> { out = co_await c.open(std::move(r)); }(client, request, opened));
  ASSERT_TRUE(loop.run_until([&] { return peer_got_request; }, 10s));
  ASSERT_FALSE(opened.has_value());  // no head yet
  loop.post([&] { signal->cancel(); });
  ASSERT_TRUE(loop.run_until([&] { return opened.has_value() && peer_saw_close; }, 10s));
  ASSERT_FALSE(opened->has_value());
  EXPECT_EQ(client_error_kind(opened->error()), "cancelled");
  EXPECT_TRUE(signal->cancelled());

  // A signal cancelled beforehand fails the next exchange at once, without connecting.
  Request again = Request::get(local(port));
  again.cancel = signal;
  auto failure = expect_failure(loop, client, again);
  EXPECT_EQ(failure.code, core::ErrorCode::kCancelled);
}

TEST(ClientErrorKindTest, RecognisesOnlyClientMessages) {
  EXPECT_EQ(client_error_kind({core::ErrorCode::kUnavailable, "tls: GET x: bad"}), "tls");
  EXPECT_EQ(
      client_error_kind({core::ErrorCode::kDeadlineExceeded, "tls handshake timeout: GET x: slow"}),
      "tls handshake timeout");
  EXPECT_EQ(client_error_kind({core::ErrorCode::kInternal, "something else"}), "");
}

}  // namespace
}  // namespace llmscale::net
