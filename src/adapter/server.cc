// AdapterServer: authentication, authorization, health, relisting and the metrics API routes.
#include "adapter/server.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"
#include "net/tls_cert.h"
#include "net/url.h"

namespace llmscale::adapter {
namespace {

tl::unexpected<core::Error> unauthenticated(std::string why) {
  return core::make_error(core::ErrorCode::kUnauthenticated, std::move(why));
}

// requestheader: the extra key is the header name after the prefix, lower-cased and
// path-unescaped (kept as is when the escape is malformed).
std::string extra_key(std::string_view suffix) {
  std::string lower = core::to_lower(suffix);
  auto decoded = net::percent_decode(lower);
  return decoded ? *decoded : lower;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         core::to_lower(text.substr(0, prefix.size())) == core::to_lower(prefix);
}

std::string status_json(int code, const std::string& reason, const std::string& message,
                        const core::Json* details = nullptr) {
  core::Json j = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", core::Json::object()},
                  {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (details != nullptr) j["details"] = *details;
  j["code"] = code;
  return core::to_compact_json(j) + "\n";
}

// What an authorization failure says, as kube-apiserver's Forbidden status words it.
std::string forbidden_body(const net::ServerRequest& request, const UserInfo& user) {
  std::string who = "User " + core::go_quote(user.name);
  // metrics.k8s.io: pods and nodes, get with a name, list without.
  const std::string resource_base = "/apis/metrics.k8s.io/v1beta1/";
  if (request.path.rfind(resource_base, 0) == 0) {
    std::vector<std::string> s;
    for (auto segment :
         core::split(std::string_view(request.path).substr(resource_base.size()), '/'))
      s.emplace_back(segment);
    std::string resource, name, ns;
    if ((s.size() == 1 || s.size() == 2) && (s[0] == "nodes" || s[0] == "pods")) {
      resource = s[0];
      if (s.size() == 2) name = s[1];
    } else if ((s.size() == 3 || s.size() == 4) && s[0] == "namespaces" && s[2] == "pods") {
      resource = "pods";
      ns = s[1];
      if (s.size() == 4) name = s[3];
    }
    if (!resource.empty()) {
      const std::string group = "metrics.k8s.io";
      std::string message =
          resource + "." + group + (name.empty() ? "" : " " + core::go_quote(name)) +
          " is forbidden: " + who + " cannot " + (name.empty() ? "list" : "get") + " resource " +
          core::go_quote(resource) + " in API group " + core::go_quote(group) +
          (ns.empty() ? " at the cluster scope" : " in the namespace " + core::go_quote(ns));
      core::Json details = core::Json::object();
      if (!name.empty()) details["name"] = name;
      details["group"] = group;
      details["kind"] = resource;
      return status_json(403, "Forbidden", message, &details);
    }
  }
  auto parsed = parse_metrics_request(request.raw_path, request.raw_query);
  if (!parsed) {
    return status_json(403, "Forbidden",
                       "forbidden: " + who + " cannot get path " + core::go_quote(request.path),
                       nullptr);
  }
  std::string group = parsed->external() ? "external.metrics.k8s.io" : "custom.metrics.k8s.io";
  std::string resource = parsed->external() ? parsed->metric : parsed->resource.resource;
  std::string verb = parsed->external() ? "list" : "get";
  std::string resource_text = parsed->external() ? resource : resource + "/" + parsed->metric;
  std::string ns =
      parsed->external() || !parsed->namespace_name.empty() ? parsed->namespace_name : "";
  std::string subject =
      resource + "." + group + (parsed->external() ? "" : " " + core::go_quote(parsed->name));
  std::string message =
      subject + " is forbidden: " + who + " cannot " + verb + " resource " +
      core::go_quote(resource_text) + " in API group " + core::go_quote(group) +
      (ns.empty() ? " at the cluster scope" : " in the namespace " + core::go_quote(ns));
  core::Json details = core::Json::object();
  if (!parsed->external()) details["name"] = parsed->name;
  details["group"] = group;
  details["kind"] = resource;
  return status_json(403, "Forbidden", message, &details);
}

net::Response json_response(int status, std::string body) {
  net::Response r = net::Response::json(status, std::move(body));
  r.headers.set("Cache-Control", "no-cache, private");
  return r;
}

}  // namespace

core::Result<UserInfo> authenticate(const net::ServerRequest& request,
                                    const AuthenticationOptions& options) {
  std::vector<std::string> errors;
  if (request.peer_certificate != nullptr) {
    const auto& peer = *request.peer_certificate;
    if (!options.requestheader_client_ca_pem.empty()) {
      auto verified =
          net::verify_client_certificate(peer.chain_pem, options.requestheader_client_ca_pem);
      const auto& allowed = options.requestheader_allowed_names;
      const std::string& cn = peer.certificate.subject_cn;
      if (!verified) {
        errors.push_back(verified.error().message);
      } else if (!allowed.empty() &&
                 std::find(allowed.begin(), allowed.end(), cn) == allowed.end()) {
        errors.push_back("x509: subject with cn=" + cn + " is not in the allowed list");
      } else {
        // The front proxy vouches for the user in headers; without a user header this
        // authenticator does not apply.
        UserInfo user;
        for (const auto& header : options.requestheader_username_headers) {
          std::string_view value = request.header(header);
          if (!value.empty()) {
            user.name = std::string(value);
            break;
          }
        }
        if (!user.name.empty()) {
          for (const auto& header : options.requestheader_group_headers) {
            for (auto value : request.headers.get_all(header)) user.groups.emplace_back(value);
          }
          for (const auto& [name, value] : request.headers) {
            for (const auto& prefix : options.requestheader_extra_headers_prefix) {
              if (starts_with_ci(name, prefix)) {
                user.extra[extra_key(std::string_view(name).substr(prefix.size()))].push_back(
                    value);
              }
            }
          }
          return user;
        }
      }
    }
    if (!options.client_ca_pem.empty()) {
      auto verified = net::verify_client_certificate(peer.chain_pem, options.client_ca_pem);
      if (verified)
        return UserInfo{peer.certificate.subject_cn, peer.certificate.organizations, {}};
      errors.push_back(verified.error().message);
    }
  }
  if (!errors.empty()) return unauthenticated(core::join(errors, "; "));
  if (!options.anonymous) return unauthenticated("no credentials");
  return UserInfo{"system:anonymous", {"system:unauthenticated"}, {}};
}

AdapterServer::AdapterServer(net::EventLoop& loop, MetricsAdapter& adapter, core::Clock& clock,
                             AdapterServerOptions options)
    : loop_(loop),
      adapter_(adapter),
      clock_(clock),
      options_(std::move(options)),
      metrics_(options_.metrics ? options_.metrics : std::make_shared<ServerMetrics>()) {}

AdapterServer::~AdapterServer() {
  stop();
}

void AdapterServer::relist_now() {
  auto st = adapter_.relist();
  if (st) {
    if (!ready_.load()) core::log_info("adapter: discovery succeeded");
    ready_ = true;
    last_relist_error_.clear();
  } else {
    if (last_relist_error_ != st.error().message) {
      core::log_warn("adapter: discovery failed (keeping the previous metrics): " +
                     st.error().message);
    }
    last_relist_error_ = st.error().message;
    // Like prometheus-adapter, a failed relist keeps serving what was discovered before; only
    // a server that never discovered anything is not ready.
  }
}

void AdapterServer::schedule_relist() {
  relist_timer_ = clock_.call_after(options_.relist_interval, [this] {
    relist_timer_.reset();
    relist_now();
    schedule_relist();
  });
}

core::Status AdapterServer::start() {
  relist_now();
  schedule_relist();
  net::ServerOptions http = options_.http;
  if (http.tls) {
    std::string cas = options_.authn.requestheader_client_ca_pem;
    if (!options_.authn.client_ca_pem.empty()) cas += "\n" + options_.authn.client_ca_pem;
    if (!cas.empty()) http.tls->client_ca_pem = cas;
  }
  http_ = std::make_unique<net::HttpServer>(loop_, http);
  return http_->start(handler());
}

void AdapterServer::stop() {
  if (relist_timer_) {
    clock_.cancel(*relist_timer_);
    relist_timer_.reset();
  }
  http_.reset();
}

std::uint16_t AdapterServer::port() const {
  return http_ ? http_->port() : 0;
}

net::Handler AdapterServer::handler() {
  return [this](net::ServerRequest& request, net::ResponseWriter& writer) {
    return handle(request, writer);
  };
}

net::Awaitable<void> AdapterServer::handle(net::ServerRequest& request,
                                           net::ResponseWriter& writer) {
  const core::MonotonicTime started = clock_.monotonic_now();
  const std::string& path = request.path;
  const auto& always = options_.always_allow_paths;
  const bool exempt = std::find(always.begin(), always.end(), path) != always.end();
  if (!exempt) {
    auto user = authenticate(request, options_.authn);
    if (!user) {
      core::log_debug("adapter: unauthenticated request for " + path + ": " + user.error().message);
      auto response = json_response(401, status_json(401, "Unauthorized", "Unauthorized"));
      co_await writer.send(std::move(response));
      co_return;
    }
    if (options_.authz == AuthorizationMode::kAuthenticated && user->name == "system:anonymous") {
      auto response = json_response(403, forbidden_body(request, *user));
      co_await writer.send(std::move(response));
      co_return;
    }
  }

  if (path == "/healthz" || path == "/livez") {
    co_await writer.send(net::Response::text(200, "ok"));
    co_return;
  }
  if (path == "/readyz") {
    bool ok = ready_.load();
    auto response =
        ok ? net::Response::text(200, "ok")
           : net::Response::text(500,
                                 "[+]ping ok\n[-]metrics-discovery failed: reason withheld\n"
                                 "readyz check failed\n");
    co_await writer.send(std::move(response));
    co_return;
  }
  if (path == "/metrics") {
    net::Response response = net::Response::text(200, metrics_->text());
    response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    co_await writer.send(std::move(response));
    co_return;
  }
  if (path == "/openapi/v2") {
    core::Json doc = {{"swagger", "2.0"},
                      {"info", {{"title", "llmscale metrics adapter"}, {"version", "v0.1.0"}}},
                      {"paths", core::Json::object()}};
    auto response = json_response(200, core::to_compact_json(doc));
    co_await writer.send(std::move(response));
    co_return;
  }
  if (path.rfind("/apis/custom.metrics.k8s.io", 0) != 0 &&
      path.rfind("/apis/external.metrics.k8s.io", 0) != 0 &&
      path.rfind("/apis/metrics.k8s.io", 0) != 0) {
    auto response = json_response(
        404, status_json(404, "NotFound", "the server could not find the requested resource"));
    co_await writer.send(std::move(response));
    co_return;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    auto response = json_response(
        405, status_json(405, "MethodNotAllowed",
                         "the server does not allow this method on the requested resource"));
    response.headers.set("Allow", "GET");
    co_await writer.send(std::move(response));
    co_return;
  }
  auto answer = adapter_.serve_shared(request.raw_path, request.raw_query);
  net::Response response;
  if (answer) {
    // Sent from where it lies (a cached answer is not copied), gzip-encoded as Kubernetes' API
    // servers do for large answers to clients that accept it.
    response = json_response(200, "");
    net::set_shared_body(response, *answer, request.headers);
  } else {
    response = json_response(answer.error().code, answer.error().to_json() + "\n");
  }
  const int code = response.status;
  const std::size_t bytes = response.payload().size();
  co_await writer.send(std::move(response));
  if (auto labels = api_request_labels(request.method, path))
    metrics_->observe_request(*labels, code, clock_.monotonic_now() - started, bytes);
}

bool is_loopback_address(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8: four decimal octets, the first 127.
  auto octets = core::split(host, '.');
  if (octets.size() != 4 || octets[0] != "127") return false;
  for (auto octet : octets) {
    if (octet.empty() || octet.size() > 3) return false;
    int value = 0;
    for (char c : octet) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
  }
  return true;
}

}  // namespace llmscale::adapter
