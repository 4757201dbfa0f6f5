// HttpServer on loopback port 0: round trips, keep-alive, pipelining, streaming, limits and
// their answers (413, 431, 400, 408, 503), timeouts, disconnect detection and graceful stop.
// Peers that must misbehave are raw TcpStreams. Time-dependent steps are gated by a
// SimulatedClock (sleep_for(clock, d) in handlers, clock.advance() in the test), never by
// sleeping.
#include "net/server.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "net/client.h"
#include "net/sse.h"
#include "net/tcp.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;
using testing::ms_since;
using testing::run;

class ServerTest : public ::testing::Test {
 protected:
  void start(Handler handler, ServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(loop_, std::move(options));
    ASSERT_OK(server_->start(std::move(handler)));
  }
  std::string url(std::string_view path) { return server_->url(path); }
  ServerStats stats() { return server_->stats(); }
  bool run_until(const std::function<bool()>& done, core::Duration timeout = 10s) {
    return loop_.run_until(done, timeout);
  }

  EventLoop loop_;
  core::SimulatedClock gate_;  // handlers wait on it; the test advances it
  std::unique_ptr<HttpServer> server_;
};

Request head_request(std::string target) {
  Request request = Request::get(std::move(target));
  request.method = "HEAD";
  return request;
}

Awaitable<void> echo(ServerRequest& request, ResponseWriter& writer) {
  std::string body = request.method + " " + request.path;
  for (const auto& [name, value] : request.query) body += " " + name + "=" + value;
  body += " ua=" + std::string(request.header("user-agent"));
  body += " remote=" + request.remote.address;
  body += " body=" + request.body;
  Response response = Response::text(200, body);
  response.headers.add("X-Echo", "1");
  co_await writer.send(std::move(response));
}

TEST_F(ServerTest, RoundTrip) {
  start(echo);
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto get = co_await client.request(Request::get(url("/hello%20world?name=a+b&name=c")));
    CO_ASSERT_OK(get);
    EXPECT_EQ(get->status, 200);
    EXPECT_EQ(get->body, "GET /hello world name=a b name=c ua=llmscale remote=127.0.0.1 body=");
    EXPECT_EQ(get->headers.value("x-echo"), "1");
    EXPECT_EQ(get->headers.value("content-type"), "text/plain; charset=utf-8");
    EXPECT_FALSE(get->headers.value("date").empty());

    Request post = Request::post(url("/submit"), "payload");
    post.headers.add("User-Agent", "test-agent");
    auto posted = co_await client.request(std::move(post));
    CO_ASSERT_OK(posted);
    EXPECT_EQ(posted->body, "POST /submit ua=test-agent remote=127.0.0.1 body=payload");
  }());
}

TEST_F(ServerTest, KeepAliveReusesOneConnection) {
  start(echo);
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    for (int i = 0; i < 20; ++i) {
      auto r = co_await client.request(Request::get(url("/n")));
      CO_ASSERT_OK(r);
      EXPECT_EQ(r->status, 200);
    }
  }());
  EXPECT_EQ(stats().connections_accepted, 1u);
  EXPECT_EQ(stats().requests, 20u);
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(client.stats().connections_reused, 19u);
  EXPECT_EQ(client.stats().idle_connections, 1u);
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start(echo);
  run(loop_, [&]() -> Awaitable<void> {
    auto stream = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(stream);
    CO_ASSERT_OK(
        co_await stream->write("GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                               "POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                               "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    auto all = co_await stream->read_until_eof(5s);
    CO_ASSERT_OK(all);
    auto first = all->find("GET /first");
    auto second = all->find("POST /second ua= remote=127.0.0.1 body=abc");
    auto third = all->find("GET /third");
    EXPECT_NE(first, std::string::npos);
    EXPECT_NE(second, std::string::npos);
    EXPECT_NE(third, std::string::npos);
    EXPECT_LT(first, second);
    EXPECT_LT(second, third);
    EXPECT_NE(all->find("Connection: close"), std::string::npos);
  }());
  EXPECT_EQ(stats().connections_accepted, 1u);
  EXPECT_EQ(stats().requests, 3u);
}

TEST_F(ServerTest, ChunksArriveOneByOneWhenWritten) {
  // The handler writes a chunk each time the gate clock moves; the client must see each chunk
  // on its own, right after it was written (no buffering on either side).
  start([this](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    // (A braced Headers list inside a co_await expression trips g++ 12, so build it first.)
    Headers headers;
    headers.add("Content-Type", "text/plain");
    core::Time start = gate_.now();
    co_await writer.begin_stream(200, std::move(headers));
    for (int i = 0; i < 5; ++i) {
      co_await testing::wait_until(gate_, start + (i + 1) * 1s);
      co_await writer.write("chunk-" + std::to_string(i));
    }
  });
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(Request::get(url("/stream")));
    CO_ASSERT_OK(stream);
    EXPECT_EQ(stream->status(), 200);
    EXPECT_EQ(stream->headers().value("Transfer-Encoding"), "chunked");
    EXPECT_LE(stream->sent_at(), stream->head_received_at());
    auto previous = stream->head_received_at();
    for (int i = 0; i < 5; ++i) {
      gate_.advance(1s);
      auto released = std::chrono::steady_clock::now();
      auto chunk = co_await stream->read_chunk();
      CO_ASSERT_OK(chunk);
      EXPECT_EQ(chunk->data, "chunk-" + std::to_string(i));
      EXPECT_GE(chunk->received_at, released);
      EXPECT_GT(chunk->received_at, previous);
      EXPECT_LT(chunk->received_at - released, 1s);
      previous = chunk->received_at;
    }
    auto end = co_await stream->read_chunk();
    CO_ASSERT_OK(end);
    EXPECT_TRUE(end->data.empty());
    EXPECT_TRUE(stream->done());
  }());
  EXPECT_EQ(client.stats().idle_connections, 1u);  // a fully read stream returns to the pool
}

