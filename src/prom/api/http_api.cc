// Prometheus' /api/v1 handlers (web/api/v1/api.go, v2.42) over a QueryEngine.
#include "prom/api/http_api.h"

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "core/clock.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/strings.h"
#include "net/gzip.h"
#include "net/url.h"
#include "prom/api/json.h"
#include "prom/exposition/float_text.h"
#include "prom/promql/parser.h"
#include "prom/scrape/scraper.h"

namespace llmscale::prom {

// ---- parameters ---------------------------------------------------------------------------------

namespace {

// Prometheus' minTimeFormatted / maxTimeFormatted: what clients send for "unbounded".
constexpr std::string_view kMinTimeFormatted = "-292273086-05-16T16:47:06Z";
constexpr std::string_view kMaxTimeFormatted = "292277025-08-18T07:12:54.999999999Z";

core::Time min_time() {
  return core::Time::min();
}
core::Time max_time() {
  return core::Time::max();
}

}  // namespace

core::Result<core::Time> parse_api_time(std::string_view text) {
  if (auto number = parse_prom_float(text)) {
    double t = *number;
    // Go: int64(NaN) and out-of-range conversions land on math.MinInt64.
    if (!std::isfinite(t) || std::fabs(t) >= 9.2e9)
      return t > 0 && std::isfinite(t) ? max_time() : min_time();
    double seconds = std::trunc(t);
    double fraction = std::round((t - seconds) * 1000.0) / 1000.0;
    auto ns = static_cast<std::int64_t>(seconds) * 1'000'000'000 +
              static_cast<std::int64_t>(fraction * 1e9);
    return core::Time(core::Duration(ns));
  }
  if (auto t = core::parse_rfc3339(text)) return *t;
  if (text == kMinTimeFormatted) return min_time();
  if (text == kMaxTimeFormatted) return max_time();
  return core::invalid_argument("cannot parse " + core::go_quote(text) + " to a valid timestamp");
}

core::Result<core::Duration> parse_api_duration(std::string_view text) {
  if (auto number = parse_prom_float(text)) {
    double ns = *number * 1e9;
    if (!(ns <= 9223372036854775807.0 && ns >= -9223372036854775808.0)) {
      return core::invalid_argument("cannot parse " + core::go_quote(text) +
                                    " to a valid duration. It overflows int64");
    }
    return core::Duration(static_cast<core::Duration::rep>(ns));
  }
  if (auto d = core::parse_prometheus_duration(text)) return *d;
  return core::invalid_argument("cannot parse " + core::go_quote(text) + " to a valid duration");
}

// ---- the API ------------------------------------------------------------------------------------

struct PrometheusApi::State {
  State(QueryEngine& engine, core::Clock& clock, ApiOptions options)
      : engine(engine), clock(clock), options(std::move(options)) {}

