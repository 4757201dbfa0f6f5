// HttpServer's body timeouts on the real clock (the server's deadlines are steady-clock timers,
// not an injected Clock), so these run with the integration tests: a body trickled in a byte at
// a time is cut off by request_timeout with 408, a stalled body by body_timeout. Each test is
// bounded to a few seconds; the pacing is the wait for an answer, never a sleep.
#include <gtest/gtest.h>

#include <string>

#include "net/server.h"
#include "net/tcp.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;
using testing::ms_since;
using testing::run;

Awaitable<void> echo(ServerRequest& request, ResponseWriter& writer) {
  co_await writer.send(Response::text(200, "body=" + request.body));
}

// Writes `body` one byte per `pace` (the wait for an answer between bytes) until the server
// answers or closes; returns what it answered.
Awaitable<std::string> trickle(TcpStream& raw, std::string_view body, core::Duration pace,
                               double give_up_ms) {
  std::string answer;
  auto started = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < body.size() && ms_since(started) < give_up_ms; ++i) {
    std::string next(body.substr(i, 1));
    auto written = co_await raw.write(next);
    if (!written) break;
    auto reply = co_await raw.read_some(pace);
    if (reply && reply->empty()) break;  // closed
    if (reply) {
      answer += *reply;
      break;
    }
    if (reply.error().code != core::ErrorCode::kDeadlineExceeded) break;  // reset
  }
  auto rest = co_await raw.read_until_eof(5s);
  if (rest) answer += *rest;
  co_return answer;
}

// Issue 11 item 6: each byte used to re-arm body_timeout, so a body at 1 byte/s held the
// connection forever.
TEST(ServerTimeoutTest, TrickledBodyGets408AtTheRequestTimeout) {
  EventLoop loop;
  ServerOptions options;
  options.body_timeout = 5s;  // never reached: a byte comes every 50 ms
  options.request_timeout = 400ms;
  HttpServer server(loop, options);
  ASSERT_OK(server.start(echo));
  run(loop, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server.port(), 5s);
    CO_ASSERT_OK(raw);
    auto started = std::chrono::steady_clock::now();
    CO_ASSERT_OK(
        co_await raw->write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"));
    std::string answer = co_await trickle(*raw, std::string(1000, 'a'), 50ms, 5000);
    double elapsed = ms_since(started);
    EXPECT_EQ(answer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
    EXPECT_NE(answer.find("request not received within 400ms"), std::string::npos) << answer;
    EXPECT_GE(elapsed, 390);
    EXPECT_LT(elapsed, 3000);
  }());
  EXPECT_EQ(server.stats().body_timeouts, 1u);
}

TEST(ServerTimeoutTest, TrickledChunkedBodyGets408Too) {
  EventLoop loop;
  ServerOptions options;
  options.body_timeout = 5s;
  options.request_timeout = 400ms;
  HttpServer server(loop, options);
  ASSERT_OK(server.start(echo));
  run(loop, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server.port(), 5s);
    CO_ASSERT_OK(raw);
    CO_ASSERT_OK(co_await raw->write(
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
    std::string body;
    for (int i = 0; i < 200; ++i) body += "1\r\na\r\n";
    std::string answer = co_await trickle(*raw, body, 50ms, 5000);
    EXPECT_EQ(answer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << answer;
  }());
  EXPECT_EQ(server.stats().body_timeouts, 1u);
}

TEST(ServerTimeoutTest, StalledBodyGets408AtTheBodyTimeout) {
  EventLoop loop;
  ServerOptions options;
  options.body_timeout = 300ms;
  HttpServer server(loop, options);  // request_timeout: the 60 s default
  ASSERT_OK(server.start(echo));
  run(loop, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server.port(), 5s);
    CO_ASSERT_OK(raw);
    auto started = std::chrono::steady_clock::now();
    CO_ASSERT_OK(
        co_await raw->write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf"));
    auto answer = co_await raw->read_until_eof(5s);
    CO_ASSERT_OK(answer);
    EXPECT_EQ(answer->rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << *answer;
    EXPECT_NE(answer->find("request body stalled for 300ms"), std::string::npos) << *answer;
    EXPECT_GE(ms_since(started), 290);
    EXPECT_LT(ms_since(started), 3000);
  }());
  EXPECT_EQ(server.stats().body_timeouts, 1u);
}

TEST(ServerTimeoutTest, ASteadyBodyWithinTheRequestTimeoutIsServed) {
  EventLoop loop;
  ServerOptions options;
  options.request_timeout = 3s;
  HttpServer server(loop, options);
  ASSERT_OK(server.start(echo));
  run(loop, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server.port(), 5s);
    CO_ASSERT_OK(raw);
    CO_ASSERT_OK(co_await raw->write(
        "POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\n"));
    std::string answer = co_await trickle(*raw, "hello", 20ms, 2500);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("body=hello"), std::string::npos) << answer;
  }());
  EXPECT_EQ(server.stats().body_timeouts, 0u);
}

}  // namespace
}  // namespace llmscale::net
