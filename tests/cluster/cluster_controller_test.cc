// `llmscale controller`'s reconcile loop against the embedded API server on loopback (real
// sockets, bounded waits): LLMAutoscaler objects scale a Deployment through its scale
// subresource with the hpa engine's decision, status and history persisted in the object,
// SuccessfulRescale events; a target a native HPA also scales is refused with a condition; a
// 409 on the scale write is re-read and retried; a failed pod list decides nothing; a
// non-leader writes nothing; advisory mode annotates native HPAs and scales nothing; a pass
// waiting on a slow Prometheus (prometheus-adapter rules over RemoteQueryEngine's coroutines)
// leaves the loop free for everything else.
#include "cluster/cluster_controller.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapter/async_provider.h"
#include "adapter/config.h"
#include "hpa/reconcile_io.h"
#include "kube/quantity.h"
#include "kubeclient/leader_election.h"
#include "kubeclient/loopback_api.h"
#include "net/notifier.h"
#include "net/server.h"
#include "prom/api/remote_engine.h"
#include "support/process.h"

namespace llmscale::cluster {
namespace {

using core::Json;
using kubeclient::testing::Fault;
using kubeclient::testing::LoopbackApi;
using kubeclient::testing::status_fault;
using namespace std::chrono_literals;

const char* kSpec = R"({"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"llm"},
  "minReplicas":1,"maxReplicas":8,
  "metrics":[{"type":"Pods","pods":{"metric":{"name":"gpu_cache_usage_perc"},
              "target":{"type":"AverageValue","averageValue":"100m"}}}]})";

template <class T>
T run(net::EventLoop& loop, net::Awaitable<T> task) {
  std::optional<T> result;
  auto wrapper = [](net::Awaitable<T> inner, std::optional<T>* out) -> net::Awaitable<void> {
    out->emplace(co_await std::move(inner));
  };
  EXPECT_TRUE(loop.block_on(wrapper(std::move(task), &result), 30s));
  return std::move(*result);
}

class ClusterControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Json deployment = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "llm"}}},
        {"spec",
         {{"replicas", 1},
          {"selector", {{"matchLabels", {{"app", "llm"}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", "llm"}}}}},
            {"spec", {{"containers", Json::array({{{"name", "server"}, {"image", "vllm"}}})}}}}}}}};
    ASSERT_TRUE(
        run(loop_, client_.create(kubeclient::deployments_resource(), "default", deployment)));
    add_ready_pod("llm-0");
    set_usage("300m");
  }

  // A pod of the Deployment, Running and Ready.
  void add_ready_pod(const std::string& name) {
    Json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"labels", {{"app", "llm"}}}}},
                {"spec", {{"containers", Json::array({{{"name", "server"}, {"image", "vllm"}}})}}}};
    auto created = run(loop_, client_.create(kubeclient::pods_resource(), "default", pod));
    ASSERT_TRUE(created) << created.error().to_string();
    Json with_status = *created;
    with_status["status"] = {
        {"phase", "Running"},
        {"startTime", "2020-01-01T00:00:00Z"},
        {"conditions", Json::array({{{"type", "Ready"},
                                     {"status", "True"},
                                     {"lastTransitionTime", "2020-01-01T00:00:00Z"}}})}};
    auto updated =
        run(loop_, client_.update(kubeclient::pods_resource(), "default", with_status, "status"));
    ASSERT_TRUE(updated) << updated.error().to_string();
  }
  void TearDown() override {
    loop_.run_until([] { return false; }, 300ms);
  }

  void set_usage(const std::string& quantity) {
    kube::MetricValue value;
    value.described_object = {"Pod", "default", "llm-0", "v1"};
    value.metric_name = "gpu_cache_usage_perc";
    value.timestamp = core::wall_now();
    value.value = *kube::Quantity::parse(quantity);
    metrics_.pods["gpu_cache_usage_perc"] = std::vector<kube::MetricValue>{value};
  }

  void create_autoscaler() {
    Json object = {{"apiVersion", "autoscaling.llmscale.io/v1alpha1"},
                   {"kind", "LLMAutoscaler"},
                   {"metadata", {{"name", "llm"}}},
                   {"spec", Json::parse(kSpec)}};
    auto created = run(loop_, client_.create(autoscalers_resource(), "default", object));
    ASSERT_TRUE(created) << created.error().to_string();
  }

  int deployment_replicas() {
    auto d = run(loop_, client_.get(kubeclient::deployments_resource(), "default", "llm"));
    EXPECT_TRUE(d);
    return d ? (*d)["spec"]["replicas"].get<int>() : -1;
  }

  Json autoscaler() {
    auto o = run(loop_, client_.get(autoscalers_resource(), "default", "llm"));
    EXPECT_TRUE(o);
    return o ? *o : Json();
  }

  std::vector<std::string> event_reasons() {
    auto list = run(loop_, client_.list(kubeclient::events_resource(), "default"));
    std::vector<std::string> reasons;
    if (list) {
      for (const Json& e : (*list)["items"]) reasons.push_back(e["reason"]);
    }
    return reasons;
  }

  static kubeclient::RestClientOptions client_options() {
    kubeclient::RestClientOptions options;
    options.qps = 1000;
    options.burst = 1000;
    return options;
  }

  net::EventLoop loop_;
  LoopbackApi api_{loop_};
  kubeclient::RestClient client_{loop_, loop_.clock(), api_.rest_config(), client_options()};
  hpa::RecordedMetrics metrics_;
};

