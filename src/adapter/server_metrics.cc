// The adapter's request and Prometheus-query metrics: route labels, families, the timed engine.
#include "adapter/server_metrics.h"

#include "core/strings.h"

namespace llmscale::adapter {
namespace {

// k8s.io/apiserver (endpoints/metrics): request latency buckets, 5 ms to 60 s.
const std::vector<double> kRequestBuckets = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8,
                                             1.0,   1.25,  1.5,  2,   3,   4,   5,   6,
                                             8,     10,    15,   20,  30,  45,  60};
// client_golang's DefBuckets (prometheus-adapter's query latency).
const std::vector<double> kQueryBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

std::vector<double> response_size_buckets() {
  // k8s.io/apiserver: 1 kB to 1 GB, ten-fold.
  std::vector<double> buckets;
  for (double b = 1000; buckets.size() < 7; b *= 10) buckets.push_back(b);
  return buckets;
}

const std::vector<std::string> kRouteLabels = {"verb",        "group", "version",  "resource",
                                               "subresource", "scope", "component"};

std::vector<std::string> with_labels(std::vector<std::string> names,
                                     const std::vector<std::string>& more) {
  names.insert(names.end(), more.begin(), more.end());
  return names;
}

}  // namespace

std::optional<ApiRequestLabels> api_request_labels(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return std::nullopt;
  const std::string_view prefix = "/apis/";
  if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::vector<std::string_view> s = core::split(path.substr(prefix.size()), '/');
  if (s.size() < 3) return std::nullopt;
  for (std::string_view segment : s) {
    if (segment.empty()) return std::nullopt;
  }
  ApiRequestLabels l;
  l.group = std::string(s[0]);
  l.version = std::string(s[1]);
  const std::vector<std::string_view> rest(s.begin() + 2, s.end());
  const bool namespaced = rest[0] == "namespaces";
  if (l.group == "custom.metrics.k8s.io" && (l.version == "v1beta1" || l.version == "v1beta2")) {
    // <resource>/<name>/<metric>; namespaces/<ns>/<resource>/<name>/<metric>;
    // namespaces/<ns>/metrics/<metric>.
    if (!namespaced && rest.size() == 3) {
      l.verb = "LIST";
      l.scope = "cluster";
    } else if (namespaced && (rest.size() == 5 || (rest.size() == 4 && rest[2] == "metrics"))) {
      l.verb = "GET";
      l.scope = "resource";
    } else {
      return std::nullopt;
    }
    l.resource = l.subresource = "*";
    l.component = "custom-metrics";
    return l;
  }
  if (l.group == "external.metrics.k8s.io" && l.version == "v1beta1") {
    // namespaces/<ns>/<metric>, registered as a cluster-scoped LIST.
    if (!namespaced || rest.size() != 3) return std::nullopt;
    l.verb = "LIST";
    l.scope = "cluster";
    l.resource = l.subresource = "*";
    l.component = "external-metrics";
    return l;
  }
  if (l.group == "metrics.k8s.io" && l.version == "v1beta1") {
    // nodes[/<name>], pods[/<name>], namespaces/<ns>/pods[/<name>].
    std::vector<std::string_view> r = rest;
    std::string_view ns;
    if (namespaced) {
      if (r.size() < 3 || r[2] != "pods") return std::nullopt;
      ns = r[1];
      r.erase(r.begin(), r.begin() + 2);
    }
    if (r.empty() || r.size() > 2 || (r[0] != "pods" && r[0] != "nodes")) return std::nullopt;
    l.resource = std::string(r[0]);
    // Kubernetes (CleanScope, CanonicalVerb): a name makes it a resource-scoped GET, else a
    // namespace- or cluster-scoped LIST.
    l.scope = r.size() == 2 ? "resource" : !ns.empty() ? "namespace" : "cluster";
    l.verb = r.size() == 2 ? "GET" : "LIST";
    l.component = "apiserver";
    return l;
  }
  return std::nullopt;
}

