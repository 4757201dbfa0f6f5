// `llmscale adapter`'s own /metrics, named and labelled as prometheus-adapter's: the request
// families every k8s.io/apiserver server exports, labelled the way custom-metrics-apiserver's and
// metrics-server's routes label them, and prometheus-adapter's latency of its Prometheus queries.
//
//  - apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,component,code}
//  - apiserver_request_duration_seconds{verb,dry_run,group,version,resource,subresource,scope,
//    component} (k8s.io/apiserver's buckets, 5 ms to 60 s)
//  - apiserver_response_sizes{verb,group,version,resource,subresource,scope,component}
//  - prometheus_adapter_prometheus_client_request_duration_seconds{path,server} (client_golang's
//    default buckets), for the `--prometheus-url` backend only, as upstream has no other.
//
// Only requests routed to the metrics APIs are counted, with the status they were answered with;
// discovery, health, /metrics and requests refused by authentication or authorization are not,
// as upstream's filters answer those before its instrumented routes.
//
// Thread-safety: ServerMetrics and InstrumentedQueryEngine may be used from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "prom/exposition/registry.h"
#include "prom/promql/query_engine.h"

namespace llmscale::adapter {

// The labels k8s.io/apiserver records for one request (its RequestInfo, cleaned).
struct ApiRequestLabels {
  std::string verb;  // GET or LIST (HEAD counts as GET)
  std::string group;
  std::string version;
  std::string resource;
  std::string subresource;
  std::string scope;      // resource, namespace or cluster
  std::string component;  // custom-metrics, external-metrics or apiserver
};

// The labels for a request of `method` on `path`, or nullopt when it is not one of the metrics
// APIs' resource routes (only GET and HEAD are routed). Kubernetes: custom-metrics-apiserver
// registers its custom routes as resource "*", subresource "*", component "custom-metrics", the
// root-scoped one (`<resource>/<name>/<metric>`) as a cluster-scoped LIST and the namespaced ones
// as resource-scoped GETs; its external route as a cluster-scoped LIST, component
// "external-metrics"; metrics.k8s.io is a regular API group (component "apiserver", resource
// pods or nodes, scope by name and namespace).
std::optional<ApiRequestLabels> api_request_labels(std::string_view method, std::string_view path);

class ServerMetrics {
 public:
  ServerMetrics();
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  void observe_request(const ApiRequestLabels& labels, int code, core::Duration duration,
                       std::size_t response_bytes);
  // One answered query to the Prometheus HTTP API at `server` (endpoint `path`).
  void observe_query(const std::string& path, const std::string& server, core::Duration duration);
  // Prometheus text exposition.
  std::string text() const;

 private:
  std::unique_ptr<prom::MetricRegistry> registry_;
  prom::CounterFamily* requests_ = nullptr;
  prom::HistogramFamily* request_durations_ = nullptr;
  prom::HistogramFamily* response_sizes_ = nullptr;
  prom::HistogramFamily* query_durations_ = nullptr;
};

// A QueryEngine that forwards to `inner` (a Prometheus server's HTTP API) and observes each
// answered call in `metrics` under the endpoint it maps to (/api/v1/query, /api/v1/query_range,
// /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values). prometheus-adapter: calls that
// never got an answer are not observed; here that is kUnavailable (unreachable, not Prometheus'
// JSON) and kDeadlineExceeded (which also covers a server-side timeout answer).
// REQUIRES: `inner`, `metrics` and `clock` outlive the engine; clock.monotonic_now() may be read
// from the calling threads (net::AsioClock's may).
class InstrumentedQueryEngine final : public prom::QueryEngine {
 public:
  // `server` is the --prometheus-url; a password in it is shown as "xxxxx" (Go's URL.Redacted).
  InstrumentedQueryEngine(prom::QueryEngine& inner, ServerMetrics& metrics, std::string_view server,
                          core::Clock& clock);

  core::Result<prom::QueryResult> instant_query(std::string_view expr, core::Time time,
                                                const prom::QueryOptions& options = {}) override;
  core::Result<prom::QueryResult> range_query(std::string_view expr, core::Time start,
                                              core::Time end, core::Duration step,
                                              const prom::QueryOptions& options = {}) override;
  core::Result<std::vector<prom::Labels>> series(const std::vector<std::string>& match,
                                                 core::Time start, core::Time end) override;
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                     core::Time start, core::Time end) override;
  core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                      const std::vector<std::string>& match,
                                                      core::Time start, core::Time end) override;

 private:
  template <class Call>
  auto timed(const std::string& path, Call&& call);

  prom::QueryEngine& inner_;
  ServerMetrics& metrics_;
  std::string server_;
  core::Clock& clock_;
};

// `url` with the password of its user information replaced by "xxxxx".
std::string redacted_url(std::string_view url);

}  // namespace llmscale::adapter
