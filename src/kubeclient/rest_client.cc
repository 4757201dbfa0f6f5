// Typed Kubernetes REST calls with client-go's rate limit, retries and error decoding; see
// rest_client.h.
#include "kubeclient/rest_client.h"

#include <algorithm>
#include <chrono>
#include <deque>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "net/client.h"
#include "net/url.h"

namespace llmscale::kubeclient {
namespace {

using core::Json;
using namespace std::chrono_literals;

std::string content_type_of(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJsonPatch: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

std::string add_query(std::string path, const net::QueryParams& params) {
  std::string query = params.encode();
  if (!query.empty()) path += "?" + query;
  return path;
}

// Kubernetes: rest/request.go checkWait — Retry-After in whole seconds on 429 and 5xx.
std::optional<int> retry_after_seconds(const net::Response& response) {
  if (response.status != 429 && response.status < 500) return std::nullopt;
  auto value = response.headers.get("Retry-After");
  if (!value || value->empty() || value->size() > 9) return std::nullopt;
  if (value->find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return std::stoi(std::string(*value));
}

core::Duration elapsed(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<core::Duration>(std::chrono::steady_clock::now() - start);
}

}  // namespace

core::Error ApiError::error() const {
  core::ErrorCode code = core::ErrorCode::kUnavailable;
  switch (status) {
    case 0: code = core::ErrorCode::kUnavailable; break;
    case 400:
    case 422: code = core::ErrorCode::kInvalidArgument; break;
    case 401: code = core::ErrorCode::kUnauthenticated; break;
    case 403: code = core::ErrorCode::kPermissionDenied; break;
    case 404: code = core::ErrorCode::kNotFound; break;
    case 409:
      code =
          already_exists() ? core::ErrorCode::kAlreadyExists : core::ErrorCode::kFailedPrecondition;
      break;
    case 410: code = core::ErrorCode::kOutOfRange; break;
    case 429: code = core::ErrorCode::kResourceExhausted; break;
    default: code = status >= 500 ? core::ErrorCode::kUnavailable : core::ErrorCode::kInternal;
  }
  return core::Error{code, message};
}

std::string ApiError::to_string() const {
  if (status == 0) return message;
  return message + " (" + std::to_string(status) + (reason.empty() ? "" : " " + reason) + ")";
}

ApiError decode_api_error(int status, std::string_view body) {
  ApiError error;
  error.status = status;
  auto parsed = core::parse_json(body, core::JsonLimits{core::kMaxJsonDepth, false});
  if (parsed && parsed->is_object() && parsed->value("kind", "") == "Status") {
    error.reason = parsed->value("reason", "");
    error.message = parsed->value("message", "");
    if (auto code = parsed->find("code"); code != parsed->end() && code->is_number_integer()) {
      error.status = code->get<int>();
    }
  }
  if (error.message.empty()) {
    // Kubernetes: rest/request.go newUnstructuredResponseError.
    error.message = "the server responded with the status code " + std::to_string(status) +
                    " but did not return more information";
  }
  if (error.reason.empty()) {
    switch (error.status) {
      case 404: error.reason = "NotFound"; break;
      case 409: error.reason = "Conflict"; break;
      case 410: error.reason = "Expired"; break;
      case 429: error.reason = "TooManyRequests"; break;
      default: break;
    }
  }
  return error;
}

std::string ResourceRef::path(std::string_view namespace_name, std::string_view name,
                              std::string_view subresource) const {
  std::string out = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !namespace_name.empty()) {
    out += "/namespaces/" + net::path_escape(namespace_name);
  }
  out += "/" + resource;
  if (!name.empty()) out += "/" + net::path_escape(name);
  if (!subresource.empty()) out += "/" + std::string(subresource);
  return out;
}

ResourceRef deployments_resource() {
  return {"apps", "v1", "deployments", true};
}
ResourceRef leases_resource() {
  return {"coordination.k8s.io", "v1", "leases", true};
}
ResourceRef events_resource() {
  return {"", "v1", "events", true};
}
ResourceRef pods_resource() {
  return {"", "v1", "pods", true};
}
ResourceRef hpas_resource() {
  return {"autoscaling", "v2", "horizontalpodautoscalers", true};
}

TokenBucket::TokenBucket(core::Clock& clock, double qps, int burst)
    : clock_(clock),
      qps_(qps),
      burst_(std::max(1, burst)),
      tokens_(std::max(1, burst)),
      last_(clock.now()) {}

core::Duration TokenBucket::reserve() {
  if (qps_ <= 0) return core::Duration::zero();
  core::Time now = clock_.now();
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + core::to_seconds(now - last_) * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return core::Duration::zero();
  return core::from_seconds(-tokens_ / qps_);
}

// ---- WatchStream ----

struct WatchStream::State {
  net::ClientStream stream;
  std::string buffer;
  std::deque<std::string> lines;
  bool cancelled = false;
};

WatchStream::WatchStream() = default;
WatchStream::~WatchStream() = default;
WatchStream::WatchStream(WatchStream&&) noexcept = default;
WatchStream& WatchStream::operator=(WatchStream&&) noexcept = default;
WatchStream::WatchStream(std::shared_ptr<State> state) : state_(std::move(state)) {}

void WatchStream::cancel() {
  if (!state_) return;
  state_->cancelled = true;
  state_->stream.cancel();
}

net::Awaitable<ApiResult<std::optional<WatchEvent>>> WatchStream::next() {
  std::shared_ptr<State> state = state_;
  if (!state) co_return tl::unexpected(ApiError{0, "", "watch: not open"});
  while (state->lines.empty()) {
    if (state->cancelled) co_return tl::unexpected(ApiError{0, "", "watch: cancelled"});
    if (state->stream.done()) {
      if (!state->buffer.empty()) {
        state->lines.push_back(std::move(state->buffer));
        state->buffer.clear();
        break;
      }
      co_return std::optional<WatchEvent>();
    }
    auto chunk = co_await state->stream.read_chunk();
    if (!chunk) co_return tl::unexpected(ApiError{0, "", "watch: " + chunk.error().message});
    state->buffer += chunk->data;
    std::size_t start = 0;
    for (std::size_t nl; (nl = state->buffer.find('\n', start)) != std::string::npos;
         start = nl + 1) {
      if (nl > start) state->lines.push_back(state->buffer.substr(start, nl - start));
    }
    state->buffer.erase(0, start);
  }
  std::string line = std::move(state->lines.front());
  state->lines.pop_front();
  auto parsed = core::parse_json(line, core::JsonLimits{core::kMaxJsonDepth, false});
  if (!parsed || !parsed->is_object() || !parsed->contains("type")) {
    co_return tl::unexpected(ApiError{0, "", "watch: malformed event"});
  }
  WatchEvent event;
  event.type = (*parsed)["type"].is_string() ? (*parsed)["type"].get<std::string>() : "";
  if (auto object = parsed->find("object"); object != parsed->end()) event.object = *object;
  if (event.type == "ERROR") {
    // Kubernetes: an ERROR event carries a metav1.Status (410 Expired for a compacted version).
    int code = event.object.is_object() ? event.object.value("code", 500) : 500;
    co_return tl::unexpected(decode_api_error(code, core::to_compact_json(event.object)));
  }
  co_return std::optional<WatchEvent>(std::move(event));
}

// ---- RestClient ----

RestClient::RestClient(net::EventLoop& loop, core::Clock& clock, RestConfig config,
                       RestClientOptions options, ExecRunner exec_runner)
    : loop_(loop),
      clock_(clock),
      config_(std::move(config)),
      options_(std::move(options)),
      credentials_(config_, clock, std::move(exec_runner)),
      bucket_(clock, options_.qps, options_.burst) {}

RestClient::~RestClient() = default;

net::HttpClient& RestClient::http_for(const RequestAuth& auth) {
  // An exec plugin's client certificate is part of the TLS configuration: a new certificate
  // needs new connections.
  if (http_ && auth.client_certificate_pem == http_cert_pem_) return *http_;
  net::ClientOptions options;
  options.connect_timeout = options_.connect_timeout;
  options.response_head_timeout = core::Duration::zero();
  options.idle_timeout = core::Duration::zero();
  options.user_agent = options_.user_agent;
  options.tls.ca_pem = config_.ca_pem;
  options.tls.ca_file = config_.ca_file;
  options.tls.insecure_skip_verify = config_.insecure_skip_tls_verify;
  options.tls.server_name = config_.tls_server_name;
  if (!auth.client_certificate_pem.empty()) {
    options.tls.cert_pem = auth.client_certificate_pem;
    options.tls.key_pem = auth.client_key_pem;
  } else {
    options.tls.cert_pem = config_.cert_pem;
    options.tls.cert_file = config_.cert_file;
    options.tls.key_pem = config_.key_pem;
    options.tls.key_file = config_.key_file;
  }
  http_ = std::make_unique<net::HttpClient>(loop_, options);
  http_cert_pem_ = auth.client_certificate_pem;
  return *http_;
}

net::Awaitable<void> RestClient::throttle() {
  core::Duration wait = bucket_.reserve();
  if (wait > core::Duration::zero()) {
    ++stats_.throttled;
    stats_.throttled_for += wait;
    co_await net::sleep_for(clock_, wait);
  }
}

net::Awaitable<ApiResult<Json>> RestClient::call(std::string verb, std::string method,
                                                 std::string target, std::string body,
                                                 std::string content_type) {
  for (int attempt = 0;; ++attempt) {
    co_await throttle();
    auto auth = credentials_.current();
    if (!auth) co_return tl::unexpected(ApiError{401, "Unauthorized", auth.error().message});
    net::Request request;
    request.method = method;
    request.url = config_.host + target;
    request.body = body;
    request.headers.set("Accept", "application/json");
    if (!body.empty()) request.headers.set("Content-Type", content_type);
    if (!auth->authorization.empty()) request.headers.set("Authorization", auth->authorization);
    request.total_timeout = options_.request_timeout;
    ++stats_.requests_by_verb[verb];
    auto started = std::chrono::steady_clock::now();
    auto response = co_await http_for(*auth).request(std::move(request));
    if (options_.observe) options_.observe(verb, response ? response->status : 0, elapsed(started));
    if (!response) {
      // Kubernetes: with_retry.go retries a GET whose connection was reset or hit EOF.
      std::string_view kind = net::client_error_kind(response.error());
      if (method == "GET" && kind == "connection reset" && attempt < options_.max_retries) {
        ++stats_.retries;
        co_await net::sleep_for(clock_, 1s);
        continue;
      }
      co_return tl::unexpected(ApiError{0, "", response.error().message});
    }
    if (response->status == 401) credentials_.unauthorized(*auth);
    if (auto seconds = retry_after_seconds(*response); seconds && attempt < options_.max_retries) {
      ++stats_.retries;
      core::log_debug("kubeclient: " + method + " " + target + " answered " +
                      std::to_string(response->status) + ", retrying after " +
                      std::to_string(*seconds) + "s");
      co_await net::sleep_for(clock_, std::chrono::seconds(*seconds));
      continue;
    }
    if (response->status < 200 || response->status >= 300) {
      co_return tl::unexpected(decode_api_error(response->status, response->body));
    }
    auto parsed = core::parse_json(response->body, core::JsonLimits{core::kMaxJsonDepth, false});
    if (!parsed) {
      co_return tl::unexpected(
          ApiError{response->status, "", "decoding the answer: " + parsed.error().message});
    }
    co_return std::move(*parsed);
  }
}

net::Awaitable<ApiResult<Json>> RestClient::get(ResourceRef ref, std::string namespace_name,
                                                std::string name, std::string subresource) {
  co_return co_await call("get", "GET", ref.path(namespace_name, name, subresource), std::string(),
                          std::string());
}

net::Awaitable<ApiResult<Json>> RestClient::list(ResourceRef ref, std::string namespace_name,
                                                 ListOptions options) {
  net::QueryParams query;
  if (!options.label_selector.empty()) query.add("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) query.add("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) query.add("resourceVersion", options.resource_version);
  co_return co_await call("list", "GET", add_query(ref.path(namespace_name), query), std::string(),
                          std::string());
}

net::Awaitable<ApiResult<Json>> RestClient::create(ResourceRef ref, std::string namespace_name,
                                                   Json object) {
  co_return co_await call("create", "POST", ref.path(namespace_name), core::to_compact_json(object),
                          "application/json");
}

net::Awaitable<ApiResult<Json>> RestClient::update(ResourceRef ref, std::string namespace_name,
                                                   Json object, std::string subresource) {
  std::string name;
  if (object.contains("metadata") && object["metadata"].contains("name")) {
    name = object["metadata"]["name"].get<std::string>();
  }
  co_return co_await call("update", "PUT", ref.path(namespace_name, name, subresource),
                          core::to_compact_json(object), "application/json");
}

net::Awaitable<ApiResult<Json>> RestClient::patch(ResourceRef ref, std::string namespace_name,
                                                  std::string name, PatchType type,
                                                  std::string body, std::string subresource) {
  co_return co_await call("patch", "PATCH", ref.path(namespace_name, name, subresource),
                          std::move(body), content_type_of(type));
}

net::Awaitable<ApiResult<Json>> RestClient::remove(ResourceRef ref, std::string namespace_name,
                                                   std::string name) {
  co_return co_await call("delete", "DELETE", ref.path(namespace_name, name), std::string(),
                          std::string());
}

net::Awaitable<ApiResult<WatchStream>> RestClient::watch(ResourceRef ref,
                                                         std::string namespace_name,
                                                         WatchOptions options) {
  net::QueryParams query;
  if (options.allow_bookmarks) query.add("allowWatchBookmarks", "true");
  if (!options.field_selector.empty()) query.add("fieldSelector", options.field_selector);
  if (!options.label_selector.empty()) query.add("labelSelector", options.label_selector);
  if (!options.resource_version.empty()) query.add("resourceVersion", options.resource_version);
  if (options.timeout_seconds)
    query.add("timeoutSeconds", std::to_string(*options.timeout_seconds));
  query.add("watch", "true");
  std::string target = add_query(ref.path(namespace_name), query);
  co_await throttle();
  auto auth = credentials_.current();
  if (!auth) co_return tl::unexpected(ApiError{401, "Unauthorized", auth.error().message});
  net::Request request;
  request.url = config_.host + target;
  request.headers.set("Accept", "application/json");
  if (!auth->authorization.empty()) request.headers.set("Authorization", auth->authorization);
  // The watch lasts until its timeoutSeconds; bookmarks and events keep it busy, but a quiet
  // watch without bookmarks may legitimately say nothing for that long.
  request.total_timeout = core::Duration::zero();
  request.idle_timeout = options.timeout_seconds
                             ? std::chrono::seconds(*options.timeout_seconds) + 30s
                             : core::Duration::zero();
  ++stats_.requests_by_verb["watch"];
  auto started = std::chrono::steady_clock::now();
  auto stream = co_await http_for(*auth).open(std::move(request));
  if (options_.observe) options_.observe("watch", stream ? stream->status() : 0, elapsed(started));
  if (!stream) co_return tl::unexpected(ApiError{0, "", stream.error().message});
  if (stream->status() == 401) credentials_.unauthorized(*auth);
  if (stream->status() != 200) {
    int status = stream->status();
    auto body = co_await stream->read_all(1 << 20);
    co_return tl::unexpected(decode_api_error(status, body ? *body : std::string()));
  }
  auto state = std::make_shared<WatchStream::State>();
  state->stream = std::move(*stream);
  co_return WatchStream(std::move(state));
}

}  // namespace llmscale::kubeclient
