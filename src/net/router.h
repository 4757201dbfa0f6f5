// A small request router for HttpServer: method + path pattern -> Handler.
//
// Patterns: an exact path ("/metrics"); `{name}` segments that match one non-empty path
// segment and are passed decoded in ServerRequest::path_params
// ("/apis/custom.metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}/{metric}", so a
// kubectl "%2A" arrives as "*"); and prefixes (add_prefix("/debug/")). Lookup order: exact
// routes, then patterns in the order they were added, then the longest prefix. A path that
// matches but not for this method gets 405 with an Allow header; nothing matching gets 404.
// HEAD falls back to the GET route. Both fallbacks are plain text unless replaced with
// set_not_found() / set_method_not_allowed(), since every server has its own error shape
// (the router sets the Allow header on 405 responses it sends; a custom 405 handler is given
// the Allow value to send).
//
// Build the router, then call handler(); the returned Handler shares the routes (later changes
// are visible, so finish adding routes before serving). Dispatch is read-only and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "net/server.h"

namespace llmscale::net {

class Router {
 public:
  Router();

  // `method` "*" matches any method.
  Router& add(std::string method, std::string pattern, Handler handler);
  Router& get(std::string pattern, Handler handler) {
    return add("GET", std::move(pattern), std::move(handler));
  }
  Router& post(std::string pattern, Handler handler) {
    return add("POST", std::move(pattern), std::move(handler));
  }
  Router& put(std::string pattern, Handler handler) {
    return add("PUT", std::move(pattern), std::move(handler));
  }
  Router& del(std::string pattern, Handler handler) {
    return add("DELETE", std::move(pattern), std::move(handler));
  }
  // Every path starting with `prefix`.
  Router& add_prefix(std::string method, std::string prefix, Handler handler);

  using MethodNotAllowedHandler =
      std::function<Awaitable<void>(ServerRequest&, ResponseWriter&, std::string allow)>;

  Router& set_not_found(Handler handler);
  Router& set_method_not_allowed(MethodNotAllowedHandler handler);

  Handler handler() const;
  Awaitable<void> dispatch(ServerRequest& request, ResponseWriter& writer) const;

 private:
  struct Table;
  std::shared_ptr<Table> table_;
};

}  // namespace llmscale::net