TEST_F(ClusterControllerTest, ScalesTheTargetAndPersistsStatusAndHistory) {
  create_autoscaler();
  ClusterController controller(client_, metrics_, {});
  auto status = run(loop_, controller.reconcile("default", "llm"));
  ASSERT_TRUE(status) << status.error().message;
  // 1 pod at 300m against 100m: ceil(1 x 3) = 3.
  EXPECT_EQ(deployment_replicas(), 3);
  Json object = autoscaler();
  EXPECT_EQ(object["status"]["desiredReplicas"], 3);
  EXPECT_EQ(object["status"]["currentReplicas"], 1);
  ASSERT_TRUE(object["status"].contains("history")) << object.dump();
  // No behavior: upstream's legacy path keeps recommendations (the seeded current count and
  // this pass's), not scale events.
  EXPECT_EQ(object["status"]["history"]["recommendations"].size(), 2u) << object.dump();
  auto reasons = event_reasons();
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "SuccessfulRescale"), reasons.end());
  EXPECT_EQ(controller.metrics().scale_writes, 1u);

  // A second controller (a restart, a failover) continues from the persisted history.
  ClusterController successor(client_, metrics_, {});
  ASSERT_TRUE(run(loop_, successor.reconcile("default", "llm")));
  object = autoscaler();
  EXPECT_EQ(object["status"]["history"]["recommendations"].size(), 3u) << object.dump();
  EXPECT_EQ(deployment_replicas(), 3);
  EXPECT_NE(controller.metrics_text().find("llmscale_controller_scale_writes_total 1"),
            std::string::npos);
}

