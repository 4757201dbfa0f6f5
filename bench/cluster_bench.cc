// `llmscale controller` at fleet size: one controller reconciling 1,000 LLMAutoscaler objects
// over 10,000 pods against the embedded API server (in-process, on its own thread and loop, over
// loopback HTTP). Reports CPU per reconcile pass (the controller thread's CPU time over one
// sync period), API requests per pass and per minute next to what the native HPA controller
// would make (one scale GET plus one metrics API call per HPA per 15 s), the resident memory the
// controller adds, and the failover time after the leader is killed (a crashed elector that
// never releases its Lease; client-go's 15 s / 10 s / 2 s timings).
//
//   build-bench/bench/cluster_bench --benchmark_filter=Pass     # ~1 min
//   build-bench/bench/cluster_bench --benchmark_filter=Failover # ~40 s
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apiserver/api_server.h"
#include "apiserver/store.h"
#include "cluster/cluster_controller.h"
#include "kube/label_selector.h"
#include "kube/quantity.h"
#include "kubeclient/leader_election.h"
#include "kubeclient/rest_client.h"
#include "net/event_loop.h"
#include "net/server.h"

namespace llmscale {
namespace {

using core::Json;
using namespace std::chrono_literals;

constexpr int kObjects = 1000;
constexpr int kPodsPerObject = 10;
constexpr auto kSyncPeriod = 15s;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// Every pod of every fleet at its target (100m against 100m): a steady pass, no rescale.
class FleetMetrics final : public hpa::MetricsProvider {
 public:
  FleetMetrics() {
    for (int i = 0; i < kObjects; ++i) {
      std::string app = "llm-" + std::to_string(i);
      std::vector<kube::MetricValue>& values = by_app_[app];
      for (int p = 0; p < kPodsPerObject; ++p) {
        kube::MetricValue value;
        value.described_object = {"Pod", "default", app + "-" + std::to_string(p), "v1"};
        value.metric_name = "gpu_cache_usage_perc";
        value.value = *kube::Quantity::parse("100m");
        values.push_back(value);
      }
    }
  }
  core::Result<std::vector<kube::PodMetrics>> resource_metrics(const std::string&,
                                                               const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kUnavailable, "no resource metrics");
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(const std::string&, const std::string&,
                                                           const kube::Selector& pod_selector,
                                                           const kube::Selector&) override {
    for (auto& [app, values] : by_app_) {
      if (!pod_selector.matches(kube::Labels{{"app", app}})) continue;
      for (auto& value : values) value.timestamp = core::wall_now();
      return values;
    }
    return std::vector<kube::MetricValue>{};
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string&, const std::string&, const kube::CrossVersionObjectReference&,
      const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kUnavailable, "no object metrics");
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string&, const std::string&, const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kUnavailable, "no external metrics");
  }

 private:
  std::map<std::string, std::vector<kube::MetricValue>> by_app_;
};