ServerMetrics::ServerMetrics() : registry_(std::make_unique<prom::MetricRegistry>()) {
  // HELP texts are k8s.io/apiserver's and prometheus-adapter's, so tooltips read the same.
  requests_ = registry_
                  ->add_counter("apiserver_request_total",
                                "Counter of apiserver requests broken out for each verb, dry run "
                                "value, group, version, resource, scope, component, and HTTP "
                                "response code.",
                                with_labels({"verb", "dry_run"},
                                            {"group", "version", "resource", "subresource", "scope",
                                             "component", "code"}))
                  .value();
  request_durations_ =
      registry_
          ->add_histogram("apiserver_request_duration_seconds",
                          "Response latency distribution in seconds for each verb, dry run value, "
                          "group, version, resource, subresource, scope and component.",
                          with_labels({"verb", "dry_run"}, {"group", "version", "resource",
                                                            "subresource", "scope", "component"}),
                          kRequestBuckets)
          .value();
  response_sizes_ =
      registry_
          ->add_histogram("apiserver_response_sizes",
                          "Response size distribution in bytes for each group, version, verb, "
                          "resource, subresource, scope and component.",
                          kRouteLabels, response_size_buckets())
          .value();
  query_durations_ =
      registry_
          ->add_histogram("prometheus_adapter_prometheus_client_request_duration_seconds",
                          "Prometheus client query latency in seconds.  Broken down by target "
                          "prometheus endpoint and target server",
                          {"path", "server"}, kQueryBuckets)
          .value();
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::observe_request(const ApiRequestLabels& l, int code, core::Duration duration,
                                    std::size_t response_bytes) {
  // dry_run is empty: it only applies to mutating requests, which the metrics APIs do not take.
  requests_
      ->with({l.verb, "", l.group, l.version, l.resource, l.subresource, l.scope, l.component,
              std::to_string(code)})
      .inc();
  request_durations_
      ->with({l.verb, "", l.group, l.version, l.resource, l.subresource, l.scope, l.component})
      .observe(core::to_seconds(duration));
  response_sizes_
      ->with({l.verb, l.group, l.version, l.resource, l.subresource, l.scope, l.component})
      .observe(static_cast<double>(response_bytes));
}

void ServerMetrics::observe_query(const std::string& path, const std::string& server,
                                  core::Duration duration) {
  query_durations_->with({path, server}).observe(core::to_seconds(duration));
}

std::string ServerMetrics::text() const {
  return registry_->text();
}

std::string redacted_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t end = url.find_first_of("/?#", authority);
  const std::size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string(url);
  const std::size_t colon = url.substr(0, at).find(':', authority);
  if (colon == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "xxxxx" + std::string(url.substr(at));
}

InstrumentedQueryEngine::InstrumentedQueryEngine(prom::QueryEngine& inner, ServerMetrics& metrics,
                                                 std::string_view server, core::Clock& clock)
    : inner_(inner), metrics_(metrics), server_(redacted_url(server)), clock_(clock) {}

template <class Call>
auto InstrumentedQueryEngine::timed(const std::string& path, Call&& call) {
  const core::MonotonicTime started = clock_.monotonic_now();
  auto answer = call();
  const bool answered = answer || (answer.error().code != core::ErrorCode::kUnavailable &&
                                   answer.error().code != core::ErrorCode::kDeadlineExceeded);
  if (answered) metrics_.observe_query(path, server_, clock_.monotonic_now() - started);
  return answer;
}

core::Result<prom::QueryResult> InstrumentedQueryEngine::instant_query(
    std::string_view expr, core::Time time, const prom::QueryOptions& options) {
  return timed("/api/v1/query", [&] { return inner_.instant_query(expr, time, options); });
}

core::Result<prom::QueryResult> InstrumentedQueryEngine::range_query(
    std::string_view expr, core::Time start, core::Time end, core::Duration step,
    const prom::QueryOptions& options) {
  return timed("/api/v1/query_range",
               [&] { return inner_.range_query(expr, start, end, step, options); });
}

core::Result<std::vector<prom::Labels>> InstrumentedQueryEngine::series(
    const std::vector<std::string>& match, core::Time start, core::Time end) {
  return timed("/api/v1/series", [&] { return inner_.series(match, start, end); });
}

core::Result<std::vector<std::string>> InstrumentedQueryEngine::label_names(
    const std::vector<std::string>& match, core::Time start, core::Time end) {
  return timed("/api/v1/labels", [&] { return inner_.label_names(match, start, end); });
}

core::Result<std::vector<std::string>> InstrumentedQueryEngine::label_values(
    std::string_view name, const std::vector<std::string>& match, core::Time start,
    core::Time end) {
  return timed("/api/v1/label/" + std::string(name) + "/values",
               [&] { return inner_.label_values(name, match, start, end); });
}

}  // namespace llmscale::adapter
