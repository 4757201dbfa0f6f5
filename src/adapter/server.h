// AdapterServer: the metrics adapter as an aggregated API server — HTTPS, the delegated
// authentication an aggregated server performs (front-proxy request headers trusted only on a
// client certificate that verifies against the request-header CA, client certificates,
// anonymous), a simple authorization mode, health endpoints, relisting on an interval
// (adapter-and-peers.md §1.3, §2.1, §2.6), and its own /metrics (server_metrics.h; behind
// authentication and authorization like any path not in always_allow_paths).
//
// Not done here: delegated authorization through SubjectAccessReview and bearer tokens through
// TokenReview (both need the Kubernetes API); the `Authenticated` mode admits any authenticated
// user instead, which with a request-header CA means "only the aggregator".
//
// Threads: construct, start() and stop() on the loop's thread (or before it runs). Requests
// may be served on several loop threads at once; the MetricsAdapter allows that.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/adapter.h"
#include "adapter/server_metrics.h"
#include "core/clock.h"
#include "core/result.h"
#include "net/event_loop.h"
#include "net/server.h"

namespace llmscale::adapter {

// kube-apiserver's --requestheader-* and --client-ca-file settings (PEM text, not paths).
struct AuthenticationOptions {
  std::string requestheader_client_ca_pem;
  std::vector<std::string> requestheader_allowed_names;  // empty: any CN the CA signed
  std::vector<std::string> requestheader_username_headers{"X-Remote-User"};
  std::vector<std::string> requestheader_group_headers{"X-Remote-Group"};
  std::vector<std::string> requestheader_extra_headers_prefix{"X-Remote-Extra-"};
  std::string client_ca_pem;
  bool anonymous = true;  // --anonymous-auth
};

enum class AuthorizationMode {
  kAlwaysAllow,    // every request (local use)
  kAuthenticated,  // every authenticated user; anonymous requests get 403
};

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// Who sent `request`, as kube-apiserver's authenticator chain decides: the front proxy's
// headers, else the client certificate's CN/O, else anonymous. An Error (kUnauthenticated) is a
// 401: a certificate that verifies against neither CA, a front-proxy CN not allowed, or no
// credentials with anonymous authentication off.
core::Result<UserInfo> authenticate(const net::ServerRequest& request,
                                    const AuthenticationOptions& options);

struct AdapterServerOptions {
  net::ServerOptions http;  // address, port, TLS (the client CAs are filled from `authn`)
  AuthenticationOptions authn;
  AuthorizationMode authz = AuthorizationMode::kAuthenticated;
  core::Duration relist_interval = std::chrono::minutes(10);  // --metrics-relist-interval
  // Paths served without authentication or authorization (--authorization-always-allow-paths).
  std::vector<std::string> always_allow_paths{"/healthz", "/readyz", "/livez"};
  // Where requests are counted and /metrics is read from; null: the server keeps its own. Share
  // one with an InstrumentedQueryEngine so /metrics shows the Prometheus queries too.
  std::shared_ptr<ServerMetrics> metrics;
};

// Whether `host` (a --bind-address) is a loopback address: 127.0.0.0/8, ::1 or localhost. The
// developer mode that serves plain HTTP without authorization (`--insecure-loopback`) is refused
// on any other address.
bool is_loopback_address(std::string_view host);

class AdapterServer {
 public:
  // REQUIRES: `adapter` and `clock` outlive the server; `clock` runs on `loop`.
  AdapterServer(net::EventLoop& loop, MetricsAdapter& adapter, core::Clock& clock,
                AdapterServerOptions options);
  ~AdapterServer();
  AdapterServer(const AdapterServer&) = delete;
  AdapterServer& operator=(const AdapterServer&) = delete;

  // Relists once (a failure is logged and /readyz reports it), schedules relisting, and starts
  // listening.
  core::Status start();
  void stop();

  std::uint16_t port() const;
  // Whether the last relist succeeded (what /readyz reports).
  bool ready() const { return ready_.load(); }
  // The request handler, for tests with a RecordingResponseWriter.
  net::Handler handler();
  // Runs one relist now (also what the timer does).
  void relist_now();
  ServerMetrics& metrics() { return *metrics_; }

 private:
  net::Awaitable<void> handle(net::ServerRequest& request, net::ResponseWriter& writer);
  void schedule_relist();

  net::EventLoop& loop_;
  MetricsAdapter& adapter_;
  core::Clock& clock_;
  AdapterServerOptions options_;
  std::unique_ptr<net::HttpServer> http_;
  std::optional<core::Clock::TimerId> relist_timer_;
  std::shared_ptr<ServerMetrics> metrics_;
  std::atomic<bool> ready_{false};
  std::string last_relist_error_;
};

}  // namespace llmscale::adapter