  QueryEngine& engine;
  core::Clock& clock;
  const ApiOptions options;
  const Scraper* scraper = nullptr;
  MetricRegistry* registry = nullptr;
  std::function<void()> before_write;
  CounterFamily* requests = nullptr;
  HistogramFamily* durations = nullptr;
  std::atomic<bool> ready{true};
};

namespace {

struct Answer {
  Answer() = default;
  Answer(int status, std::string body, std::string content_type = "application/json")
      : status(status), body(std::move(body)), content_type(std::move(content_type)) {}
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  // for 405
};

Answer success(std::string_view data, const std::vector<std::string>& warnings = {}) {
  return Answer(200, encode_success(data, warnings));
}

Answer failure(const core::Error& error) {
  return Answer(api_http_status(error), encode_error(api_error_type(error), error.message));
}

Answer bad_data(std::string message) {
  return failure(core::Error{core::ErrorCode::kInvalidArgument, std::move(message)});
}

// Prometheus' invalidParamError.
Answer invalid_param(std::string_view parameter, std::string_view message) {
  return bad_data("invalid parameter " + core::go_quote(parameter) + ": " + std::string(message));
}

Answer text(int status, std::string body) {
  return Answer(status, std::move(body), "text/plain; charset=utf-8");
}

// parseTimeParam: the default when absent or empty.
core::Result<core::Time> time_param(const net::QueryParams& form, std::string_view name,
                                    core::Time fallback) {
  auto value = form.get(name);
  if (!value || value->empty()) return fallback;
  auto t = parse_api_time(*value);
  if (!t) {
    return core::invalid_argument("invalid parameter " + core::go_quote(name) +
                                  ": Invalid time value for '" + std::string(name) +
                                  "': " + t.error().message);
  }
  return *t;
}

std::string form_value(const net::QueryParams& form, std::string_view name) {
  auto v = form.get(name);
  return v ? std::string(*v) : std::string();
}

// The `limit` parameter of newer Prometheus versions: a non-negative integer, 0 = none. 2.42
// ignores the parameter, so a malformed value is ignored too.
std::size_t limit_param(const net::QueryParams& form) {
  std::string value = form_value(form, "limit");
  if (value.empty()) return 0;
  std::size_t limit = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return 0;
    if (limit > std::numeric_limits<std::size_t>::max() / 10 - 10) return 0;
    limit = limit * 10 + static_cast<std::size_t>(c - '0');
  }
  return limit;
}

// parseMatchersParam: every selector parses, and each has a matcher that rejects "".
std::optional<std::string> check_matchers(const std::vector<std::string>& match) {
  for (const auto& m : match) {
    auto matchers = parse_series_selector(m);
    if (!matchers) {
      const std::string& message = matchers.error().message;
      if (message.find("at least one non-empty matcher") != std::string::npos) {
        return "match[] must contain at least one non-empty matcher";
      }
      return message;
    }
    bool has_non_empty = false;
    for (const auto& matcher : *matchers) has_non_empty = has_non_empty || !matcher.matches_empty();
    if (!has_non_empty) return "match[] must contain at least one non-empty matcher";
  }
  return std::nullopt;
}

std::vector<std::string> match_params(const net::QueryParams& form) {
  std::vector<std::string> out;
  for (auto v : form.get_all("match[]")) out.emplace_back(v);
  return out;
}

QueryOptions query_options(const core::Clock& clock, const ApiOptions& options,
                           std::optional<core::Duration> timeout) {
  QueryOptions q;
  q.clock = &clock;
  q.lookback_delta = options.lookback_delta;
  q.max_samples = options.max_samples;
  q.max_work = options.max_work;
  core::Duration effective = options.query_timeout;
  if (timeout && *timeout < effective) effective = *timeout;
  q.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(effective);
  if (q.timeout.count() == 0 && effective > core::Duration::zero()) {
    q.timeout = std::chrono::milliseconds(1);
  }
  return q;
}

// The `timeout` parameter; nullopt when absent.
core::Result<std::optional<core::Duration>> timeout_param(const net::QueryParams& form) {
  std::string value = form_value(form, "timeout");
  if (value.empty()) return std::optional<core::Duration>();
  auto d = parse_api_duration(value);
  if (!d) {
    return core::invalid_argument("invalid parameter \"timeout\": " + d.error().message);
  }
  return std::optional<core::Duration>(*d);
}

Answer timed_out() {
  return failure(
      core::Error{core::ErrorCode::kDeadlineExceeded, "query timed out in query execution"});
}

template <class T>
void truncate(std::vector<T>& values, std::size_t limit, std::vector<std::string>& warnings) {
  if (limit > 0 && values.size() > limit) {
    values.resize(limit);
    warnings.push_back("results truncated due to limit");
  }
}

// Go's JSON for time.Time (RFC 3339 with nanoseconds; the zero time when never scraped).
std::string json_time(const std::optional<core::Time>& t) {
  std::string out;
  append_json_string(out, t ? core::format_rfc3339_nano(*t) : "0001-01-01T00:00:00Z");
  return out;
}

// Prometheus' getGlobalURL: a loopback host is replaced by this machine's name.
std::string global_url(const std::string& url) {
  auto parsed = net::parse_url(url);
  if (!parsed) return url;
  const std::string& host = parsed->host;
  bool loopback = host == "localhost" || host == "::1" || host.starts_with("127.");
  if (!loopback) return url;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return url;
  net::Url global = *parsed;
  global.host = name;
  return global.to_string();
}

}  // namespace