TEST_F(ServerTest, ServerSentEventsEndToEnd) {
  start([](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    co_await writer.begin_sse();
    co_await writer.send_comment("keep-alive");
    std::vector<std::string> tokens{"Hello", " world"};
    for (const auto& token : tokens) {
      co_await writer.send_data(R"({"text":")" + token + R"("})");
    }
    // g++ 12 miscompiles braced temporaries inside co_await expressions: name them first.
    SseEvent done{"done", "[DONE]", "3", std::nullopt};
    co_await writer.send_event(done);
    co_await writer.end();
  });
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(Request::get(url("/v1/completions")));
    CO_ASSERT_OK(stream);
    EXPECT_EQ(stream->headers().value("Content-Type"), "text/event-stream");
    EXPECT_EQ(stream->headers().value("Cache-Control"), "no-cache");
    SseParser parser;
    std::vector<SseEvent> events;
    while (true) {
      auto chunk = co_await stream->read_chunk();
      CO_ASSERT_OK(chunk);
      if (chunk->data.empty()) break;
      parser.feed(chunk->data, [&](const SseEvent& e) { events.push_back(e); });
    }
    CO_ASSERT_TRUE(events.size() == 3u);
    EXPECT_EQ(events[0].data, R"({"text":"Hello"})");
    EXPECT_EQ(events[1].data, R"({"text":" world"})");
    EXPECT_EQ(events[2].event, "done");
    EXPECT_EQ(events[2].id, "3");
  }());
}

TEST_F(ServerTest, HeadAnswersWithoutBody) {
  start(echo);
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto head = co_await client.request(head_request(url("/x")));
    CO_ASSERT_OK(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());
    // The length of the body a GET would have had.
    EXPECT_EQ(head->headers.value("Content-Length"),
              std::to_string(std::string("HEAD /x ua=llmscale remote=127.0.0.1 body=").size()));
    auto after = co_await client.request(Request::get(url("/y")));
    CO_ASSERT_OK(after);
    EXPECT_EQ(after->status, 200);
  }());
  EXPECT_EQ(stats().connections_accepted, 1u);
}

TEST_F(ServerTest, HandlerFailuresBecome500) {
  start([](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    if (request.path == "/throw") throw std::runtime_error("boom");
    co_return;  // "/silent": no response at all
  });
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    for (const char* path : {"/throw", "/silent"}) {
      auto r = co_await client.request(Request::get(url(path)));
      CO_ASSERT_OK(r);
      EXPECT_EQ(r->status, 500) << path;
    }
  }());
  EXPECT_EQ(stats().handler_errors, 1u);
}

