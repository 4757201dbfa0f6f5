// Proxy: lease, upstream exchange with retries before the first byte, response forwarding
// (whole or streamed), disconnect propagation, and the router's metrics.
#include "router/proxy.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "net/client.h"
#include "prom/exposition/registry.h"
#include "router/api.h"
#include "router/wait.h"

namespace llmscale::router {
namespace {

const std::vector<double> kLatencyBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10,
                                             30,     60,    120,    300,   600};
const std::vector<double> kQueueBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                           2.5,   5,     10,   30,   60,  120,  300};

// Why an exchange failed, as the errors_total{class} label says it.
enum class Failure {
  kQueueFull,
  kQueueTimeout,
  kShuttingDown,
  kConnectFailure,   // refused, unreachable, connect/TLS timeout, DNS, TLS
  kUpstreamReset,    // the connection died before the response head
  kUpstreamTimeout,  // no response head in time
  kBadResponse,      // malformed or oversized head
  kUpstreamAborted,  // the body broke off after the head
  kClientDisconnect,
};

std::string_view failure_label(Failure failure) {
  switch (failure) {
    case Failure::kQueueFull: return "queue_full";
    case Failure::kQueueTimeout: return "queue_timeout";
    case Failure::kShuttingDown: return "shutting_down";
    case Failure::kConnectFailure: return "connect_failure";
    case Failure::kUpstreamReset: return "upstream_reset";
    case Failure::kUpstreamTimeout: return "upstream_timeout";
    case Failure::kBadResponse: return "bad_response";
    case Failure::kUpstreamAborted: return "upstream_aborted";
    case Failure::kClientDisconnect: return "client_disconnect";
  }
  return "other";
}

Failure classify_client_error(const core::Error& error) {
  std::string_view kind = net::client_error_kind(error);
  if (kind == "connection refused" || kind == "unreachable" || kind == "connect timeout" ||
      kind == "tls handshake timeout" || kind == "tls" || kind == "dns") {
    return Failure::kConnectFailure;
  }
  if (kind == "connection reset") return Failure::kUpstreamReset;
  if (kind == "response head timeout" || kind == "total timeout" || kind == "idle timeout") {
    return Failure::kUpstreamTimeout;
  }
  if (kind == "cancelled") return Failure::kClientDisconnect;
  return Failure::kBadResponse;
}

// The backend was not reached, so another may be tried and passive health counts it.
bool unreachable(Failure failure) {
  return failure == Failure::kConnectFailure || failure == Failure::kUpstreamReset;
}

double seconds(core::Duration d) {
  return std::max(0.0, core::to_seconds(d));
}

// Header fields named in Connection are hop-by-hop too (RFC 9110 §7.6.1).
bool listed_in_connection(const net::Headers& headers, std::string_view name) {
  return headers.has_token("Connection", name);
}

std::optional<std::size_t> content_length(const net::Headers& headers) {
  auto value = headers.get("Content-Length");
  if (!value || headers.contains("Transfer-Encoding")) return std::nullopt;
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
  if (ec != std::errc() || end != value->data() + value->size()) return std::nullopt;
  return n;
}

bool is_event_stream(const net::Headers& headers) {
  std::string_view type = headers.value("Content-Type");
  return type.size() >= 17 && net::iequals(type.substr(0, 17), "text/event-stream");
}

// One request's state shared with its disconnect callback (which runs on the connection's
// strand, like the handler).
struct RequestState {
  std::mutex mutex;
  bool client_gone = false;
  LeaseWait* waiting = nullptr;
  net::CancelSignal cancel;

  void client_left() {
    LeaseWait* wait = nullptr;
    {
      std::lock_guard lock(mutex);
      client_gone = true;
      wait = waiting;
    }
    if (wait) wait->cancel();
    cancel.cancel();
  }
  bool gone() {
    std::lock_guard lock(mutex);
    return client_gone;
  }
};

}  // namespace

