// Benchmarks for net: SSE parsing and writing, URL/query parsing, and client<->server request
// rates on one thread. Also two modes used by bench/net_wrk.sh:
//   net_bench --serve [PORT]             a one-thread server with GET /hello (for wrk)
//   net_bench --load URL CONNS SECONDS   our client as a closed-loop load generator
// Results and commands: docs/benchmarks.md, section "net".
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "net/client.h"
#include "net/event_loop.h"
#include "net/server.h"
#include "net/sse.h"
#include "net/url.h"

namespace {

using namespace llmscale;
using namespace std::chrono_literals;

// An OpenAI-style token stream: `count` events of about 150 bytes.
std::string openai_stream(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    net::append_sse_data(out,
                         R"({"id":"cmpl-7f3a","object":"text_completion","created":1700000000,)"
                         R"("choices":[{"index":0,"text":" token)" +
                             std::to_string(i) + R"(","logprobs":null,"finish_reason":null}]})");
  }
  net::append_sse_data(out, "[DONE]");
  return out;
}

// Parses a stream delivered in reads of `read_size` bytes (0: one event per read, as a token
// stream arrives).
void BM_SseParse(benchmark::State& state) {
  const int kEvents = 10000;
  std::string stream = openai_stream(kEvents);
  std::size_t read_size = static_cast<std::size_t>(state.range(0));
  std::vector<std::string_view> reads;
  if (read_size == 0) {
    std::size_t pos = 0;
    while (pos < stream.size()) {
      std::size_t end = stream.find("\n\n", pos) + 2;
      reads.emplace_back(stream.data() + pos, end - pos);
      pos = end;
    }
  } else {
    for (std::size_t pos = 0; pos < stream.size(); pos += read_size) {
      reads.push_back(std::string_view(stream).substr(pos, read_size));
    }
  }
  std::size_t events = 0;
  for (auto _ : state) {
    net::SseParser parser;
    for (std::string_view read : reads) {
      parser.feed(read, [&](const net::SseEvent& e) { events += e.data.size() > 0; });
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(BM_SseParse)->Arg(0)->Arg(64)->Arg(16384);

void BM_SseWrite(benchmark::State& state) {
  std::string data =
      R"({"id":"cmpl-7f3a","object":"text_completion","choices":[{"index":0,"text":" token"}]})";
  std::string out;
  for (auto _ : state) {
    out.clear();
    net::append_sse_data(out, data);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SseWrite);

void BM_ParseUrl(benchmark::State& state) {
  std::string text = "http://10.0.3.17:8000/api/v1/query?query=sum%28rate%28x%5B5m%5D%29%29";
  for (auto _ : state) benchmark::DoNotOptimize(net::parse_url(text));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseUrl);

void BM_ParseQuery(benchmark::State& state) {
  std::string raw =
      "query=sum+by+%28pod%29+%28rate%28vllm%3Anum_requests_running%5B1m%5D%29%29&time=1700000000."
      "5";
  for (auto _ : state) benchmark::DoNotOptimize(net::parse_query(raw));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseQuery);

// Client and server on the same single-threaded loop: `connections` coroutines each send
// keep-alive GETs back to back. Items = requests.
void BM_ClientServerRequests(benchmark::State& state) {
  int connections = static_cast<int>(state.range(0));
  net::EventLoop loop;
  net::HttpServer server(loop, net::ServerOptions());
  if (!server.start([](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
        co_await writer.send(net::Response::text(200, "hello"));
      })) {
    state.SkipWithError("server did not start");
    return;
  }
  net::ClientOptions options;
  options.max_connections_per_host = static_cast<std::size_t>(connections);
  net::HttpClient client(loop, options);
  std::string url = server.url("/hello");
  const int kPerConnection = 200;
  std::int64_t requests = 0;
  for (auto _ : state) {
    int finished = 0;
    for (int c = 0; c < connections; ++c) {
      net::spawn(loop,
                 [](net::HttpClient& cl, std::string u, int n, int& done,
                    std::int64_t& count) -> net::Awaitable<void> {
                   for (int i = 0; i < n; ++i) {
                     auto r = co_await cl.request(net::Request::get(u));
                     if (r && r->status == 200) ++count;
                   }
                   ++done;
                 }(client, url, kPerConnection, finished, requests));
    }
    loop.run_until([&] { return finished == connections; }, 60s);
  }
  state.SetItemsProcessed(requests);
}
BENCHMARK(BM_ClientServerRequests)->Arg(1)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

// A server streams 1,000 SSE events per request; the client reads and parses them.
void BM_SseEndToEnd(benchmark::State& state) {
  net::EventLoop loop;
  net::HttpServer server(loop, net::ServerOptions());
  const int kEvents = 1000;
  if (!server.start([](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
        co_await writer.begin_sse();
        std::string data = R"({"choices":[{"index":0,"text":" token"}]})";
        for (int i = 0; i < kEvents; ++i) {
          if (!co_await writer.send_data(data)) co_return;
        }
      })) {
    state.SkipWithError("server did not start");
    return;
  }
  net::HttpClient client(loop);
  std::string url = server.url("/v1/completions");
  std::int64_t events = 0;
  for (auto _ : state) {
    bool done = false;
    net::spawn(loop,
               [](net::HttpClient& cl, std::string u, std::int64_t& count,
                  bool& finished) -> net::Awaitable<void> {
                 auto stream = co_await cl.open(net::Request::get(u));
                 if (stream) {
                   net::SseParser parser;
                   while (true) {
                     auto chunk = co_await stream->read_chunk();
                     if (!chunk || chunk->data.empty()) break;
                     parser.feed(chunk->data, [&](const net::SseEvent&) { ++count; });
                   }
                 }
                 finished = true;
               }(client, url, events, done));
    loop.run_until([&] { return done; }, 60s);
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_SseEndToEnd)->UseRealTime()->Unit(benchmark::kMillisecond);

// --serve: what wrk measures.
int serve(std::uint16_t port) {
  net::EventLoop loop;
  net::ServerOptions options;
  options.port = port;
  net::HttpServer server(loop, options);
  auto started =
      server.start([](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
        co_await writer.send(net::Response::text(200, "hello"));
      });
  if (!started) {
    std::fprintf(stderr, "%s\n", started.error().to_string().c_str());
    return 1;
  }
  std::printf("%u\n", server.port());
  std::fflush(stdout);
  net::stop_on_signals(loop);
  loop.run();
  return 0;
}

// --load: our client in a closed loop, like wrk -t1 -cCONNS.
int load(const std::string& url, int connections, int seconds) {
  net::EventLoop loop;
  net::ClientOptions options;
  options.max_connections_per_host = static_cast<std::size_t>(connections);
  net::HttpClient client(loop, options);
  std::vector<double> latencies_us;
  latencies_us.reserve(4'000'000);
  std::int64_t errors = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int finished = 0;
  for (int c = 0; c < connections; ++c) {
    net::spawn(loop,
               [](net::HttpClient& cl, std::string u, std::chrono::steady_clock::time_point end,
                  std::vector<double>& lat, std::int64_t& err, int& done) -> net::Awaitable<void> {
                 while (std::chrono::steady_clock::now() < end) {
                   auto t0 = std::chrono::steady_clock::now();
                   auto r = co_await cl.request(net::Request::get(u));
                   auto t1 = std::chrono::steady_clock::now();
                   if (r && r->status == 200) {
                     lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
                   } else {
                     ++err;
                   }
                 }
                 ++done;
               }(client, url, deadline, latencies_us, errors, finished));
  }
  auto t0 = std::chrono::steady_clock::now();
  loop.run_until([&] { return finished == connections; }, std::chrono::seconds(seconds + 30));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) {
    if (latencies_us.empty()) return 0.0;
    return latencies_us[std::min(latencies_us.size() - 1,
                                 static_cast<std::size_t>(p * latencies_us.size()))];
  };
  std::printf(
      "requests %zu errors %lld in %.2fs: %.0f req/s; latency p50 %.0fus p99 %.0fus; "
      "connections opened %llu\n",
      latencies_us.size(), static_cast<long long>(errors), elapsed, latencies_us.size() / elapsed,
      pct(0.50), pct(0.99), static_cast<unsigned long long>(client.stats().connections_opened));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) {
    return serve(argc >= 3 ? static_cast<std::uint16_t>(std::atoi(argv[2])) : 0);
  }
  if (argc >= 5 && std::strcmp(argv[1], "--load") == 0) {
    return load(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
