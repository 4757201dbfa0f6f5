// Prometheus Operator's PodMonitor and ServiceMonitor (monitoring.coreos.com/v1) as the
// PodMonitorings the scraper runs: fields mapped one by one, the ServiceMonitor's Services
// resolved to pod selectors and target ports, and the refusals (other namespaces, target
// relabelings, authentication).
#include "up/fleet_monitoring.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace llmscale::up {
namespace {

using core::Json;

TEST(PodMonitorTest, MapsEveryFieldToThePodMonitoring) {
  Json pod_monitor = Json::parse(R"({
    "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
    "metadata": {"name": "vllm", "namespace": "llm", "labels": {"team": "a"}},
    "spec": {
      "selector": {"matchLabels": {"app": "vllm"}},
      "namespaceSelector": {"matchNames": ["llm"]},
      "podMetricsEndpoints": [
        {"port": "metrics", "path": "/m", "scheme": "HTTPS", "interval": "5s",
         "scrapeTimeout": "4s", "params": {"format": ["prometheus"]},
         "tlsConfig": {"insecureSkipVerify": true},
         "metricRelabelings": [{"sourceLabels": ["__name__"], "regex": "go_.*",
                                "action": "Drop"}]},
        {"portNumber": 9090}
      ],
      "podTargetLabels": ["model"],
      "sampleLimit": 1000, "labelLimit": 30
    }})");
  auto pm = pod_monitoring_from_pod_monitor(pod_monitor);
  ASSERT_TRUE(pm) << pm.error().message;
  EXPECT_EQ(pm->name, "vllm");
  EXPECT_EQ(pm->namespace_, "llm");
  EXPECT_EQ(pm->labels.at("team"), "a");
  EXPECT_EQ(pm->selector.match_labels.at("app"), "vllm");
  ASSERT_EQ(pm->endpoints.size(), 2u);
  const auto& first = pm->endpoints[0];
  EXPECT_EQ(first.port_name, "metrics");
  EXPECT_EQ(first.path, "/m");
  EXPECT_EQ(first.scheme, "https");
  EXPECT_EQ(first.interval, "5s");
  EXPECT_EQ(first.timeout, "4s");
  EXPECT_EQ(first.params.at("format"), std::vector<std::string>{"prometheus"});
  EXPECT_TRUE(first.tls_insecure_skip_verify);
  ASSERT_EQ(first.metric_relabeling.size(), 1u);
  EXPECT_EQ(pm->endpoints[1].port_number, 9090);
  // The operator's default interval, not the PodMonitoring CRD's 1m.
  EXPECT_EQ(pm->endpoints[1].interval, "30s");
  ASSERT_EQ(pm->target_labels_from_pod.size(), 1u);
  EXPECT_EQ(pm->target_labels_from_pod[0].from, "model");
  EXPECT_EQ(pm->limit_samples, 1000u);
  EXPECT_EQ(pm->limit_labels, 30u);
}

TEST(PodMonitorTest, RefusesWhatAPodMonitoringCannotExpress) {
  Json base = Json::parse(R"({
    "apiVersion": "monitoring.coreos.com/v1", "kind": "PodMonitor",
    "metadata": {"name": "vllm", "namespace": "llm"},
    "spec": {"selector": {"matchLabels": {"app": "vllm"}},
             "podMetricsEndpoints": [{"port": "metrics"}]}})");
  ASSERT_TRUE(pod_monitoring_from_pod_monitor(base));

  Json any = base;
  any["spec"]["namespaceSelector"] = {{"any", true}};
  auto refused = pod_monitoring_from_pod_monitor(any);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("spec.namespaceSelector"), std::string::npos);

  Json other = base;
  other["spec"]["namespaceSelector"] = {{"matchNames", {"llm", "other"}}};
  EXPECT_FALSE(pod_monitoring_from_pod_monitor(other));

  Json relabel = base;
  relabel["spec"]["podMetricsEndpoints"][0]["relabelings"] = Json::array();
  refused = pod_monitoring_from_pod_monitor(relabel);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("podMetricsEndpoints[0].relabelings"), std::string::npos)
      << refused.error().message;

  Json wrong_kind = base;
  wrong_kind["kind"] = "ServiceMonitor";
  EXPECT_FALSE(pod_monitoring_from_pod_monitor(wrong_kind));

  // The PodMonitoring decoder's own checks apply (no endpoint).
  Json empty = base;
  empty["spec"]["podMetricsEndpoints"] = Json::array();
  EXPECT_FALSE(pod_monitoring_from_pod_monitor(empty));
}

TEST(ServiceMonitorTest, ScrapesThePodsBehindEachSelectedService) {
  Json service_monitor = Json::parse(R"({
    "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
    "metadata": {"name": "llm", "namespace": "llm"},
    "spec": {"selector": {"matchLabels": {"monitor": "yes"}},
             "endpoints": [{"port": "http-metrics", "interval": "10s"}]}})");
  auto service = [](const std::string& name, const std::string& ns, Json labels, Json selector,
                    Json ports) {
    return Json{{"apiVersion", "v1"},
                {"kind", "Service"},
                {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
                {"spec", {{"selector", selector}, {"ports", ports}}}};
  };
  std::vector<Json> services = {
      // Selected; targetPort a container port name.
      service("vllm", "llm", {{"monitor", "yes"}}, {{"app", "vllm"}},
              Json::parse(R"([{"name":"http-metrics","port":80,"targetPort":"metrics"}])")),
      // Selected; no targetPort: the service port number.
      service("tgi", "llm", {{"monitor", "yes"}}, {{"app", "tgi"}},
              Json::parse(R"([{"name":"http-metrics","port":8080}])")),
      // Selected but without the endpoint's port: skipped.
      service("web", "llm", {{"monitor", "yes"}}, {{"app", "web"}},
              Json::parse(R"([{"name":"http","port":80}])")),
      // Not selected.
      service("db", "llm", {{"monitor", "no"}}, {{"app", "db"}},
              Json::parse(R"([{"name":"http-metrics","port":80}])")),
      // Another namespace.
      service("vllm", "other", {{"monitor", "yes"}}, {{"app", "vllm"}},
              Json::parse(R"([{"name":"http-metrics","port":80}])")),
  };
  auto pms = pod_monitorings_from_service_monitor(service_monitor, services);
  ASSERT_TRUE(pms) << pms.error().message;
  ASSERT_EQ(pms->size(), 2u);
  EXPECT_EQ((*pms)[0].name, "llm-vllm");
  EXPECT_EQ((*pms)[0].namespace_, "llm");
  EXPECT_EQ((*pms)[0].selector.match_labels.at("app"), "vllm");
  ASSERT_EQ((*pms)[0].endpoints.size(), 1u);
  EXPECT_EQ((*pms)[0].endpoints[0].port_name, "metrics");
  EXPECT_EQ((*pms)[0].endpoints[0].interval, "10s");
  EXPECT_EQ((*pms)[1].name, "llm-tgi");
  EXPECT_EQ((*pms)[1].endpoints[0].port_number, 8080);

  Json authenticated = service_monitor;
  authenticated["spec"]["endpoints"][0]["bearerTokenSecret"] = {{"name", "s"}, {"key", "t"}};
  EXPECT_FALSE(pod_monitorings_from_service_monitor(authenticated, services));
}

}  // namespace
}  // namespace llmscale::up
