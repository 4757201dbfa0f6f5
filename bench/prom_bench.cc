// Benchmarks of the metrics pipeline core: exposition parsing (vs a memchr newline scan over the
// same buffer), scrape ingestion into the TSDB, TSDB memory per series and per sample, PromQL
// over 1,000 pods, and the writer side the simulated servers use. Numbers: docs/benchmarks.md.
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "prom/exposition/parser.h"
#include "prom/exposition/registry.h"
#include "prom/promql/engine.h"
#include "prom/promql/parser.h"
#include "prom/scrape/ingest.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/target_appender.h"

namespace {

using namespace llmscale::prom;

// A vLLM V1 scrape (vllm/v1/metrics/loggers.py names, V1 bucket boundaries, Python value
// formatting, `engine` + `model_name` labels) for a data-parallel server with `engines` engine
// cores, plus the python_/process_/http_ families a real server also exposes.
std::unique_ptr<MetricRegistry> vllm_v1_registry(int engines) {
  auto registry = std::make_unique<MetricRegistry>(ValueStyle::kPython);
  MetricRegistry& r = *registry;
  std::vector<std::string> labels = {"engine", "model_name"};
  const std::string model = "meta-llama/Llama-3.1-8B-Instruct";
  auto gauge = [&](const char* name, const char* help, double v) {
    auto* f = r.add_gauge(name, help, labels).value();
    for (int e = 0; e < engines; ++e) f->with({std::to_string(e), model}).set(v + e);
  };
  auto counter = [&](const char* name, const char* help, double v) {
    auto* f = r.add_counter(name, help, labels).value();
    for (int e = 0; e < engines; ++e) f->with({std::to_string(e), model}).inc(v * (e + 1));
  };
  auto histogram = [&](const char* name, const char* help, std::vector<double> bounds,
                       std::vector<double> observations) {
    auto* f = r.add_histogram(name, help, labels, bounds).value();
    for (int e = 0; e < engines; ++e) {
      auto& h = f->with({std::to_string(e), model});
      for (double o : observations) h.observe(o * (1 + 0.1 * e));
    }
  };
  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", 8);
  gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", 3);
  gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", 0.4375);
  gauge("vllm:gpu_cache_usage_perc",
        "GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: Use vllm:kv_cache_usage_perc "
        "instead.",
        0.4375);
  counter("vllm:prefix_cache_queries_total",
          "Prefix cache queries, in terms of number of queried tokens.", 123456);
  counter("vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.",
          45678);
  counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.", 3);
  counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", 8128902);
  counter("vllm:generation_tokens_total", "Number of generation tokens processed.", 7557572);
  auto* success =
      r.add_counter("vllm:request_success_total", "Count of successfully processed requests.",
                    {"engine", "finished_reason", "model_name"})
          .value();
  for (int e = 0; e < engines; ++e) {
    for (const char* reason : {"stop", "length", "abort"}) {
      success->with({std::to_string(e), reason, model}).inc(131);
    }
  }
  std::vector<double> tokens = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};
  std::vector<double> obs = {3, 17, 120, 480, 950, 2100, 40, 7};
  histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", tokens, obs);
  histogram("vllm:request_generation_tokens", "Number of generation tokens processed.", tokens,
            obs);
  histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
            {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384}, obs);
  histogram("vllm:request_max_num_generation_tokens",
            "Histogram of maximum number of requested generation tokens.", tokens, obs);
  histogram("vllm:request_params_n", "Histogram of the n request parameter.", {1, 2, 5, 10, 20},
            {1, 1, 2});
  histogram("vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.",
            tokens, obs);
  std::vector<double> ttft = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                              0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                              20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
  std::vector<double> lat_obs = {0.012, 0.05, 0.3, 0.9, 2.2, 0.07, 0.2};
  histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
            ttft, lat_obs);
  std::vector<double> itl = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                             0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
  histogram("vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", itl,
            lat_obs);
  histogram("vllm:request_time_per_output_token_seconds",
            "Histogram of time_per_output_token_seconds per request.", itl, lat_obs);
  std::vector<double> e2e = {0.3,  0.5,   0.8,   1.0,   1.5,   2.0,    2.5,
                             5.0,  10.0,  15.0,  20.0,  30.0,  40.0,   50.0,
                             60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
  for (const char* name :
       {"vllm:e2e_request_latency_seconds", "vllm:request_queue_time_seconds",
        "vllm:request_inference_time_seconds", "vllm:request_prefill_time_seconds",
        "vllm:request_decode_time_seconds"}) {
    histogram(name, "Histogram of request latency in seconds.", e2e, lat_obs);
  }
  auto* info = r.add_gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig",
                           {"block_size", "cache_dtype", "enable_prefix_caching", "engine",
                            "gpu_memory_utilization", "num_gpu_blocks"})
                   .value();
  for (int e = 0; e < engines; ++e) {
    info->with({"16", "auto", "True", std::to_string(e), "0.9", "81767"}).set(1);
  }
  // Process and HTTP families of the API server (no engine label).
  for (const char* name : {"python_gc_objects_collected_total", "process_virtual_memory_bytes",
                           "process_resident_memory_bytes", "process_start_time_seconds",
                           "process_cpu_seconds_total", "process_open_fds", "process_max_fds"}) {
    r.add_gauge(name, "Process metric.").value()->with({}).set(123456789);
  }
  auto* http = r.add_histogram("http_request_duration_seconds", "Latency of HTTP requests.",
                               {"handler", "method"},
                               {0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0})
                   .value();
  for (const char* handler : {"/v1/completions", "/v1/chat/completions", "/metrics", "/health"}) {
    http->with({handler, "POST"}).observe(0.42);
  }
  return registry;
}