// Issue 17 on a cluster: before the scale-down, the pods' pod-deletion-cost from their load (the
// autoscaler's Pods metric, milli-units), so the ReplicaSet removes the least loaded first.
TEST_F(ClusterControllerTest, ScaleDownSetsPodDeletionCostsFromLoadFirst) {
  // A second pod, and two replicas: 2 pods at 50m and 20m against 100m want 1.
  add_ready_pod("llm-1");
  auto scale = run(loop_, client_.get(kubeclient::deployments_resource(), "default", "llm"));
  ASSERT_TRUE(scale);
  Json deployment = *scale;
  deployment["spec"]["replicas"] = 2;
  ASSERT_TRUE(
      run(loop_, client_.update(kubeclient::deployments_resource(), "default", deployment)));
  std::vector<kube::MetricValue> values;
  for (auto [name, q] : {std::pair<const char*, const char*>{"llm-0", "50m"}, {"llm-1", "20m"}}) {
    kube::MetricValue v;
    v.described_object = {"Pod", "default", name, "v1"};
    v.metric_name = "gpu_cache_usage_perc";
    v.timestamp = core::wall_now();
    v.value = *kube::Quantity::parse(q);
    values.push_back(v);
  }
  metrics_.pods["gpu_cache_usage_perc"] = values;
  Json object = {{"apiVersion", "autoscaling.llmscale.io/v1alpha1"},
                 {"kind", "LLMAutoscaler"},
                 {"metadata", {{"name", "llm"}}},
                 {"spec", Json::parse(kSpec)}};
  object["spec"]["behavior"] = Json::parse(
      R"({"scaleDown":{"stabilizationWindowSeconds":0,"policies":[{"type":"Pods","value":10,"periodSeconds":15}]}})");
  ASSERT_TRUE(run(loop_, client_.create(autoscalers_resource(), "default", object)));
  auto cost_of = [&](const std::string& name) {
    auto p = run(loop_, client_.get(kubeclient::pods_resource(), "default", name));
    EXPECT_TRUE(p);
    const Json& meta = (*p)["metadata"];
    return meta.contains("annotations")
               ? meta["annotations"].value(std::string(kube::kPodDeletionCost), "")
               : std::string();
  };
  auto set_replicas = [&](int n) {
    Json d = *run(loop_, client_.get(kubeclient::deployments_resource(), "default", "llm"));
    d["spec"]["replicas"] = n;
    ASSERT_TRUE(run(loop_, client_.update(kubeclient::deployments_resource(), "default", d)));
  };
  // Off (the default): the scale-down alone.
  ClusterController plain(client_, metrics_, ClusterControllerOptions{});
  ASSERT_TRUE(run(loop_, plain.reconcile("default", "llm")));
  EXPECT_EQ(deployment_replicas(), 1);
  EXPECT_EQ(cost_of("llm-0"), "");
  EXPECT_EQ(plain.metrics().deletion_costs_set, 0u);
  // On: the costs first, then the scale.
  set_replicas(2);
  ClusterControllerOptions on;
  on.deletion_cost_from_load = true;
  ClusterController controller(client_, metrics_, on);
  auto status = run(loop_, controller.reconcile("default", "llm"));
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(deployment_replicas(), 1);
  EXPECT_EQ(cost_of("llm-0"), "50");
  EXPECT_EQ(cost_of("llm-1"), "20");
  EXPECT_EQ(controller.metrics().deletion_costs_set, 2u);
  // Costs already in place are not PATCHed again; a pass that does not shrink touches no pod.
  set_replicas(2);
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "llm")));
  EXPECT_EQ(controller.metrics().deletion_costs_set, 2u);
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "llm")));
  EXPECT_EQ(controller.metrics().deletion_costs_set, 2u);
}

TEST_F(ClusterControllerTest, RefusesATargetANativeHpaScales) {
  create_autoscaler();
  Json hpa = {{"apiVersion", "autoscaling/v2"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", "native"}}},
              {"spec", Json::parse(kSpec)}};
  ASSERT_TRUE(run(loop_, client_.create(kubeclient::hpas_resource(), "default", hpa)));
  ClusterController controller(client_, metrics_, {});
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "llm")));
  EXPECT_EQ(deployment_replicas(), 1);
  Json object = autoscaler();
  bool found = false;
  for (const Json& c : object["status"]["conditions"]) {
    if (c["type"] == "AbleToScale") {
      EXPECT_EQ(c["status"], "False");
      EXPECT_EQ(c["reason"], "ConflictingNativeHPA");
      found = true;
    }
  }
  EXPECT_TRUE(found) << object.dump();
  auto reasons = event_reasons();
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "ConflictingNativeHPA"), reasons.end());
  EXPECT_EQ(controller.metrics().refused_native_hpa, 1u);
}

