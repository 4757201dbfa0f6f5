// Unit tests of the dashboard's routes: embedded assets with ETag/304 and gzip, the snapshot,
// the SSE stream (framing, replay from Last-Event-ID / since, reset when behind), sampling on
// the injected clock. No sockets: handlers run against RecordingResponseWriter.
#include "dashboard/dashboard.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "net/event_loop.h"
#include "net/gzip.h"
#include "net/recording_writer.h"
#include "net/router.h"
#include "net/sse.h"

namespace llmscale::dashboard {
namespace {

using std::chrono::seconds;

class FakeSource final : public DashboardSource {
 public:
  core::Json state() override {
    return {{"hpas", core::Json::array({{{"key", "default/h"}, {"currentReplicas", replicas}}})},
            {"fleets", core::Json::array()}};
  }
  core::Json sample() override {
    return {{"hpas", {{"default/h", {{"current", replicas}, {"desired", replicas}}}}}};
  }
  int replicas = 1;
};

struct Fixture : ::testing::Test {
  core::SimulatedClock clock;
  FakeSource source;
  net::EventLoop loop;
  net::Router router;

  net::RecordingResponseWriter get(Dashboard& dashboard, const std::string& target,
                                   net::Headers headers = {}) {
    dashboard.add_routes(router);
    net::ServerRequest request;
    request.method = "GET";
    EXPECT_TRUE(request.set_target(target));
    request.headers = std::move(headers);
    net::RecordingResponseWriter writer;
    EXPECT_TRUE(loop.block_on(router.dispatch(request, writer), seconds(5)));
    return writer;
  }
};

TEST(AcceptsGzip, FollowsRfc9110) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000, *"));  // listed with q=0 wins over "*"
  EXPECT_FALSE(accepts_gzip("*;q=0"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
}

TEST(EtagMatches, WeakComparison) {
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("*", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
}

TEST(EmbeddedAssets, HoldThePage) {
  std::vector<std::string> paths;
  for (const Asset& a : embedded_assets()) paths.emplace_back(a.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"app.css", "app.js", "index.html"}));
#if LLMSCALE_DASHBOARD_BUILT
  for (const Asset& a : embedded_assets()) {
    if (a.path == "app.js") {
      EXPECT_NE(a.text.find("EventSource"), std::string_view::npos);
    }
    if (a.path == "index.html") {
      EXPECT_NE(a.text.find("app.js"), std::string_view::npos);
    }
  }
#endif
}

TEST(StandalonePage, InlinesScriptStyleAndSnapshot) {
  std::string page = standalone_page(R"({"now":1,"hpas":[],"x":"</script><b>"})");
  EXPECT_EQ(page.find("src=\"app.js\""), std::string::npos);
  EXPECT_EQ(page.find("href=\"app.css\""), std::string::npos);
  EXPECT_NE(page.find(R"(window.LLMSCALE_SNAPSHOT={"now":1,"hpas":[],"x":"<\/script><b>"};)"),
            std::string::npos);
  // Only the page's own elements close: the snapshot's "</script>" cannot end one early.
  std::size_t closes = 0;
  for (std::size_t at = 0; (at = page.find("</script>", at)) != std::string::npos; ++at) ++closes;
  EXPECT_EQ(closes, 2u);
#if LLMSCALE_DASHBOARD_BUILT
  EXPECT_NE(page.find("LLMSCALE_SNAPSHOT"), page.rfind("LLMSCALE_SNAPSHOT"));  // read by app.js
  EXPECT_NE(page.find("<style>"), std::string::npos);
#endif
}

TEST_F(Fixture, ReportIsADownload) {
  Dashboard dashboard(clock, source);
  dashboard.start();
  auto w = get(dashboard, "/api/dashboard/report");
  EXPECT_EQ(w.status(), 200);
  EXPECT_EQ(w.headers().value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(w.headers().value("Content-Disposition"),
            "attachment; filename=\"llmscale-report.html\"");
  EXPECT_NE(w.body().find("\"samples\":[{\"t\":"), std::string::npos);
}

TEST_F(Fixture, ServesIndexWithEtagAnd304) {
  Dashboard dashboard(clock, source);
  auto first = get(dashboard, "/");
  EXPECT_EQ(first.status(), 200);
  EXPECT_EQ(first.headers().value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(first.headers().value("Cache-Control"), "no-cache");
  EXPECT_EQ(first.headers().value("Vary"), "Accept-Encoding");
  EXPECT_FALSE(first.headers().contains("Content-Encoding"));
  std::string etag(first.headers().value("ETag"));
  ASSERT_EQ(etag.size(), 18u);
  EXPECT_NE(first.body().find("<html"), std::string::npos);

  net::Router fresh;
  router = std::move(fresh);
  auto again = get(dashboard, "/index.html", {{"If-None-Match", "W/" + etag}});
  EXPECT_EQ(again.status(), 304);
  EXPECT_EQ(again.headers().value("ETag"), etag);
  EXPECT_TRUE(again.body().empty());
}

TEST_F(Fixture, GzipsWhenAccepted) {
  Dashboard dashboard(clock, source);
  auto plain = get(dashboard, "/app.js");
  router = net::Router();
  auto zipped = get(dashboard, "/app.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(zipped.status(), 200);
  EXPECT_EQ(zipped.headers().value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(zipped.headers().value("Content-Encoding"), "gzip");
  EXPECT_EQ(zipped.headers().value("ETag"), plain.headers().value("ETag"));
  auto unzipped = net::gzip_decompress(zipped.body(), 16 << 20);
  ASSERT_TRUE(unzipped);
  EXPECT_EQ(*unzipped, plain.body());
}

TEST_F(Fixture, SamplesOnTheClockIntoTheSnapshot) {
  DashboardOptions options;
  options.max_samples = 3;
  Dashboard dashboard(clock, source, options);
  dashboard.start();
  clock.advance(seconds(1));
  source.replicas = 2;
  clock.advance(seconds(1));
  clock.advance(seconds(1));
  core::Json snap = core::parse_json(dashboard.snapshot_text()).value();
  ASSERT_EQ(snap["samples"].size(), 3u);  // 4 taken, the oldest dropped
  EXPECT_EQ(snap["samples"][0]["t"], core::to_unix_millis(clock.now()) - 2000);
  EXPECT_EQ(snap["samples"][0]["hpas"]["default/h"]["current"], 1);
  EXPECT_EQ(snap["samples"][2]["hpas"]["default/h"]["current"], 2);
  EXPECT_EQ(snap["hpas"][0]["currentReplicas"], 2);
  EXPECT_EQ(snap["maxSamples"], 3);
  dashboard.stop();
  clock.advance(seconds(5));
  EXPECT_EQ(core::parse_json(dashboard.snapshot_text()).value()["samples"].size(), 3u);
}

TEST_F(Fixture, DecisionAddsEventAndSampleAtOnce) {
  Dashboard dashboard(clock, source);
  dashboard.start();
  source.replicas = 4;
  dashboard.add_decision({{"hpa", "default/h"}, {"from", 1}, {"to", 4}, {"reason", "cpu"}});
  core::Json snap = core::parse_json(dashboard.snapshot_text()).value();
  ASSERT_EQ(snap["decisions"].size(), 1u);
  EXPECT_EQ(snap["decisions"][0]["to"], 4);
  EXPECT_EQ(snap["decisions"][0]["t"], core::to_unix_millis(clock.now()));
  ASSERT_EQ(snap["samples"].size(), 2u);
  EXPECT_EQ(snap["samples"][1]["hpas"]["default/h"]["current"], 4);
  // Events: state, sample (start); decision, state (changed), sample.
  EXPECT_EQ(snap["lastEventId"], 5);
}

TEST_F(Fixture, SnapshotGzipped) {
  Dashboard dashboard(clock, source);
  dashboard.start();
  auto w = get(dashboard, "/api/dashboard/snapshot", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(w.status(), 200);
  EXPECT_EQ(w.headers().value("Content-Encoding"), "gzip");
  EXPECT_EQ(w.headers().value("Cache-Control"), "no-store");
  auto body = net::gzip_decompress(w.body(), 1 << 20);
  ASSERT_TRUE(body);
  auto json = core::parse_json(*body);
  ASSERT_TRUE(json);
  EXPECT_EQ((*json)["samples"].size(), 1u);
}

// Runs the events handler on the loop until `done`, feeding it with `act` first.
struct Stream {
  Stream() { request.method = "GET"; }
  net::ServerRequest request;
  net::RecordingResponseWriter writer;
  bool finished = false;
};

net::Awaitable<void> run_stream(net::Router& router, Stream* s) {
  co_await router.dispatch(s->request, s->writer);
  s->finished = true;
}

std::vector<net::SseEvent> parse(const std::string& body) {
  net::SseParser parser;
  return parser.feed(body);
}

TEST_F(Fixture, StreamsNewEventsAndEndsOnDisconnect) {
  Dashboard dashboard(clock, source);
  dashboard.add_routes(router);
  dashboard.start();  // events 1 (state) and 2 (sample) happen before the client connects
  Stream s;
  ASSERT_TRUE(s.request.set_target("/api/dashboard/events"));
  net::spawn(loop, run_stream(router, &s));
  ASSERT_TRUE(loop.run_until([&] { return s.writer.head_sent(); }, seconds(5)));
  EXPECT_EQ(s.writer.headers().value("Content-Type"), "text/event-stream");
  EXPECT_EQ(dashboard.streams(), 1u);
  source.replicas = 3;
  dashboard.add_decision({{"hpa", "default/h"}, {"from", 1}, {"to", 3}});
  ASSERT_TRUE(loop.run_until([&] { return parse(s.writer.body()).size() >= 3; }, seconds(5)));
  auto events = parse(s.writer.body());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, "decision");
  EXPECT_EQ(events[0].id, "3");
  EXPECT_EQ(events[1].event, "state");
  EXPECT_EQ(events[2].event, "sample");
  auto sample = core::parse_json(events[2].data);
  ASSERT_TRUE(sample);
  EXPECT_EQ((*sample)["hpas"]["default/h"]["current"], 3);
  EXPECT_NE(s.writer.body().find("retry: 1000\n"), std::string::npos);

  s.writer.disconnect();
  ASSERT_TRUE(loop.run_until([&] { return s.finished; }, seconds(5)));
  EXPECT_EQ(dashboard.streams(), 0u);
}

TEST_F(Fixture, ReplaysAfterLastEventIdAndResetsWhenBehind) {
  DashboardOptions options;
  options.max_events = 4;
  Dashboard dashboard(clock, source, options);
  dashboard.add_routes(router);
  dashboard.start();          // 1 state, 2 sample
  clock.advance(seconds(1));  // 3 sample
  Stream replay;
  ASSERT_TRUE(replay.request.set_target("/api/dashboard/events?since=1"));
  replay.request.headers.set("Last-Event-ID", "2");  // the header wins over ?since
  net::spawn(loop, run_stream(router, &replay));
  ASSERT_TRUE(loop.run_until([&] { return !parse(replay.writer.body()).empty(); }, seconds(5)));
  auto events = parse(replay.writer.body());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "3");

  clock.advance(seconds(1));  // 4
  clock.advance(seconds(1));  // 5: kept are 2..5
  Stream behind;
  ASSERT_TRUE(behind.request.set_target("/api/dashboard/events?since=0"));
  net::spawn(loop, run_stream(router, &behind));
  ASSERT_TRUE(loop.run_until([&] { return !parse(behind.writer.body()).empty(); }, seconds(5)));
  events = parse(behind.writer.body());
  ASSERT_GE(events.size(), 1u);
  EXPECT_EQ(events[0].event, "reset");  // 1 was dropped: reload the snapshot

  dashboard.stop();  // ends both streams
  ASSERT_TRUE(loop.run_until([&] { return replay.finished && behind.finished; }, seconds(5)));
}

}  // namespace
}  // namespace llmscale::dashboard
