// Benchmarks for the router: policy pick cost and Balancer lease cost (Google Benchmark), plus
// two modes used by bench/router_wrk.sh:
//   router_bench --serve PORT                 a trivial inference backend (one thread):
//       GET /v1/models (small JSON), POST /v1/completions (JSON, or with "stream":true an SSE
//       stream of 20 tokens 5 ms apart, each stamped with its steady-clock send time)
//   router_bench --sse-latency URL STREAMS    reads STREAMS streams from URL one after another
//       and prints the per-chunk delay (receive time - stamped send time) percentiles: run it
//       against the backend directly and through the router to see what the router adds.
// Results and commands: docs/benchmarks.md, section "router".
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/server.h"
#include "router/balancer.h"
#include "router/policy.h"

namespace {

using namespace llmscale;
using namespace std::chrono_literals;

std::vector<router::Candidate> candidates(std::size_t n, bool with_load) {
  std::vector<router::Candidate> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i].in_flight = (i * 7) % 13;
    if (with_load) {
      out[i].load =
          router::LoadSignal{0.05 * static_cast<double>(i % 17), static_cast<double>(i % 5), {}};
      out[i].in_flight_at_load = (i * 3) % 11;
    }
  }
  return out;
}

void BM_Pick(benchmark::State& state, router::PolicyKind kind, bool with_load) {
  auto policy = router::make_policy(kind);
  auto c = candidates(static_cast<std::size_t>(state.range(0)), with_load);
  std::size_t sink = 0;
  for (auto _ : state) {
    sink += policy->pick(c);
    benchmark::DoNotOptimize(sink);
  }
}
BENCHMARK_CAPTURE(BM_Pick, round_robin, router::PolicyKind::kRoundRobin, false)
    ->Arg(2)
    ->Arg(8)
    ->Arg(32)
    ->Arg(128);
BENCHMARK_CAPTURE(BM_Pick, least_outstanding, router::PolicyKind::kLeastOutstanding, false)
    ->Arg(2)
    ->Arg(8)
    ->Arg(32)
    ->Arg(128);
BENCHMARK_CAPTURE(BM_Pick, least_kv_cache, router::PolicyKind::kLeastKvCache, true)
    ->Arg(2)
    ->Arg(8)
    ->Arg(32)
    ->Arg(128);
BENCHMARK_CAPTURE(BM_Pick, least_kv_cache_no_signal, router::PolicyKind::kLeastKvCache, false)
    ->Arg(8);

// What a request pays in the Balancer: lock, candidate list, pick, lease, release.
void BM_LeaseAcquireRelease(benchmark::State& state) {
  core::SimulatedClock clock;
  router::BalancerOptions options;
  router::Balancer balancer(clock, options);
  for (int i = 0; i < state.range(0); ++i) {
    (void)balancer.add_backend("pod-" + std::to_string(i),
                               "http://127.0.0.1:" + std::to_string(8000 + i),
                               router::BackendState::kReady);
  }
  for (auto _ : state) {
    auto lease = balancer.try_acquire();
    benchmark::DoNotOptimize(lease);
  }
}
BENCHMARK(BM_LeaseAcquireRelease)->Arg(2)->Arg(8)->Arg(32);

// The same with 4 threads sharing the Balancer (one mutex).
void BM_LeaseAcquireReleaseContended(benchmark::State& state) {
  static core::SimulatedClock clock;
  static router::Balancer* balancer = nullptr;
  if (state.thread_index() == 0) {
    balancer = new router::Balancer(clock, router::BalancerOptions());
    for (int i = 0; i < 8; ++i) {
      (void)balancer->add_backend("pod-" + std::to_string(i),
                                  "http://127.0.0.1:" + std::to_string(8000 + i),
                                  router::BackendState::kReady);
    }
  }
  for (auto _ : state) {
    auto lease = balancer->try_acquire();
    benchmark::DoNotOptimize(lease);
  }
  if (state.thread_index() == 0) {
    delete balancer;
    balancer = nullptr;
  }
}
BENCHMARK(BM_LeaseAcquireReleaseContended)->Threads(4);