PrometheusApi::PrometheusApi(QueryEngine& engine, core::Clock& clock, ApiOptions options)
    : state_(std::make_shared<State>(engine, clock, std::move(options))) {}

PrometheusApi::~PrometheusApi() = default;

void PrometheusApi::set_scraper(const Scraper* scraper) {
  state_->scraper = scraper;
}

void PrometheusApi::set_metrics(MetricRegistry* registry, std::function<void()> before_write) {
  state_->registry = registry;
  state_->before_write = std::move(before_write);
  if (registry == nullptr) return;
  if (auto c = registry->add_counter("prometheus_http_requests_total", "Counter of HTTP requests.",
                                     {"code", "handler"})) {
    state_->requests = *c;
  }
  if (auto h = registry->add_histogram(
          "prometheus_http_request_duration_seconds", "Histogram of latencies for HTTP requests.",
          {"handler"}, {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})) {
    state_->durations = *h;
  }
}

void PrometheusApi::set_ready(bool ready) {
  state_->ready = ready;
}

namespace {

Answer instant_query(QueryEngine& engine, core::Clock& clock, const ApiOptions& options,
                     const net::QueryParams& form);

}  // namespace

net::Response PrometheusApi::handle(const net::ServerRequest& request) const {
  const State& s = *state_;
  core::MonotonicTime started = s.clock.monotonic_now();
  const std::string& path = request.path;
  net::QueryParams form = request.method == "POST" ? request.form() : request.query;
  std::string handler = path;
  auto allow = [&](std::initializer_list<std::string_view> methods) {
    for (auto m : methods) {
      if (request.method == m) return true;
    }
    return request.method == "HEAD" &&
           std::find(methods.begin(), methods.end(), "GET") != methods.end();
  };
  auto not_allowed = [](std::string allow_value) {
    Answer a = text(405, "Method Not Allowed\n");
    a.allow = std::move(allow_value);
    return a;
  };

  Answer answer;
  if (path == "/api/v1/query") {
    answer = allow({"GET", "POST"}) ? instant_query(s.engine, s.clock, s.options, form)
                                    : not_allowed("GET, POST, OPTIONS");
  } else if (path == "/api/v1/query_range") {
    if (!allow({"GET", "POST"})) {
      answer = not_allowed("GET, POST, OPTIONS");
    } else {
      answer = [&]() -> Answer {
        auto start = parse_api_time(form_value(form, "start"));
        if (!start) return invalid_param("start", start.error().message);
        auto end = parse_api_time(form_value(form, "end"));
        if (!end) return invalid_param("end", end.error().message);
        if (*end < *start) {
          return invalid_param("end", "end timestamp must not be before start time");
        }
        auto step = parse_api_duration(form_value(form, "step"));
        if (!step) return invalid_param("step", step.error().message);
        if (*step <= core::Duration::zero()) {
          return invalid_param("step",
                               "zero or negative query resolution step widths are not accepted. "
                               "Try a positive integer");
        }
        if ((*end - *start) / *step > 11000) {
          return bad_data(
              "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
              "query resolution (?step=XX)");
        }
        auto timeout = timeout_param(form);
        if (!timeout) return bad_data(timeout.error().message);
        std::string query = form_value(form, "query");
        if (auto parsed = parse_promql(query); !parsed) return bad_data(parsed.error().message);
        if (*timeout && **timeout <= core::Duration::zero()) return timed_out();
        auto result = s.engine.range_query(query, *start, *end, *step,
                                           query_options(s.clock, s.options, *timeout));
        if (!result) return failure(result.error());
        return success(encode_query_data(*result), result->warnings);
      }();
    }
  } else if (path == "/api/v1/series") {
    if (!allow({"GET", "POST"})) {
      answer = not_allowed("GET, POST, OPTIONS");
    } else {
      answer = [&]() -> Answer {
        auto match = match_params(form);
        if (match.empty()) return bad_data("no match[] parameter provided");
        auto start = time_param(form, "start", min_time());
        if (!start) return bad_data(start.error().message);
        auto end = time_param(form, "end", max_time());
        if (!end) return bad_data(end.error().message);
        if (auto problem = check_matchers(match)) return invalid_param("match[]", *problem);
        auto series = s.engine.series(match, *start, *end);
        if (!series) return failure(series.error());
        std::vector<std::string> warnings;
        truncate(*series, limit_param(form), warnings);
        return success(encode_label_sets(*series), warnings);
      }();
    }
  } else if (path == "/api/v1/labels" ||
             (path.starts_with("/api/v1/label/") && path.ends_with("/values"))) {
    bool values = path != "/api/v1/labels";
    handler = values ? "/api/v1/label/:name/values" : path;
    if (!(values ? allow({"GET"}) : allow({"GET", "POST"}))) {
      answer = not_allowed(values ? "GET, OPTIONS" : "GET, POST, OPTIONS");
    } else {
      answer = [&]() -> Answer {
        std::string name;
        if (values) {
          name = path.substr(14, path.size() - 14 - 7);
          if (!is_valid_label_name(name)) {
            return bad_data("invalid label name: " + core::go_quote(name));
          }
        }
        auto start = time_param(form, "start", min_time());
        if (!start) return bad_data(start.error().message);
        auto end = time_param(form, "end", max_time());
        if (!end) return bad_data(end.error().message);
        auto match = match_params(form);
        if (auto problem = check_matchers(match)) return bad_data(*problem);
        auto result = values ? s.engine.label_values(name, match, *start, *end)
                             : s.engine.label_names(match, *start, *end);
        if (!result) return failure(result.error());
        std::vector<std::string> warnings;
        truncate(*result, limit_param(form), warnings);
        return success(encode_strings(*result), warnings);
      }();
    }
  } else if (path == "/api/v1/targets") {
    if (!allow({"GET"})) {
      answer = not_allowed("GET, OPTIONS");
    } else {
      std::string state = core::to_lower(std::string(core::trim(form_value(form, "state"))));
      bool show_active = state.empty() || state == "any" || state == "active";
      bool show_dropped = state.empty() || state == "any" || state == "dropped";
      std::string data = "{\"activeTargets\":[";
      if (show_active && s.scraper != nullptr) {
        bool first = true;
        for (const auto& t : s.scraper->active_targets()) {
          if (!first) data.push_back(',');
          first = false;
          data += "{\"discoveredLabels\":";
          append_json_labels(data, t.discovered_labels);
          data += ",\"labels\":";
          append_json_labels(data, t.labels);
          data += ",\"scrapePool\":";
          append_json_string(data, t.scrape_pool);
          data += ",\"scrapeUrl\":";
          append_json_string(data, t.url);
          data += ",\"globalUrl\":";
          append_json_string(data, global_url(t.url));
          data += ",\"lastError\":";
          append_json_string(data, t.last_error);
          data += ",\"lastScrape\":" + json_time(t.last_scrape);
          data += ",\"lastScrapeDuration\":" +
                  core::go_format_float(core::to_seconds(t.last_scrape_duration));
          data += ",\"health\":";
          append_json_string(data, target_health_name(t.health));
          data += ",\"scrapeInterval\":";
          append_json_string(data, core::format_prometheus_duration(t.interval));
          data += ",\"scrapeTimeout\":";
          append_json_string(data, core::format_prometheus_duration(t.timeout));
          data.push_back('}');
        }
      }
      data += "],\"droppedTargets\":[";
      if (show_dropped && s.scraper != nullptr) {
        bool first = true;
        for (const auto& t : s.scraper->dropped_targets()) {
          if (!first) data.push_back(',');
          first = false;
          data += "{\"discoveredLabels\":";
          append_json_labels(data, t.discovered_labels);
          data.push_back('}');
        }
      }
      data += "]}";
      answer = success(data);
    }
  } else if (path == "/api/v1/status/buildinfo") {
    if (!allow({"GET"})) {
      answer = not_allowed("GET, OPTIONS");
    } else {
      std::string data = "{\"version\":";
      append_json_string(data, s.options.version);
      data += ",\"revision\":";
      append_json_string(data, s.options.revision);
      data += ",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}";
      answer = success(data);
    }
  } else if (path == "/-/ready" || path == "/-/healthy") {
    if (!allow({"GET"})) {
      answer = not_allowed("GET, HEAD, OPTIONS");
    } else if (path == "/-/healthy") {
      answer = text(200, "Prometheus Server is Healthy.\n");
    } else {
      answer =
          s.ready ? text(200, "Prometheus Server is Ready.\n") : text(503, "Service Unavailable");
    }
  } else if (path == "/metrics" && s.registry != nullptr) {
    if (!allow({"GET"})) {
      answer = not_allowed("GET, OPTIONS");
    } else {
      if (s.before_write) s.before_write();
      answer = Answer(200, s.registry->text(),
                      std::string(content_type(ExpositionFormat::kPrometheusText)));
    }
  } else {
    handler = "other";
    answer = text(404, "404 page not found\n");
  }

  net::Response response;
  response.status = answer.status;
  response.headers.set("Content-Type", answer.content_type);
  if (!answer.allow.empty()) response.headers.set("Allow", answer.allow);
  if (request.headers.has_token("Accept-Encoding", "gzip") && answer.body.size() > 0 &&
      answer.status != 405) {
    response.headers.set("Content-Encoding", "gzip");
    response.body = net::gzip_compress(answer.body, 1);
  } else {
    response.body = std::move(answer.body);
  }
  if (s.requests != nullptr) {
    s.requests->with({std::to_string(answer.status), handler}).inc();
  }
  if (s.durations != nullptr) {
    s.durations->with({handler}).observe(core::to_seconds(s.clock.monotonic_now() - started));
  }
  return response;
}