core::Status validate(const ProxyOptions& options) {
  if (auto s = validate(options.balancer); !s) return s;
  if (options.max_retries < 0) return core::invalid_argument("max retries is negative");
  if (options.retry_after_seconds < 0) return core::invalid_argument("retry-after is negative");
  if (options.upstream_connect_timeout < core::Duration::zero() ||
      options.upstream_response_timeout < core::Duration::zero() ||
      options.upstream_idle_timeout < core::Duration::zero()) {
    return core::invalid_argument("upstream timeouts must not be negative");
  }
  if (!options.metrics_path.empty() && options.metrics_path.front() != '/') {
    return core::invalid_argument("metrics path must start with '/'");
  }
  return {};
}

struct Proxy::Impl {
  Impl(net::EventLoop& l, core::Clock& c, ProxyOptions o)
      : loop(l),
        clock(c),
        options(std::move(o)),
        balancer(c, options.balancer),
        client(l, client_options(options)) {
    if (options.journal_capacity > 0)
      journal = std::make_unique<RequestJournal>(options.journal_capacity);
    register_metrics();
  }

  static net::ClientOptions client_options(const ProxyOptions& options) {
    net::ClientOptions client;
    client.connect_timeout = options.upstream_connect_timeout;
    client.response_head_timeout = options.upstream_response_timeout;
    client.idle_timeout = options.upstream_idle_timeout;
    client.max_connections_per_host = options.max_connections_per_backend;
    client.decode_gzip = false;  // bodies pass through as the backend encoded them
    client.user_agent.clear();   // the client's own User-Agent (if any) passes through
    return client;
  }

  void register_metrics() {
    const std::string p = "llmscale_router_";
    requests = registry
                   .add_counter(p + "requests_total",
                                "Requests answered, by route, backend (empty when the router "
                                "answered itself) and status code (499: the client left).",
                                {"route", "backend", "code"})
                   .value();
    errors = registry
                 .add_counter(p + "errors_total", "Failed requests and attempts by error class.",
                              {"class"})
                 .value();
    upstream_resets =
        registry
            .add_counter(p + "upstream_rq_rx_reset_total",
                         "Responses the backend broke off after their head (reset, closed early, "
                         "truncated or malformed body, stalled): the client got a 502 or, once "
                         "streaming, an aborted connection (Envoy's upstream_rq_rx_reset).",
                         {"backend"})
            .value();
    retries = &registry
                   .add_counter(p + "retries_total",
                                "Attempts repeated on another backend before any response byte.")
                   .value()
                   ->with({});
    ejections =
        registry
            .add_counter(p + "ejections_total",
                         "Backends taken out of rotation by passive health checks.", {"backend"})
            .value();
    queue_length = &registry.add_gauge(p + "queue_length", "Requests waiting for a backend.")
                        .value()
                        ->with({});
    queue_limit = &registry.add_gauge(p + "queue_limit", "Requests that may wait for a backend.")
                       .value()
                       ->with({});
    backends_by_state = registry.add_gauge(p + "backends", "Backends by state.", {"state"}).value();
    in_flight = registry
                    .add_gauge(p + "backend_in_flight",
                               "Requests in flight through the router, by backend.", {"backend"})
                    .value();
    upstream_latency = registry
                           .add_histogram(p + "upstream_latency_seconds",
                                          "From sending the request upstream to the response head.",
                                          {"backend"}, kLatencyBuckets)
                           .value();
    queue_wait = &registry
                      .add_histogram(p + "queue_wait_seconds",
                                     "Time requests waited for a backend (0 when none waited).", {},
                                     kQueueBuckets)
                      .value()
                      ->with({});
    duration = registry
                   .add_histogram(p + "request_duration_seconds",
                                  "From the request's arrival to its last response byte.",
                                  {"route"}, kLatencyBuckets)
                   .value();
    queue_limit->set(static_cast<double>(options.balancer.max_queue));
  }

