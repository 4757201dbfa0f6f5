// The live dashboard served at / of a control address: the embedded page (web/, built with npm
// and embedded by CMake) with ETag revalidation and gzip, a JSON snapshot and an SSE stream.
//
//   GET /                          index.html (also /index.html, /app.js, /app.css)
//   GET /api/dashboard/snapshot    {"now", "maxSamples", "lastEventId", "hpas", "fleets",
//                                   "samples": [...], "decisions": [...]}
//   GET /api/dashboard/events      text/event-stream: "sample" every sample_interval, "decision"
//                                   as the controller decides, "state" when HPAs/fleets change,
//                                   "reset" when this client fell behind the kept events.
//
// What is shown comes from a DashboardSource, which the embedding program (`llmscale up`)
// implements: state() describes the HPAs and fleets now, sample() measures every plotted series
// now. The Dashboard samples on its clock and keeps the last max_samples samples and
// max_decisions decisions (the snapshot), and the last max_events stream events (replayed to a
// reconnecting EventSource from its Last-Event-ID).
//
// Ownership and threads: not thread-safe; create, use and destroy it on the loop that runs the
// clock and the server. stop() before destroying it while streams may be open (it wakes them and
// they end); the server should be stopped first or together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/json.h"
#include "net/router.h"
#include "net/server.h"

namespace llmscale::dashboard {

// What the dashboard shows, provided by the program that embeds it.
class DashboardSource {
 public:
  virtual ~DashboardSource() = default;
  // {"hpas": [...], "fleets": [...]} as described in docs/dashboard.md ("Data").
  virtual core::Json state() = 0;
  // One sample of every plotted series: {"hpas": {key: {...}}, "fleets": {name: {...}}}; the
  // dashboard adds "t" (Unix milliseconds).
  virtual core::Json sample() = 0;
};

struct DashboardOptions {
  core::Duration sample_interval = std::chrono::seconds(1);
  std::size_t max_samples = 3600;  // one hour at one per second
  std::size_t max_decisions = 500;
  std::size_t max_events = 600;  // stream events kept for replay (the samples keep streams busy)
};

// One embedded file of the page.
struct Asset {
  std::string_view path;
  std::string_view text;
};
// The files built from web/ (index.html, app.js, app.css), embedded by CMake.
std::span<const Asset> embedded_assets();

// The embedded page as one self-contained HTML file showing `snapshot_json` (a snapshot
// document, as snapshot_text() writes it, e.g. from a simulation): no request, no stream. "</"
// inside inlined text is written "<\/" so it cannot close the <script> element early.
std::string standalone_page(std::string_view snapshot_json);

class Dashboard {
 public:
  Dashboard(core::Clock& clock, DashboardSource& source, DashboardOptions options = {});
  ~Dashboard();
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // GET routes for the page, the snapshot and the stream.
  void add_routes(net::Router& router);

  // Starts sampling on the clock (a first sample at once).
  void start();
  // Stops sampling and ends every open stream.
  void stop();

  // A decision to show: {"hpa", "from", "to", "reason", "explanation": [...]}; "t" is added.
  // Also takes a sample and pushes the state at once, so the charts step within a moment.
  void add_decision(core::Json decision);
  // Takes a sample now (and pushes the state if it changed).
  void sample_now();

  // The snapshot document (what GET /api/dashboard/snapshot answers), as compact JSON text.
  std::string snapshot_text();
  // The page with this snapshot, the script and the style inlined: one file that shows the same
  // charts offline (GET /api/dashboard/report; standalone_page()).
  std::string report_html() { return standalone_page(snapshot_text()); }
  std::size_t streams() const { return subscribers_.size(); }
  std::uint64_t last_event_id() const { return next_id_ - 1; }

 private:
  struct Event {
    std::uint64_t id;
    std::string wire;  // the whole SSE event, framed
  };
  struct Subscriber;

  void tick();
  // Appends an event for every stream; returns its data (compact JSON).
  std::string push(std::string_view type, const core::Json& data);
  void push_state_if_changed();
  net::Awaitable<void> serve_asset(const Asset& asset, net::ServerRequest& request,
                                   net::ResponseWriter& writer);
  net::Awaitable<void> serve_events(net::ServerRequest& request, net::ResponseWriter& writer);

  core::Clock& clock_;
  DashboardSource& source_;
  DashboardOptions options_;
  struct Prepared {
    const Asset* asset;
    std::string etag;
    std::string gzipped;
    std::string content_type;
  };
  std::deque<Prepared> prepared_;
  std::deque<std::string> samples_;    // compact JSON each
  std::deque<std::string> decisions_;  // compact JSON each
  std::deque<Event> events_;
  std::uint64_t next_id_ = 1;
  std::string last_state_;
  std::list<std::shared_ptr<Subscriber>> subscribers_;
  core::Clock::TimerId timer_ = 0;
  bool running_ = false;
  bool stopped_ = false;
};

// Whether a request's Accept-Encoding accepts gzip (RFC 9110 §12.5.3: a coding listed with
// q=0 is refused; "*" stands for any coding not listed).
bool accepts_gzip(std::string_view accept_encoding);
// Whether an If-None-Match field matches `etag` (RFC 9110 §13.1.2: weak comparison, "*").
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace llmscale::dashboard
