// Proxy: the router's HTTP front end. Forwards the inference APIs (OpenAI /v1/completions,
// /v1/chat/completions, /v1/models; TGI /generate, /generate_stream; JetStream /generate) and
// any other path to a backend chosen by its Balancer, and serves its own /metrics.
//
// Per request: take a lease (queueing while no backend can take it, router/balancer.h), open
// the upstream request (hop-by-hop headers dropped as RFC 9110 §7.6.1 asks, X-Forwarded-For
// appended as Go's ReverseProxy does, Host set to the backend as nginx's proxy_set_header
// default does), then forward the response:
//  * a body with a Content-Length up to buffer_limit that is not an event stream (a
//    non-streaming completion, /v1/models) is read whole and sent with its length;
//  * anything else (SSE token streams, chunked bodies, large bodies) is streamed chunk by chunk
//    as each read completes, never buffered whole; the socket write paces the upstream reads
//    (backpressure).
// Retries: when the backend cannot be reached before any response byte (connection refused,
// reset, connect timeout, DNS, TLS, malformed head), the lease is released as failed (passive
// health may eject the backend) and the request goes to another lease, up to max_retries times.
// Never after a response head arrived: what the client has seen is never replayed. Every
// upstream exchange carries a net::CancelSignal fired by the client's disconnect, so a client
// that leaves (while queued, while the backend computes a non-streaming answer, or mid-stream)
// cancels the upstream request and the backend sees the disconnect (vLLM then aborts the
// request and frees its KV cache).
//
// A body that breaks off after the head (reset, early close, malformed or truncated chunk, idle
// timeout) is never ended as if complete: a streamed response is aborted
// (ResponseWriter::abort(), no last chunk; Go's ReverseProxy does the same), one read whole gets
// 502.
//
// Router answers (API-shaped bodies, router/api.h): queue full or queue timeout -> 503 with
// Retry-After (Knative's activator answers 503 for both); backend unreachable after the
// retries -> 502; no response head within upstream_response_timeout -> 504 (nginx and Envoy
// status codes). A client that left is counted with code 499 (nginx's "client closed request").
//
// Metrics on metrics_path (prom::MetricRegistry, Prometheus text), prefix llmscale_router_:
// requests_total{route,backend,code}, errors_total{class}, upstream_rq_rx_reset_total{backend}
// (Envoy's name: bodies broken off after the head), retries_total,
// ejections_total{backend}, queue_length, queue_limit, backends{state},
// backend_in_flight{backend}, upstream_latency_seconds{backend} (request sent -> response head),
// queue_wait_seconds, request_duration_seconds{route} (arrival -> last byte). See docs/router.md.
// With a journal (ProxyOptions::journal_capacity) each inference request's arrival, token counts
// and status are also remembered once, with the outcome.
//
// Ownership and threads: the Proxy owns its Balancer, HttpClient, HttpServer and registry. The
// EventLoop and Clock must outlive it. handle() may run on any loop thread; balancer() is
// thread-safe (the owner calls it from anywhere). start()/stop() on the loop's thread (or before
// it runs), like HttpServer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"
#include "net/event_loop.h"
#include "net/server.h"
#include "router/balancer.h"
#include "router/journal.h"

namespace llmscale::prom {
class MetricRegistry;
}

namespace llmscale::router {

struct ProxyOptions {
  // Where to listen (address, port; port 0 picks one) and the server's limits.
  net::ServerOptions server;
  BalancerOptions balancer;
  // Extra attempts on another lease when a backend cannot be reached before any response byte.
  int max_retries = 2;
  // Retry-After on 503 answers, in whole seconds (0 leaves it out). Kubernetes' API priority and
  // fairness answers 429 with Retry-After: 1 the same way.
  int retry_after_seconds = 1;
  core::Duration upstream_connect_timeout = std::chrono::seconds(5);
  // Until the response head: a non-streaming completion sends it only when generation is done.
  core::Duration upstream_response_timeout = std::chrono::minutes(10);
  // Between two body reads of a streamed response.
  core::Duration upstream_idle_timeout = std::chrono::minutes(5);
  std::size_t max_connections_per_backend = 4096;
  // Largest Content-Length body forwarded whole (with its length); larger ones stream.
  std::size_t buffer_limit = 1024 * 1024;
  // The router's own metrics; empty disables (the path is then passed through).
  std::string metrics_path = "/metrics";
  // Request-body bytes that may wait in the queue together, beside balancer.max_queue's count
  // (a scale-from-zero queue holds prompts, which can be large): a request that would pass it is
  // refused like a full queue (503 with Retry-After). 0 = no byte limit.
  std::size_t max_queued_bytes = std::size_t{64} << 20;
  // The wake-up signal for scale-from-zero (Knative's activator, KEDA's HTTP add-on): called on
  // the loop each time a request has to wait while no backend is ready. The owner debounces and
  // starts a replica when the fleet is at zero.
  std::function<void()> on_wait_without_ready_backend;
  // Inference requests remembered for `simulate --from-up` (router/journal.h); 0 keeps none.
  std::size_t journal_capacity = 0;
};

// kInvalidArgument for negative values and bad balancer options.
core::Status validate(const ProxyOptions& options);

class Proxy {
 public:
  // REQUIRES: validate(options) succeeds.
  Proxy(net::EventLoop& loop, core::Clock& clock, ProxyOptions options);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  Balancer& balancer();
  prom::MetricRegistry& metrics();
  const ProxyOptions& options() const;
  // The served requests lately; null when options.journal_capacity is 0.
  const RequestJournal* journal() const;

  // Closes the idle keep-alive connections to the backends (exchanges in progress keep theirs;
  // the next request to a backend opens a new one). Call after remove_backend() so sockets to
  // replicas that are gone do not linger in the pool. Any thread.
  void close_idle_connections();
  // Idle keep-alive connections to the backends now.
  std::size_t idle_upstream_connections() const;

  // Listens on options.server and serves handle(). kUnavailable when the address is taken.
  core::Status start();
  // After start().
  std::uint16_t port() const;
  std::string url(std::string_view path = "/") const;
  // Graceful stop: queued requests are answered 503 at once (Balancer::shutdown), requests in
  // flight get `grace` to finish (HttpServer::stop). Call it, and let it complete, before
  // destroying the Proxy while its loop keeps running: a request handler resumed after the
  // Proxy is gone would touch freed state.
  net::Awaitable<void> stop(core::Duration grace = std::chrono::seconds(10));

  // The request handler, for mounting on another server or testing with a
  // RecordingResponseWriter. Thread-safe.
  net::Awaitable<void> handle(net::ServerRequest& request, net::ResponseWriter& writer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmscale::router