TEST_F(ServerTest, OversizedBodyGets413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  start(echo, options);
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto ok = co_await client.request(Request::post(url("/"), std::string(1024, 'a')));
    CO_ASSERT_OK(ok);
    EXPECT_EQ(ok->status, 200);
    auto big = co_await client.request(Request::post(url("/"), std::string(200 * 1024, 'a')));
    CO_ASSERT_OK(big);
    EXPECT_EQ(big->status, 413);
    EXPECT_EQ(big->headers.value("Connection"), "close");
    EXPECT_EQ(big->body, "request body larger than 1024 bytes\n");

    // Expect: 100-continue: refused before the client sends the body.
    auto raw = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(raw);
    CO_ASSERT_OK(
        co_await raw->write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                            "Expect: 100-continue\r\n\r\n"));
    auto answer = co_await raw->read_until_eof(5s);
    CO_ASSERT_OK(answer);
    EXPECT_EQ(answer->rfind("HTTP/1.1 413 Content Too Large\r\n", 0), 0u) << *answer;

    // A chunked body over the limit is cut off while it streams in.
    auto chunked = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(chunked);
    std::string request = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'b') + "\r\n";
    CO_ASSERT_OK(co_await chunked->write(request));
    auto chunked_answer = co_await chunked->read_until_eof(5s);
    CO_ASSERT_OK(chunked_answer);
    EXPECT_EQ(chunked_answer->rfind("HTTP/1.1 413", 0), 0u) << *chunked_answer;
  }());
  EXPECT_EQ(stats().too_large, 3u);
}

TEST_F(ServerTest, ExpectContinueIsHonoured) {
  start(echo);
  run(loop_, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(raw);
    CO_ASSERT_OK(co_await raw->write(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    auto interim = co_await raw->read_until("\r\n\r\n", 5s);
    CO_ASSERT_OK(interim);
    EXPECT_EQ(*interim, "HTTP/1.1 100 Continue\r\n\r\n");
    CO_ASSERT_OK(co_await raw->write("hello"));
    auto head = co_await raw->read_until("\r\n\r\n", 5s);
    CO_ASSERT_OK(head);
    EXPECT_EQ(head->rfind("HTTP/1.1 200 OK", 0), 0u);
  }());
}

TEST_F(ServerTest, OversizedHeaderGets431AndGarbageGets400) {
  ServerOptions options;
  options.max_header_bytes = 2048;
  start(echo, options);
  run(loop_, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(raw);
    CO_ASSERT_OK(co_await raw->write(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'x') + "\r\n\r\n"));
    auto answer = co_await raw->read_until_eof(5s);
    CO_ASSERT_OK(answer);
    EXPECT_EQ(answer->rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);

    auto garbage = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(garbage);
    CO_ASSERT_OK(co_await garbage->write("THIS IS NOT HTTP\r\n\r\n"));
    auto bad = co_await garbage->read_until_eof(5s);
    CO_ASSERT_OK(bad);
    EXPECT_EQ(bad->rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << *bad;
  }());
  EXPECT_EQ(stats().too_large, 1u);
  EXPECT_EQ(stats().bad_requests, 1u);
}

TEST_F(ServerTest, SlowLorisGets408WithinTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 300ms;
  start(echo, options);
  run(loop_, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(raw);
    auto started = std::chrono::steady_clock::now();
    // Trickle the header a byte at a time; each wait for an answer doubles as the pacing.
    std::string header = "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    std::string answer;
    for (std::size_t i = 0; ms_since(started) < 5000; ++i) {
      // (A ?: producing a temporary inside co_await is miscompiled by g++ 12: name it.)
      std::string next = i < header.size() ? header.substr(i, 1) : std::string("a");
      auto written = co_await raw->write(next);
      if (!written) break;
      auto reply = co_await raw->read_some(50ms);
      if (reply && reply->empty()) break;  // closed
      if (reply) {
        answer += *reply;
      } else if (reply.error().code != core::ErrorCode::kDeadlineExceeded) {
        break;  // reset
      }
    }
    auto rest = co_await raw->read_until_eof(5s);
    if (rest) answer += *rest;
    double elapsed = ms_since(started);
    EXPECT_EQ(answer.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos);
    EXPECT_GE(elapsed, 290);
    EXPECT_LT(elapsed, 2000);
  }());
  EXPECT_EQ(stats().header_timeouts, 1u);
}