  // One proxied request's outcome (requests_total and request_duration_seconds), recorded
  // exactly once, when the handler returns: every return path sets the status it answered
  // (499 when the client left). A handler torn down mid-way (its frame destroyed with the loop at
  // shutdown, possibly after this Impl) records nothing.
  struct Outcome {
    Outcome(Impl& impl, Route route, core::Time arrived)
        : impl(impl), route(route), arrived(arrived) {}
    Outcome(const Outcome&) = delete;
    Outcome& operator=(const Outcome&) = delete;
    ~Outcome() {
      if (!status) return;
      impl.requests->with({route_label(route), backend, std::to_string(*status)}).inc();
      impl.duration->with({route_label(route)}).observe(seconds(impl.clock.now() - arrived));
      if (impl.journal && route != Route::kModels && route != Route::kOther) {
        JournalEntry entry;
        entry.arrived = arrived;
        entry.input_tokens = clamp32(input_tokens);
        entry.output_tokens = clamp32(output_tokens);
        entry.status = *status;
        impl.journal->record(entry);
      }
    }
    static std::uint32_t clamp32(std::uint64_t n) {
      return static_cast<std::uint32_t>(
          std::min<std::uint64_t>(n, std::numeric_limits<std::uint32_t>::max()));
    }
    // The client left: nginx's 499, the error counted once.
    void client_left() {
      impl.count_error(Failure::kClientDisconnect);
      status = 499;
    }

    Impl& impl;
    const Route route;
    const core::Time arrived;
    std::string backend;
    std::optional<int> status;
    std::uint64_t input_tokens = 0;
    std::uint64_t output_tokens = 0;
  };

  void count_error(Failure failure) { errors->with({failure_label(failure)}).inc(); }

  // A waiter's share of the bytes of request bodies waiting in the queue
  // (ProxyOptions::max_queued_bytes), taken before the check so concurrent arrivals on a
  // multi-threaded loop cannot pass the limit together; given back when it leaves the queue.
  struct QueuedBytes {
    QueuedBytes(std::atomic<std::size_t>& total, std::size_t bytes)
        : total(total), bytes(bytes), before(total.fetch_add(bytes)) {}
    QueuedBytes(const QueuedBytes&) = delete;
    QueuedBytes& operator=(const QueuedBytes&) = delete;
    ~QueuedBytes() { total -= bytes; }
    std::atomic<std::size_t>& total;
    const std::size_t bytes;
    const std::size_t before;  // the others' bytes when this one arrived
  };

  bool any_backend_ready() const {
    for (const BackendStatus& b : balancer.backends()) {
      if (b.state == BackendState::kReady) return true;
    }
    return false;
  }

  net::Awaitable<core::Result<Lease>> acquire(RequestState& state, std::size_t body_bytes) {
    if (auto lease = balancer.try_acquire()) co_return std::move(*lease);
    QueuedBytes held(queued_bytes, body_bytes);
    if (options.max_queued_bytes != 0 && held.before + body_bytes > options.max_queued_bytes) {
      co_return core::make_error(core::ErrorCode::kResourceExhausted,
                                 "queue full: " + std::to_string(held.before) +
                                     " bytes of requests already wait (limit " +
                                     std::to_string(options.max_queued_bytes) + ")");
    }
    if (options.on_wait_without_ready_backend && !any_backend_ready()) {
      options.on_wait_without_ready_backend();
    }
    LeaseWait wait(balancer, clock);
    {
      std::lock_guard lock(state.mutex);
      if (state.client_gone) co_return core::make_error(core::ErrorCode::kCancelled, "client left");
      state.waiting = &wait;
    }
    auto result = co_await wait.acquire();
    {
      std::lock_guard lock(state.mutex);
      state.waiting = nullptr;
    }
    co_return result;
  }

