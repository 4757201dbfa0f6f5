// RestClient: typed requests to a Kubernetes API server (get, list, create, update, patch,
// delete, watch) with client-go's client-side behaviour:
//  * a token-bucket rate limit before every attempt (rest.Config defaults QPS 5, burst 10);
//  * 429 and 5xx answers carrying Retry-After are retried after that many seconds, up to 10
//    times (rest/with_retry.go); a GET whose connection was reset is retried after 1 s;
//  * a 401 makes Credentials forget the credential it used (exec plugins run again on the next
//    request), the answer itself is returned;
//  * errors are metav1.Status bodies decoded into ApiError (status code, reason, message).
// Watches stream newline-delimited watch events (the API server's JSON framing).
//
// Ownership and threads: create and use on one EventLoop; the RestClient must outlive every
// request and watch in flight (destroy it after the loop stopped). Stats may be read from the
// loop's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "kubeclient/credentials.h"
#include "kubeclient/kubeconfig.h"
#include "net/event_loop.h"

namespace llmscale::net {
class HttpClient;
class ClientStream;
}  // namespace llmscale::net

namespace llmscale::kubeclient {

// A failed API call: the API server's metav1.Status, or a transport failure (status 0).
struct ApiError {
  int status = 0;
  std::string reason;  // "NotFound", "Conflict", "AlreadyExists", "Expired", "TooManyRequests"
  std::string message;

  bool not_found() const { return status == 404; }
  bool conflict() const { return status == 409 && reason != "AlreadyExists"; }
  bool already_exists() const { return status == 409 && reason == "AlreadyExists"; }
  bool gone() const { return status == 410; }
  // As a core::Error (codes: 404 kNotFound, 409 kAlreadyExists/kFailedPrecondition, 401
  // kUnauthenticated, 403 kPermissionDenied, 429 kResourceExhausted, transport kUnavailable).
  core::Error error() const;
  std::string to_string() const;
};

template <class T>
using ApiResult = tl::expected<T, ApiError>;

// A resource's REST location.
struct ResourceRef {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;
  bool namespaced = true;

  // /api/v1/namespaces/ns/pods/name/status; an empty namespace lists across namespaces.
  std::string path(std::string_view namespace_name, std::string_view name = "",
                   std::string_view subresource = "") const;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

ResourceRef deployments_resource();
ResourceRef leases_resource();
ResourceRef events_resource();
ResourceRef pods_resource();
ResourceRef hpas_resource();

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  bool allow_bookmarks = true;
  std::optional<int> timeout_seconds;
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  core::Json object;
};

// An open watch. Used by one coroutine at a time.
class WatchStream {
 public:
  WatchStream();
  ~WatchStream();
  WatchStream(WatchStream&&) noexcept;
  WatchStream& operator=(WatchStream&&) noexcept;

  // The next event; nullopt when the server ended the watch (its timeout). An ERROR event is
  // returned as an ApiError decoded from its Status object.
  net::Awaitable<ApiResult<std::optional<WatchEvent>>> next();
  // Ends the watch from outside: a pending next() fails.
  void cancel();

  struct State;
  explicit WatchStream(std::shared_ptr<State> state);

 private:
  std::shared_ptr<State> state_;
};

enum class PatchType { kMerge, kJsonPatch, kStrategicMerge };

struct RestClientOptions {
  // Kubernetes: rest.DefaultQPS and rest.DefaultBurst. qps <= 0 disables the limit.
  double qps = 5;
  int burst = 10;
  // Kubernetes: rest/with_retry.go maxRetries.
  int max_retries = 10;
  // Every non-watch request (client-go: rest.Config.Timeout, 0 there by default; bounded here
  // so an unreachable API server never stalls a reconcile pass).
  core::Duration request_timeout = std::chrono::seconds(30);
  core::Duration connect_timeout = std::chrono::seconds(10);
  std::string user_agent = "llmscale";
  // Called after every attempt: verb (get, list, watch, create, update, patch, delete), HTTP
  // status (0: transport failure) and latency — for request metrics.
  std::function<void(std::string_view verb, int status, core::Duration latency)> observe;
};

// client-go flowcontrol's token bucket (golang.org/x/time/rate): starts full with `burst`
// tokens, refills at `qps`. reserve() takes a token and says how long to wait for it.
class TokenBucket {
 public:
  TokenBucket(core::Clock& clock, double qps, int burst);
  core::Duration reserve();