TEST_F(ServerTest, SilentConnectionGets408AndIdleKeepAliveIsClosed) {
  ServerOptions options;
  options.header_timeout = 200ms;
  options.idle_timeout = 200ms;
  start(echo, options);
  run(loop_, [&]() -> Awaitable<void> {
    // Connected but never sends: the first request's header deadline runs from the accept.
    auto silent = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(silent);
    auto answer = co_await silent->read_until_eof(5s);
    CO_ASSERT_OK(answer);
    EXPECT_EQ(answer->rfind("HTTP/1.1 408", 0), 0u);

    // After a complete exchange, an idle keep-alive connection is closed without a response.
    auto idle = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(idle);
    CO_ASSERT_OK(co_await idle->write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto response = co_await idle->read_until("body=", 5s);
    CO_ASSERT_OK(response);
    auto started = std::chrono::steady_clock::now();
    auto after = co_await idle->read_until_eof(5s);
    CO_ASSERT_OK(after);
    EXPECT_EQ(*after, "");
    EXPECT_LT(ms_since(started), 2000);
  }());
  EXPECT_EQ(stats().header_timeouts, 1u);
  EXPECT_EQ(stats().idle_timeouts, 1u);
}

TEST_F(ServerTest, DetectsClientDisconnectDuringAStream) {
  bool disconnected = false;
  bool handler_done = false;
  core::Status last_write;
  start([&](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    writer.on_disconnect([&] { disconnected = true; });
    co_await writer.begin_sse();
    co_await writer.send_data("first");
    // Wait for "engine" steps until the client is gone.
    while (writer.client_connected()) co_await sleep_for(gate_, 1s);
    last_write = co_await writer.send_data("after");
    handler_done = true;
  });
  HttpClient client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(Request::get(url("/stream")));
    CO_ASSERT_OK(stream);
    auto first = co_await stream->read_chunk();
    CO_ASSERT_OK(first);
    EXPECT_EQ(first->data, "data: first\n\n");
    // Dropping the unfinished stream closes the connection.
  }());
  ASSERT_TRUE(run_until([&] { return disconnected; }));
  gate_.advance(1s);
  ASSERT_TRUE(run_until([&] { return handler_done && stats().active_connections == 0; }));
  EXPECT_FALSE(last_write.has_value());
  EXPECT_EQ(last_write.error().code, core::ErrorCode::kCancelled);
}

TEST_F(ServerTest, SlowReaderDoesNotMakeTheServerBuffer) {
  // The client sends a request and then reads nothing. The handler writes as fast as it can:
  // each write waits for the socket, so it stalls once the kernel buffers are full, and the
  // write timeout ends the exchange. Bytes "written" are bounded by the kernel's buffers.
  ServerOptions options;
  options.write_timeout = 300ms;
  std::size_t written = 0;
  bool handler_done = false;
  core::Status failure;
  start(
      [&](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
        std::string block(64 * 1024, 'x');
        co_await writer.begin_stream(200, {});
        while (written < 512u * 1024 * 1024) {
          failure = co_await writer.write(block);
          if (!failure) break;
          written += block.size();
        }
        handler_done = true;
      },
      options);
  std::optional<TcpStream> reader;
  run(loop_, [&]() -> Awaitable<void> {
    auto raw = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(raw);
    raw->set_receive_buffer_size(4096);
    CO_ASSERT_OK(co_await raw->write("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n"));
    reader = std::move(*raw);
  }());
  ASSERT_TRUE(run_until([&] { return handler_done; }, 20s));
  EXPECT_FALSE(failure.has_value());
  EXPECT_EQ(failure.error().code, core::ErrorCode::kDeadlineExceeded);
  EXPECT_LT(written, 32u * 1024 * 1024) << "the server accepted " << written << " bytes";
  EXPECT_EQ(stats().write_timeouts, 1u);
}

