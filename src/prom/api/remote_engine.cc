// RemoteQueryEngine: Prometheus HTTP API client behind the QueryEngine interface.
#include "prom/api/remote_engine.h"

#include <future>

#include <boost/asio/io_context.hpp>

#include "core/strings.h"
#include "net/client.h"
#include "net/url.h"
#include "prom/api/json.h"
#include "prom/exposition/float_text.h"

namespace llmscale::prom {

struct RemoteQueryEngine::Impl {
  std::unique_ptr<net::EventLoop> own_loop;
  net::EventLoop* loop = nullptr;
  RemoteEngineOptions options;
  std::string base;  // base_url without a trailing '/'
  std::unique_ptr<net::HttpClient> client;

  ~Impl() {
    if (own_loop) {
      own_loop->stop();
      own_loop->join();
    }
    client.reset();
  }

  struct Answer {
    int status = 0;
    std::string body;
  };

  // One API call; transport problems become errors naming the server.
  net::Awaitable<core::Result<Answer>> call(std::string path, net::QueryParams params,
                                            core::Duration timeout) {
    net::Request request;
    // Prometheus routes /api/v1/label/<name>/values for GET only (405 for POST), so that one is
    // always a GET, whatever the configured verb.
    bool post = options.method == "POST" && path.find("/api/v1/label/") != 0;
    if (post) {
      request =
          net::Request::post(base + path, params.encode(), "application/x-www-form-urlencoded");
    } else {
      std::string url = base + path;
      if (!params.empty()) url += "?" + params.encode();
      request = net::Request::get(std::move(url));
    }
    for (const auto& [name, value] : options.headers) request.headers.add(name, value);
    request.headers.set("Accept", "application/json");
    request.headers.set("Accept-Encoding", "gzip");
    request.total_timeout = timeout;
    auto response = co_await client->request(std::move(request));
    if (!response) {
      co_return core::make_error(response.error().code,
                                 "prometheus " + base + ": " + response.error().message);
    }
    Answer answer{response->status, std::move(response->body)};
    bool json = !answer.body.empty() && answer.body.front() == '{';
    if (answer.status != 200 && !json) {
      std::string excerpt = answer.body.substr(0, 200);
      co_return core::make_error(core::ErrorCode::kUnavailable,
                                 "prometheus " + base + ": server returned HTTP status " +
                                     std::to_string(answer.status) + " " +
                                     std::string(net::reason_phrase(answer.status)) +
                                     (excerpt.empty() ? "" : ": " + excerpt));
    }
    co_return answer;
  }

  core::Duration request_timeout(const QueryOptions& q) const {
    core::Duration t = options.timeout;
    if (q.timeout.count() > 0 && core::Duration(q.timeout) < t) t = q.timeout;
    return t;
  }

  static std::string format_time(core::Time t) {
    std::string out;
    std::int64_t ms = core::to_unix_millis(t);
    if (ms < 0) {
      out.push_back('-');
      ms = -ms;
    }
    out += std::to_string(ms / 1000);
    if (ms % 1000 != 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(ms % 1000));
      out += buf;
    }
    return out;
  }
  static std::string format_seconds(core::Duration d) {
    return format_go_float_fixed(core::to_seconds(d));
  }

  void add_range(net::QueryParams& params, core::Time start, core::Time end) const {
    if (start != core::Time::min()) params.add("start", format_time(start));
    if (end != core::Time::max()) params.add("end", format_time(end));
  }

  net::Awaitable<core::Result<QueryResult>> instant(std::string expr, core::Time time,
                                                    QueryOptions q) {
    net::QueryParams params;
    params.add("query", std::move(expr));
    params.add("time", format_time(time));
    if (q.timeout.count() > 0) params.add("timeout", format_seconds(q.timeout));
    auto answer = co_await call("/api/v1/query", std::move(params), request_timeout(q));
    if (!answer) co_return tl::unexpected(answer.error());
    co_return decode_query_answer(answer->body);
  }

