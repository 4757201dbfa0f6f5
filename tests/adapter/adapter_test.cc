// MetricsAdapter end to end over our TSDB: discovery, the custom and external APIs' JSON, Google
// names, upstream error statuses, and the HPA engine's provider view — checked against the
// wire shapes of prometheus-adapter (adapter-and-peers.md §1.6, §1.7, §2.2-§2.4) and the seeds.
#include "adapter/adapter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/time.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"

namespace llmscale::adapter {
namespace {

const char* kConfig = R"(
rules:
- seriesQuery: 'vllm:gpu_cache_usage_perc{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: 'vllm:num_requests_waiting{namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
externalRules:
- seriesQuery: 'tgi_queue_size{namespace!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (namespace, service)
- seriesQuery: 'DCGM_FI_DEV_GPU_UTIL'
  resources: {template: <<.Resource>>}
  metricsQuery: <<.Series>>{<<.LabelMatchers>>}
resourceRules:
  cpu:
    containerQuery: sum(rate(container_cpu_usage_seconds_total{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
    nodeQuery: sum(rate(node_cpu_seconds_total{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
    containerLabel: container
  memory:
    containerQuery: sum(container_memory_working_set_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    nodeQuery: sum(node_memory_MemTotal_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
    containerLabel: container
  window: 1m
)";

// A backend that fails every call, as an unreachable Prometheus does.
class DownBackend final : public prom::QueryEngine {
 public:
  core::Result<prom::QueryResult> instant_query(std::string_view, core::Time,
                                                const prom::QueryOptions&) override {
    return down();
  }
  core::Result<prom::QueryResult> range_query(std::string_view, core::Time, core::Time,
                                              core::Duration, const prom::QueryOptions&) override {
    return down();
  }
  core::Result<std::vector<prom::Labels>> series(const std::vector<std::string>&, core::Time,
                                                 core::Time) override {
    return down();
  }
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>&, core::Time,
                                                     core::Time) override {
    return down();
  }
  core::Result<std::vector<std::string>> label_values(std::string_view,
                                                      const std::vector<std::string>&, core::Time,
                                                      core::Time) override {
    return down();
  }

 private:
  static tl::unexpected<core::Error> down() {
    return core::make_error(core::ErrorCode::kUnavailable, "connection refused");
  }
};

class FailingLister final : public ObjectLister {
 public:
  core::Result<std::vector<std::string>> list(const GroupResource&, const std::string&,
                                              const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kUnavailable, "apiserver down");
  }
};

class AdapterTest : public ::testing::Test {
 protected:
  AdapterTest()
      : clock_(core::parse_rfc3339("2025-01-02T20:13:15Z").value()),
        engine_(storage_),
        lister_({pod("vllm-a", {{"app", "vllm"}}), pod("vllm-b", {{"app", "vllm"}}),
                 pod("vllm-c", {{"app", "vllm"}}), pod("other", {{"app", "tgi"}})}) {}

  static StaticObjectLister::Object pod(const std::string& name, kube::Labels labels) {
    return {{"", "pods"}, "llm", name, std::move(labels)};
  }

  void add(prom::Labels labels, double value, core::Duration ago = std::chrono::seconds(5)) {
    ASSERT_TRUE(storage_.append(labels, core::to_unix_millis(clock_.now() - ago), value));
  }

  void load_fleet() {
    add({{"__name__", "vllm:gpu_cache_usage_perc"},
         {"namespace", "llm"},
         {"pod", "vllm-a"},
         {"model_name", "m"}},
        0.73);
    add({{"__name__", "vllm:gpu_cache_usage_perc"},
         {"namespace", "llm"},
         {"pod", "vllm-b"},
         {"model_name", "m"}},
        0.0149);
    // vllm-c has no sample; "other" is not a vLLM pod.
    add({{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", "vllm-a"}}, 3);
    add({{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", "vllm-b"}}, 10.5);
    add({{"__name__", "tgi_queue_size"},
         {"namespace", "llm"},
         {"service", "tgi"},
         {"pod", "tgi-0"}},
        7);
    add({{"__name__", "tgi_queue_size"},
         {"namespace", "llm"},
         {"service", "tgi"},
         {"pod", "tgi-1"}},
        5);
    add({{"__name__", "tgi_queue_size"},
         {"namespace", "other"},
         {"service", "tgi"},
         {"pod", "tgi-9"}},
        100);
    add({{"__name__", "DCGM_FI_DEV_GPU_UTIL"},
         {"gpu", "0"},
         {"pod", "tgi-0"},
         {"namespace", "llm"}},
        81);
  }

  MetricsAdapter& adapter(prom::QueryEngine* backend = nullptr, ObjectLister* lister = nullptr) {
    auto config = parse_adapter_config(kConfig);
    EXPECT_TRUE(config) << (config ? "" : config.error().message);
    adapter_ = std::make_unique<MetricsAdapter>(std::make_shared<const AdapterConfig>(*config),
                                                backend != nullptr ? *backend : engine_,
                                                lister != nullptr ? *lister : lister_, clock_);
    return *adapter_;
  }

  // The body, or "<code> <Status JSON>" for an error.
  std::string get(const std::string& path, const std::string& query = "") {
    auto r = adapter_->serve(path, query);
    if (r) return *r;
    return std::to_string(r.error().code) + " " + r.error().to_json();
  }

  core::SimulatedClock clock_;
  prom::Storage storage_;
  prom::LocalQueryEngine engine_;
  StaticObjectLister lister_;
  std::unique_ptr<MetricsAdapter> adapter_;
};

TEST_F(AdapterTest, DiscoveryDocumentsListEveryResourceAMetricDescribes) {
  load_fleet();
  auto& a = adapter();
  // Before the first relist nothing is known.
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2"),
      R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta2",)"
      R"("resources":[]})"
      "\n");
  ASSERT_TRUE(a.relist());
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta1"),
      R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta1","resources":[)"
      R"({"name":"namespaces/gpu_cache_usage_perc","singularName":"","namespaced":false,"kind":"MetricValueList","verbs":["get"]},)"
      R"({"name":"namespaces/num_requests_waiting","singularName":"","namespaced":false,"kind":"MetricValueList","verbs":["get"]},)"
      R"({"name":"pods/gpu_cache_usage_perc","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]},)"
      R"({"name":"pods/num_requests_waiting","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]}]})"
      "\n");
  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1"),
      R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[)"
      R"({"name":"DCGM_FI_DEV_GPU_UTIL","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]},)"
      R"({"name":"tgi_queue_size","singularName":"","namespaced":true,"kind":"ExternalMetricValueList","verbs":["get"]}]})"
      "\n");
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io"),
      R"({"kind":"APIGroup","apiVersion":"v1","name":"custom.metrics.k8s.io","versions":[)"
      R"({"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"},)"
      R"({"groupVersion":"custom.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
      R"("preferredVersion":{"groupVersion":"custom.metrics.k8s.io/v1beta2","version":"v1beta2"}})"
      "\n");
}