std::string vllm_v1_scrape(int engines) {
  return vllm_v1_registry(engines)->text();
}

const std::string& scrape_body() {
  static const std::string body = vllm_v1_scrape(2);
  return body;
}

void BM_ParseVllmScrape(benchmark::State& state) {
  const std::string& body = scrape_body();
  std::size_t samples = 0;
  for (auto _ : state) {
    ExpositionParser p(body, ExpositionFormat::kPrometheusText);
    double sum = 0;
    samples = 0;
    while (p.next() == ExpositionParser::Step::kEntry) {
      if (p.kind() != ExpositionParser::Kind::kSample) continue;
      benchmark::DoNotOptimize(p.series().data());
      sum += p.value();
      ++samples;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_ParseVllmScrape);

// The scraper's slow path: every sample's labels decoded too (first scrape of a target).
void BM_ParseVllmScrapeWithLabels(benchmark::State& state) {
  const std::string& body = scrape_body();
  for (auto _ : state) {
    ExpositionParser p(body, ExpositionFormat::kPrometheusText);
    std::size_t n = 0;
    while (p.next() == ExpositionParser::Step::kEntry) {
      if (p.kind() == ExpositionParser::Kind::kSample) n += p.labels().size();
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseVllmScrapeWithLabels);

// The physical reference: find every newline with memchr.
void BM_MemchrNewlines(benchmark::State& state) {
  const std::string& body = scrape_body();
  for (auto _ : state) {
    const char* p = body.data();
    const char* end = p + body.size();
    std::size_t lines = 0;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      if (nl == nullptr) break;
      ++lines;
      p = nl + 1;
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_MemchrNewlines);

// Full scrape ingestion in steady state: parse + scrape cache + TSDB append + report series.
void BM_IngestScrapeSteadyState(benchmark::State& state) {
  const std::string& body = scrape_body();
  Storage storage;
  TargetAppender appender(storage);
  IngestOptions options;
  options.target_labels = Labels{
      {"job", "vllm"}, {"instance", "10.0.0.1:8000"}, {"namespace", "default"}, {"pod", "vllm-0"}};
  std::int64_t t = 1'700'000'000'000;
  IngestReport report = ingest_scrape(appender, body, t, 0.01, options);
  std::size_t samples = report.samples_scraped;
  for (auto _ : state) {
    t += 1000;
    report = ingest_scrape(appender, body, t, 0.01, options);
    benchmark::DoNotOptimize(report.stats.samples_appended);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.counters["samples_per_scrape"] = static_cast<double>(samples);
}
BENCHMARK(BM_IngestScrapeSteadyState);

// TSDB append alone: pinned series, one sample each per round (what commit() does).
void BM_TsdbAppend(benchmark::State& state) {
  Storage storage;
  std::vector<MemSeries*> series;
  for (int i = 0; i < 1000; ++i) {
    std::string pod = std::to_string(i);
    series.push_back(storage.acquire(Labels{{"__name__", "x"}, {"pod", pod}}).value());
  }
  std::int64_t t = 0;
  double v = 0;
  for (auto _ : state) {
    t += 15000;
    v += 1;
    for (MemSeries* s : series) storage.append_to(s, t, v);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * series.size()));
  for (MemSeries* s : series) storage.unpin(s);
}
BENCHMARK(BM_TsdbAppend);

// Heap bytes in use (glibc), to check the storage's own estimate.
std::size_t heap_in_use() {
  return mallinfo2().uordblks;
}

// Memory: `series` series of `samples` samples each at 15 s intervals, realistic vLLM labels.
// Value patterns: 0 = small-integer gauge (queue length), 1 = float gauge with jittered scrape
// timestamps (KV-cache usage), 2 = counter with irregular increments and jitter (token counter).
void BM_TsdbMemory(benchmark::State& state) {
  auto series_count = static_cast<int>(state.range(0));
  auto samples = static_cast<int>(state.range(1));
  auto pattern = static_cast<int>(state.range(2));
  StorageStats st;
  std::size_t heap_delta = 0;
  for (auto _ : state) {
    std::size_t heap_before = heap_in_use();
    auto storage = std::make_unique<Storage>(StorageOptions{.retention = std::chrono::hours(24)});
    std::uint64_t rng = 12345;
    auto next = [&rng] {
      rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
      return rng >> 33;
    };
    for (int i = 0; i < series_count; ++i) {
      std::string pod = "vllm-" + std::to_string(i / 2);
      std::string instance =
          "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":8000";
      Labels l{{"__name__", "vllm:num_requests_waiting"},
               {"namespace", "default"},
               {"pod", pod},
               {"engine", std::to_string(i % 2)},
               {"model_name", "meta-llama/Llama-3.1-8B-Instruct"},
               {"job", "vllm"},
               {"instance", instance}};
      MemSeries* s = storage->acquire(l).value();
      double v = 0;
      for (int k = 0; k < samples; ++k) {
        std::int64_t t = 1'700'000'000'000 + k * 15000LL;
        if (pattern == 0) {
          v = static_cast<double>((k / 7) % 5);
        } else if (pattern == 1) {
          v = static_cast<double>(next() % 100000) / 100000.0;
          t += static_cast<std::int64_t>(next() % 20);
        } else {
          v += static_cast<double>(next() % 500);
          t += static_cast<std::int64_t>(next() % 20);
        }
        storage->append_to(s, t, v);
      }
      storage->unpin(s);
    }
    st = storage->stats();
    heap_delta = heap_in_use() - heap_before;
  }
  double n = static_cast<double>(series_count);
  state.counters["est_bytes_per_series"] =
      static_cast<double>(st.memory_bytes - st.chunk_bytes) / n;
  state.counters["chunk_bytes_per_sample"] = static_cast<double>(st.chunk_bytes) / (n * samples);
  state.counters["est_total_bytes_per_sample"] =
      static_cast<double>(st.memory_bytes) / (n * samples);
  state.counters["heap_bytes_per_series"] = static_cast<double>(heap_delta) / n;
  state.counters["heap_bytes_per_sample"] = static_cast<double>(heap_delta) / (n * samples);
}
BENCHMARK(BM_TsdbMemory)
    ->Args({10000, 1, 0})
    ->Args({10000, 60, 0})
    ->Args({10000, 60, 1})
    ->Args({10000, 60, 2})
    ->Args({10000, 240, 2})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// 1,000 pods x 2 engines scraped every 15 s for 15 minutes; queries at "now".
struct FleetFixture {
  Storage storage{StorageOptions{.retention = std::chrono::minutes(15)}};
  std::int64_t now = 0;
  std::string adapter_query;
  FleetFixture() {
    std::int64_t start = 1'700'000'000'000;
    std::vector<MemSeries*> waiting, tokens;
    for (int pod = 0; pod < 1000; ++pod) {
      for (int engine = 0; engine < 2; ++engine) {
        Labels base{{"namespace", "default"},
                    {"pod", "vllm-" + std::to_string(pod)},
                    {"engine", std::to_string(engine)},
                    {"model_name", "m"},
                    {"job", "vllm"}};
        LabelsBuilder b(base);
        b.set("__name__", "vllm:num_requests_waiting");
        waiting.push_back(storage.acquire(b.labels()).value());
        b.set("__name__", "vllm:generation_tokens_total");
        tokens.push_back(storage.acquire(b.labels()).value());
      }
    }
    for (int k = 0; k < 60; ++k) {
      now = start + k * 15000LL;
      for (std::size_t i = 0; i < waiting.size(); ++i) {
        storage.append_to(waiting[i], now, static_cast<double>((i + k) % 17));
        storage.append_to(tokens[i], now, static_cast<double>(k * 137 + i));
      }
    }
    for (MemSeries* s : waiting) storage.unpin(s);
    for (MemSeries* s : tokens) storage.unpin(s);
    now += 5000;
    adapter_query = "avg(vllm:num_requests_waiting{namespace=\"default\",pod=~\"";
    for (int pod = 0; pod < 1000; ++pod) {
      if (pod > 0) adapter_query += "|";
      adapter_query += "vllm-" + std::to_string(pod);
    }
    adapter_query += "\"}) by (pod)";
  }
};

FleetFixture& fleet() {
  static FleetFixture f;
  return f;
}

void run_query(benchmark::State& state, const std::string& query) {
  FleetFixture& f = fleet();
  LocalQueryEngine engine(f.storage);
  std::size_t results = 0;
  for (auto _ : state) {
    auto r = engine.instant_query_ms(query, f.now);
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    results = r->vector().size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["result_series"] = static_cast<double>(results);
}

void BM_AvgByPod1000Pods(benchmark::State& state) {
  run_query(state, "avg(vllm:num_requests_waiting) by (pod)");
}
BENCHMARK(BM_AvgByPod1000Pods)->Unit(benchmark::kMicrosecond);

// The query prometheus-adapter builds for an HPA over 1,000 pods: a 1,000-way pod regex.
void BM_AdapterQuery1000Pods(benchmark::State& state) {
  run_query(state, fleet().adapter_query);
}
BENCHMARK(BM_AdapterQuery1000Pods)->Unit(benchmark::kMicrosecond);

void BM_SumRateByPod1000Pods(benchmark::State& state) {
  run_query(state, "sum(rate(vllm:generation_tokens_total[1m])) by (pod)");
}
BENCHMARK(BM_SumRateByPod1000Pods)->Unit(benchmark::kMicrosecond);

void BM_RangeQueryAvgByPod(benchmark::State& state) {
  FleetFixture& f = fleet();
  LocalQueryEngine engine(f.storage);
  for (auto _ : state) {
    auto r = engine.range_query_ms("avg(vllm:num_requests_waiting) by (pod)", f.now - 600000, f.now,
                                   15000);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_RangeQueryAvgByPod)->Unit(benchmark::kMillisecond);

void BM_ParsePromql(benchmark::State& state) {
  const std::string q =
      "histogram_quantile(0.9, sum by (le, pod) (rate(vllm:time_to_first_token_seconds_bucket"
      "{namespace=\"default\",pod=~\"vllm-.*\"}[1m]))) / on(pod) group_left sum by (pod) (up)";
  for (auto _ : state) benchmark::DoNotOptimize(parse_promql(q));
}
BENCHMARK(BM_ParsePromql);

// Writer side: a simulated vLLM server's per-token update and a full /metrics render.
void BM_HistogramObserve(benchmark::State& state) {
  MetricRegistry r;
  auto* f = r.add_histogram("itl_seconds", "ITL.", {"engine"},
                            {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0,
                             2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0})
                .value();
  Histogram& h = f->with({"0"});
  double v = 0.001;
  for (auto _ : state) {
    h.observe(v);
    v = v > 50 ? 0.001 : v * 1.7;
  }
}
BENCHMARK(BM_HistogramObserve);

void BM_RenderVllmScrape(benchmark::State& state) {
  auto registry = vllm_v1_registry(2);
  std::string out;
  for (auto _ : state) {
    out.clear();
    registry->write(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_RenderVllmScrape)->Unit(benchmark::kMicrosecond);

}  // namespace