  net::Awaitable<core::Result<QueryResult>> range(std::string expr, core::Time start,
                                                  core::Time end, core::Duration step,
                                                  QueryOptions q) {
    net::QueryParams params;
    params.add("query", std::move(expr));
    params.add("start", format_time(start));
    params.add("end", format_time(end));
    params.add("step", format_seconds(step));
    if (q.timeout.count() > 0) params.add("timeout", format_seconds(q.timeout));
    auto answer = co_await call("/api/v1/query_range", std::move(params), request_timeout(q));
    if (!answer) co_return tl::unexpected(answer.error());
    co_return decode_query_answer(answer->body);
  }

  net::Awaitable<core::Result<std::vector<Labels>>> series(std::vector<std::string> match,
                                                           core::Time start, core::Time end) {
    net::QueryParams params;
    for (auto& m : match) params.add("match[]", std::move(m));
    add_range(params, start, end);
    auto answer = co_await call("/api/v1/series", std::move(params), options.timeout);
    if (!answer) co_return tl::unexpected(answer.error());
    co_return decode_series_answer(answer->body);
  }

  net::Awaitable<core::Result<std::vector<std::string>>> strings(std::string path,
                                                                 std::vector<std::string> match,
                                                                 core::Time start, core::Time end) {
    net::QueryParams params;
    for (auto& m : match) params.add("match[]", std::move(m));
    add_range(params, start, end);
    auto answer = co_await call(std::move(path), std::move(params), options.timeout);
    if (!answer) co_return tl::unexpected(answer.error());
    co_return decode_strings_answer(answer->body);
  }

  template <class T>
  static net::Awaitable<void> deliver(net::Awaitable<core::Result<T>> task,
                                      std::shared_ptr<std::promise<core::Result<T>>> promise) {
    promise->set_value(co_await std::move(task));
  }

  // Runs `task` on the loop and waits for it.
  template <class T>
  core::Result<T> block(net::Awaitable<core::Result<T>> task, core::Duration timeout) {
    if (loop->running_in_this_thread()) {
      return core::make_error(core::ErrorCode::kFailedPrecondition,
                              "RemoteQueryEngine: a blocking call on its own event loop thread "
                              "(use the *_async calls there)");
    }
    auto promise = std::make_shared<std::promise<core::Result<T>>>();
    auto future = promise->get_future();
    net::spawn(*loop, deliver<T>(std::move(task), promise), "remote query");
    // The request is bounded by `timeout`; the margin covers a loop that is not running.
    if (future.wait_for(timeout + std::chrono::seconds(5)) != std::future_status::ready) {
      return core::make_error(core::ErrorCode::kDeadlineExceeded,
                              "prometheus " + base + ": no answer (is the event loop running?)");
    }
    return future.get();
  }
};

namespace {

core::Result<std::shared_ptr<RemoteQueryEngine::Impl>> make_impl(net::EventLoop* loop,
                                                                 RemoteEngineOptions options) {
  auto impl = std::make_shared<RemoteQueryEngine::Impl>();
  std::string method = core::to_lower(options.method);
  if (method != "get" && method != "post") {
    return core::invalid_argument("prometheus verb must be GET or POST, not " +
                                  core::go_quote(options.method));
  }
  options.method = method == "post" ? "POST" : "GET";
  auto url = net::parse_url(options.base_url);
  if (!url) return core::invalid_argument("prometheus url: " + url.error().message);
  if (!url->query.empty()) {
    return core::invalid_argument("prometheus url " + core::go_quote(options.base_url) +
                                  ": a query string is not allowed");
  }
  std::string base = url->scheme + "://" + url->authority() + url->path;
  while (!base.empty() && base.back() == '/') base.pop_back();
  impl->base = base;
  if (loop == nullptr) {
    impl->own_loop = std::make_unique<net::EventLoop>(1);
    loop = impl->own_loop.get();
  }
  impl->loop = loop;
  net::ClientOptions client;
  client.tls = options.tls;
  client.connect_timeout = options.connect_timeout;
  client.response_head_timeout = options.timeout;
  client.max_body_bytes = options.max_body_bytes;
  client.user_agent = "llmscale/0.1.0";
  impl->options = std::move(options);
  impl->client = std::make_unique<net::HttpClient>(*loop, client);
  if (url->is_https()) {
    if (auto s = impl->client->check_tls_config(); !s) return tl::unexpected(s.error());
  }
  if (impl->own_loop) impl->own_loop->start();
  return impl;
}

}  // namespace