TEST_F(ClusterControllerTest, ConflictOnTheScaleWriteIsReReadAndRetried) {
  create_autoscaler();
  Fault conflict = status_fault(409);
  conflict.method = "PUT";
  conflict.path_contains = "/deployments/llm/scale";
  api_.faults.push_back(conflict);
  ClusterController controller(client_, metrics_, {});
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "llm")));
  EXPECT_EQ(deployment_replicas(), 3);
  EXPECT_EQ(controller.metrics().conflicts_retried, 1u);
}

TEST_F(ClusterControllerTest, FailedPodListDecidesNothing) {
  create_autoscaler();
  Fault failure = status_fault(500);
  failure.path_contains = "/pods";
  api_.faults.push_back(failure);
  ClusterController controller(client_, metrics_, {});
  auto status = run(loop_, controller.reconcile("default", "llm"));
  ASSERT_FALSE(status);
  EXPECT_EQ(deployment_replicas(), 1);
  EXPECT_FALSE(autoscaler().contains("status") && autoscaler()["status"].contains("history"));
  EXPECT_EQ(controller.metrics().errors, 1u);
}

TEST_F(ClusterControllerTest, NonLeaderWritesNothing) {
  create_autoscaler();
  ClusterController controller(client_, metrics_, {}, [] { return false; });
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "llm")));
  EXPECT_EQ(deployment_replicas(), 1);
  EXPECT_GE(controller.metrics().skipped_not_leader, 1u);
}

TEST_F(ClusterControllerTest, LoopReconcilesObjectsItWatches) {
  ClusterControllerOptions options;
  options.namespace_name = "default";
  options.sync_period = 500ms;
  ClusterController controller(client_, metrics_, options);
  controller.start(loop_);
  create_autoscaler();
  ASSERT_TRUE(loop_.run_until([&] { return controller.metrics().scale_writes == 1; }, 20s));
  EXPECT_EQ(deployment_replicas(), 3);
  ASSERT_TRUE(loop_.run_until([&] { return controller.metrics().reconciles >= 3; }, 20s));
  // Passes read the object, the native HPAs and the pods from the informers' caches: no GET of the
  // object, one LIST of HPAs (the informer's).
  int object_gets = 0;
  int hpa_lists = 0;
  int pod_lists = 0;
  for (const std::string& r : api_.requests) {
    if (r.rfind("GET /api/v1/namespaces/default/pods", 0) == 0 &&
        r.find("watch=true") == std::string::npos)
      ++pod_lists;
    if (r == "GET /apis/autoscaling.llmscale.io/v1alpha1/namespaces/default/llmautoscalers/llm")
      ++object_gets;
    if (r.rfind("GET /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers", 0) == 0 &&
        r.find("watch=true") == std::string::npos)
      ++hpa_lists;
  }
  EXPECT_EQ(object_gets, 0);
  EXPECT_EQ(hpa_lists, 1);
  // The pods come from the pod informer too: its one LIST, none per pass.
  EXPECT_EQ(pod_lists, 1);
  controller.stop();
  ASSERT_TRUE(loop_.run_until([&] { return !controller.running(); }, 10s));
}

// The sample of `family{labels}` in a text exposition, -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::string::size_type at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

