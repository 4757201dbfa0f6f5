// One HPA reconcile pass over 1,000 pods and 3 metrics (CPU utilization, a Pods metric and an
// External value), the cost the controller pays per HPA per sync.
#include <benchmark/benchmark.h>

#include "hpa/engine.h"
#include "hpa/reconcile_io.h"

namespace {

using namespace llmscale;

struct Fixture {
  hpa::ReconcileInput input;
  hpa::RecordedMetrics metrics;
};

Fixture make_fixture(int pods) {
  Fixture f;
  core::Time now = *core::parse_rfc3339("2026-03-01T12:00:00Z");
  f.input.now = now;
  auto& h = f.input.hpa;
  h.metadata.name = "bench";
  h.metadata.namespace_ = "default";
  h.spec.scale_target_ref = {"Deployment", "llm", "apps/v1"};
  h.spec.min_replicas = 1;
  h.spec.max_replicas = 5000;
  kube::MetricSpec cpu;
  cpu.type = "Resource";
  cpu.resource = kube::ResourceMetricSource{"cpu", {"Utilization", {}, {}, 60}};
  kube::MetricSpec queue;
  queue.type = "Pods";
  queue.pods = kube::PodsMetricSource{{"vllm:num_requests_waiting", std::nullopt},
                                      {"AverageValue", {}, *kube::Quantity::parse("5"), {}}};
  kube::MetricSpec external;
  external.type = "External";
  external.external = kube::ExternalMetricSource{{"queue_depth", std::nullopt},
                                                 {"Value", *kube::Quantity::parse("2k"), {}, {}}};
  h.spec.metrics = {cpu, queue, external};
  f.input.scale = kube::Scale{pods, pods, "app=llm"};
  std::vector<kube::PodMetrics> usage;
  std::vector<kube::MetricValue> waiting;
  for (int i = 0; i < pods; ++i) {
    kube::Pod pod;
    pod.metadata.name = "llm-" + std::to_string(i);
    pod.metadata.namespace_ = "default";
    pod.metadata.labels = {{"app", "llm"}, {"pod-template-hash", "5c6ddbbfb5"}};
    pod.phase = "Running";
    pod.start_time = now - std::chrono::hours(1);
    pod.conditions = {{"Ready", "True", now - std::chrono::minutes(55)}};
    pod.containers = {{"server", {{"cpu", *kube::Quantity::parse("4")}}, std::nullopt},
                      {"sidecar", {{"cpu", *kube::Quantity::parse("100m")}}, std::nullopt}};
    f.input.pods.push_back(pod);
    kube::PodMetrics m;
    m.metadata.name = pod.metadata.name;
    m.timestamp = now - std::chrono::seconds(10);
    m.window = std::chrono::seconds(30);
    m.containers = {{"server", {{"cpu", kube::Quantity::from_milli(2000 + i % 700)}}},
                    {"sidecar", {{"cpu", kube::Quantity::from_milli(20)}}}};
    usage.push_back(m);
    kube::MetricValue v;
    v.described_object = {"Pod", "default", pod.metadata.name, "v1"};
    v.timestamp = now - std::chrono::seconds(5);
    v.value = kube::Quantity::from_milli(3000 + (i * 37) % 4000);
    waiting.push_back(v);
  }
  f.metrics.resource = usage;
  f.metrics.pods["vllm:num_requests_waiting"] = waiting;
  kube::ExternalMetricValue e;
  e.metric_name = "queue_depth";
  e.timestamp = now;
  e.value = *kube::Quantity::parse("2500");
  f.metrics.external["queue_depth"] = std::vector<kube::ExternalMetricValue>{e};
  f.input.history.recommendations = {{pods, now - std::chrono::minutes(10)}};
  return f;
}

void BM_Reconcile(benchmark::State& state) {
  Fixture f = make_fixture(int(state.range(0)));
  hpa::AcceptingScaleWriter writer;
  for (auto _ : state) {
    hpa::Decision d = hpa::reconcile(f.input, f.metrics, writer);
    benchmark::DoNotOptimize(d.desired_replicas);
  }
  state.counters["pods"] = double(state.range(0));
}
BENCHMARK(BM_Reconcile)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
