// Router: exact, `{param}` and prefix routes with 404/405 fallbacks.
#include "net/router.h"

#include <unordered_map>
#include <vector>

#include "core/strings.h"

namespace llmscale::net {

namespace {

struct Segment {
  std::string text;  // literal text, or the parameter name
  bool param = false;
};

struct PatternRoute {
  std::string method;
  std::vector<Segment> segments;
  Handler handler;
};

struct MethodHandler {
  std::string method;
  Handler handler;
};

bool method_matches(std::string_view route_method, std::string_view method) {
  return route_method == "*" || route_method == method ||
         (method == "HEAD" && route_method == "GET");
}

void add_allowed(std::string& allow, std::string_view method) {
  if (method == "*") return;
  for (std::string_view existing : core::split(allow, ',')) {
    if (core::trim(existing) == method) return;
  }
  if (!allow.empty()) allow += ", ";
  allow += method;
}

Awaitable<void> default_not_found(ServerRequest& request, ResponseWriter& writer) {
  co_await writer.send(Response::text(404, "404 page not found\n"));
}

Awaitable<void> default_not_allowed(ServerRequest& request, ResponseWriter& writer,
                                    std::string allow) {
  Response response = Response::text(405, "405 method not allowed\n");
  response.headers.add("Allow", allow);
  co_await writer.send(std::move(response));
}

}  // namespace

struct Router::Table {
  std::unordered_map<std::string, std::vector<MethodHandler>> exact;
  std::vector<PatternRoute> patterns;
  std::vector<std::pair<std::string, MethodHandler>> prefixes;
  Handler not_found = default_not_found;
  MethodNotAllowedHandler not_allowed = default_not_allowed;
};

Router::Router() : table_(std::make_shared<Table>()) {}

Router& Router::add(std::string method, std::string pattern, Handler handler) {
  if (pattern.find('{') == std::string::npos) {
    table_->exact[std::move(pattern)].push_back({std::move(method), std::move(handler)});
    return *this;
  }
  PatternRoute route{std::move(method), {}, std::move(handler)};
  std::string_view body = pattern;
  if (!body.empty() && body.front() == '/') body.remove_prefix(1);
  for (std::string_view part : core::split(body, '/')) {
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      route.segments.push_back({std::string(part.substr(1, part.size() - 2)), true});
    } else {
      route.segments.push_back({std::string(part), false});
    }
  }
  table_->patterns.push_back(std::move(route));
  return *this;
}

Router& Router::add_prefix(std::string method, std::string prefix, Handler handler) {
  table_->prefixes.emplace_back(std::move(prefix),
                                MethodHandler{std::move(method), std::move(handler)});
  return *this;
}

Router& Router::set_not_found(Handler handler) {
  table_->not_found = std::move(handler);
  return *this;
}

Router& Router::set_method_not_allowed(MethodNotAllowedHandler handler) {
  table_->not_allowed = std::move(handler);
  return *this;
}

Handler Router::handler() const {
  Router copy = *this;  // shares the table
  return [copy](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    return copy.dispatch(request, writer);
  };
}

Awaitable<void> Router::dispatch(ServerRequest& request, ResponseWriter& writer) const {
  std::shared_ptr<Table> table = table_;  // keeps routes alive while the handler runs
  std::string allow;

  if (auto it = table->exact.find(request.path); it != table->exact.end()) {
    for (const auto& route : it->second) {
      if (method_matches(route.method, request.method)) {
        co_await route.handler(request, writer);
        co_return;
      }
      add_allowed(allow, route.method);
    }
  }

  if (!table->patterns.empty()) {
    std::string_view raw = request.raw_path;
    if (!raw.empty() && raw.front() == '/') raw.remove_prefix(1);
    std::vector<std::string_view> raw_segments = core::split(raw, '/');
    std::vector<std::optional<std::string>> decoded(raw_segments.size());
    auto segment = [&](std::size_t i) -> const std::optional<std::string>& {
      if (!decoded[i]) {
        auto d = percent_decode(raw_segments[i]);
        // An undecodable segment matches nothing (kept as a sentinel so we decode once).
        decoded[i] = d ? std::move(*d) : std::string("\x01\x02invalid");
      }
      return decoded[i];
    };
    for (const auto& route : table->patterns) {
      if (route.segments.size() != raw_segments.size()) continue;
      bool match = true;
      for (std::size_t i = 0; i < route.segments.size() && match; ++i) {
        const std::string& value = *segment(i);
        if (route.segments[i].param) {
          match = !raw_segments[i].empty() && value != "\x01\x02invalid";
        } else {
          match = value == route.segments[i].text;
        }
      }
      if (!match) continue;
      if (!method_matches(route.method, request.method)) {
        add_allowed(allow, route.method);
        continue;
      }
      request.path_params.clear();
      for (std::size_t i = 0; i < route.segments.size(); ++i) {
        if (route.segments[i].param) {
          request.path_params.emplace_back(route.segments[i].text, *segment(i));
        }
      }
      co_await route.handler(request, writer);
      co_return;
    }
  }

  const MethodHandler* best = nullptr;
  std::size_t best_length = 0;
  for (const auto& [prefix, route] : table->prefixes) {
    if (request.path.compare(0, prefix.size(), prefix) != 0) continue;
    if (!method_matches(route.method, request.method)) {
      add_allowed(allow, route.method);
      continue;
    }
    if (!best || prefix.size() > best_length) {
      best = &route;
      best_length = prefix.size();
    }
  }
  if (best) {
    co_await best->handler(request, writer);
    co_return;
  }

  if (!allow.empty()) {
    if (allow.find("GET") != std::string::npos && allow.find("HEAD") == std::string::npos) {
      allow += ", HEAD";
    }
    co_await table->not_allowed(request, writer, std::move(allow));
  } else {
    co_await table->not_found(request, writer);
  }
}

}  // namespace llmscale::net