  net::Request upstream_request(const net::ServerRequest& request, const Lease& lease,
                                const std::shared_ptr<RequestState>& state) const {
    net::Request out;
    out.method = request.method;
    out.url = lease.url();
    out.url += request.raw_path;
    if (!request.raw_query.empty()) {
      out.url += '?';
      out.url += request.raw_query;
    }
    out.headers.reserve(request.headers.size() + 1);
    std::string forwarded_for;
    for (const auto& [name, value] : request.headers) {
      if (net::is_hop_by_hop_header(name) || net::iequals(name, "Host") ||
          net::iequals(name, "Content-Length") || net::iequals(name, "Expect") ||
          listed_in_connection(request.headers, name)) {
        continue;
      }
      if (net::iequals(name, "X-Forwarded-For")) {
        if (!forwarded_for.empty()) forwarded_for += ", ";
        forwarded_for += value;
        continue;
      }
      out.headers.add(name, value);
    }
    if (!request.remote.address.empty()) {
      if (!forwarded_for.empty()) forwarded_for += ", ";
      forwarded_for += request.remote.address;
    }
    if (!forwarded_for.empty()) out.headers.add("X-Forwarded-For", forwarded_for);
    out.body = request.body;
    // Aliases the request state: the signal lives as long as the exchange needs it.
    out.cancel = std::shared_ptr<net::CancelSignal>(state, &state->cancel);
    return out;
  }

  static net::Headers response_headers(const net::Headers& upstream, const std::string& backend) {
    net::Headers out;
    out.reserve(upstream.size() + 1);
    for (const auto& [name, value] : upstream) {
      if (net::is_hop_by_hop_header(name) || net::iequals(name, "Content-Length") ||
          listed_in_connection(upstream, name)) {
        continue;
      }
      out.add(name, value);
    }
    out.add("X-Llmscale-Backend", backend);
    return out;
  }

  // Sends the router's own error response; returns its status.
  net::Awaitable<int> answer(net::ServerRequest& request, net::ResponseWriter& writer,
                             RouterError error, std::string message, int retry_after_seconds) {
    net::Response response =
        router_error_response(request.path, request.body, error, message, retry_after_seconds);
    int status = response.status;
    co_await writer.send(std::move(response));
    co_return status;
  }

  net::Awaitable<void> serve_metrics(net::ServerRequest& request, net::ResponseWriter& writer) {
    if (request.method != "GET" && request.method != "HEAD") {
      net::Response response = net::Response::text(405, "method not allowed\n");
      response.headers.set("Allow", "GET, HEAD");
      co_await writer.send(std::move(response));
      co_return;
    }
    refresh_gauges();
    net::Response response;
    response.status = 200;
    response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    response.body = registry.text();
    co_await writer.send(std::move(response));
  }

  // Gauges that mirror the balancer are set when scraped.
  void refresh_gauges() {
    queue_length->set(static_cast<double>(balancer.queue_length()));
    auto statuses = balancer.backends();
    double ready = 0, not_ready = 0, draining = 0;
    std::set<std::string> present;
    std::lock_guard lock(gauge_mutex);
    for (const auto& b : statuses) {
      switch (b.state) {
        case BackendState::kReady: ++ready; break;
        case BackendState::kNotReady: ++not_ready; break;
        case BackendState::kDraining: ++draining; break;
      }
      in_flight->with({b.id}).set(static_cast<double>(b.in_flight));
      present.insert(b.id);
    }
    for (const auto& id : published) {
      if (!present.contains(id)) in_flight->remove({id});
    }
    published = std::move(present);
    backends_by_state->with({"ready"}).set(ready);
    backends_by_state->with({"not-ready"}).set(not_ready);
    backends_by_state->with({"draining"}).set(draining);
  }