// kube-controller-manager's HPA monitor families on the controller's /metrics, as `llmscale up`
// exports them: a pass that scales, one whose pod list fails, one whose metric fetch fails.
TEST_F(ClusterControllerTest, ExportsTheHpaControllerFamiliesForEveryPass) {
  const std::string p = "horizontal_pod_autoscaler_controller_";
  create_autoscaler();
  ClusterController controller(client_, metrics_, {});
  std::string text = controller.metrics_text();
  for (const char* family : {"reconciliations_total counter", "metric_computation_total counter",
                             "reconciliation_duration_seconds histogram",
                             "metric_computation_duration_seconds histogram",
                             "num_horizontal_pod_autoscalers gauge", "desired_replicas gauge"}) {
    EXPECT_NE(text.find("# TYPE " + p + family + "\n"), std::string::npos) << family << text;
  }

  auto expect_sample = [&](const std::string& series, double value) {
    EXPECT_EQ(sample(text, p + series), value) << series << "\n" << text;
  };
  // Passes and Pods metric computations with these action and error labels.
  auto expect_counts = [&](const std::string& labels, double passes, double computations) {
    expect_sample("reconciliations_total{" + labels + "}", passes);
    expect_sample("metric_computation_total{" + labels + ",metric_type=\"Pods\"}", computations);
  };
  // 1 -> 3 on the Pods metric: the pass and its one metric are scale_up.
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "llm")));
  text = controller.metrics_text();
  expect_counts(R"(action="scale_up",error="none")", 1, 1);
  expect_sample(
      "reconciliation_duration_seconds_count{action=\"scale_up\","
      "error=\"none\"}",
      1);
  expect_sample(
      "metric_computation_duration_seconds_bucket{action=\"scale_up\","
      "error=\"none\",metric_type=\"Pods\",le=\"+Inf\"}",
      1);

  // No pod list, no decision: the pass is an internal error with no metric computed.
  Fault failure = status_fault(500);
  failure.path_contains = "/pods";
  api_.faults.push_back(failure);
  ASSERT_FALSE(run(loop_, controller.reconcile("default", "llm")));
  api_.faults.clear();
  text = controller.metrics_text();
  expect_counts(R"(action="none",error="internal")", 1, -1);

  // The metric vanishes: the metric and the pass are internal errors, nothing is scaled.
  metrics_.pods.clear();
  ASSERT_FALSE(run(loop_, controller.reconcile("default", "llm")));
  text = controller.metrics_text();
  expect_counts(R"(action="none",error="internal")", 2, 1);
  EXPECT_EQ(deployment_replicas(), 3);
  // The REST client's own families are still there.
  EXPECT_NE(text.find("llmscale_controller_api_requests_total{verb=\"get\"}"), std::string::npos);
  if (llmscale::testing::program_on_path("promtool")) {
    auto lint = llmscale::testing::run_process({"promtool", "check", "metrics"}, text, 30s);
    EXPECT_EQ(lint.exit_code, 0) << lint.output << "\n" << text;
  }
}

// The gauges follow the autoscalers the controller's informer holds.
TEST_F(ClusterControllerTest, GaugesCountTheAutoscalersAndTheirDesiredReplicas) {
  const std::string p = "horizontal_pod_autoscaler_controller_";
  ClusterControllerOptions options;
  options.namespace_name = "default";
  options.sync_period = 500ms;
  ClusterController controller(client_, metrics_, options);
  controller.start(loop_);
  ASSERT_TRUE(loop_.run_until([&] { return controller.synced(); }, 20s));
  EXPECT_EQ(sample(controller.metrics_text(), p + "num_horizontal_pod_autoscalers"), 0);
  create_autoscaler();
  const std::string desired = p + "desired_replicas{namespace=\"default\",hpa_name=\"llm\"}";
  ASSERT_TRUE(loop_.run_until([&] { return sample(controller.metrics_text(), desired) == 3; }, 20s))
      << controller.metrics_text();
  EXPECT_EQ(sample(controller.metrics_text(), p + "num_horizontal_pod_autoscalers"), 1);
  ASSERT_TRUE(run(loop_, client_.remove(autoscalers_resource(), "default", "llm")));
  ASSERT_TRUE(loop_.run_until(
      [&] { return sample(controller.metrics_text(), p + "num_horizontal_pod_autoscalers") == 0; },
      20s));
  EXPECT_EQ(sample(controller.metrics_text(), desired), -1);
  controller.stop();
  ASSERT_TRUE(loop_.run_until([&] { return !controller.running(); }, 10s));
}

