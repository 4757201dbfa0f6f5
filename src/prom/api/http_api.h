// The Prometheus-compatible HTTP API over any QueryEngine, on net::HttpServer.
//
// Endpoints (GET, and POST with a form body where Prometheus takes one):
//   /api/v1/query                 query, time, timeout
//   /api/v1/query_range           query, start, end, step, timeout
//   /api/v1/series                match[] (required), start, end, limit
//   /api/v1/labels                match[], start, end, limit
//   /api/v1/label/<name>/values   match[], start, end, limit (GET only)
//   /api/v1/targets               state=active|dropped|any
//   /api/v1/status/buildinfo
//   /-/ready, /-/healthy          GET/HEAD: "Prometheus Server is Ready." / "...Healthy."
//   /metrics                      our own metrics (a MetricRegistry), text format 0.0.4
// Parameters, answers and errors follow Prometheus 2.42 exactly, including which errors carry
// `invalid parameter "x": ` and which do not (instant-query parse errors do, range-query parse
// errors do not), parseTimeParam's "Invalid time value for 'time': ..." wording, the 11,000
// points-per-series limit, a non-positive `timeout` answering 503 "query timed out in query
// execution", and the status codes of query_engine.h. `limit` (newer Prometheus) truncates
// series/labels/values answers, with the warning newer versions add. Answers are gzip-encoded
// when the client accepts it. An unknown path is a plain 404, a wrong method a plain 405 with
// Allow.
//
// Time parameters: unix seconds as a float (rounded to milliseconds: Prometheus' parseTime) or
// RFC 3339; Prometheus' own min/max time strings. Non-finite or out-of-range numbers clamp to
// the earliest/latest representable time (Prometheus wraps int64 there). Durations: float
// seconds or a Prometheus duration ("15s", "1m30s").
//
// The engine is called synchronously on the server's loop thread: fine for LocalQueryEngine
// (in-memory, milliseconds); a RemoteQueryEngine must not run on the same loop (it would block
// the loop it needs, see remote_engine.h). Thread-safety: handle() may run concurrently.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "net/http.h"
#include "net/router.h"
#include "net/server.h"
#include "prom/exposition/registry.h"
#include "prom/promql/query_engine.h"

namespace llmscale::core {
class Clock;
}

namespace llmscale::prom {

class Scraper;

struct ApiOptions {
  // Prometheus' --query.timeout (a request's `timeout` can only shorten it).
  core::Duration query_timeout = std::chrono::minutes(2);
  core::Duration lookback_delta = std::chrono::minutes(5);
  std::size_t max_samples = 50'000'000;
  // QueryOptions::max_work: expression nodes and samples one query may touch.
  std::size_t max_work = 500'000'000;
  // /api/v1/status/buildinfo.
  std::string version = "2.42.0";
  std::string revision = "llmscale";
};

// Prometheus' API parameter forms.
core::Result<core::Time> parse_api_time(std::string_view text);
core::Result<core::Duration> parse_api_duration(std::string_view text);

class PrometheusApi {
 public:
  // REQUIRES: `engine` and `clock` outlive the API.
  PrometheusApi(QueryEngine& engine, core::Clock& clock, ApiOptions options = {});
  ~PrometheusApi();
  PrometheusApi(const PrometheusApi&) = delete;
  PrometheusApi& operator=(const PrometheusApi&) = delete;

  // The scraper whose targets /api/v1/targets lists (none: empty lists). Call before serving.
  void set_scraper(const Scraper* scraper);
  // The registry /metrics renders; `before_write` refreshes gauges first. The API registers
  // prometheus_http_requests_total and prometheus_http_request_duration_seconds in it.
  // Call before serving.
  void set_metrics(MetricRegistry* registry, std::function<void()> before_write = {});
  // What /-/ready answers (true by default): 503 "Service Unavailable" until ready.
  void set_ready(bool ready);

  // Routes every endpoint above on `router`. With `standalone`, also /metrics and every other
  // /api/ path (answering 404); without, only the API's own paths, for an address it shares
  // (`llmscale up` serves the Kubernetes API's /api/v1/... beside it).
  // REQUIRES: the API outlives the server using the router.
  void add_routes(net::Router& router, bool standalone = true);
  // Answers one request (what the routes call). Exposed for tests and fuzzing.
  net::Response handle(const net::ServerRequest& request) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace llmscale::prom