// The embedded API server with the fleet in it, served on loopback from a thread of its own.
class Cluster {
 public:
  Cluster() : api_loop_(1) {
    store_ = std::make_unique<apiserver::Store>(api_loop_.clock(), 100'000);
    std::vector<apiserver::ResourceType> resources = apiserver::builtin_resources();
    for (auto& type : apiserver::llmscale_resources()) resources.push_back(std::move(type));
    api_ = std::make_unique<apiserver::ApiServer>(*store_, api_loop_.clock(), std::move(resources));
    check(api_->create(*api_->find("", "namespaces"), Json{{"metadata", {{"name", "default"}}}}));
    populate();
    server_ = std::make_unique<net::HttpServer>(api_loop_, net::ServerOptions{});
    auto started = server_->start(
        [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
          return api_->serve(request, writer);
        });
    if (!started) std::fprintf(stderr, "server: %s\n", started.error().message.c_str());
    url_ = server_->url("");
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    api_loop_.start();
  }
  ~Cluster() {
    api_loop_.stop();
    api_loop_.join();
  }

  kubeclient::RestConfig rest_config() const {
    kubeclient::RestConfig config;
    config.host = url_;
    return config;
  }

 private:
  template <class T>
  static void check(const T& result) {
    if (!result) std::fprintf(stderr, "setup: %s\n", result.error().message.c_str());
  }

  void populate() {
    Json container = Json::array({{{"name", "server"}, {"image", "vllm"}}});
    Json spec = Json::parse(
        R"({"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment"},
            "minReplicas":1,"maxReplicas":100,
            "metrics":[{"type":"Pods","pods":{"metric":{"name":"gpu_cache_usage_perc"},
                        "target":{"type":"AverageValue","averageValue":"100m"}}}]})");
    for (int i = 0; i < kObjects; ++i) {
      std::string app = "llm-" + std::to_string(i);
      Json deployment = {
          {"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", app}, {"namespace", "default"}}},
          {"spec",
           {{"replicas", kPodsPerObject},
            {"selector", {{"matchLabels", {{"app", app}}}}},
            {"template",
             {{"metadata", {{"labels", {{"app", app}}}}}, {"spec", {{"containers", container}}}}}}},
          {"status", {{"replicas", kPodsPerObject}}}};
      check(api_->create(*api_->find("apps", "deployments"), deployment));
      for (int p = 0; p < kPodsPerObject; ++p) {
        Json pod = {
            {"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", app + "-" + std::to_string(p)},
              {"namespace", "default"},
              {"labels", {{"app", app}}}}},
            {"spec", {{"containers", container}}},
            {"status",
             {{"phase", "Running"},
              {"startTime", "2020-01-01T00:00:00Z"},
              {"conditions", Json::array({{{"type", "Ready"},
                                           {"status", "True"},
                                           {"lastTransitionTime", "2020-01-01T00:00:00Z"}}})}}}};
        check(store_->create({"", "pods"}, pod));
      }
      Json object = {{"apiVersion", "autoscaling.llmscale.io/v1alpha1"},
                     {"kind", "LLMAutoscaler"},
                     {"metadata", {{"name", app}, {"namespace", "default"}}},
                     {"spec", spec}};
      object["spec"]["scaleTargetRef"]["name"] = app;
      check(api_->create(*api_->find("autoscaling.llmscale.io", "llmautoscalers"), object));
    }
  }

  net::EventLoop api_loop_;
  std::unique_ptr<apiserver::Store> store_;
  std::unique_ptr<apiserver::ApiServer> api_;
  std::unique_ptr<net::HttpServer> server_;
  std::string url_;
};

kubeclient::RestClientOptions client_options() {
  kubeclient::RestClientOptions options;
  // 1,000 objects every 15 s need ~67 requests/s per request kind; client-go's default QPS 5
  // would stretch a pass to minutes (see docs/benchmarks.md).
  options.qps = 1000;
  options.burst = 1000;
  return options;
}

std::uint64_t total_requests(const kubeclient::RestClient& client) {
  std::uint64_t total = 0;
  for (const auto& [verb, count] : client.stats().requests_by_verb) total += count;
  return total;
}

std::map<std::string, std::uint64_t> verbs(const kubeclient::RestClient& client) {
  return client.stats().requests_by_verb;
}

// Runs one controller to the end of its first full pass, then through one more sync period.
void BM_ControllerPass(benchmark::State& state) {
  for (auto _ : state) {
    Cluster cluster;
    double rss_before = rss_mib();
    net::EventLoop loop;
    kubeclient::RestClient client(loop, loop.clock(), cluster.rest_config(), client_options());
    FleetMetrics metrics;
    cluster::ClusterControllerOptions options;
    options.sync_period = kSyncPeriod;
    cluster::ClusterController controller(client, metrics, options);
    auto started = std::chrono::steady_clock::now();
    controller.start(loop);
    loop.run_until([&] { return controller.metrics().reconciles >= kObjects; }, 120s);
    double first_pass_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    // Steady state: the next sync period's passes.
    auto before = verbs(client);
    std::uint64_t requests_before = total_requests(client);
    std::uint64_t reconciles_before = controller.metrics().reconciles;
    double cpu_before = thread_cpu_seconds();
    double reconcile_before = controller.metrics().reconcile_seconds_sum;
    auto window_start = std::chrono::steady_clock::now();
    loop.run_until([&] { return controller.metrics().reconciles >= reconciles_before + kObjects; },
                   120s);
    double window_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - window_start).count();
    double cpu = thread_cpu_seconds() - cpu_before;
    std::uint64_t passes = controller.metrics().reconciles - reconciles_before;
    std::uint64_t requests = total_requests(client) - requests_before;
    double rss_after = rss_mib();
    controller.stop();
    loop.run_until([&] { return !controller.running(); }, 5s);

    double per_minute = static_cast<double>(requests) * 60.0 / static_cast<double>(passes) *
                        kObjects / std::chrono::duration<double>(kSyncPeriod).count();
    state.counters["first_pass_s"] = first_pass_s;
    state.counters["window_s"] = window_s;
    state.counters["cpu_per_pass_ms"] = cpu * 1000.0 * kObjects / static_cast<double>(passes);
    state.counters["reconcile_ms_per_object"] =
        (controller.metrics().reconcile_seconds_sum - reconcile_before) * 1000.0 /
        static_cast<double>(passes);
    state.counters["requests_per_object_pass"] =
        static_cast<double>(requests) / static_cast<double>(passes);
    state.counters["requests_per_min"] = per_minute;
    state.counters["native_hpa_requests_per_min"] =
        2.0 * kObjects * 60.0 / std::chrono::duration<double>(kSyncPeriod).count();
    state.counters["controller_rss_mib"] = rss_after - rss_before;
    state.counters["errors"] = static_cast<double>(controller.metrics().errors);
    std::string by_verb;
    for (const auto& [verb, count] : verbs(client)) {
      std::uint64_t earlier = before.contains(verb) ? before[verb] : 0;
      by_verb += verb + "=" + std::to_string(count - earlier) + " ";
    }
    state.SetLabel("steady-pass requests by verb: " + by_verb);
  }
}
BENCHMARK(BM_ControllerPass)->Iterations(1)->Unit(benchmark::kSecond);