  net::Awaitable<void> handle(net::ServerRequest& request, net::ResponseWriter& writer) {
    if (!options.metrics_path.empty() && request.path == options.metrics_path) {
      co_await serve_metrics(request, writer);
      co_return;
    }
    Outcome outcome(*this, classify_route(request.path), clock.now());
    auto state = std::make_shared<RequestState>();
    writer.on_disconnect([state] { state->client_left(); });

    // Lease and response head, retrying unreachable backends.
    Lease lease;
    net::ClientStream stream;
    const std::uint64_t prompt_tokens = estimate_prompt_tokens(request.body);
    outcome.input_tokens = prompt_tokens;
    for (int attempt = 0;; ++attempt) {
      auto acquired = co_await acquire(*state, request.body.size());
      if (!acquired) {
        const core::Error& e = acquired.error();
        if (e.code == core::ErrorCode::kCancelled && state->gone()) {
          outcome.client_left();
          co_return;
        }
        Failure failure = e.code == core::ErrorCode::kResourceExhausted  ? Failure::kQueueFull
                          : e.code == core::ErrorCode::kDeadlineExceeded ? Failure::kQueueTimeout
                                                                         : Failure::kShuttingDown;
        RouterError error = failure == Failure::kQueueFull      ? RouterError::kQueueFull
                            : failure == Failure::kQueueTimeout ? RouterError::kQueueTimeout
                                                                : RouterError::kShuttingDown;
        count_error(failure);
        outcome.status =
            co_await answer(request, writer, error, e.message, options.retry_after_seconds);
        co_return;
      }
      lease = std::move(*acquired);
      lease.add_tokens(prompt_tokens);
      queue_wait->observe(seconds(lease.queued_for()));

      net::Request upstream = upstream_request(request, lease, state);
      const core::Time sent = clock.now();
      auto opened = co_await client.open(std::move(upstream));
      if (opened) {
        upstream_latency->with({lease.backend_id()}).observe(seconds(clock.now() - sent));
        stream = std::move(*opened);
        break;
      }
      Failure failure = classify_client_error(opened.error());
      if (failure == Failure::kClientDisconnect || state->gone()) {
        lease.release();
        outcome.client_left();
        co_return;
      }
      count_error(failure);
      std::string backend = lease.backend_id();
      if (unreachable(failure)) {
        if (lease.release_failed()) {
          ejections->with({backend}).inc();
          core::log_warn("router: backend " + backend +
                         " ejected after failing: " + opened.error().message);
        }
        if (attempt < options.max_retries) {
          retries->inc();
          continue;
        }
      } else {
        lease.release();
      }
      RouterError error = failure == Failure::kUpstreamTimeout ? RouterError::kUpstreamTimeout
                                                               : RouterError::kUpstreamUnreachable;
      outcome.backend = backend;
      outcome.status = co_await answer(request, writer, error, opened.error().message, 0);
      co_return;
    }

    // Forward the response: whole when small and complete, else chunk by chunk.
    const std::string backend = lease.backend_id();
    const int status = stream.status();
    outcome.backend = backend;
    net::Headers headers = response_headers(stream.headers(), backend);
    auto length = content_length(stream.headers());
    if (length && *length <= options.buffer_limit && !is_event_stream(stream.headers())) {
      auto body = co_await stream.read_all(options.buffer_limit);
      if (!body) {
        if (state->gone()) {
          outcome.client_left();
          co_return;
        }
        count_error(Failure::kUpstreamAborted);
        upstream_resets->with({backend}).inc();
        outcome.status = co_await answer(request, writer, RouterError::kUpstreamUnreachable,
                                         body.error().message, 0);
        co_return;
      }
      net::Response response;
      response.status = status;
      response.headers = std::move(headers);
      response.body = std::move(*body);
      // Only the journal needs it: no scan of every answer otherwise.
      if (journal) outcome.output_tokens = answer_output_tokens(request.body, response.body);
      auto sent = co_await writer.send(std::move(response));
      if (sent) {
        outcome.status = status;
      } else {
        outcome.client_left();
      }
      co_return;
    }

    auto begun = co_await writer.begin_stream(status, std::move(headers));
    if (!begun) {
      stream.cancel();
      outcome.client_left();
      co_return;
    }
    while (true) {
      auto chunk = co_await stream.read_chunk();
      if (!chunk) {
        // After the head nothing is retried. The client must see the failure, so its response
        // is aborted (no last chunk, no clean end of an event stream), never ended: curl then
        // fails with "transfer closed with outstanding read data remaining". Go's ReverseProxy
        // aborts the same way (http.ErrAbortHandler); Envoy resets the downstream stream.
        writer.abort();
        if (state->gone()) {
          outcome.client_left();
          co_return;
        }
        count_error(Failure::kUpstreamAborted);
        upstream_resets->with({backend}).inc();
        core::log_warn("router: " + backend + " broke off a response: " + chunk.error().message);
        outcome.status = status;
        co_return;
      }
      if (chunk->data.empty()) break;
      const std::uint64_t events = count_stream_events(chunk->data);
      lease.add_tokens(events);
      outcome.output_tokens += events;
      auto written = co_await writer.write(chunk->data);
      if (!written) {
        stream.cancel();
        outcome.client_left();
        co_return;
      }
    }
    co_await writer.end();
    outcome.status = status;
  }

