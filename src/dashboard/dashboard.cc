// The dashboard's routes: embedded assets (ETag, gzip), the JSON snapshot and the SSE stream.
#include "dashboard/dashboard.h"

#include <charconv>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "core/time.h"
#include "net/gzip.h"
#include "net/notifier.h"
#include "net/sse.h"

namespace llmscale::dashboard {

struct Dashboard::Subscriber {
  net::Notifier notifier;
  bool gone = false;
};

namespace {

std::string content_type(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// A strong validator from the content (FNV-1a 64), so the same build always answers the same
// ETag and a rebuilt page is fetched again.
std::string make_etag(std::string_view text) {
  std::uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

std::string_view strip_weak(std::string_view tag) {
  return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  // RFC 9110 §12.5.3: codings are case-insensitive, "q=0" means "not acceptable", and "*"
  // matches any coding not otherwise listed.
  std::optional<bool> gzip;
  std::optional<bool> any;
  for (std::string_view item : core::split(accept_encoding, ',')) {
    auto parts = core::split(item, ';');
    std::string coding = core::to_lower(core::trim(parts[0]));
    if (coding.empty()) continue;
    double q = 1;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      std::string_view param = core::trim(parts[i]);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        std::string value(core::trim(param.substr(2)));
        char* end = nullptr;
        double parsed = std::strtod(value.c_str(), &end);
        q = end != value.c_str() ? parsed : 0;
      }
    }
    if (coding == "gzip" || coding == "x-gzip") gzip = q > 0;
    if (coding == "*") any = q > 0;
  }
  if (gzip) return *gzip;
  return any.value_or(false);
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  // RFC 9110 §13.1.2: If-None-Match uses the weak comparison; "*" matches any current entity.
  if (core::trim(if_none_match) == "*") return true;
  for (std::string_view tag : core::split(if_none_match, ',')) {
    if (strip_weak(core::trim(tag)) == strip_weak(etag)) return true;
  }
  return false;
}

namespace {

std::string_view asset_text(std::string_view path) {
  for (const Asset& a : embedded_assets())
    if (a.path == path) return a.text;
  return {};
}

// Text inside <script> ends at the first "</script" (HTML §13.2.6.4.6, any case); JSON and JS
// read "<\/" as "</" inside strings and regular expressions, where such text can occur.
std::string script_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && text[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

void replace_once(std::string& text, std::string_view from, const std::string& to) {
  std::size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
}

}  // namespace

std::string standalone_page(std::string_view snapshot_json) {
  std::string page(asset_text("index.html"));
  replace_once(page, "<link rel=\"stylesheet\" href=\"app.css\">",
               "<style>" + script_safe(asset_text("app.css")) + "</style>");
  replace_once(page, "<script src=\"app.js\"></script>",
               "<script>window.LLMSCALE_SNAPSHOT=" + script_safe(snapshot_json) +
                   ";</script>\n<script>" + script_safe(asset_text("app.js")) + "</script>");
  return page;
}

Dashboard::Dashboard(core::Clock& clock, DashboardSource& source, DashboardOptions options)
    : clock_(clock), source_(source), options_(options) {
  for (const Asset& asset : embedded_assets()) {
    prepared_.push_back({&asset, make_etag(asset.text), net::gzip_compress(asset.text, 9),
                         content_type(asset.path)});
  }
}

Dashboard::~Dashboard() {
  stop();
}

void Dashboard::add_routes(net::Router& router) {
  for (const Prepared& prepared : prepared_) {
    const Asset* asset = prepared.asset;
    auto handler = [this, asset](net::ServerRequest& request,
                                 net::ResponseWriter& writer) -> net::Awaitable<void> {
      co_await serve_asset(*asset, request, writer);
    };
    router.get("/" + std::string(asset->path), handler);
    if (asset->path == "index.html") router.get("/", handler);
  }
  router.get(
      "/api/dashboard/snapshot",
      [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        net::Response response = net::Response::json(200, snapshot_text());
        response.headers.set("Cache-Control", "no-store");
        response.headers.set("Vary", "Accept-Encoding");
        if (accepts_gzip(request.header("Accept-Encoding"))) {
          response.body = net::gzip_compress(response.body, 6);
          response.headers.set("Content-Encoding", "gzip");
        }
        co_await writer.send(std::move(response));
      });
  router.get(
      "/api/dashboard/report",
      [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        net::Response response;
        response.headers.set("Content-Type", "text/html; charset=utf-8");
        response.headers.set("Content-Disposition",
                             "attachment; filename=\"llmscale-report.html\"");
        response.headers.set("Cache-Control", "no-store");
        response.headers.set("Vary", "Accept-Encoding");
        response.body = report_html();
        if (accepts_gzip(request.header("Accept-Encoding"))) {
          response.body = net::gzip_compress(response.body, 6);
          response.headers.set("Content-Encoding", "gzip");
        }
        co_await writer.send(std::move(response));
      });
  router.get(
      "/api/dashboard/events",
      [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        co_await serve_events(request, writer);
      });
}

net::Awaitable<void> Dashboard::serve_asset(const Asset& asset, net::ServerRequest& request,
                                            net::ResponseWriter& writer) {
  const Prepared* prepared = nullptr;
  for (const Prepared& p : prepared_)
    if (p.asset == &asset) prepared = &p;
  net::Response response;
  response.headers.set("ETag", prepared->etag);
  // Revalidate every time (cheap: a 304 without body), so a new build is never stale.
  response.headers.set("Cache-Control", "no-cache");
  response.headers.set("Vary", "Accept-Encoding");
  if (auto tags = request.headers.get("If-None-Match");
      tags && etag_matches(*tags, prepared->etag)) {
    // RFC 9110 §15.4.5: a 304 carries the ETag and Cache-Control a 200 would have.
    response.status = 304;
    co_await writer.send(std::move(response));
    co_return;
  }
  response.headers.set("Content-Type", prepared->content_type);
  if (accepts_gzip(request.header("Accept-Encoding"))) {
    response.headers.set("Content-Encoding", "gzip");
    response.body = prepared->gzipped;
  } else {
    response.body = std::string(asset.text);
  }
  co_await writer.send(std::move(response));
}

net::Awaitable<void> Dashboard::serve_events(net::ServerRequest& request,
                                             net::ResponseWriter& writer) {
  auto sub = std::make_shared<Subscriber>();
  subscribers_.push_back(sub);
  auto self = std::prev(subscribers_.end());
  // A reconnecting EventSource sends the id of the last event it got (WHATWG HTML §9.2):
  // replay what came after it, if still kept; a new one starts with the next event.
  // `?since=ID` does the same for a first connection (the snapshot's lastEventId), so nothing
  // between the snapshot and the stream is missed.
  std::uint64_t cursor = next_id_ - 1;
  std::optional<std::string_view> last = request.headers.get("Last-Event-ID");
  if (!last) last = request.query.get("since");
  if (last) {
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(last->data(), last->data() + last->size(), id);
    if (ec == std::errc() && end == last->data() + last->size() && id <= cursor) cursor = id;
  }
  writer.on_disconnect([sub] {
    sub->gone = true;
    sub->notifier.notify();
  });
  bool ok = static_cast<bool>(co_await writer.begin_sse());
  // Reconnect after 1 s instead of the browser's default 3 s.
  if (ok) ok = static_cast<bool>(co_await writer.write("retry: 1000\n\n"));
  while (ok && !sub->gone && !stopped_) {
    std::string out;
    if (!events_.empty() && cursor + 1 < events_.front().id) {
      // Events this client had not read were dropped: it reloads the snapshot.
      out += net::format_sse_event({"reset", "{}", std::to_string(next_id_ - 1), std::nullopt});
      cursor = next_id_ - 1;
    }
    for (const Event& event : events_) {
      if (event.id <= cursor) continue;
      out += event.wire;
      cursor = event.id;
    }
    if (!out.empty() && !co_await writer.write(out)) break;
    co_await sub->notifier.wait();
  }
  subscribers_.erase(self);
}

void Dashboard::start() {
  if (running_) return;
  running_ = true;
  stopped_ = false;
  tick();
}

void Dashboard::stop() {
  if (timer_ != 0) clock_.cancel(timer_);
  timer_ = 0;
  running_ = false;
  stopped_ = true;
  for (auto& sub : subscribers_) {
    sub->gone = true;
    sub->notifier.notify();
  }
}

void Dashboard::tick() {
  if (!running_) return;
  sample_now();
  timer_ = clock_.call_after(options_.sample_interval, [this] {
    timer_ = 0;
    tick();
  });
}

void Dashboard::sample_now() {
  core::Json sample = {{"t", core::to_unix_millis(clock_.now())}};
  core::Json values = source_.sample();
  if (values.is_object()) {
    for (auto& [key, value] : values.items()) sample[key] = std::move(value);
  }
  push_state_if_changed();
  samples_.push_back(push("sample", sample));
  while (samples_.size() > options_.max_samples) samples_.pop_front();
}

void Dashboard::add_decision(core::Json decision) {
  core::Json entry = {{"t", core::to_unix_millis(clock_.now())}};
  if (decision.is_object()) {
    for (auto& [key, value] : decision.items()) entry[key] = std::move(value);
  }
  decisions_.push_back(push("decision", entry));
  while (decisions_.size() > options_.max_decisions) decisions_.pop_front();
  sample_now();
}

void Dashboard::push_state_if_changed() {
  core::Json state = source_.state();
  std::string text = core::to_compact_json(state);
  if (text == last_state_) return;
  last_state_ = std::move(text);
  push("state", state);
}

std::string Dashboard::push(std::string_view type, const core::Json& data) {
  std::uint64_t id = next_id_++;
  std::string text = core::to_compact_json(data);
  events_.push_back(
      {id, net::format_sse_event({std::string(type), text, std::to_string(id), std::nullopt})});
  while (events_.size() > options_.max_events) events_.pop_front();
  for (auto& sub : subscribers_) sub->notifier.notify();
  return text;
}

std::string Dashboard::snapshot_text() {
  // Built as text: the kept samples are stored serialized (an hour of them is about 1 MB).
  core::Json state = source_.state();
  core::Json head = {{"now", core::to_unix_millis(clock_.now())},
                     {"maxSamples", options_.max_samples},
                     {"lastEventId", next_id_ - 1},
                     {"hpas", state.value("hpas", core::Json::array())},
                     {"fleets", state.value("fleets", core::Json::array())}};
  std::string out = core::to_compact_json(head);
  out.pop_back();  // the closing brace
  auto append = [&out](std::string_view name, const std::deque<std::string>& items) {
    out += ",\"";
    out += name;
    out += "\":[";
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += ',';
      out += items[i];
    }
    out += ']';
  };
  append("samples", samples_);
  append("decisions", decisions_);
  out += "}\n";
  return out;
}

}  // namespace llmscale::dashboard
