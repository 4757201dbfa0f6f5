// ApiServer: the Kubernetes REST API over a Store, as kube-apiserver serves it, for the real
// kubectl, client libraries and llmscale's own controller.
//
//   GET  /version, /api, /apis, /apis/{group}, /api/v1, /apis/{group}/{version}   discovery
//   GET  .../{resource}[?watch=true]            list (labelSelector, fieldSelector,
//                                               resourceVersion) or watch (resourceVersion,
//                                               allowWatchBookmarks, timeoutSeconds,
//                                               sendInitialEvents)
//   POST .../{resource}                         create (dryRun=All, fieldValidation)
//   GET|PUT|PATCH|DELETE .../{resource}/{name}  get, update (optimistic concurrency), patch
//                                               (merge, JSON, strategic, apply), delete
//   GET|PUT|PATCH .../{name}/status, .../{name}/scale (autoscaling/v1 Scale)
// with namespaced paths under /namespaces/{ns}/. `Accept: application/json;as=Table;...`
// answers server-side Tables (what `kubectl get` prints). Errors are metav1.Status bodies.
//
// Deliberate differences from kube-apiserver are listed in docs/up.md (no protobuf, no
// pagination continue tokens beyond one page, server-side apply merges without field
// ownership).
//
// Threads: everything runs on the thread of the Store and the clock (one event loop).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/resource.h"
#include "apiserver/store.h"
#include "core/clock.h"
#include "net/server.h"

namespace llmscale::net {
class Router;
}

namespace llmscale::apiserver {

// The Kubernetes release the embedded API server follows (defaults, validation, gates).
inline constexpr std::string_view kKubernetesVersion = "v1.37.0";

struct ApiServerOptions {
  // How often a watch with allowWatchBookmarks=true gets a BOOKMARK (kube-apiserver: about a
  // minute).
  core::Duration bookmark_interval = std::chrono::seconds(60);
  // A watch without timeoutSeconds ends after this (kube-apiserver: --min-request-timeout
  // 1800 s, times a random factor in [1, 2)).
  core::Duration default_watch_timeout = std::chrono::seconds(1800);
  // A watcher that falls this many events behind is closed (it relists), as the watch cache
  // drops unresponsive watchers instead of buffering for them without bound.
  std::size_t max_pending_events = 10'000;
};

class ApiServer {
 public:
  ApiServer(Store& store, core::Clock& clock, std::vector<ResourceType> resources,
            ApiServerOptions options = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Adds /version, /api, /apis and everything under them to `router`.
  void add_routes(net::Router& router);

  // Groups served by someone else on the same address (the metrics APIs), listed in /apis.
  void add_external_group(std::string group, std::string version);

  const ResourceType* find(std::string_view group, std::string_view resource) const;

  // Creates an object as a POST would (admission included); for the embedding process.
  ApiResult<ObjectPtr> create(const ResourceType& type, core::Json object);

  // Answers one request (what the routes call).
  net::Awaitable<void> serve(net::ServerRequest& request, net::ResponseWriter& writer);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmscale::apiserver
