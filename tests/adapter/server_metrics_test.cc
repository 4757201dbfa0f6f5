// The adapter's own /metrics on a simulated clock: apiserver_request_* labelled as
// custom-metrics-apiserver's and metrics-server's routes label them, only for the metrics APIs'
// routes, and prometheus-adapter's query latency per endpoint and (redacted) server.
#include "adapter/server_metrics.h"

#include <gtest/gtest.h>

#include "adapter/queue_backend.h"
#include "adapter/server.h"
#include "core/clock.h"
#include "net/recording_writer.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"

namespace llmscale::adapter {
namespace {

using std::chrono::milliseconds;

TEST(ApiRequestLabelsTest, RoutesAreLabelledAsUpstreamRegistersThem) {
  struct Case {
    std::string method, path;
    std::optional<std::vector<std::string>> labels;  // verb, group, version, resource,
                                                     // subresource, scope, component
  };
  const std::string cm = "custom.metrics.k8s.io";
  const std::vector<Case> cases = {
      {"GET",
       "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/queue",
       {{"GET", cm, "v1beta2", "*", "*", "resource", "custom-metrics"}}},
      {"HEAD",
       "/apis/custom.metrics.k8s.io/v1beta1/namespaces/llm/metrics/queue",
       {{"GET", cm, "v1beta1", "*", "*", "resource", "custom-metrics"}}},
      {"GET",
       "/apis/custom.metrics.k8s.io/v1beta2/nodes/*/power",
       {{"LIST", cm, "v1beta2", "*", "*", "cluster", "custom-metrics"}}},
      {"GET",
       "/apis/external.metrics.k8s.io/v1beta1/namespaces/llm/queue_depth",
       {{"LIST", "external.metrics.k8s.io", "v1beta1", "*", "*", "cluster", "external-metrics"}}},
      {"GET",
       "/apis/metrics.k8s.io/v1beta1/pods",
       {{"LIST", "metrics.k8s.io", "v1beta1", "pods", "", "cluster", "apiserver"}}},
      {"GET",
       "/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods",
       {{"LIST", "metrics.k8s.io", "v1beta1", "pods", "", "namespace", "apiserver"}}},
      {"GET",
       "/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods/vllm-0",
       {{"GET", "metrics.k8s.io", "v1beta1", "pods", "", "resource", "apiserver"}}},
      {"GET",
       "/apis/metrics.k8s.io/v1beta1/nodes/n1",
       {{"GET", "metrics.k8s.io", "v1beta1", "nodes", "", "resource", "apiserver"}}},
      // Discovery, other groups, malformed shapes and other methods are not routes.
      {"GET", "/apis/custom.metrics.k8s.io/v1beta2", std::nullopt},
      {"GET", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods", std::nullopt},
      {"GET", "/apis/apps/v1/deployments", std::nullopt},
      {"GET", "/apis/metrics.k8s.io/v1beta1/namespaces/llm/nodes", std::nullopt},
      {"POST", "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/queue", std::nullopt},
      {"GET", "/metrics", std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    auto got = api_request_labels(c.method, c.path);
    ASSERT_EQ(got.has_value(), c.labels.has_value());
    if (!got) continue;
    EXPECT_EQ((std::vector<std::string>{got->verb, got->group, got->version, got->resource,
                                        got->subresource, got->scope, got->component}),
              *c.labels);
  }
}

TEST(RedactedUrlTest, OnlyThePasswordIsHidden) {
  EXPECT_EQ(redacted_url("http://prometheus.monitoring.svc:9090/"),
            "http://prometheus.monitoring.svc:9090/");
  EXPECT_EQ(redacted_url("https://jane:s3cret@prom:9090/api"), "https://jane:xxxxx@prom:9090/api");
  EXPECT_EQ(redacted_url("https://jane@prom:9090"), "https://jane@prom:9090");
  EXPECT_EQ(redacted_url("http://prom:9090/x?u=a@b"), "http://prom:9090/x?u=a@b");
}

// The in-process engine, with queries taking simulated time (30 ms an instant query, 2 ms a
// series lookup) and, when `down`, failing as an unreachable Prometheus does.
class SlowEngine final : public prom::QueryEngine {
 public:
  SlowEngine(prom::QueryEngine& inner, core::SimulatedClock& clock)
      : inner_(inner), clock_(clock) {}
  bool down = false;
  core::Result<prom::QueryResult> instant_query(std::string_view expr, core::Time time,
                                                const prom::QueryOptions& options) override {
    clock_.advance(milliseconds(30));
    if (down) return core::make_error(core::ErrorCode::kUnavailable, "connection refused");
    return inner_.instant_query(expr, time, options);
  }
  core::Result<prom::QueryResult> range_query(std::string_view expr, core::Time start,
                                              core::Time end, core::Duration step,
                                              const prom::QueryOptions& options) override {
    return inner_.range_query(expr, start, end, step, options);
  }
  core::Result<std::vector<prom::Labels>> series(const std::vector<std::string>& match,
                                                 core::Time start, core::Time end) override {
    clock_.advance(milliseconds(2));
    return inner_.series(match, start, end);
  }
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                     core::Time start, core::Time end) override {
    return inner_.label_names(match, start, end);
  }
  core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                      const std::vector<std::string>& match,
                                                      core::Time start, core::Time end) override {
    return inner_.label_values(name, match, start, end);
  }

 private:
  prom::QueryEngine& inner_;
  core::SimulatedClock& clock_;
};

class AdapterMetricsTest : public ::testing::Test {
 protected:
  AdapterMetricsTest() {
    EXPECT_TRUE(append_queue_series(storage_, clock_.now()));
    adapter_ =
        std::make_unique<MetricsAdapter>(queue_rule_config(), instrumented_, lister_, clock_);
    AdapterServerOptions options;
    options.authz = AuthorizationMode::kAlwaysAllow;
    options.metrics = metrics_;
    server_ = std::make_unique<AdapterServer>(loop_, *adapter_, clock_, options);
    server_->relist_now();
  }

