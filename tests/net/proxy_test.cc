// The router's use of net, end to end: a proxy handler that opens a client stream upstream and
// passes SSE through chunk by chunk (no buffering), and that cancels the upstream request when
// its own client disconnects, so the upstream server sees the disconnect too.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "net/client.h"
#include "net/server.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;
using testing::run;

TEST(ProxyTest, PassesSseThroughAndPropagatesDisconnects) {
  EventLoop loop;
  core::SimulatedClock gate;  // the upstream "engine" emits token i at start + i seconds
  bool upstream_saw_disconnect = false;
  bool upstream_done = false;
  HttpServer upstream(loop, ServerOptions());
  ASSERT_OK(upstream.start([&](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    writer.on_disconnect([&] { upstream_saw_disconnect = true; });
    core::Time start = gate.now();
    co_await writer.begin_sse();
    for (int i = 0;; ++i) {
      if (!co_await writer.send_data("token " + std::to_string(i))) break;
      co_await testing::wait_until(gate, start + (i + 1) * 1s);
      if (!writer.client_connected()) break;
    }
    upstream_done = true;
  }));

  HttpClient upstream_client(loop);
  std::string upstream_url = upstream.url("/v1/completions");
  bool proxy_done = false;
  HttpServer proxy(loop, ServerOptions());
  ASSERT_OK(proxy.start([&](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    auto stream = co_await upstream_client.open(Request::get(upstream_url));
    if (!stream) {
      co_await writer.send(Response::text(502, stream.error().message));
      co_return;
    }
    // Runs only while this handler runs, so `stream` is alive when it does.
    writer.on_disconnect([&stream] { stream->cancel(); });
    Headers headers;
    for (const auto& [name, value] : stream->headers()) {
      if (!is_hop_by_hop_header(name) && !iequals(name, "Content-Length")) headers.add(name, value);
    }
    if (co_await writer.begin_stream(stream->status(), std::move(headers))) {
      while (true) {
        auto chunk = co_await stream->read_chunk();
        if (!chunk || chunk->data.empty()) break;
        if (!co_await writer.write(chunk->data)) break;
      }
    }
    proxy_done = true;
  }));

  HttpClient client(loop);
  run(loop, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(Request::get(proxy.url("/v1/completions")));
    CO_ASSERT_OK(stream);
    EXPECT_EQ(stream->status(), 200);
    EXPECT_EQ(stream->headers().value("Content-Type"), "text/event-stream");
    for (int i = 0; i < 3; ++i) {
      // Token i is produced only after token i-1 was received here, through the proxy.
      auto chunk = co_await stream->read_chunk();
      CO_ASSERT_OK(chunk);
      EXPECT_EQ(chunk->data, "data: token " + std::to_string(i) + "\n\n");
      gate.advance(1s);
    }
    // Leaving the scope drops the stream: the client disconnects mid-stream.
  }());
  ASSERT_TRUE(loop.run_until([&] { return proxy_done && upstream_saw_disconnect; }, 10s));
  gate.advance(1s);
  ASSERT_TRUE(loop.run_until([&] { return upstream_done; }, 10s));
  EXPECT_EQ(proxy.stats().requests, 1u);
  EXPECT_EQ(upstream.stats().requests, 1u);
}

}  // namespace
}  // namespace llmscale::net