 private:
  core::Clock& clock_;
  double qps_;
  double burst_;
  double tokens_;
  core::Time last_;
};

struct RestClientStats {
  std::map<std::string, std::uint64_t> requests_by_verb;
  std::uint64_t retries = 0;
  std::uint64_t throttled = 0;  // attempts that waited on the rate limit
  core::Duration throttled_for{0};
};

class RestClient {
 public:
  RestClient(net::EventLoop& loop, core::Clock& clock, RestConfig config,
             RestClientOptions options = {}, ExecRunner exec_runner = process_exec_runner());
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // (Coroutines take their arguments by value and have no default arguments: g++ 12 destroys a
  // coroutine's default-argument temporaries twice. The short forms below forward.)
  net::Awaitable<ApiResult<core::Json>> get(ResourceRef ref, std::string namespace_name,
                                            std::string name, std::string subresource);
  net::Awaitable<ApiResult<core::Json>> get(const ResourceRef& ref, std::string namespace_name,
                                            std::string name) {
    return get(ref, std::move(namespace_name), std::move(name), std::string());
  }
  net::Awaitable<ApiResult<core::Json>> list(ResourceRef ref, std::string namespace_name,
                                             ListOptions options);
  net::Awaitable<ApiResult<core::Json>> list(const ResourceRef& ref, std::string namespace_name) {
    return list(ref, std::move(namespace_name), ListOptions());
  }
  net::Awaitable<ApiResult<core::Json>> create(ResourceRef ref, std::string namespace_name,
                                               core::Json object);
  // PUT of the whole object (its metadata.resourceVersion makes it conditional).
  net::Awaitable<ApiResult<core::Json>> update(ResourceRef ref, std::string namespace_name,
                                               core::Json object, std::string subresource);
  net::Awaitable<ApiResult<core::Json>> update(const ResourceRef& ref, std::string namespace_name,
                                               core::Json object) {
    return update(ref, std::move(namespace_name), std::move(object), std::string());
  }
  net::Awaitable<ApiResult<core::Json>> patch(ResourceRef ref, std::string namespace_name,
                                              std::string name, PatchType type, std::string body,
                                              std::string subresource);
  net::Awaitable<ApiResult<core::Json>> patch(const ResourceRef& ref, std::string namespace_name,
                                              std::string name, PatchType type, std::string body) {
    return patch(ref, std::move(namespace_name), std::move(name), type, std::move(body),
                 std::string());
  }
  net::Awaitable<ApiResult<core::Json>> remove(ResourceRef ref, std::string namespace_name,
                                               std::string name);
  net::Awaitable<ApiResult<WatchStream>> watch(ResourceRef ref, std::string namespace_name,
                                               WatchOptions options);

  // One request with the rate limit, credentials and retries; `target` is path and query.
  // Non-2xx answers come back as ApiError.
  net::Awaitable<ApiResult<core::Json>> call(std::string verb, std::string method,
                                             std::string target, std::string body,
                                             std::string content_type);

  const RestConfig& config() const { return config_; }
  core::Clock& clock() { return clock_; }
  const RestClientStats& stats() const { return stats_; }
  Credentials& credentials() { return credentials_; }

 private:
  net::HttpClient& http_for(const RequestAuth& auth);
  net::Awaitable<void> throttle();

  net::EventLoop& loop_;
  core::Clock& clock_;
  RestConfig config_;
  RestClientOptions options_;
  Credentials credentials_;
  TokenBucket bucket_;
  std::unique_ptr<net::HttpClient> http_;
  std::string http_cert_pem_;
  RestClientStats stats_;
};

// A metav1.Status body (or any answer) as an ApiError.
ApiError decode_api_error(int status, std::string_view body);

}  // namespace llmscale::kubeclient
