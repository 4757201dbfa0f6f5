// RemoteQueryEngine: the QueryEngine interface answered by a real Prometheus (or anything that
// speaks its HTTP API: Thanos, Mimir, GMP's frontend), for users who already run one
// (`--prometheus-url`, as prometheus-adapter takes it).
//
// Requests: <base_url>/api/v1/query (query, time, timeout), /api/v1/query_range (query, start,
// end, step, timeout), /api/v1/series (match[], start, end), /api/v1/labels and
// /api/v1/label/<name>/values — by GET with a query string, or by POST with a form body
// (prometheus-adapter's --prometheus-verb; label values always by GET, the only verb Prometheus
// routes there). The base URL may carry a path prefix
// ("http://gateway/prometheus"); extra headers (Authorization: Bearer ...) and TLS options go with
// every request. Times are sent as unix seconds with milliseconds, durations as seconds;
// unbounded series/label time ranges (core::Time::min()/max()) are left out so the server
// applies its own defaults. Answers are decoded by api_json.h.
//
// Errors map onto the QueryEngine codes (query_engine.h), so our own API re-serves them with
// the same errorType: the server's errorType for answers it rejected (bad_data ->
// kInvalidArgument, execution -> kFailedPrecondition, timeout -> kDeadlineExceeded...); a server
// that cannot be reached, resets, or answers without Prometheus' JSON -> kUnavailable; the
// request timeout -> kDeadlineExceeded. Messages name the server: "prometheus
// http://127.0.0.1:9090: connection refused: ...".
//
// Threads: code on an event loop uses the *_async coroutines on the engine's loop and never
// blocks: `llmscale controller` does (adapter::AsyncAdapterMetricsProvider), on its one loop.
// The blocking QueryEngine methods run the request on the engine's event loop and wait for it,
// so they may be called from any thread except that loop's own threads (where they would wait
// for themselves; they detect it and fail with kFailedPrecondition). create() without a loop
// starts a private one-thread loop for them.
//
// Why the blocking bridge (and the private loop) remain: `llmscale adapter --prometheus-url`
// serves the custom/external/resource metrics APIs through MetricsAdapter::serve_shared(), whose
// rendering, answer cache and `adapter explain` path are synchronous QueryEngine callers; its
// HTTP handlers run on the server's loop and call them directly, so they need answers from
// another loop's thread. Moving that server to the *_async calls (as the controller's provider
// does, in rounds) is left to a later change; nothing else uses the blocking methods with a
// remote Prometheus.
// All methods are thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "net/event_loop.h"
#include "net/tls.h"
#include "prom/promql/query_engine.h"

namespace llmscale::prom {

struct RemoteEngineOptions {
  // http(s)://host[:port][/prefix]
  std::string base_url;
  // "GET" or "POST".
  std::string method = "GET";
  // Bound on each request (connect + answer). A query's own timeout, when shorter, is also sent
  // to the server as `timeout`.
  core::Duration timeout = std::chrono::seconds(30);
  core::Duration connect_timeout = std::chrono::seconds(5);
  std::vector<std::pair<std::string, std::string>> headers;
  net::TlsClientOptions tls;
  std::size_t max_body_bytes = 256 * 1024 * 1024;
};

class RemoteQueryEngine final : public QueryEngine {
 public:
  // Uses `loop` for its requests. REQUIRES: the loop outlives the engine; for the blocking
  // methods it must run on threads of its own (start()), the *_async ones run on it however it
  // runs. Errors: a bad base URL or method, a bad TLS configuration.
  static core::Result<std::unique_ptr<RemoteQueryEngine>> create(net::EventLoop& loop,
                                                                 RemoteEngineOptions options);
  // With a private one-thread loop, for blocking callers (`llmscale adapter`; see above).
  static core::Result<std::unique_ptr<RemoteQueryEngine>> create(RemoteEngineOptions options);
  ~RemoteQueryEngine() override;
  RemoteQueryEngine(const RemoteQueryEngine&) = delete;
  RemoteQueryEngine& operator=(const RemoteQueryEngine&) = delete;

  core::Result<QueryResult> instant_query(std::string_view expr, core::Time time,
                                          const QueryOptions& options = {}) override;
  core::Result<QueryResult> range_query(std::string_view expr, core::Time start, core::Time end,
                                        core::Duration step,
                                        const QueryOptions& options = {}) override;
  core::Result<std::vector<Labels>> series(const std::vector<std::string>& match, core::Time start,
                                           core::Time end) override;
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                     core::Time start, core::Time end) override;
  core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                      const std::vector<std::string>& match,
                                                      core::Time start, core::Time end) override;

  // The same on the event loop (any of its threads), without blocking.
  net::Awaitable<core::Result<QueryResult>> instant_query_async(std::string expr, core::Time time,
                                                                QueryOptions options = {});
  net::Awaitable<core::Result<QueryResult>> range_query_async(std::string expr, core::Time start,
                                                              core::Time end, core::Duration step,
                                                              QueryOptions options = {});
  net::Awaitable<core::Result<std::vector<Labels>>> series_async(std::vector<std::string> match,
                                                                 core::Time start, core::Time end);

  const RemoteEngineOptions& options() const;

  struct Impl;

 private:
  explicit RemoteQueryEngine(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace llmscale::prom
