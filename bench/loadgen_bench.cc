// Benchmarks for loadgen: the per-event and per-request costs of the load generator on one core,
// and three modes used by bench/loadgen_wrk.sh and docs/benchmarks.md ("loadgen"):
//
//   loadgen_bench --serve [PORT]
//       A one-thread OpenAI-compatible server: POST /v1/completions answers a fixed
//       completion (for llmscale load, wrk and hey); POST /v1/chat/completions streams
//       max_tokens chunks as fast as it can (for the end-to-end SSE rate).
//   loadgen_bench --timing CONCURRENCY TOKENS INTERVAL_MS REQUESTS
//       Client-side timing error: a server thread streams TOKENS tokens INTERVAL_MS apart and
//       records when it wrote each one; llmscale's Runner + HttpExecutor (another thread)
//       measure TTFT and ITL. Prints the distribution of (client ITL - server gap) and of
//       (client TTFT - server request-to-first-token time).
//   loadgen_bench --sse-rate SECONDS
//       End-to-end SSE events per second: the server thread streams, one client thread runs
//       HttpExecutor (HTTP parsing, SSE, JSON decoding, timestamps).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"
#include "loadgen/api.h"
#include "loadgen/histogram.h"
#include "loadgen/http_executor.h"
#include "loadgen/prompt.h"
#include "loadgen/runner.h"
#include "loadgen/stats.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"
#include "net/sse.h"

namespace {

using namespace llmscale;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

std::string chat_chunk(int i) {
  return R"({"id":"chatcmpl-7f3a","object":"chat.completion.chunk","created":1700000000,)"
         R"("model":"m","choices":[{"index":0,"delta":{"content":" tok)" +
         std::to_string(i) + R"("},"logprobs":null,"finish_reason":null}]})";
}

