// The metrics adapter's cost per request, without HTTP: the HPA's wildcard Pods-metric request
// over N pods (list objects, build PromQL, query the TSDB, encode the MetricValueList), split
// into its stages, plus an External request; and the same request answered from the answer
// cache (the TSDB unchanged since the last answer, the clock in the same second), copied out
// (serve) or shared (serve_shared, what the HTTP server sends).
#include <benchmark/benchmark.h>

#include "adapter/adapter.h"
#include "core/clock.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"

namespace {

using namespace llmscale;

struct Fleet {
  explicit Fleet(int pods, bool cache = false) : engine(storage) {
    std::vector<adapter::StaticObjectLister::Object> objects;
    auto now = core::to_unix_millis(clock.now());
    for (int i = 0; i < pods; ++i) {
      std::string pod = "vllm-" + std::to_string(i);
      (void)storage.append(
          {{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", pod}},
          now - 1000, i % 17);
      objects.push_back({{"", "pods"}, "llm", pod, {{"app", "vllm"}}});
    }
    lister = std::make_unique<adapter::StaticObjectLister>(std::move(objects));
    auto config = adapter::parse_adapter_config(R"(
rules:
- seriesQuery: '{__name__=~"^vllm:.*",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
externalRules:
- seriesQuery: '{__name__=~"^vllm:.*",namespace!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (namespace)
)");
    adapter::AdapterOptions options;
    if (cache) options.answer_cache_storage = &storage;
    metrics = std::make_unique<adapter::MetricsAdapter>(
        std::make_shared<const adapter::AdapterConfig>(*config), engine, *lister, clock, options);
    (void)metrics->relist();
  }
  core::SimulatedClock clock;
  prom::Storage storage;
  prom::LocalQueryEngine engine;
  std::unique_ptr<adapter::StaticObjectLister> lister;
  std::unique_ptr<adapter::MetricsAdapter> metrics;
};

const std::string kPath =
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting";

void BM_WildcardPodsServe(benchmark::State& state) {
  Fleet fleet(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto body = fleet.metrics->serve(kPath, "labelSelector=app%3Dvllm");
    bytes = body->size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_WildcardPodsServe)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// A hit copied out (serve), or as the HTTP server takes it (serve_shared: the cache's own
// body, not a copy).
template <bool kShared>
void wildcard_pods_hits(benchmark::State& state) {
  Fleet fleet(static_cast<int>(state.range(0)), /*cache=*/true);
  for (auto _ : state) {
    if constexpr (kShared) {
      auto body = fleet.metrics->serve_shared(kPath, "labelSelector=app%3Dvllm");
      benchmark::DoNotOptimize(body);
    } else {
      auto body = fleet.metrics->serve(kPath, "labelSelector=app%3Dvllm");
      benchmark::DoNotOptimize(body);
    }
  }
  state.counters["hit_ratio"] = static_cast<double>(fleet.metrics->answer_cache_stats()->hits) /
                                static_cast<double>(state.iterations());
}
void BM_WildcardPodsServeCached(benchmark::State& state) {
  wildcard_pods_hits<false>(state);
}
BENCHMARK(BM_WildcardPodsServeCached)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
void BM_WildcardPodsServeShared(benchmark::State& state) {
  wildcard_pods_hits<true>(state);
}
BENCHMARK(BM_WildcardPodsServeShared)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_WildcardPodsValuesOnly(benchmark::State& state) {
  Fleet fleet(static_cast<int>(state.range(0)));
  auto request = *adapter::parse_metrics_request(kPath, "labelSelector=app%3Dvllm");
  for (auto _ : state) {
    auto items = fleet.metrics->custom_metric(request);
    benchmark::DoNotOptimize(items);
  }
}
BENCHMARK(BM_WildcardPodsValuesOnly)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_QueryOnly(benchmark::State& state) {
  Fleet fleet(static_cast<int>(state.range(0)));
  std::string names;
  for (int i = 0; i < state.range(0); ++i) names += (i ? "|vllm-" : "vllm-") + std::to_string(i);
  std::string query =
      "sum(vllm:num_requests_waiting{namespace=\"llm\",pod=~\"" + names + "\"}) by (pod)";
  for (auto _ : state) {
    auto result = fleet.engine.instant_query(query, fleet.clock.now());
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_QueryOnly)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_ExternalServe(benchmark::State& state) {
  Fleet fleet(1000);
  for (auto _ : state) {
    auto body = fleet.metrics->serve(
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/num_requests_waiting", "");
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_ExternalServe)->Unit(benchmark::kMicrosecond);

}  // namespace