namespace {

Answer instant_query(QueryEngine& engine, core::Clock& clock, const ApiOptions& options,
                     const net::QueryParams& form) {
  auto ts = time_param(form, "time", clock.now());
  if (!ts) return bad_data(ts.error().message);
  auto timeout = timeout_param(form);
  if (!timeout) return bad_data(timeout.error().message);
  std::string query = form_value(form, "query");
  if (auto parsed = parse_promql(query); !parsed) {
    return invalid_param("query", parsed.error().message);
  }
  if (*timeout && **timeout <= core::Duration::zero()) return timed_out();
  auto result = engine.instant_query(query, *ts, query_options(clock, options, *timeout));
  if (!result) return failure(result.error());
  return success(encode_query_data(*result), result->warnings);
}

}  // namespace

void PrometheusApi::add_routes(net::Router& router, bool standalone) {
  auto route = [this](net::ServerRequest& request,
                      net::ResponseWriter& writer) -> net::Awaitable<void> {
    net::Response response = handle(request);
    co_await writer.send(std::move(response));
  };
  for (const char* path :
       {"/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels",
        "/api/v1/targets", "/api/v1/status/buildinfo", "/-/ready", "/-/healthy"}) {
    router.add("*", path, route);
  }
  router.add("*", "/api/v1/label/{name}/values", route);
  if (!standalone) return;
  router.add("*", "/metrics", route);
  router.add_prefix("*", "/api/", route);
}

}  // namespace llmscale::prom