RemoteQueryEngine::RemoteQueryEngine(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteQueryEngine::~RemoteQueryEngine() = default;

core::Result<std::unique_ptr<RemoteQueryEngine>> RemoteQueryEngine::create(
    net::EventLoop& loop, RemoteEngineOptions options) {
  auto impl = make_impl(&loop, std::move(options));
  if (!impl) return tl::unexpected(impl.error());
  return std::unique_ptr<RemoteQueryEngine>(new RemoteQueryEngine(std::move(*impl)));
}

core::Result<std::unique_ptr<RemoteQueryEngine>> RemoteQueryEngine::create(
    RemoteEngineOptions options) {
  auto impl = make_impl(nullptr, std::move(options));
  if (!impl) return tl::unexpected(impl.error());
  return std::unique_ptr<RemoteQueryEngine>(new RemoteQueryEngine(std::move(*impl)));
}

const RemoteEngineOptions& RemoteQueryEngine::options() const {
  return impl_->options;
}

core::Result<QueryResult> RemoteQueryEngine::instant_query(std::string_view expr, core::Time time,
                                                           const QueryOptions& options) {
  return impl_->block(impl_->instant(std::string(expr), time, options),
                      impl_->request_timeout(options));
}

core::Result<QueryResult> RemoteQueryEngine::range_query(std::string_view expr, core::Time start,
                                                         core::Time end, core::Duration step,
                                                         const QueryOptions& options) {
  return impl_->block(impl_->range(std::string(expr), start, end, step, options),
                      impl_->request_timeout(options));
}

core::Result<std::vector<Labels>> RemoteQueryEngine::series(const std::vector<std::string>& match,
                                                            core::Time start, core::Time end) {
  return impl_->block(impl_->series(match, start, end), impl_->options.timeout);
}

core::Result<std::vector<std::string>> RemoteQueryEngine::label_names(
    const std::vector<std::string>& match, core::Time start, core::Time end) {
  return impl_->block(impl_->strings("/api/v1/labels", match, start, end), impl_->options.timeout);
}

core::Result<std::vector<std::string>> RemoteQueryEngine::label_values(
    std::string_view name, const std::vector<std::string>& match, core::Time start,
    core::Time end) {
  std::string path = "/api/v1/label/" + net::path_escape(name) + "/values";
  return impl_->block(impl_->strings(std::move(path), match, start, end), impl_->options.timeout);
}

net::Awaitable<core::Result<QueryResult>> RemoteQueryEngine::instant_query_async(
    std::string expr, core::Time time, QueryOptions options) {
  auto impl = impl_;
  co_return co_await impl->instant(std::move(expr), time, options);
}

net::Awaitable<core::Result<QueryResult>> RemoteQueryEngine::range_query_async(
    std::string expr, core::Time start, core::Time end, core::Duration step, QueryOptions options) {
  auto impl = impl_;
  co_return co_await impl->range(std::move(expr), start, end, step, options);
}

net::Awaitable<core::Result<std::vector<Labels>>> RemoteQueryEngine::series_async(
    std::vector<std::string> match, core::Time start, core::Time end) {
  auto impl = impl_;
  co_return co_await impl->series(std::move(match), start, end);
}

}  // namespace llmscale::prom