// Two controllers, each behind its own elector on the same Lease (short timings): exactly one
// acts; when it dies without releasing, the other takes over within the lease duration and
// continues from the persisted history.
TEST_F(ClusterControllerTest, TwoControllersOneActsAndTheOtherTakesOver) {
  create_autoscaler();
  kubeclient::RestClient client_b(loop_, loop_.clock(), api_.rest_config(), client_options());
  kubeclient::ApiLeaseLock lock_a(client_, "default", "llmscale-controller");
  kubeclient::ApiLeaseLock lock_b(client_b, "default", "llmscale-controller");
  kubeclient::LeaderElectionConfig election;
  election.lease_duration = 2s;
  election.renew_deadline = 1500ms;
  election.retry_period = 300ms;
  election.identity = "a";
  auto elector_a = kubeclient::LeaderElector::create(lock_a, loop_.clock(), election, {});
  election.identity = "b";
  election.seed = 2;
  auto elector_b = kubeclient::LeaderElector::create(lock_b, loop_.clock(), election, {});
  ASSERT_TRUE(elector_a && elector_b);
  kubeclient::LeaderElector* a = elector_a->get();
  kubeclient::LeaderElector* b = elector_b->get();
  ClusterControllerOptions options;
  options.namespace_name = "default";
  options.sync_period = 300ms;
  ClusterController controller_a(client_, metrics_, options, [a] { return a->leading(); });
  ClusterController controller_b(client_b, metrics_, options, [b] { return b->leading(); });
  a->start(loop_);
  b->start(loop_);
  controller_a.start(loop_);
  controller_b.start(loop_);
  ASSERT_TRUE(loop_.run_until(
      [&] { return controller_a.metrics().scale_writes + controller_b.metrics().scale_writes; },
      20s));
  loop_.run_until([] { return false; }, 1500ms);
  EXPECT_NE(a->leading(), b->leading());
  EXPECT_EQ(controller_a.metrics().scale_writes + controller_b.metrics().scale_writes, 1u);
  EXPECT_EQ(deployment_replicas(), 3);
  kubeclient::LeaderElector* leader = a->leading() ? a : b;
  kubeclient::LeaderElector* follower = a->leading() ? b : a;
  ClusterController& follower_controller = a->leading() ? controller_b : controller_a;
  EXPECT_GT(follower_controller.metrics().skipped_not_leader, 0u);
  std::size_t recommendations = autoscaler()["status"]["history"]["recommendations"].size();

  // The leader dies without releasing; the load grows.
  auto killed = std::chrono::steady_clock::now();
  leader->abandon();
  set_usage("500m");
  ASSERT_TRUE(
      loop_.run_until([&] { return follower_controller.metrics().scale_writes == 1; }, 20s));
  EXPECT_TRUE(follower->leading());
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 2s + 2 * 660ms + 2s);
  EXPECT_EQ(deployment_replicas(), 5);
  // The history went on from where the first controller left it.
  EXPECT_GT(autoscaler()["status"]["history"]["recommendations"].size(), recommendations);
  controller_a.stop();
  controller_b.stop();
  follower->stop();
  ASSERT_TRUE(loop_.run_until(
      [&] { return !controller_a.running() && !controller_b.running() && !follower->running(); },
      10s));
}

// An API outage: passes fail, nothing is written or scaled while it lasts (even though the load
// grew), and the controller catches up once the API is back.
TEST_F(ClusterControllerTest, ApiOutageHoldsReplicasAndRecovers) {
  ClusterControllerOptions options;
  options.namespace_name = "default";
  options.sync_period = 200ms;
  ClusterController controller(client_, metrics_, options);
  controller.start(loop_);
  create_autoscaler();
  ASSERT_TRUE(loop_.run_until([&] { return controller.metrics().scale_writes == 1; }, 20s));
  api_.unavailable = true;
  set_usage("500m");
  std::uint64_t errors = controller.metrics().errors;
  loop_.run_until([] { return false; }, 2s);
  EXPECT_GT(controller.metrics().errors, errors);
  EXPECT_EQ(controller.metrics().scale_writes, 1u);
  api_.unavailable = false;
  EXPECT_EQ(deployment_replicas(), 3);  // held through the outage
  ASSERT_TRUE(loop_.run_until([&] { return controller.metrics().scale_writes == 2; }, 20s));
  EXPECT_EQ(deployment_replicas(), 5);
  controller.stop();
  ASSERT_TRUE(loop_.run_until([&] { return !controller.running(); }, 10s));
}