TEST_F(ServerTest, ConnectionsOverTheLimitGet503) {
  ServerOptions options;
  options.max_connections = 2;
  start(echo, options);
  std::vector<TcpStream> held;
  run(loop_, [&]() -> Awaitable<void> {
    for (int i = 0; i < 2; ++i) {
      auto raw = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
      CO_ASSERT_OK(raw);
      held.push_back(std::move(*raw));
    }
  }());
  ASSERT_TRUE(run_until([&] { return stats().active_connections == 2; }));
  run(loop_, [&]() -> Awaitable<void> {
    auto third = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    CO_ASSERT_OK(third);
    auto answer = co_await third->read_until_eof(5s);
    CO_ASSERT_OK(answer);
    EXPECT_EQ(answer->rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << *answer;
  }());
  EXPECT_EQ(stats().connections_rejected, 1u);
}

TEST_F(ServerTest, GracefulStopFinishesInFlightRequests) {
  bool slow_started = false;
  start([&](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    if (request.path == "/slow") {
      slow_started = true;
      co_await sleep_for(gate_, 1s);
    }
    co_await writer.send(Response::text(200, "done " + request.path));
  });
  HttpClient idle_client(loop_);
  HttpClient busy_client(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    auto warm = co_await idle_client.request(Request::get(url("/warm")));
    CO_ASSERT_OK(warm);
  }());
  ASSERT_EQ(stats().active_connections, 1u);  // idle keep-alive connection

  std::optional<core::Result<Response>> slow;
  spawn(loop_,
        [](HttpClient& client, std::string target,
           std::optional<core::Result<Response>>& out) -> Awaitable<void> {
          out = co_await client.request(Request::get(target));
        }(busy_client, url("/slow"), slow));
  ASSERT_TRUE(run_until([&] { return slow_started; }));
  ASSERT_EQ(stats().active_connections, 2u);

  bool stopped = false;
  spawn(loop_, [](HttpServer& server, bool& done) -> Awaitable<void> {
    co_await server.stop(10s);
    done = true;
  }(*server_, stopped));
  // The idle connection goes at once; the busy one stays until its response is sent.
  ASSERT_TRUE(run_until([&] { return stats().active_connections == 1; }));
  run(loop_, [&]() -> Awaitable<void> {
    auto refused = co_await TcpStream::connect("127.0.0.1", server_->port(), 5s);
    EXPECT_FALSE(refused.has_value());
  }());
  EXPECT_FALSE(stopped);
  gate_.advance(1s);
  ASSERT_TRUE(run_until([&] { return stopped && slow.has_value(); }));
  ASSERT_TRUE(slow->has_value()) << slow->error().to_string();
  EXPECT_EQ((*slow)->body, "done /slow");
  EXPECT_EQ((*slow)->headers.value("Connection"), "close");
}

TEST_F(ServerTest, GracefulStopClosesWhatOutlivesTheGracePeriod) {
  bool stuck_started = false;
  start([&](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    stuck_started = true;
    co_await writer.begin_sse();
    while (writer.client_connected()) co_await sleep_for(gate_, 1s);
  });
  HttpClient client(loop_);
  std::optional<core::Result<Response>> result;
  spawn(loop_,
        [](HttpClient& c, std::string target,
           std::optional<core::Result<Response>>& out) -> Awaitable<void> {
          out = co_await c.request(Request::get(target));
        }(client, url("/stuck"), result));
  ASSERT_TRUE(run_until([&] { return stuck_started; }));
  auto started = std::chrono::steady_clock::now();
  bool stopped = false;
  spawn(loop_, [](HttpServer& server, bool& done) -> Awaitable<void> {
    co_await server.stop(200ms);
    done = true;
  }(*server_, stopped));
  ASSERT_TRUE(run_until([&] { return result.has_value(); }));
  EXPECT_FALSE(result->has_value());  // the stream was cut: the client sees an error
  EXPECT_GE(ms_since(started), 190);
  gate_.advance(1s);  // let the handler notice and return
  ASSERT_TRUE(run_until([&] { return stopped; }));
  EXPECT_EQ(stats().active_connections, 0u);
}

TEST_F(ServerTest, AThousandConcurrentRequests) {
  start(echo);
  ClientOptions options;
  options.max_connections_per_host = 1000;
  HttpClient client(loop_, options);
  int ok = 0;
  int finished = 0;
  for (int i = 0; i < 1000; ++i) {
    spawn(loop_,
          [](HttpClient& c, std::string target, int& ok_count, int& done_count) -> Awaitable<void> {
            auto r = co_await c.request(Request::get(target));
            if (r && r->status == 200 && r->body.rfind("GET /n i=", 0) == 0) ++ok_count;
            ++done_count;
          }(client, url("/n?i=" + std::to_string(i)), ok, finished));
  }
  ASSERT_TRUE(run_until([&] { return finished == 1000; }, 60s));
  EXPECT_EQ(ok, 1000);
  EXPECT_EQ(stats().requests, 1000u);
  EXPECT_GE(client.stats().connections_opened, 100u);  // they really ran concurrently
}

TEST_F(ServerTest, BindErrorsAreReported) {
  start(echo);
  ServerOptions same_port;
  same_port.port = server_->port();
  HttpServer second(loop_, same_port);
  auto status = second.start(echo);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, core::ErrorCode::kUnavailable);
  EXPECT_NE(status.error().message.find("bind 127.0.0.1:"), std::string::npos);
  ServerOptions bad_address;
  bad_address.address = "not-an-ip";
  HttpServer bad(loop_, bad_address);
  EXPECT_EQ(bad.start(echo).error().code, core::ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace llmscale::net