  int get(const std::string& target, std::string* body = nullptr,
          const std::string& method = "GET") {
    net::ServerRequest request;
    request.method = method;
    EXPECT_TRUE(request.set_target(target));
    net::RecordingResponseWriter writer;
    EXPECT_TRUE(loop_.block_on(server_->handler()(request, writer), std::chrono::seconds(5)));
    if (body != nullptr) *body = writer.body();
    return writer.status();
  }

  core::SimulatedClock clock_;
  net::EventLoop loop_;
  prom::Storage storage_;
  prom::LocalQueryEngine local_{storage_};
  SlowEngine slow_{local_, clock_};
  std::shared_ptr<ServerMetrics> metrics_ = std::make_shared<ServerMetrics>();
  InstrumentedQueryEngine instrumented_{slow_, *metrics_, "http://jane:pw@prometheus:9090", clock_};
  StaticObjectLister lister_ = queue_lister();
  std::unique_ptr<MetricsAdapter> adapter_;
  std::unique_ptr<AdapterServer> server_;
};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST_F(AdapterMetricsTest, RequestsAndQueriesAreCountedAndTimed) {
  const std::string pods =
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting";
  ASSERT_EQ(get(pods), 200);
  ASSERT_EQ(get(pods), 200);
  ASSERT_EQ(get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/nope"), 404);
  ASSERT_EQ(get("/apis/custom.metrics.k8s.io/v1beta2"), 200);  // discovery: not counted
  ASSERT_EQ(get(pods, nullptr, "POST"), 405);                  // not routed: not counted
  slow_.down = true;
  ASSERT_EQ(get(pods), 500);  // counted; the query that got no answer is not

  std::string text;
  ASSERT_EQ(get("/metrics", &text), 200);
  const std::string route =
      "verb=\"GET\",dry_run=\"\",group=\"custom.metrics.k8s.io\",version=\"v1beta2\","
      "resource=\"*\",subresource=\"*\",scope=\"resource\",component=\"custom-metrics\"";
  EXPECT_TRUE(has_line(text, "apiserver_request_total{" + route + ",code=\"200\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "apiserver_request_total{" + route + ",code=\"404\"} 1"));
  EXPECT_TRUE(has_line(text, "apiserver_request_total{" + route + ",code=\"500\"} 1"));
  EXPECT_EQ(text.find("code=\"405\""), std::string::npos);
  // Three requests queried Prometheus (30 ms each), the 404 did not: k8s.io/apiserver's buckets.
  EXPECT_TRUE(
      has_line(text, "apiserver_request_duration_seconds_bucket{" + route + ",le=\"0.005\"} 1"));
  EXPECT_TRUE(
      has_line(text, "apiserver_request_duration_seconds_bucket{" + route + ",le=\"0.025\"} 1"));
  EXPECT_TRUE(
      has_line(text, "apiserver_request_duration_seconds_bucket{" + route + ",le=\"0.05\"} 4"));
  EXPECT_TRUE(
      has_line(text, "apiserver_request_duration_seconds_bucket{" + route + ",le=\"60\"} 4"));
  EXPECT_TRUE(has_line(text, "apiserver_request_duration_seconds_count{" + route + "} 4"));
  EXPECT_NE(
      text.find("apiserver_response_sizes_bucket{verb=\"GET\",group=\"custom.metrics.k8s.io\""),
      std::string::npos);
  // prometheus-adapter's client latency: the relist's series call and the two answered queries.
  const std::string server = "server=\"http://jane:xxxxx@prometheus:9090\"";
  EXPECT_TRUE(has_line(text,
                       "prometheus_adapter_prometheus_client_request_duration_seconds_bucket{"
                       "path=\"/api/v1/query\"," +
                           server + ",le=\"0.025\"} 0"));
  EXPECT_TRUE(has_line(text,
                       "prometheus_adapter_prometheus_client_request_duration_seconds_bucket{"
                       "path=\"/api/v1/query\"," +
                           server + ",le=\"0.05\"} 2"));
  EXPECT_TRUE(has_line(text,
                       "prometheus_adapter_prometheus_client_request_duration_seconds_bucket{"
                       "path=\"/api/v1/series\"," +
                           server + ",le=\"0.005\"} 1"));
}

}  // namespace
}  // namespace llmscale::adapter