TEST_F(ClusterControllerTest, AdvisoryModeAnnotatesNativeHpasAndScalesNothing) {
  Json hpa = {{"apiVersion", "autoscaling/v2"},
              {"kind", "HorizontalPodAutoscaler"},
              {"metadata", {{"name", "native"}}},
              {"spec", Json::parse(kSpec)}};
  ASSERT_TRUE(run(loop_, client_.create(kubeclient::hpas_resource(), "default", hpa)));
  ClusterControllerOptions options;
  options.advisory = true;
  ClusterController controller(client_, metrics_, options);
  ASSERT_TRUE(run(loop_, controller.reconcile("default", "native")));
  EXPECT_EQ(deployment_replicas(), 1);
  auto native = run(loop_, client_.get(kubeclient::hpas_resource(), "default", "native"));
  ASSERT_TRUE(native);
  std::string advice = (*native)["metadata"]["annotations"][std::string(kAdviceAnnotation)];
  Json parsed = Json::parse(advice);
  EXPECT_EQ(parsed["desiredReplicas"], 3);
  EXPECT_EQ(parsed["hpaDesiredReplicas"], 0);
  EXPECT_TRUE(
      (*native)["metadata"]["annotations"].contains(std::string(kAdvisoryHistoryAnnotation)));
  auto reasons = event_reasons();
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "LLMScaleAdvice"), reasons.end());
  // The HPA monitor's families: the metric proposed scale_up, but the pass wrote no scale.
  const std::string p = "horizontal_pod_autoscaler_controller_";
  std::string text = controller.metrics_text();
  EXPECT_EQ(sample(text, p + "reconciliations_total{action=\"none\",error=\"none\"}"), 1) << text;
  EXPECT_EQ(sample(text, p + "reconciliations_total{action=\"scale_up\",error=\"none\"}"), -1);
  EXPECT_EQ(sample(text, p + "metric_computation_total{action=\"scale_up\",error=\"none\","
                             "metric_type=\"Pods\"}"),
            1)
      << text;
}

// A Prometheus on the test's loop whose instant queries answer only when the test says so
// (discovery's series answer at once): llm-0 at 300m.
class GatedPrometheus {
 public:
  explicit GatedPrometheus(net::EventLoop& loop) : server_(loop, net::ServerOptions{}) {
    EXPECT_TRUE(server_.start(
        [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
          if (request.path == "/api/v1/series") {
            co_await writer.send(net::Response::json(
                200, R"({"status":"success","data":[{"__name__":"gpu_cache_usage_perc",)"
                     R"("namespace":"default","pod":"llm-0"}]})"));
            co_return;
          }
          ++queries_;
          co_await gate_.wait();
          co_await writer.send(net::Response::json(
              200, R"({"status":"success","data":{"resultType":"vector","result":[)"
                   R"({"metric":{"pod":"llm-0"},"value":[1700000000,"0.3"]}]}})"));
        }));
  }
  ~GatedPrometheus() { server_.close(); }
  std::string url() const { return server_.url(""); }
  // Whether an instant query is waiting at the gate.
  bool holding() const { return gate_.waiting(); }
  int queries() const { return queries_; }
  void release() { gate_.notify(); }

 private:
  net::HttpServer server_;
  net::Notifier gate_;
  int queries_ = 0;
};