// Two controllers behind electors on one Lease; the leader crashes (never releases).
void BM_Failover(benchmark::State& state) {
  for (auto _ : state) {
    Cluster cluster;
    net::EventLoop loop;
    FleetMetrics metrics;
    struct Replica {
      std::unique_ptr<kubeclient::RestClient> client;
      std::unique_ptr<kubeclient::ApiLeaseLock> lock;
      std::unique_ptr<kubeclient::LeaderElector> elector;
      std::unique_ptr<cluster::ClusterController> controller;
    };
    std::vector<Replica> replicas(2);
    for (int i = 0; i < 2; ++i) {
      Replica& r = replicas[i];
      r.client = std::make_unique<kubeclient::RestClient>(loop, loop.clock(), cluster.rest_config(),
                                                          client_options());
      r.lock =
          std::make_unique<kubeclient::ApiLeaseLock>(*r.client, "default", "llmscale-controller");
      kubeclient::LeaderElectionConfig election;
      election.identity = "replica-" + std::to_string(i);
      election.seed = static_cast<std::uint64_t>(i) + 1;
      r.elector =
          std::move(*kubeclient::LeaderElector::create(*r.lock, loop.clock(), election, {}));
      kubeclient::LeaderElector* elector = r.elector.get();
      cluster::ClusterControllerOptions options;
      options.sync_period = kSyncPeriod;
      r.controller = std::make_unique<cluster::ClusterController>(
          *r.client, metrics, options, [elector] { return elector->leading(); });
      r.elector->start(loop);
      r.controller->start(loop);
    }
    auto leader_index = [&]() -> int {
      for (int i = 0; i < 2; ++i) {
        if (replicas[i].elector->leading()) return i;
      }
      return -1;
    };
    loop.run_until([&] { return leader_index() >= 0; }, 60s);
    int leader = leader_index();
    Replica& old = replicas[leader];
    loop.run_until([&] { return old.controller->metrics().reconciles >= kObjects; }, 120s);
    Replica& next = replicas[1 - leader];
    auto killed = std::chrono::steady_clock::now();
    old.elector->abandon();
    old.controller->stop();
    loop.run_until([&] { return next.elector->leading(); }, 60s);
    double takeover_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    std::uint64_t writes_before =
        next.controller->metrics().reconciles - next.controller->metrics().skipped_not_leader;
    loop.run_until(
        [&] {
          return next.controller->metrics().reconciles -
                     next.controller->metrics().skipped_not_leader >
                 writes_before;
        },
        60s);
    double first_act_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
    for (auto& r : replicas) {
      r.elector->stop();
      r.controller->stop();
    }
    loop.run_until(
        [&] {
          for (auto& r : replicas) {
            if (r.controller->running() || r.elector->running()) return false;
          }
          return true;
        },
        10s);
    state.counters["takeover_s"] = takeover_s;
    state.counters["first_pass_after_kill_s"] = first_act_s;
  }
}
BENCHMARK(BM_Failover)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace llmscale
