// `llmscale route`: the router on its own, in front of backends given on the command line
// (manual use and benchmarks; `llmscale up` wires the same Proxy to its fleet).
//
//   llmscale route --listen 127.0.0.1:8080 --backend a=http://127.0.0.1:8001
//       --backend http://127.0.0.1:8002 --policy least-kv-cache --health-path /health
//
// Without --health-path every backend is ready from the start (passive health still ejects one
// that refuses connections); with it, each is probed every --health-interval like a Kubernetes
// httpGet readiness probe (200-399 is ready) and starts not ready.
#include <iostream>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/log.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "router/proxy.h"
#include "router/spec.h"

namespace llmscale::cli {
namespace {

struct RouteOptions {
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> backends;
  std::string policy = "least-outstanding-requests";
  std::size_t queue_size = 1024;
  std::size_t queue_bytes = std::size_t{64} << 20;
  std::string queue_timeout = "60s";
  std::size_t max_in_flight = 0;
  int max_retries = 2;
  int retry_after = 1;
  std::size_t max_fails = 1;
  std::string fail_timeout = "10s";
  std::string upstream_timeout = "10m";
  std::string health_path;
  std::string health_interval = "1s";
  int threads = 2;
};

core::Result<core::Duration> duration_flag(const std::string& flag, const std::string& text) {
  auto d = core::parse_go_duration(text);
  if (!d) return core::invalid_argument(flag + ": " + d.error().message);
  if (*d < core::Duration::zero()) return core::invalid_argument(flag + ": must not be negative");
  return *d;
}

net::Awaitable<void> probe(router::Balancer& balancer, net::HttpClient& client, core::Clock& clock,
                           std::string id, std::string url, core::Duration interval,
                           std::shared_ptr<bool> stopping) {
  std::optional<bool> last;
  while (!*stopping) {
    net::Request request = net::Request::get(url);
    request.total_timeout = interval;
    auto response = co_await client.request(std::move(request));
    // Kubernetes httpGet probes: any status from 200 to 399 succeeds.
    bool ok = response && response->status >= 200 && response->status < 400;
    auto current = balancer.backend(id);
    if (current && current->state != router::BackendState::kDraining) {
      (void)balancer.set_state(id,
                               ok ? router::BackendState::kReady : router::BackendState::kNotReady);
    }
    if (!last || *last != ok) {
      core::log_info("route: backend " + id + (ok ? " is ready" : " is not ready") +
                     (response ? "" : " (" + response.error().message + ")"));
    }
    last = ok;
    co_await net::sleep_for(clock, interval);
  }
}

int run_route(const RouteOptions& o) {
  router::ProxyOptions options;
  auto listen = router::parse_listen_address(o.listen);
  if (!listen) return fail("--listen: " + listen.error().message);
  options.server.address = listen->address;
  options.server.port = listen->port;
  auto policy = router::parse_policy(o.policy);
  if (!policy) return fail("--policy: " + policy.error().message);
  options.balancer.policy = *policy;
  options.balancer.max_queue = o.queue_size;
  options.max_queued_bytes = o.queue_bytes;
  options.balancer.max_in_flight_per_backend = o.max_in_flight;
  options.balancer.max_fails = o.max_fails;
  auto queue_timeout = duration_flag("--queue-timeout", o.queue_timeout);
  if (!queue_timeout) return fail(queue_timeout.error().message);
  options.balancer.queue_timeout = *queue_timeout;
  auto fail_timeout = duration_flag("--fail-timeout", o.fail_timeout);
  if (!fail_timeout) return fail(fail_timeout.error().message);
  options.balancer.fail_timeout = *fail_timeout;
  auto upstream_timeout = duration_flag("--upstream-timeout", o.upstream_timeout);
  if (!upstream_timeout) return fail(upstream_timeout.error().message);
  options.upstream_response_timeout = *upstream_timeout;
  auto health_interval = duration_flag("--health-interval", o.health_interval);
  if (!health_interval) return fail(health_interval.error().message);
  if (*health_interval <= core::Duration::zero()) return fail("--health-interval: must be > 0");
  if (!o.health_path.empty() && o.health_path.front() != '/') {
    return fail("--health-path: must start with '/'");
  }
  options.max_retries = o.max_retries;
  options.retry_after_seconds = o.retry_after;
  if (o.threads < 1 || o.threads > 64) return fail("--threads: must be from 1 to 64");
  if (auto valid = router::validate(options); !valid) return fail(valid.error().message);

  std::vector<router::BackendSpec> specs;
  for (std::size_t i = 0; i < o.backends.size(); ++i) {
    auto spec = router::parse_backend_spec(o.backends[i], i);
    if (!spec) return fail("--backend: " + spec.error().message);
    specs.push_back(std::move(*spec));
  }

  net::EventLoop loop(o.threads);
  router::Proxy proxy(loop, loop.clock(), options);
  auto initial =
      o.health_path.empty() ? router::BackendState::kReady : router::BackendState::kNotReady;
  for (const auto& spec : specs) {
    if (auto added = proxy.balancer().add_backend(spec.id, spec.url, initial); !added) {
      return fail("--backend: " + added.error().message);
    }
  }
  if (auto started = proxy.start(); !started) return fail(started.error().message, 1);
  core::log_info("route: listening on " + proxy.url("/") + " with " + std::to_string(specs.size()) +
                 " backend(s), policy " + std::string(proxy.balancer().policy_name()) +
                 ", metrics at " + proxy.url(options.metrics_path));

  auto stopping = std::make_shared<bool>(false);
  net::HttpClient probe_client(loop);
  if (!o.health_path.empty()) {
    for (const auto& spec : specs) {
      std::string url = proxy.balancer().backend(spec.id)->url + o.health_path;
      net::spawn(loop,
                 probe(proxy.balancer(), probe_client, loop.clock(), spec.id, url, *health_interval,
                       stopping),
                 "probe " + spec.id);
    }
  }
  net::stop_on_signals(loop, [&](int) {
    *stopping = true;
    net::spawn(loop, [](router::Proxy& p, net::EventLoop& l) -> net::Awaitable<void> {
      co_await p.stop(std::chrono::seconds(5));
      l.stop();
    }(proxy, loop));
  });
  loop.run();
  return 0;
}

}  // namespace

void add_route_command(CLI::App& app, int& exit_code) {
  static RouteOptions o;
  auto* cmd = app.add_subcommand(
      "route", "Balance OpenAI/TGI/JetStream requests over backends (queue, retries, SSE)");
  cmd->add_option("--listen", o.listen, "HOST:PORT, :PORT or [IPv6]:PORT to listen on")
      ->capture_default_str();
  cmd->add_option("--backend", o.backends, "backend base URL, or NAME=URL (repeat)")->required();
  cmd->add_option("--policy", o.policy, "round-robin, least-outstanding-requests or least-kv-cache")
      ->capture_default_str();
  cmd->add_option("--queue-size", o.queue_size, "requests that may wait for a backend")
      ->capture_default_str();
  cmd->add_option("--queue-bytes", o.queue_bytes,
                  "request-body bytes that may wait together (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--queue-timeout", o.queue_timeout, "how long a request may wait (0: forever)")
      ->capture_default_str();
  cmd->add_option("--max-in-flight", o.max_in_flight, "requests per backend (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-retries", o.max_retries,
                  "attempts on another backend before any response byte")
      ->capture_default_str();
  cmd->add_option("--retry-after", o.retry_after, "Retry-After seconds on 503 (0: none)")
      ->capture_default_str();
  cmd->add_option("--max-fails", o.max_fails, "failures that eject a backend (0: never)")
      ->capture_default_str();
  cmd->add_option("--fail-timeout", o.fail_timeout, "how long an ejected backend rests")
      ->capture_default_str();
  cmd->add_option("--upstream-timeout", o.upstream_timeout,
                  "wait for a backend's response head at most this long")
      ->capture_default_str();
  cmd->add_option("--health-path", o.health_path, "probe each backend at this path (e.g. /health)");
  cmd->add_option("--health-interval", o.health_interval, "probe period")->capture_default_str();
  cmd->add_option("--threads", o.threads, "event loop threads")->capture_default_str();
  cmd->callback([&] { exit_code = run_route(o); });
}

}  // namespace llmscale::cli