TEST_F(ClusterControllerTest, APassWaitingOnASlowPrometheusLeavesTheLoopFree) {
  create_autoscaler();
  GatedPrometheus prometheus(loop_);
  prom::RemoteEngineOptions remote_options;
  remote_options.base_url = prometheus.url();
  auto remote = prom::RemoteQueryEngine::create(loop_, remote_options);
  ASSERT_TRUE(remote) << remote.error().message;
  auto config = adapter::parse_adapter_config(R"(rules:
- seriesQuery: 'gpu_cache_usage_perc{namespace!="",pod!=""}'
  resources:
    overrides:
      namespace: {resource: namespace}
      pod: {resource: pod}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
)");
  ASSERT_TRUE(config) << config.error().message;
  adapter::StaticObjectLister pods({{{"", "pods"}, "default", "llm-0", {{"app", "llm"}}}});
  adapter::AsyncAdapterMetricsProvider provider(
      std::make_shared<const adapter::AdapterConfig>(std::move(*config)), **remote, pods,
      loop_.clock(), adapter::AdapterOptions{});
  auto discovered = run(loop_, provider.relist());
  ASSERT_TRUE(discovered) << discovered.error().message;

  ClusterController controller(client_, provider, {});
  std::optional<core::Status> result;
  auto pass = [](ClusterController& c, std::optional<core::Status>* out) -> net::Awaitable<void> {
    std::string ns = "default";
    std::string name = "llm";
    out->emplace(co_await c.reconcile(ns, name));
  };
  net::spawn(loop_, pass(controller, &result), "pass");
  ASSERT_TRUE(loop_.run_until([&] { return prometheus.holding(); }, 30s));

  // The pass is suspended on the query; the loop thread runs everything else meanwhile: posted
  // work, and a round trip to the API server served on this same loop.
  int ticks = 0;
  for (int i = 0; i < 3; ++i) loop_.post([&ticks] { ++ticks; });
  ASSERT_TRUE(loop_.run_until([&] { return ticks == 3; }, 30s));
  EXPECT_EQ(deployment_replicas(), 1);
  EXPECT_FALSE(result.has_value());
  EXPECT_TRUE(prometheus.holding());

  prometheus.release();
  ASSERT_TRUE(loop_.run_until([&] { return result.has_value(); }, 30s));
  ASSERT_TRUE(*result) << result->error().message;
  // 1 pod at 300m against 100m: ceil(1 x 3) = 3, from the one query the pass made.
  EXPECT_EQ(deployment_replicas(), 3);
  EXPECT_EQ(prometheus.queries(), 1);
  const std::string p = "horizontal_pod_autoscaler_controller_";
  EXPECT_EQ(sample(controller.metrics_text(),
                   p + "metric_computation_total{action=\"scale_up\",error=\"none\","
                       "metric_type=\"Pods\"}"),
            1);
}

// The adapter of `llmscale controller` lists a Pods metric's pods from the pod informer once it
// has synced (no request on the loop thread); before that, and across every namespace, from the
// fallback lister.
TEST_F(ClusterControllerTest, InformerPodListerAnswersFromThePodInformer) {
  adapter::StaticObjectLister fallback(
      {{{"", "pods"}, "default", "from-fallback", {{"app", "llm"}}}});
  InformerPodLister lister(fallback);
  auto selector = kube::Selector::parse("app=llm");
  ASSERT_TRUE(selector);
  const adapter::GroupResource pods{"", "pods"};
  auto before = lister.list(pods, "default", *selector);
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, std::vector<std::string>{"from-fallback"});

  ClusterController controller(client_, metrics_, {});
  lister.attach(&controller);
  controller.start(loop_);
  ASSERT_TRUE(loop_.run_until([&] { return controller.synced(); }, 30s));
  auto cached = lister.list_objects(pods, "default", *selector);
  ASSERT_TRUE(cached);
  ASSERT_EQ(cached->size(), 1u);
  EXPECT_EQ((*cached)[0].name, "llm-0");
  EXPECT_EQ((*cached)[0].labels.at("app"), "llm");
  auto every_namespace = lister.list(pods, "", *selector);
  ASSERT_TRUE(every_namespace);
  EXPECT_EQ(*every_namespace, std::vector<std::string>{"from-fallback"});
  controller.stop();
  lister.attach(nullptr);
}

}  // namespace
}  // namespace llmscale::cluster
