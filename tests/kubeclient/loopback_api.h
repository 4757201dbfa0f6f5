// The embedded API server on a loopback port, behind a small fault injector (429 with
// Retry-After, 410 ERROR events, watches broken off mid-stream, 401 for a stale token), for the
// kubeclient and cluster tests. Everything runs on one EventLoop driven by the test thread.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apiserver/api_server.h"
#include "kubeclient/kubeconfig.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"

namespace llmscale::kubeclient::testing {

struct Fault {
  enum class Kind {
    kStatus,     // answer `status` (with Retry-After when set) instead of the API server
    kWatchGone,  // a watch answered with an ERROR event (410 Expired)
    kWatchDrop,  // a watch that sends one BOOKMARK, then breaks off
  };
  Kind kind = Kind::kStatus;
  std::string method = "GET";
  bool watch = false;
  int status = 500;
  std::string retry_after;
  std::string path_contains;  // only requests whose target contains this
};

inline Fault status_fault(int status, std::string retry_after = "") {
  Fault fault;
  fault.status = status;
  fault.retry_after = std::move(retry_after);
  return fault;
}

inline Fault watch_fault(Fault::Kind kind) {
  Fault fault;
  fault.kind = kind;
  fault.watch = true;
  return fault;
}

class LoopbackApi {
 public:
  explicit LoopbackApi(net::EventLoop& loop, apiserver::ApiServerOptions options = {},
                       std::size_t history = 10'000)
      : loop_(loop) {
    store_ = std::make_unique<apiserver::Store>(loop.clock(), history);
    std::vector<apiserver::ResourceType> resources = apiserver::builtin_resources();
    for (auto& type : apiserver::llmscale_resources()) resources.push_back(std::move(type));
    api_ = std::make_unique<apiserver::ApiServer>(*store_, loop.clock(), std::move(resources),
                                                  options);
    EXPECT_TRUE(api_->create(*api_->find("", "namespaces"),
                             core::Json{{"metadata", {{"name", "default"}}}}));
    server_ = std::make_unique<net::HttpServer>(loop, net::ServerOptions{});
    EXPECT_TRUE(server_->start([this](net::ServerRequest& request, net::ResponseWriter& writer)
                                   -> net::Awaitable<void> { return serve(request, writer); }));
    url_ = server_->url("");
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }

  RestConfig rest_config() const {
    RestConfig config;
    config.host = url_;
    return config;
  }

  apiserver::ApiServer& api() { return *api_; }
  const std::string& url() const { return url_; }
  std::deque<Fault> faults;
  // Requests seen: "GET /apis/...?..."; and their Authorization headers.
  std::vector<std::string> requests;
  std::vector<std::string> authorizations;
  // When set, requests without "Bearer <required_token>" get 401.
  std::string required_token;
  // While true every request gets 503 (an API server outage).
  bool unavailable = false;

 private:
  net::Awaitable<void> serve(net::ServerRequest& request, net::ResponseWriter& writer) {
    requests.push_back(request.method + " " + request.target);
    authorizations.emplace_back(request.header("Authorization"));
    if (!required_token.empty() && request.header("Authorization") != "Bearer " + required_token) {
      co_await writer.send(net::Response::json(
          401,
          R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"));
      co_return;
    }
    if (unavailable) {
      co_await writer.send(net::Response::json(
          503,
          R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"outage","code":503})"));
      co_return;
    }
    bool is_watch = request.query.get("watch") == std::string_view("true");
    for (auto it = faults.begin(); it != faults.end(); ++it) {
      if (it->method != request.method || it->watch != is_watch) continue;
      if (request.target.find(it->path_contains) == std::string::npos) continue;
      Fault fault = *it;
      faults.erase(it);
      co_await inject(fault, request, writer);
      co_return;
    }
    co_await api_->serve(request, writer);
  }

  static net::Headers json_headers() {
    net::Headers headers;
    headers.set("Content-Type", "application/json");
    return headers;
  }

  net::Awaitable<void> inject(const Fault& fault, net::ServerRequest& request,
                              net::ResponseWriter& writer) {
    switch (fault.kind) {
      case Fault::Kind::kStatus: {
        net::Response response = net::Response::json(
            fault.status,
            R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected","code":)" +
                std::to_string(fault.status) + "}");
        if (!fault.retry_after.empty()) response.headers.set("Retry-After", fault.retry_after);
        co_await writer.send(std::move(response));
        break;
      }
      case Fault::Kind::kWatchGone:
        if (co_await writer.begin_stream(200, json_headers())) {
          std::string line =
              R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}})json"
              "\n";
          co_await writer.write(line);
          co_await writer.end();
        }
        break;
      case Fault::Kind::kWatchDrop: {
        std::string rv(request.query.get("resourceVersion").value_or("0"));
        if (co_await writer.begin_stream(200, json_headers())) {
          std::string line =
              R"({"type":"BOOKMARK","object":{"kind":"Deployment","apiVersion":"apps/v1","metadata":{"resourceVersion":")" +
              rv + "\"}}}\n";
          co_await writer.write(line);
          writer.abort();
        }
        break;
      }
    }
  }

  net::EventLoop& loop_;
  std::unique_ptr<apiserver::Store> store_;
  std::unique_ptr<apiserver::ApiServer> api_;
  std::unique_ptr<net::HttpServer> server_;
  std::string url_;
};

}  // namespace llmscale::kubeclient::testing