// The decoder on vLLM-style chat chunks, one event per read (how tokens arrive).
void BM_DecodeChatStream(benchmark::State& state) {
  const int kEvents = 1000;
  std::vector<std::string> reads;
  for (int i = 0; i < kEvents; ++i) {
    std::string event;
    net::append_sse_data(event, chat_chunk(i));
    reads.push_back(std::move(event));
  }
  std::string tail;
  net::append_sse_data(tail, R"({"choices":[],"usage":{"completion_tokens":1000}})");
  net::append_sse_data(tail, "[DONE]");
  auto now = SteadyClock::now();
  for (auto _ : state) {
    loadgen::ResponseDecoder decoder(loadgen::Api::kOpenAiChat, true);
    for (const auto& r : reads) decoder.feed(r, now);
    decoder.feed(tail, now);
    decoder.finish();
    benchmark::DoNotOptimize(decoder.output_tokens());
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
  state.SetLabel("events");
}
BENCHMARK(BM_DecodeChatStream);

void BM_DecodeTgiStream(benchmark::State& state) {
  const int kEvents = 1000;
  std::vector<std::string> reads;
  for (int i = 0; i < kEvents; ++i) {
    std::string event;
    net::append_sse_data(
        event,
        R"({"index":)" + std::to_string(i) +
            R"(,"token":{"id":1234,"text":" tok","logprob":-0.25,"special":false},)" +
            (i + 1 == kEvents
                 ? R"("generated_text":"x","details":{"finish_reason":"length","generated_tokens":1000,"seed":null}})"
                 : R"("generated_text":null,"details":null})"));
    reads.push_back(std::move(event));
  }
  auto now = SteadyClock::now();
  for (auto _ : state) {
    loadgen::ResponseDecoder decoder(loadgen::Api::kTgi, true);
    for (const auto& r : reads) decoder.feed(r, now);
    decoder.finish();
    benchmark::DoNotOptimize(decoder.output_tokens());
  }
  state.SetItemsProcessed(state.iterations() * kEvents);
}
BENCHMARK(BM_DecodeTgiStream);

// The answer `loadgen_bench --serve` gives to every request of the wrk comparison.
const std::string kCompletion =
    R"({"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m",)"
    R"("choices":[{"index":0,"text":" a b c d","finish_reason":"length"}],)"
    R"("usage":{"prompt_tokens":16,"completion_tokens":4,"total_tokens":20}})";

// What each request of the wrk comparison costs to decode.
void BM_DecodeCompletion(benchmark::State& state) {
  auto now = SteadyClock::now();
  for (auto _ : state) {
    loadgen::ResponseDecoder decoder(loadgen::Api::kOpenAiCompletions, false);
    decoder.feed(kCompletion, now);
    decoder.finish();
    benchmark::DoNotOptimize(decoder.output_tokens());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeCompletion);

// The same answer through a document, as the decoder read it before its SAX walk (depth check,
// parse, lookups): the reference for BM_DecodeCompletion in the same run.
void BM_DecodeCompletionDocument(benchmark::State& state) {
  for (auto _ : state) {
    std::string copy = kCompletion;  // the decoder buffers the body
    bool shallow = core::check_json_depth(copy).has_value();
    auto doc = nlohmann::json::parse(copy, nullptr, false);
    std::int64_t tokens = shallow ? doc["usage"]["completion_tokens"].get<std::int64_t>() : 0;
    benchmark::DoNotOptimize(tokens);
    benchmark::DoNotOptimize(doc["choices"][0]["text"].get_ref<const std::string&>().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeCompletionDocument);

// The request side of the wrk comparison, a 16-word prompt and its completions body: /0 built
// as a document and dumped (build_request_body), /1 from the template, as HttpExecutor does.
void BM_SmallRequestBody(benchmark::State& state) {
  loadgen::RequestOptions options;
  options.api = loadgen::Api::kOpenAiCompletions;
  options.model = "m";
  loadgen::RequestBodyTemplate body_template(options);
  bool from_template = state.range(0) == 1;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    std::string prompt = loadgen::make_prompt(16, seed++);
    std::string body = from_template ? body_template.render(prompt, 16, 4)
                                     : loadgen::build_request_body(options, prompt, 16, 4);
    benchmark::DoNotOptimize(body.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(from_template ? "template" : "document");
}
BENCHMARK(BM_SmallRequestBody)->Arg(0)->Arg(1);

void BM_HistogramRecord(benchmark::State& state) {
  loadgen::Histogram h;
  std::uint64_t x = 88172645463325252ULL;
  std::vector<std::int64_t> values(4096);
  for (auto& v : values) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    v = static_cast<std::int64_t>(x % 2'000'000'000ULL);
  }
  std::size_t i = 0;
  for (auto _ : state) h.record(values[i++ & 4095]);
  benchmark::DoNotOptimize(h.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

void BM_HistogramP99(benchmark::State& state) {
  loadgen::Histogram h;
  for (std::int64_t v = 1; v < 10'000'000'000; v = v * 11 / 10 + 1) h.record(v, 100);
  for (auto _ : state) benchmark::DoNotOptimize(h.quantile(0.99));
}
BENCHMARK(BM_HistogramP99);

// Everything a request costs the generator besides the network: prompt, body, and folding
// the result (200 ITLs) into the stage figures.
void BM_RequestOverhead(benchmark::State& state) {
  loadgen::RequestOptions options;
  options.model = "meta/llama-3.1-8b-instruct";
  options.streaming = true;
  auto prompt_tokens = state.range(0);
  loadgen::StageStats stats("s", "s", 1s, *loadgen::parse_slo("ttft=2s,itl=100ms"));
  loadgen::CompletedRequest done;
  done.result.ok = true;
  done.result.ttft = 100ms;
  done.result.output_tokens = 200;
  done.result.token_gaps.assign(199, 10ms);
  done.result.e2e = 2090ms;
  std::uint64_t seed = 1;
  for (auto _ : state) {
    std::string prompt = loadgen::make_prompt(prompt_tokens, seed++);
    std::string body = loadgen::build_request_body(options, prompt, prompt_tokens, 200);
    benchmark::DoNotOptimize(body.data());
    done.completed += 1ms;
    stats.add(done);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RequestOverhead)->Arg(200)->Arg(2000);

// --- servers and end-to-end modes ---

net::Awaitable<void> stream_fast(net::ServerRequest& request, net::ResponseWriter& writer) {
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  int tokens = body.is_object() ? body.value("max_tokens", 16) : 16;
  if (!co_await writer.begin_sse()) co_return;
  for (int i = 0; i < tokens; ++i) {
    std::string chunk = chat_chunk(i);
    if (!co_await writer.send_data(chunk)) co_return;
  }
  std::string usage =
      R"({"choices":[],"usage":{"completion_tokens":)" + std::to_string(tokens) + "}}";
  co_await writer.send_data(usage);
  co_await writer.send_data("[DONE]");
}

void add_canned_routes(net::Router& router) {
  router.post("/v1/completions",
              [](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
                co_await w.send(net::Response::json(200, kCompletion));
              });
  router.post("/v1/chat/completions", stream_fast);
}

int serve(std::uint16_t port) {
  net::EventLoop loop;
  net::ServerOptions options;
  options.port = port;
  net::HttpServer server(loop, options);
  net::Router router;
  add_canned_routes(router);
  if (auto s = server.start(router.handler()); !s) {
    std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
    return 1;
  }
  std::printf("%u\n", server.port());
  std::fflush(stdout);
  net::stop_on_signals(loop);
  loop.run();
  return 0;
}

// What the timing server wrote and when (steady clock), per request (keyed by prompt).
struct ServerTimeline {
  SteadyClock::time_point received;
  std::vector<SteadyClock::time_point> sent;
};

struct TimingServer {
  std::mutex mutex;
  std::map<std::string, ServerTimeline> timelines;
  int tokens = 100;
  core::Duration interval = 10ms;
};

std::string prompt_key(std::string_view prompt) {
  return std::string(prompt.substr(0, 120));
}

net::Awaitable<void> stream_timed(TimingServer& ts, net::ServerRequest& request,
                                  net::ResponseWriter& writer) {
  ServerTimeline timeline;
  timeline.received = SteadyClock::now();
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  std::string key = prompt_key(body["messages"][0]["content"].get<std::string>());
  if (!co_await writer.begin_sse()) co_return;
  auto next = timeline.received;
  for (int i = 0; i < ts.tokens; ++i) {
    next += ts.interval;
    auto wait = next - SteadyClock::now();
    if (wait > 0ns) co_await net::sleep_for(std::chrono::duration_cast<core::Duration>(wait));
    std::string chunk = chat_chunk(i);
    timeline.sent.push_back(SteadyClock::now());
    if (!co_await writer.send_data(chunk)) co_return;
  }
  co_await writer.send_data("[DONE]");
  std::lock_guard lock(ts.mutex);
  ts.timelines[key] = std::move(timeline);
}

// Keeps each result with its request, to join with the server's timelines afterwards.
class RecordingExecutor final : public loadgen::Executor {
 public:
  explicit RecordingExecutor(loadgen::Executor& inner) : inner_(inner) {}
  net::Awaitable<loadgen::RequestResult> execute(const loadgen::PlannedRequest& request,
                                                 core::Duration time_left) override {
    loadgen::RequestResult result = co_await inner_.execute(request, time_left);
    std::lock_guard lock(mutex_);
    results.emplace_back(request.arrival, result);
    co_return result;
  }
  std::mutex mutex_;
  std::vector<std::pair<loadgen::Arrival, loadgen::RequestResult>> results;

 private:
  loadgen::Executor& inner_;
};

void print_error_distribution(const char* what, std::vector<double> errors_us) {
  if (errors_us.empty()) return;
  std::sort(errors_us.begin(), errors_us.end());
  auto q = [&](double p) {
    return errors_us[std::min(errors_us.size() - 1,
                              static_cast<std::size_t>(p * static_cast<double>(errors_us.size())))];
  };
  std::vector<double> abs = errors_us;
  for (double& v : abs) v = std::fabs(v);
  std::sort(abs.begin(), abs.end());
  double abs99 = abs[std::min(abs.size() - 1,
                              static_cast<std::size_t>(0.99 * static_cast<double>(abs.size())))];
  std::printf(
      "%-34s n=%zu  min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  |err| p99 %.1f (us)\n", what,
      errors_us.size(), errors_us.front(), q(0.5), q(0.9), q(0.99), errors_us.back(), abs99);
}

int timing(int concurrency, int tokens, int interval_ms, int requests) {
  TimingServer ts;
  ts.tokens = tokens;
  ts.interval = std::chrono::milliseconds(interval_ms);
  net::EventLoop server_loop;
  net::HttpServer server(server_loop, net::ServerOptions{});
  net::Router router;
  router.post("/v1/chat/completions", [&ts](net::ServerRequest& r, net::ResponseWriter& w) {
    return stream_timed(ts, r, w);
  });
  if (auto s = server.start(router.handler()); !s) return 1;
  server_loop.start();

  net::EventLoop loop;
  net::ClientOptions client_options;
  client_options.max_connections_per_host = static_cast<std::size_t>(concurrency);
  net::HttpClient client(loop, client_options);
  loadgen::HttpTarget target;
  target.url = server.url("/v1/chat/completions");
  target.api.streaming = true;
  loadgen::HttpExecutor http(client, target);
  RecordingExecutor executor(http);
  loadgen::RunOptions options;
  loadgen::StageSpec stage;
  stage.workload.concurrency = concurrency;
  stage.workload.input = {64, 0};
  stage.requests = static_cast<std::uint64_t>(requests);
  stage.warmup_requests = static_cast<std::uint64_t>(concurrency);
  options.stages.push_back(stage);
  loadgen::Runner runner(loop, loop.clock(), executor, options);
  runner.start();
  loop.run_until([&] { return runner.done(); }, std::chrono::minutes(10));
  server_loop.stop();
  server_loop.join();

  std::vector<double> itl_error, ttft_error;
  std::size_t joined = 0;
  for (const auto& [arrival, result] : executor.results) {
    std::string key = prompt_key(loadgen::make_prompt(arrival.input_tokens, arrival.prompt_seed));
    auto it = ts.timelines.find(key);
    if (!result.ok || it == ts.timelines.end() || !result.ttft) continue;
    const ServerTimeline& t = it->second;
    if (t.sent.size() != result.token_gaps.size() + 1) continue;
    ++joined;
    double server_ttft = std::chrono::duration<double, std::micro>(t.sent[0] - t.received).count();
    ttft_error.push_back(std::chrono::duration<double, std::micro>(*result.ttft).count() -
                         server_ttft);
    for (std::size_t i = 0; i < result.token_gaps.size(); ++i) {
      double server_gap =
          std::chrono::duration<double, std::micro>(t.sent[i + 1] - t.sent[i]).count();
      itl_error.push_back(std::chrono::duration<double, std::micro>(result.token_gaps[i]).count() -
                          server_gap);
    }
  }
  std::printf("timing: concurrency %d, %d tokens %d ms apart, %zu requests joined\n", concurrency,
              tokens, interval_ms, joined);
  print_error_distribution("ITL error (client - server gap)", itl_error);
  print_error_distribution("TTFT error (client - server)", ttft_error);
  return 0;
}

int sse_rate(int seconds) {
  net::EventLoop server_loop;
  net::HttpServer server(server_loop, net::ServerOptions{});
  net::Router router;
  add_canned_routes(router);
  if (auto s = server.start(router.handler()); !s) return 1;
  server_loop.start();

  net::EventLoop loop;
  net::HttpClient client(loop);
  loadgen::HttpTarget target;
  target.url = server.url("/v1/chat/completions");
  target.api.streaming = true;
  loadgen::HttpExecutor executor(client, target);
  loadgen::RunOptions options;
  loadgen::StageSpec stage;
  stage.workload.concurrency = 16;
  stage.workload.input = {16, 0};
  stage.workload.output = {2000, 0};
  stage.duration = std::chrono::seconds(seconds);
  options.stages.push_back(stage);
  loadgen::Runner runner(loop, loop.clock(), executor, options);
  auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  double cpu_start = thread_cpu();
  auto started = SteadyClock::now();
  runner.start();
  loop.run_until([&] { return runner.done(); }, std::chrono::minutes(10));
  double wall = std::chrono::duration<double>(SteadyClock::now() - started).count();
  double cpu = thread_cpu() - cpu_start;  // the client's thread only (the server has its own)
  server_loop.stop();
  server_loop.join();
  auto stages = runner.stages();
  double events = static_cast<double>(stages[0].itl.count() + stages[0].succeeded);
  std::printf(
      "sse-rate: %.0f events in %.2f s = %.0f events/s wall; client thread %.2f CPU s = %.0f "
      "events per client CPU second (%.0f requests, %zu errors)\n",
      events, wall, events / wall, cpu, events / cpu, static_cast<double>(stages[0].succeeded),
      static_cast<std::size_t>(stages[0].failed));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--serve") == 0) {
    return serve(argc >= 3 ? static_cast<std::uint16_t>(std::atoi(argv[2])) : 0);
  }
  if (argc >= 6 && std::strcmp(argv[1], "--timing") == 0) {
    return timing(std::atoi(argv[2]), std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
  }
  if (argc >= 3 && std::strcmp(argv[1], "--sse-rate") == 0) return sse_rate(std::atoi(argv[2]));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