TEST_F(AdapterTest, SeedWildcardRequestWithTheWrongSelectorParameterReturnsEveryPod) {
  // Seed 001 queries "?selector=app%3D..." — not a parameter of the API, so every pod the
  // metric has is returned, exactly as the seed's output shows (values 730m and 14m).
  load_fleet();
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/llm/pods/*/gpu_cache_usage_perc",
          "selector=app%3Dnope"),
      R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[)"
      R"({"describedObject":{"kind":"Pod","namespace":"llm","name":"vllm-a","apiVersion":"/v1"},)"
      R"("metricName":"gpu_cache_usage_perc","timestamp":"2025-01-02T20:13:15Z","value":"730m","selector":null},)"
      R"({"describedObject":{"kind":"Pod","namespace":"llm","name":"vllm-b","apiVersion":"/v1"},)"
      R"("metricName":"gpu_cache_usage_perc","timestamp":"2025-01-02T20:13:15Z","value":"14m","selector":null}]})"
      "\n");
}

TEST_F(AdapterTest, WildcardRequestsListObjectsAndEchoTheMetricSelector) {
  load_fleet();
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  // labelSelector picks the objects; metricLabelSelector filters series and is echoed back.
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/gpu_cache_usage_perc",
          "labelSelector=app%3Dvllm&metricLabelSelector=model_name+in+(m)"),
      R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[)"
      R"({"describedObject":{"kind":"Pod","namespace":"llm","name":"vllm-a","apiVersion":"/v1"},)"
      R"("metric":{"name":"gpu_cache_usage_perc","selector":{"matchExpressions":[{"key":"model_name",)"
      R"("operator":"In","values":["m"]}]}},"timestamp":"2025-01-02T20:13:15Z","value":"730m"},)"
      R"({"describedObject":{"kind":"Pod","namespace":"llm","name":"vllm-b","apiVersion":"/v1"},)"
      R"("metric":{"name":"gpu_cache_usage_perc","selector":{"matchExpressions":[{"key":"model_name",)"
      R"("operator":"In","values":["m"]}]}},"timestamp":"2025-01-02T20:13:15Z","value":"14m"}]})"
      "\n");
  // Listed objects without a sample are dropped; an empty answer is still a 200.
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/gpu_cache_usage_perc",
          "labelSelector=app%3Dvllm&metricLabelSelector=model_name%3Dother"),
      R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta2","metadata":{},"items":[]})"
      "\n");
  // No object matches the selector: upstream refuses to build a query without names.
  EXPECT_EQ(get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/gpu_cache_usage_perc",
                "labelSelector=app%3Dnone"),
            R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"the server could not find the metric gpu_cache_usage_perc for pods",)"
            R"("reason":"NotFound","code":404})");
}

TEST_F(AdapterTest, SingleObjectsNamespacesAndErrors) {
  load_fleet();
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  auto items = a.custom_metric(*parse_metrics_request(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/vllm-b/num_requests_waiting", ""));
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ((*items)[0].value.to_string(), "10500m");

  // The namespace route: resource namespaces, name = the namespace, no namespace matcher.
  Explanation why;
  auto ns = a.custom_metric(
      *parse_metrics_request(
          "/apis/custom.metrics.k8s.io/v1beta1/namespaces/llm/metrics/num_requests_waiting", ""),
      &why);
  ASSERT_TRUE(ns) << ns.error().message;
  EXPECT_EQ((*ns)[0].described_object.kind, "Namespace");
  EXPECT_EQ((*ns)[0].described_object.namespace_, "");
  EXPECT_EQ((*ns)[0].value.to_string(), "13500m");
  EXPECT_EQ(why.query, "sum(vllm:num_requests_waiting{namespace=\"llm\"}) by (namespace)");
  EXPECT_EQ(why.source, "rules[1]");

  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/vllm-c/num_requests_waiting"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric num_requests_waiting for pods vllm-c",)"
      R"("reason":"NotFound","code":404})");
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/vllm-a/nope"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric nope for pods","reason":"NotFound","code":404})");
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/deployments.apps/x/"
          "num_requests_waiting"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric num_requests_waiting for deployments.apps",)"
      R"("reason":"NotFound","code":404})");
  EXPECT_EQ(get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods"),
            R"(400 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"invalid request path","reason":"BadRequest","code":400})");
  // != cannot be echoed as a LabelSelector (metav1.ParseToLabelSelector refuses it).
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/vllm-a/gpu_cache_usage_perc",
          "metricLabelSelector=model_name!%3Dx"),
      R"(500 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"\"!=\" is not a valid label selector operator","reason":"Unknown","code":500})");
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/gpu_cache_usage_perc",
          "labelSelector=a%3D%3D%3Db"),
      R"(400 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"unable to parse requirement: found '=', expected: identifier","reason":"BadRequest","code":400})");
}

TEST_F(AdapterTest, ExternalMetricsCarryLabelsAndSampleTime) {
  load_fleet();
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/tgi_queue_size"),
      R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[)"
      R"({"metricName":"tgi_queue_size","metricLabels":{"namespace":"llm","service":"tgi"},)"
      R"("timestamp":"2025-01-02T20:13:15Z","value":"12"}]})"
      "\n");
  // Names are matched case-insensitively: client-go lower-cases the segment.
  auto dcgm = a.external_metric(*parse_metrics_request(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/dcgm_fi_dev_gpu_util", ""));
  ASSERT_TRUE(dcgm) << dcgm.error().message;
  ASSERT_EQ(dcgm->size(), 1u);
  EXPECT_EQ((*dcgm)[0].metric_labels.at("__name__"), "DCGM_FI_DEV_GPU_UTIL");
  EXPECT_EQ((*dcgm)[0].value.to_string(), "81");
  // The unknown-metric message names "namespaces" only for the default namespace (quirk).
  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/nope"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric nope for namespaces","reason":"NotFound","code":404})");
  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/nope"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric nope for ","reason":"NotFound","code":404})");
}

TEST_F(AdapterTest, GoogleNamesServeTheSeedsGkeManifests) {
  load_fleet();
  add({{"__name__", "duty_cycle"},
       {"namespace", "llm"},
       {"container", "inference-server"},
       {"pod", "tgi-0"}},
      60);
  add({{"__name__", "duty_cycle"},
       {"namespace", "llm"},
       {"container", "inference-server"},
       {"pod", "tgi-1"}},
      90);
  add({{"__name__", "duty_cycle"},
       {"namespace", "llm"},
       {"container", "sidecar"},
       {"pod", "tgi-1"}},
      1);
  StaticObjectLister tgi_pods({{{"", "pods"}, "llm", "tgi-0", {{"app", "tgi"}}},
                               {{"", "pods"}, "llm", "tgi-1", {{"app", "tgi"}}}});
  auto& a = adapter(nullptr, &tgi_pods);
  // No relist needed: Google names are served on demand.
  Explanation why;
  auto pods = a.custom_metric(
      *parse_metrics_request("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/"
                             "prometheus.googleapis.com|tgi_queue_size|gauge",
                             "labelSelector=app%3Dtgi"),
      &why);
  ASSERT_TRUE(pods) << pods.error().message;
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[0].value.to_string(), "7");
  EXPECT_EQ((*pods)[1].value.to_string(), "5");
  EXPECT_EQ(why.query, "sum by (pod) (tgi_queue_size{namespace=\"llm\",pod=~\"tgi-0|tgi-1\"})");

  auto duty = a.external_metric(
      *parse_metrics_request("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/"
                             "kubernetes.io|container|accelerator|duty_cycle",
                             "labelSelector=resource.labels.container_name%3Dinference-server,"
                             "resource.labels.namespace_name%3Dllm"),
      &why);
  ASSERT_TRUE(duty) << duty.error().message;
  ASSERT_EQ(duty->size(), 2u);  // one per series; the HPA sums them
  EXPECT_EQ((*duty)[0].value.to_string() + "," + (*duty)[1].value.to_string(), "60,90");

  auto mean = a.external_metric(
      *parse_metrics_request(
          "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/"
          "kubernetes.io|container|accelerator|duty_cycle",
          "labelSelector=resource.labels.container_name%3Dinference-server,reducer%3DREDUCE_MEAN"),
      &why);
  ASSERT_TRUE(mean) << mean.error().message;
  ASSERT_EQ(mean->size(), 1u);
  EXPECT_EQ((*mean)[0].value.to_string(), "75");

  auto p99 = a.external_metric(
      *parse_metrics_request(
          "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/"
          "prometheus.googleapis.com|tgi_queue_size|gauge",
          "labelSelector=metric.labels.service%3Dtgi,reducer%3DREDUCE_PERCENTILE_99"),
      &why);
  ASSERT_TRUE(p99) << p99.error().message;
  EXPECT_EQ(why.query, "quantile (0.99, {__name__=~\"(?i)tgi_queue_size\",service=\"tgi\"})");

  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/prometheus.googleapis.com|x|gauge",
          "labelSelector=pod%3Da"),
      R"(400 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"label \"pod\" not allowed: selectors on Google metric names use metric.labels.*, )"
      R"(resource.labels.* and reducer","reason":"BadRequest","code":400})");
  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/"
          "prometheus.googleapis.com|x|histogram"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"unknown Google metric \"prometheus.googleapis.com|x|histogram\": kind \"histogram\" is not )"
      R"J(supported (gauge, counter and unknown are)","reason":"NotFound","code":404})J");
}

TEST_F(AdapterTest, ValuesConvertLikeGo) {
  add({{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", "vllm-a"}},
      std::nan(""));
  add({{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", "vllm-b"}},
      -0.0019);
  add({{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", "vllm-c"}}, 2000);
  add({{"__name__", "tgi_queue_size"}, {"namespace", "llm"}}, std::nan(""));
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  auto items = a.custom_metric(*parse_metrics_request(
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
      "labelSelector=app%3Dvllm"));
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].value.to_string(), "0");    // NaN -> 0
  EXPECT_EQ((*items)[1].value.to_string(), "-1m");  // truncated toward zero
  EXPECT_EQ((*items)[2].value.to_string(), "2k");
  // External values are not special-cased: Go's int64(NaN) is math.MinInt64.
  auto ext = a.external_metric(*parse_metrics_request(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/tgi_queue_size", ""));
  ASSERT_TRUE(ext);
  EXPECT_EQ((*ext)[0].value.milli_value(), std::numeric_limits<std::int64_t>::min());
}

TEST_F(AdapterTest, BackendAndListerFailuresAreInternalErrors) {
  load_fleet();
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  // A failed relist keeps the previous registry.
  DownBackend down;
  FailingLister failing;
  auto& broken = adapter(&down);
  EXPECT_FALSE(broken.relist());
  EXPECT_EQ(
      get("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/tgi_queue_size"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"the server could not find the metric tgi_queue_size for ","reason":"NotFound","code":404})");
  auto& unlisted = adapter(nullptr, &failing);
  ASSERT_TRUE(unlisted.relist());
  EXPECT_EQ(
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/gpu_cache_usage_perc"),
      R"(500 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"Internal error occurred: unable to list matching resources","reason":"InternalError","code":500})");
  // A backend that goes away after discovery.
  auto config = parse_adapter_config(kConfig);
  MetricsAdapter mixed(std::make_shared<const AdapterConfig>(*config), down, lister_, clock_);
  auto r = mixed.external_metric(
      *parse_metrics_request("/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/"
                             "prometheus.googleapis.com|tgi_queue_size|gauge",
                             ""));
  ASSERT_FALSE(r);
  EXPECT_EQ(
      r.error().to_json(),
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"Internal error occurred: unable to fetch metrics","reason":"InternalError","code":500})");
}

TEST_F(AdapterTest, ProviderAnswersTheHpaEngine) {
  load_fleet();
  // 0.5 CPU-seconds per second, scraped every 15s.
  for (int i = 0; i < 4; ++i) {
    add({{"__name__", "container_cpu_usage_seconds_total"},
         {"namespace", "llm"},
         {"pod", "vllm-a"},
         {"container", "vllm"}},
        100 + 7.5 * i, std::chrono::seconds(45 - 15 * i));
  }
  add({{"__name__", "container_memory_working_set_bytes"},
       {"namespace", "llm"},
       {"pod", "vllm-a"},
       {"container", "vllm"}},
      2147483648.0);
  auto& a = adapter();
  ASSERT_TRUE(a.relist());
  AdapterMetricsProvider provider(a);
  auto selector = *kube::Selector::parse("app=vllm");
  auto pods = provider.pods_metric("llm", "num_requests_waiting", selector, kube::Selector());
  ASSERT_TRUE(pods);
  EXPECT_EQ(pods->size(), 2u);
  auto external = provider.external_metric("llm", "TGI_QUEUE_SIZE", kube::Selector());
  ASSERT_TRUE(external) << external.error().message;
  EXPECT_EQ((*external)[0].value.to_string(), "12");
  auto object = provider.object_metric("llm", "num_requests_waiting", {"Namespace", "llm", "v1"},
                                       kube::Selector());
  ASSERT_TRUE(object) << object.error().message;
  auto missing = provider.pods_metric("llm", "nope", selector, kube::Selector());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "the server could not find the metric nope for pods");

  auto resources = provider.resource_metrics("llm", selector);
  ASSERT_TRUE(resources) << resources.error().message;
  ASSERT_EQ(resources->size(), 1u);
  EXPECT_EQ((*resources)[0].metadata.name, "vllm-a");
  ASSERT_EQ((*resources)[0].containers.size(), 1u);
  // rate() gives 0.49999999999999994 here (as Prometheus does), and int64(v*1000) truncates.
  EXPECT_EQ((*resources)[0].containers[0].usage.at("cpu").to_string(), "499m");
  EXPECT_EQ((*resources)[0].containers[0].usage.at("memory").to_string(), "2Gi");
  EXPECT_EQ((*resources)[0].window, std::chrono::minutes(1));
}

TEST_F(AdapterTest, WildcardRequestOverTenThousandPodsAnswersEveryOne) {
  // A request for 10,000 pods: one query, every pod answered, no limit hit (bounded by the
  // work, not by a timeout).
  std::vector<StaticObjectLister::Object> pods;
  for (int i = 0; i < 10000; ++i) {
    std::string name = "vllm-" + std::to_string(i);
    pods.push_back(pod(name, {{"app", "vllm"}}));
    add({{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", name}}, i % 7);
  }
  StaticObjectLister many(std::move(pods));
  auto& a = adapter(nullptr, &many);
  ASSERT_TRUE(a.relist());
  std::string body =
      get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
          "labelSelector=app%3Dvllm");
  std::size_t items = 0;
  for (std::size_t at = 0; (at = body.find("\"describedObject\"", at)) != std::string::npos; ++at)
    ++items;
  EXPECT_EQ(items, 10000u) << body.substr(0, 300);
}

}  // namespace
}  // namespace llmscale::adapter

namespace llmscale::adapter {
namespace {

// ---- metrics.k8s.io (prometheus-adapter's resourceprovider, metrics-server's pkg/api) --------

const char* kResourceConfig = R"(
resourceRules:
  cpu:
    containerQuery: sum(cpu_usage{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(node_cpu{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, instance: {resource: node}}}
    containerLabel: container
  memory:
    containerQuery: sum(mem_usage{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(node_mem{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, instance: {resource: node}}}
    containerLabel: container
  window: 5m
)";

// Our TSDB, recording every instant query.
class RecordingEngine final : public prom::QueryEngine {
 public:
  explicit RecordingEngine(prom::QueryEngine& inner) : inner_(inner) {}
  core::Result<prom::QueryResult> instant_query(std::string_view query, core::Time t,
                                                const prom::QueryOptions& o) override {
    queries.emplace_back(query);
    return inner_.instant_query(query, t, o);
  }
  core::Result<prom::QueryResult> range_query(std::string_view q, core::Time a, core::Time b,
                                              core::Duration s,
                                              const prom::QueryOptions& o) override {
    return inner_.range_query(q, a, b, s, o);
  }
  core::Result<std::vector<prom::Labels>> series(const std::vector<std::string>& m, core::Time a,
                                                 core::Time b) override {
    return inner_.series(m, a, b);
  }
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& m,
                                                     core::Time a, core::Time b) override {
    return inner_.label_names(m, a, b);
  }
  core::Result<std::vector<std::string>> label_values(std::string_view l,
                                                      const std::vector<std::string>& m,
                                                      core::Time a, core::Time b) override {
    return inner_.label_values(l, m, a, b);
  }
  std::vector<std::string> queries;

 private:
  prom::QueryEngine& inner_;
};

std::string golden(const std::string& name) {
  std::ifstream in(std::string(LLMSCALE_SOURCE_DIR) + "/tests/adapter/golden/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ResourceMetricsTest : public ::testing::Test {
 protected:
  ResourceMetricsTest()
      : clock_(core::parse_rfc3339("2025-01-02T20:13:15Z").value()),
        engine_(storage_),
        recording_(engine_),
        lister_({pod("vllm-a", {{"app", "vllm"}}), pod("vllm-b", {{"app", "vllm"}}),
                 pod("vllm-c", {{"app", "vllm"}}), pod("other", {{"app", "tgi"}}),
                 node("gpu-node-1", {{"pool", "gpu"}}), node("gpu-node-2", {{"pool", "gpu"}}),
                 node("cpu-node", {{"pool", "cpu"}})}) {
    auto add = [&](prom::Labels labels, double value) {
      ASSERT_TRUE(storage_.append(labels, core::to_unix_millis(clock_.now()) - 5000, value));
    };
    // vllm-a: two containers, the sidecar with memory only (its cpu becomes 0).
    add({{"__name__", "cpu_usage"}, {"namespace", "llm"}, {"pod", "vllm-a"}, {"container", "vllm"}},
        0.25);
    add({{"__name__", "mem_usage"}, {"namespace", "llm"}, {"pod", "vllm-a"}, {"container", "vllm"}},
        2147483648.0);
    add({{"__name__", "mem_usage"},
         {"namespace", "llm"},
         {"pod", "vllm-a"},
         {"container", "sidecar"}},
        3145728);
    // vllm-b: CPU only, so upstream skips the pod; vllm-c has no data at all.
    add({{"__name__", "cpu_usage"}, {"namespace", "llm"}, {"pod", "vllm-b"}, {"container", "vllm"}},
        1.5);
    add({{"__name__", "node_cpu"}, {"instance", "gpu-node-1"}}, 3.5);
    add({{"__name__", "node_mem"}, {"instance", "gpu-node-1"}}, 68719476736.0);
    add({{"__name__", "node_cpu"}, {"instance", "gpu-node-2"}}, 1);  // no memory: skipped
  }

  static StaticObjectLister::Object pod(const std::string& name, kube::Labels labels) {
    return {{"", "pods"}, "llm", name, std::move(labels)};
  }
  static StaticObjectLister::Object node(const std::string& name, kube::Labels labels) {
    return {{"", "nodes"}, "", name, std::move(labels)};
  }

  MetricsAdapter& adapter(const char* config_text = kResourceConfig,
                          ObjectLister* lister = nullptr) {
    auto config = parse_adapter_config(config_text);
    EXPECT_TRUE(config) << (config ? "" : config.error().message);
    adapter_ = std::make_unique<MetricsAdapter>(std::make_shared<const AdapterConfig>(*config),
                                                recording_, lister ? *lister : lister_, clock_);
    return *adapter_;
  }

  std::string get(const std::string& path, const std::string& query = "") {
    auto r = adapter_->serve(path, query);
    if (r) return *r;
    return std::to_string(r.error().code) + " " + r.error().to_json();
  }

  core::SimulatedClock clock_;
  prom::Storage storage_;
  prom::LocalQueryEngine engine_;
  RecordingEngine recording_;
  StaticObjectLister lister_;
  std::unique_ptr<MetricsAdapter> adapter_;
};

TEST_F(ResourceMetricsTest, DiscoveryDocuments) {
  adapter();
  EXPECT_EQ(
      get("/apis/metrics.k8s.io"),
      R"({"kind":"APIGroup","apiVersion":"v1","name":"metrics.k8s.io","versions":[{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}],"preferredVersion":{"groupVersion":"metrics.k8s.io/v1beta1","version":"v1beta1"}})"
      "\n");
  EXPECT_EQ(get("/apis/metrics.k8s.io/v1beta1"), golden("resource_metrics_discovery.json"));
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/deployments"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404})");
  // Without resourceRules prometheus-adapter does not install the API.
  adapter("rules: []");
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404})");
}

TEST_F(ResourceMetricsTest, PodsGroupByPodAndContainerAndSkipPodsWithoutBothResources) {
  adapter();
  EXPECT_EQ(get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods", "labelSelector=app%3Dvllm"),
            golden("pod_metrics_list.json"));
  // Upstream's query shapes: the namespace and pod matchers in LabelMatchers, GroupBy
  // "<pod label>,<containerLabel>".
  EXPECT_EQ(
      recording_.queries,
      (std::vector<std::string>{
          R"(sum(cpu_usage{namespace="llm",pod=~"vllm-a|vllm-b|vllm-c",container!=""}) by (pod,container))",
          R"(sum(mem_usage{namespace="llm",pod=~"vllm-a|vllm-b|vllm-c",container!=""}) by (pod,container))"}));
  EXPECT_EQ(get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods/vllm-a"),
            golden("pod_metrics.json"));
  EXPECT_EQ(recording_.queries.back(),
            R"(sum(mem_usage{namespace="llm",pod="vllm-a",container!=""}) by (pod,container))");
  // Every namespace: the same items.
  EXPECT_EQ(get("/apis/metrics.k8s.io/v1beta1/pods", "labelSelector=app%3Dvllm"),
            golden("pod_metrics_list.json"));
  // A pod with CPU but no memory, or no data at all: NotFound on the metrics resource.
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods/vllm-b"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.metrics.k8s.io \"llm/vllm-b\" not found","reason":"NotFound","details":{"name":"llm/vllm-b","group":"metrics.k8s.io","kind":"pods"},"code":404})");
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods/vllm-c"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.metrics.k8s.io \"llm/vllm-c\" not found","reason":"NotFound","details":{"name":"llm/vllm-c","group":"metrics.k8s.io","kind":"pods"},"code":404})");
  // A pod that does not exist: the pod lister's NotFound.
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods/nope"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"pods"},"code":404})");
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/namespaces/empty/pods"),
      R"({"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[]})"
      "\n");
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods", "labelSelector=a%20b").substr(0, 4),
      "400 ");
}

TEST_F(ResourceMetricsTest, NodesTakeTheFirstSampleAndSkipNodesWithoutBothResources) {
  adapter();
  EXPECT_EQ(get("/apis/metrics.k8s.io/v1beta1/nodes", "labelSelector=pool%3Dgpu"),
            golden("node_metrics_list.json"));
  EXPECT_EQ(recording_.queries,
            (std::vector<std::string>{
                R"(sum(node_cpu{instance=~"gpu-node-1|gpu-node-2"}) by (instance))",
                R"(sum(node_mem{instance=~"gpu-node-1|gpu-node-2"}) by (instance))"}));
  EXPECT_EQ(get("/apis/metrics.k8s.io/v1beta1/nodes/gpu-node-1"), golden("node_metrics.json"));
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/nodes/gpu-node-2"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes.metrics.k8s.io \"gpu-node-2\" not found","reason":"NotFound","details":{"name":"gpu-node-2","group":"metrics.k8s.io","kind":"nodes"},"code":404})");
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/nodes/nope"),
      R"(404 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes \"nope\" not found","reason":"NotFound","details":{"name":"nope","kind":"nodes"},"code":404})");
}

TEST_F(ResourceMetricsTest, BackendFailuresSkipAndListerFailuresAreErrors) {
  DownBackend down;
  auto config = parse_adapter_config(kResourceConfig);
  MetricsAdapter failing(std::make_shared<const AdapterConfig>(*config), down, lister_, clock_);
  // Upstream logs a failed query and skips the namespace (pods) or answers no nodes.
  EXPECT_EQ(
      *failing.serve("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods", ""),
      R"({"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[]})"
      "\n");
  EXPECT_EQ(
      *failing.serve("/apis/metrics.k8s.io/v1beta1/nodes", ""),
      R"({"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[]})"
      "\n");
  FailingLister lister;
  adapter(kResourceConfig, &lister);
  EXPECT_EQ(
      get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods"),
      R"(500 {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"failed listing pods: apiserver down","reason":"Unknown","code":500})");
}

TEST_F(ResourceMetricsTest, ZeroWindowWhenAbsentAndConfigErrorsNameTheField) {
  std::string no_window = kResourceConfig;
  no_window.resize(no_window.find("  window: 5m"));
  auto& a = adapter(no_window.c_str());
  auto pods = a.pod_metrics("llm", *kube::Selector::parse("app=vllm"));
  ASSERT_TRUE(pods);
  ASSERT_EQ(pods->size(), 1u);
  EXPECT_EQ((*pods)[0].window, core::Duration::zero());  // pmodel.Duration zero value: "0s"
  auto error = [](const std::string& yaml) {
    auto c = parse_adapter_config(yaml);
    return c ? std::string("ok") : c.error().message;
  };
  EXPECT_EQ(error("resourceRules: {cpu: {containerQuery: '<<.LabelMatchers'}}"),
            "resourceRules.cpu.containerQuery: unclosed action starting at offset 0");
  std::string window_error = error("resourceRules: {window: soon}");
  EXPECT_EQ(window_error.rfind("resourceRules.window: ", 0), 0u) << window_error;
}

// `--objects` files: cluster-scoped objects have no namespace (they were filed under
// "default", so wildcard node requests listed nothing).
TEST(ObjectManifestsTest, ClusterScopedObjectsHaveNoNamespace) {
  auto objects = parse_object_manifests(R"(
apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: x}}
---
apiVersion: v1
kind: Node
metadata: {name: gpu-node-1, labels: {pool: gpu}}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: llm}}
- {apiVersion: v1, kind: Pod, metadata: {name: q, namespace: llm}}
)",
                                        "objects.yaml");
  ASSERT_TRUE(objects) << objects.error().message;
  ASSERT_EQ(objects->size(), 4u);
  EXPECT_EQ((*objects)[0].namespace_name, "default");
  EXPECT_EQ((*objects)[1].resource.to_string(), "nodes");
  EXPECT_EQ((*objects)[1].namespace_name, "");
  EXPECT_EQ((*objects)[2].resource.to_string(), "namespaces");
  EXPECT_EQ((*objects)[2].namespace_name, "");
  EXPECT_EQ((*objects)[3].namespace_name, "llm");
  StaticObjectLister lister(std::move(*objects));
  EXPECT_EQ(*lister.list({"", "nodes"}, "", *kube::Selector::parse("pool=gpu")),
            (std::vector<std::string>{"gpu-node-1"}));
  EXPECT_EQ(*lister.list({"", "namespaces"}, "", kube::Selector()),
            (std::vector<std::string>{"llm"}));
  // An empty namespace lists every namespace, as the Kubernetes API does.
  EXPECT_EQ(*lister.list({"", "pods"}, "", kube::Selector()), (std::vector<std::string>{"p", "q"}));
  auto bad = parse_object_manifests("kind: Pod\nmetadata: {}\n", "objects.yaml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "objects.yaml: document 0: metadata.name: Required value");
}

// Listings are remembered per (resource, namespace, selector): each stays its own.
TEST(StaticObjectListerTest, RememberedListingsStayApart) {
  StaticObjectLister lister({{{"", "pods"}, "llm", "vllm-1", {{"app", "vllm"}}},
                             {{"", "pods"}, "llm", "vllm-0", {{"app", "vllm"}}},
                             {{"", "pods"}, "llm", "tgi-0", {{"app", "tgi"}}},
                             {{"", "pods"}, "other", "vllm-9", {{"app", "vllm"}}},
                             {{"", "nodes"}, "", "node-1", {{"app", "vllm"}}}});
  const GroupResource pods{"", "pods"};
  auto vllm = *kube::Selector::parse("app=vllm");
  using Names = std::vector<std::string>;
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(*lister.list(pods, "llm", vllm), (Names{"vllm-0", "vllm-1"}));
    EXPECT_EQ(*lister.list(pods, "llm", *kube::Selector::parse("app=tgi")), Names{"tgi-0"});
    EXPECT_EQ(*lister.list(pods, "llm", kube::Selector::everything()),
              (Names{"tgi-0", "vllm-0", "vllm-1"}));
    EXPECT_EQ(*lister.list(pods, "llm", kube::Selector::nothing()), Names{});
    EXPECT_EQ(*lister.list(pods, "", vllm), (Names{"vllm-0", "vllm-1", "vllm-9"}));
    EXPECT_EQ(*lister.list(pods, "other", vllm), Names{"vllm-9"});
    EXPECT_EQ(*lister.list({"", "nodes"}, "", vllm), Names{"node-1"});
  }
  // More distinct listings than are remembered: still right.
  for (int i = 0; i < 300; ++i) {
    auto none = *kube::Selector::parse("app=x" + std::to_string(i));
    EXPECT_TRUE(lister.list(pods, "llm", none)->empty());
  }
  EXPECT_EQ(*lister.list(pods, "llm", vllm), (Names{"vllm-0", "vllm-1"}));
}

}  // namespace
}  // namespace llmscale::adapter