  net::EventLoop& loop;
  core::Clock& clock;
  const ProxyOptions options;
  Balancer balancer;
  prom::MetricRegistry registry;
  net::HttpClient client;
  std::unique_ptr<net::HttpServer> server;
  std::unique_ptr<RequestJournal> journal;  // null: none kept

  prom::CounterFamily* requests = nullptr;
  prom::CounterFamily* errors = nullptr;
  prom::CounterFamily* upstream_resets = nullptr;
  prom::Counter* retries = nullptr;
  prom::CounterFamily* ejections = nullptr;
  prom::Gauge* queue_length = nullptr;
  prom::Gauge* queue_limit = nullptr;
  prom::GaugeFamily* backends_by_state = nullptr;
  prom::GaugeFamily* in_flight = nullptr;
  prom::HistogramFamily* upstream_latency = nullptr;
  prom::Histogram* queue_wait = nullptr;
  prom::HistogramFamily* duration = nullptr;
  std::mutex gauge_mutex;
  std::set<std::string> published;
  std::atomic<std::size_t> queued_bytes{0};
};

Proxy::Proxy(net::EventLoop& loop, core::Clock& clock, ProxyOptions options)
    : impl_(std::make_unique<Impl>(loop, clock, std::move(options))) {}

Proxy::~Proxy() = default;

Balancer& Proxy::balancer() {
  return impl_->balancer;
}

prom::MetricRegistry& Proxy::metrics() {
  return impl_->registry;
}

const ProxyOptions& Proxy::options() const {
  return impl_->options;
}

const RequestJournal* Proxy::journal() const {
  return impl_->journal.get();
}

void Proxy::close_idle_connections() {
  impl_->client.close_idle_connections();
}

std::size_t Proxy::idle_upstream_connections() const {
  return impl_->client.stats().idle_connections;
}

core::Status Proxy::start() {
  impl_->server = std::make_unique<net::HttpServer>(impl_->loop, impl_->options.server);
  Impl* impl = impl_.get();
  return impl_->server->start([impl](net::ServerRequest& request, net::ResponseWriter& writer) {
    return impl->handle(request, writer);
  });
}

std::uint16_t Proxy::port() const {
  return impl_->server ? impl_->server->port() : 0;
}

std::string Proxy::url(std::string_view path) const {
  return impl_->server ? impl_->server->url(path) : std::string();
}

net::Awaitable<void> Proxy::stop(core::Duration grace) {
  impl_->balancer.shutdown();  // queued requests answer 503 now, while connections are up
  if (impl_->server) co_await impl_->server->stop(grace);
}

net::Awaitable<void> Proxy::handle(net::ServerRequest& request, net::ResponseWriter& writer) {
  return impl_->handle(request, writer);
}

}  // namespace llmscale::router