// ---------------------------------------------------------------------------------------------
// --serve: a trivial backend

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

const std::string kModels =
    R"({"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model",)"
    R"("created":1700000000,"owned_by":"vllm","max_model_len":8192}]})";
const std::string kCompletion =
    R"({"id":"cmpl-7f3a","object":"text_completion","created":1700000000,"model":"llama",)"
    R"("choices":[{"index":0,"text":" a short answer","logprobs":null,"finish_reason":"length"}],)"
    R"("usage":{"prompt_tokens":8,"total_tokens":16,"completion_tokens":8}})";

net::Awaitable<void> stream_tokens(net::ResponseWriter& writer) {
  if (!co_await writer.begin_sse()) co_return;
  for (int i = 0; i < 20; ++i) {
    std::string data =
        R"({"choices":[{"index":0,"text":" t"}],"sent_ns":)" + std::to_string(steady_ns()) + "}";
    if (!co_await writer.send_data(data)) co_return;
    co_await net::sleep_for(5ms);
  }
  co_await writer.send_data("[DONE]");
}

int serve(int port) {
  net::EventLoop loop;
  net::ServerOptions options;
  options.port = static_cast<std::uint16_t>(port);
  net::HttpServer server(loop, options);
  auto started =
      server.start([](net::ServerRequest& r, net::ResponseWriter& w) -> net::Awaitable<void> {
        if (r.path == "/v1/completions" && r.body.find("\"stream\":true") != std::string::npos) {
          co_await stream_tokens(w);
        } else if (r.path == "/v1/completions") {
          co_await w.send(net::Response::json(200, kCompletion));
        } else {
          co_await w.send(net::Response::json(200, kModels));
        }
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

// ---------------------------------------------------------------------------------------------
// --sse-latency: per-chunk delay of streamed tokens

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(k, v.size() - 1)];
}

int sse_latency(const std::string& url, int streams) {
  net::EventLoop loop;
  net::HttpClient client(loop);
  std::vector<double> delays_us;
  int chunks_with_several_events = 0;
  auto status = loop.block_on(
      [](net::HttpClient& c, std::string u, int n, std::vector<double>& out,
         int& merged) -> net::Awaitable<void> {
        for (int s = 0; s < n; ++s) {
          net::Request request =
              net::Request::post(u, R"({"prompt":"hi","stream":true})", "application/json");
          auto stream = co_await c.open(std::move(request));
          if (!stream) {
            std::fprintf(stderr, "%s\n", stream.error().to_string().c_str());
            co_return;
          }
          while (true) {
            auto chunk = co_await stream->read_chunk();
            if (!chunk || chunk->data.empty()) break;
            std::int64_t received = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        chunk->received_at.time_since_epoch())
                                        .count();
            int events = 0;
            for (std::size_t at = chunk->data.find("\"sent_ns\":"); at != std::string::npos;
                 at = chunk->data.find("\"sent_ns\":", at + 1)) {
              std::int64_t sent = std::strtoll(chunk->data.c_str() + at + 10, nullptr, 10);
              out.push_back(static_cast<double>(received - sent) / 1000.0);
              ++events;
            }
            if (events > 1) ++merged;
          }
        }
      }(client, url, streams, delays_us, chunks_with_several_events),
      10min);
  if (!status) {
    std::fprintf(stderr, "%s\n", status.error().to_string().c_str());
    return 1;
  }
  std::printf(
      "chunks %zu  per-chunk delay us: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  "
      "(reads carrying several events: %d)\n",
      delays_us.size(), percentile(delays_us, 0.5), percentile(delays_us, 0.9),
      percentile(delays_us, 0.99), percentile(delays_us, 1.0), chunks_with_several_events);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--serve") == 0) return serve(std::atoi(argv[2]));
  if (argc >= 4 && std::strcmp(argv[1], "--sse-latency") == 0) {
    return sse_latency(argv[2], std::atoi(argv[3]));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
