// Scraper against loopback targets served in-process by net::HttpServer: healthy scrapes and
// their report series, the scrape listener, failures (garbage, body size limit, hanging target,
// HTTP 500, sample limit, target limit) with up 0, lastError and staleness markers, targets
// added and removed at run time (static configs and PodMonitoring over a StaticPodSource), and
// 100 ms intervals.
//
// Scrape schedules run on a SimulatedClock (each advance by one interval fires every target
// once); the HTTP exchange itself is real (loopback), so scrape timeouts are real time.
#include "prom/scrape/scraper.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/http.h"
#include "net/server.h"
#include "prom/api/collector.h"
#include "prom/promql/engine.h"
#include "prom/scrape/config.h"
#include "prom/scrape/pod_source.h"
#include "prom/tsdb/storage.h"

namespace llmscale::prom {
namespace {

using namespace std::chrono_literals;

constexpr core::Duration kWait = 10s;  // bound of every wait for the loop (generous: ASan, load)

// One loopback /metrics endpoint whose answer the test sets.
class FakeTarget {
 public:
  enum class Mode { kBody, kHang, kStream };

  FakeTarget(net::EventLoop& loop, core::Clock& gate) : server_(loop, net::ServerOptions{}) {
    auto started =
        server_.start([this, &gate](net::ServerRequest& request,
                                    net::ResponseWriter& writer) -> net::Awaitable<void> {
          requests.push_back(request.headers);
          if (mode == Mode::kHang) {
            co_await net::sleep_for(gate, 24h);  // the gate never moves: no answer
            co_return;
          }
          if (mode == Mode::kStream) {
            co_await stream(writer);
            co_return;
          }
          net::Response response = net::Response::text(status, body);
          co_await writer.send(std::move(response));
        });
    EXPECT_TRUE(started.has_value()) << started.error().to_string();
  }

  // "127.0.0.1:PORT", a static_configs target.
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  std::uint16_t port() const { return server_.port(); }

  Mode mode = Mode::kBody;
  int status = 200;
  std::string body;
  std::vector<net::Headers> requests;
  // kStream: 100 MB in 64 KiB chunks, stopping at the first failed write.
  std::size_t streamed = 0;
  bool stream_done = false;
  bool stream_failed = false;

 private:
  net::Awaitable<void> stream(net::ResponseWriter& writer) {
    net::Headers headers;
    headers.set("Content-Type", "text/plain; version=0.0.4");
    if (!co_await writer.begin_stream(200, std::move(headers))) co_return;
    const std::string chunk(64 * 1024, '#');
    while (streamed < 100u * 1000 * 1000) {
      if (!co_await writer.write(chunk)) {
        stream_failed = true;
        co_return;
      }
      streamed += chunk.size();
    }
    stream_done = true;
  }

  net::HttpServer server_;
};

class ScraperTest : public ::testing::Test {
 protected:
  explicit ScraperTest(StorageOptions storage_options = {}) : storage_(storage_options) {}

  void SetUp() override {
    scraper_ = std::make_unique<Scraper>(loop_, clock_, storage_);
    scraper_->add_scrape_listener([this](const ScrapeEvent& e) { events_.push_back(e); });
  }

  FakeTarget& add_target(std::string body = "") {
    targets_.push_back(std::make_unique<FakeTarget>(loop_, gate_));
    targets_.back()->body = std::move(body);
    return *targets_.back();
  }

  // Parses a Prometheus configuration file (as `llmscale collect` does) and applies it.
  void apply(const std::string& yaml) {
    auto config = parse_collect_config(yaml);
    ASSERT_TRUE(config.has_value()) << config.error().to_string();
    auto applied = scraper_->apply_config(*config);
    ASSERT_TRUE(applied.has_value()) << applied.error().to_string();
  }

  // One job with static targets; `extra` is more YAML for the job (indented by 2).
  static std::string job(const std::string& name, const std::vector<std::string>& targets,
                         const std::string& extra = "") {
    std::string list;
    for (const auto& t : targets) list += (list.empty() ? "" : ", ") + ("'" + t + "'");
    return "- job_name: " + name + "\n  scrape_interval: 1s\n" + extra +
           "  static_configs:\n  - targets: [" + list + "]\n    labels: {env: test}\n";
  }

  // Moves the schedule on by `interval` (every target's timer fires once) and runs the loop
  // until `scrapes` more scrapes have been reported.
  void scrape_round(std::size_t scrapes, core::Duration interval = 1s) {
    std::size_t want = events_.size() + scrapes;
    clock_.advance(interval);
    ASSERT_TRUE(loop_.run_until([&] { return events_.size() >= want; }, kWait))
        << "scrapes reported: " << events_.size() << ", expected " << want;
  }

  // The instant vector of `expr` right after the simulated now (1 ms: a staleness marker
  // cannot share the timestamp of the samples it ends).
  std::vector<VectorSample> query(const std::string& expr) {
    auto result = engine_.instant_query(expr, clock_.now() + 1ms);
    EXPECT_TRUE(result.has_value()) << expr << ": " << result.error().to_string();
    if (!result) return {};
    return result->vector();
  }
  // The value of the single series `expr` selects now, or nullopt when there is none.
  std::optional<double> value(const std::string& expr) {
    auto v = query(expr);
    EXPECT_LE(v.size(), 1u) << expr;
    if (v.empty()) return std::nullopt;
    return v[0].value;
  }

  const ScrapeEvent* last_event_for(const std::string& url_part) const {
    for (auto it = events_.rbegin(); it != events_.rend(); ++it) {
      if (it->url.find(url_part) != std::string::npos) return &*it;
    }
    return nullptr;
  }
  std::optional<TargetStatus> status_of(const FakeTarget& t) const {
    for (auto& s : scraper_->active_targets()) {
      if (s.url.find(t.address()) != std::string::npos) return s;
    }
    return std::nullopt;
  }

  // The Storage and the Clock outlive the loop (Scraper's ownership rule); the gate (a clock
  // that never moves, holding hanging handlers) goes before the loop.
  core::SimulatedClock clock_;
  Storage storage_;
  LocalQueryEngine engine_{storage_};
  net::EventLoop loop_;
  core::SimulatedClock gate_;
  std::vector<std::unique_ptr<FakeTarget>> targets_;
  std::vector<ScrapeEvent> events_;
  StaticPodSource pods_;  // outlives the Scraper that may be subscribed to it
  std::unique_ptr<Scraper> scraper_;
};

constexpr const char* kHealthyBody =
    "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n"
    "# TYPE vllm:num_requests_waiting gauge\n"
    "vllm:num_requests_waiting{model_name=\"m\"} 7\n"
    "# TYPE vllm:num_requests_running gauge\n"
    "vllm:num_requests_running{model_name=\"m\"} 3\n";

TEST_F(ScraperTest, HealthyTargetIsStoredWithTargetLabelsAndReportSeries) {
  FakeTarget& t = add_target(kHealthyBody);
  std::optional<double> seen_by_listener;
  scraper_->add_scrape_listener([&](const ScrapeEvent&) {
    // Runs after the commit: the scrape is visible to queries.
    auto r = engine_.instant_query("vllm:num_requests_waiting", clock_.now());
    if (r && r->vector().size() == 1) seen_by_listener = r->vector()[0].value;
  });
  apply("scrape_configs:\n" + job("vllm", {t.address()}));
  scrape_round(1);

  const ScrapeEvent& e = events_.back();
  EXPECT_TRUE(e.up) << e.error;
  EXPECT_EQ(e.scrape_pool, "vllm");
  EXPECT_EQ(e.url, "http://" + t.address() + "/metrics");
  EXPECT_EQ(e.samples_scraped, 2u);
  EXPECT_EQ(e.series_added, 2u);
  EXPECT_EQ(e.target_labels.to_string(),
            "{env=\"test\", instance=\"" + t.address() + "\", job=\"vllm\"}");
  EXPECT_EQ(seen_by_listener, 7.0);

  auto waiting = query("vllm:num_requests_waiting");
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].metric.to_string(),
            "{__name__=\"vllm:num_requests_waiting\", env=\"test\", instance=\"" + t.address() +
                "\", job=\"vllm\", model_name=\"m\"}");
  EXPECT_EQ(value("up{job=\"vllm\"}"), 1.0);
  EXPECT_EQ(value("scrape_samples_scraped{job=\"vllm\"}"), 2.0);
  EXPECT_EQ(value("scrape_samples_post_metric_relabeling{job=\"vllm\"}"), 2.0);
  EXPECT_EQ(value("scrape_series_added{job=\"vllm\"}"), 2.0);
  EXPECT_TRUE(value("scrape_duration_seconds{job=\"vllm\"}").has_value());

  // The request Prometheus 2.42 sends.
  ASSERT_EQ(t.requests.size(), 1u);
  EXPECT_EQ(t.requests[0].value("Accept"), kScrapeAcceptHeader);
  EXPECT_EQ(t.requests[0].value("X-Prometheus-Scrape-Timeout-Seconds"), "1");
  EXPECT_TRUE(t.requests[0].has_token("Accept-Encoding", "gzip"));

  auto status = status_of(t);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->health, TargetHealth::kUp);
  EXPECT_EQ(status->last_error, "");
  EXPECT_EQ(status->interval, 1s);
  EXPECT_EQ(status->timeout, 1s);
  EXPECT_TRUE(status->last_scrape.has_value());
  ScraperStats stats = scraper_->stats();
  EXPECT_EQ(stats.scrapes, 1u);
  EXPECT_EQ(stats.failed_scrapes, 0u);
  EXPECT_EQ(stats.active_targets, 1u);
  EXPECT_EQ(stats.scrape_pools, 1u);
  EXPECT_EQ(stats.samples_appended, 2u + 5u);  // two samples and five report series

  // The next scrape one interval later, on the target's phase; known series are not re-added.
  t.body = "vllm:num_requests_waiting{model_name=\"m\"} 9\n";
  scrape_round(1);
  EXPECT_EQ(events_.back().due - events_[0].due, 1s);
  EXPECT_EQ(events_.back().series_added, 0u);
  EXPECT_EQ(value("vllm:num_requests_waiting"), 9.0);
  // The series the target stopped exposing is stale at once.
  EXPECT_TRUE(query("vllm:num_requests_running").empty());
}

TEST_F(ScraperTest, GarbageBodyFailsWithTheParseErrorAndStalesEarlierSeries) {
  FakeTarget& t = add_target(kHealthyBody);
  apply("scrape_configs:\n" + job("vllm", {t.address()}));
  scrape_round(1);
  ASSERT_EQ(value("vllm:num_requests_waiting"), 7.0);

  t.body = "this is { not the exposition format\n\x01\x02";
  scrape_round(1);
  const ScrapeEvent& e = events_.back();
  EXPECT_FALSE(e.up);
  EXPECT_TRUE(e.error.starts_with("line 1: ")) << e.error;  // the parser's error, located
  EXPECT_EQ(value("up{job=\"vllm\"}"), 0.0);
  EXPECT_EQ(value("scrape_samples_scraped{job=\"vllm\"}"), 0.0);
  // Staleness markers: nothing right after, though the old samples are within the lookback.
  EXPECT_TRUE(query("vllm:num_requests_waiting").empty());
  EXPECT_TRUE(query("vllm:num_requests_running").empty());
  auto status = status_of(t);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->health, TargetHealth::kDown);
  EXPECT_EQ(status->last_error, e.error);
  EXPECT_EQ(scraper_->stats().failed_scrapes, 1u);

  // Recovery clears lastError.
  t.body = kHealthyBody;
  scrape_round(1);
  EXPECT_TRUE(events_.back().up);
  EXPECT_EQ(status_of(t)->last_error, "");
  EXPECT_EQ(value("vllm:num_requests_waiting"), 7.0);
}

TEST_F(ScraperTest, BodyOverTheSizeLimitFails) {
  FakeTarget& small = add_target("ok_metric 1\n");
  FakeTarget& big = add_target(kHealthyBody);
  apply("scrape_configs:\n" + job("small", {small.address()}, "  body_size_limit: 1KiB\n") +
        job("big", {big.address()}, "  body_size_limit: 1KiB\n"));
  scrape_round(2);
  ASSERT_EQ(value("vllm:num_requests_waiting"), 7.0);

  std::string huge;
  while (huge.size() < 100 * 1000)
    huge += "padding_metric{i=\"" + std::to_string(huge.size()) + "\"} 1\n";
  big.body = huge;
  scrape_round(2);
  const ScrapeEvent* e = last_event_for(big.address());
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->up);
  EXPECT_EQ(e->error, "body size limit exceeded");
  EXPECT_EQ(status_of(big)->last_error, "body size limit exceeded");
  EXPECT_EQ(value("up{job=\"big\"}"), 0.0);
  EXPECT_TRUE(query("vllm:num_requests_waiting").empty());  // stale
  EXPECT_EQ(value("up{job=\"small\"}"), 1.0);
  EXPECT_EQ(scraper_->stats().body_size_limit_exceeded, 1u);
}

TEST_F(ScraperTest, HundredMegabyteStreamFailsFastWithoutBeingBuffered) {
  FakeTarget& t = add_target();
  t.mode = FakeTarget::Mode::kStream;  // chunked: no Content-Length to refuse up front
  apply("scrape_configs:\n" + job("stream", {t.address()}, "  body_size_limit: 1MiB\n"));
  scrape_round(1);
  const ScrapeEvent& e = events_.back();
  EXPECT_FALSE(e.up);
  EXPECT_EQ(e.error, "body size limit exceeded");
  // The scraper stopped reading long before the end: the server could not send it all.
  ASSERT_TRUE(loop_.run_until([&] { return t.stream_failed || t.stream_done; }, kWait));
  EXPECT_TRUE(t.stream_failed);
  EXPECT_FALSE(t.stream_done);
  EXPECT_LT(t.streamed, 50u * 1000 * 1000) << "bytes the server got to write";
  EXPECT_LT(e.duration, 5s);
  EXPECT_EQ(value("up{job=\"stream\"}"), 0.0);
}

TEST_F(ScraperTest, HangingTargetTimesOutAndOthersAreUnaffected) {
  FakeTarget& hang = add_target();
  hang.mode = FakeTarget::Mode::kHang;
  FakeTarget& ok = add_target(kHealthyBody);
  apply("scrape_configs:\n" + job("hang", {hang.address()}, "  scrape_timeout: 500ms\n") +
        job("ok", {ok.address()}));
  auto started = std::chrono::steady_clock::now();
  scrape_round(2);
  auto elapsed = std::chrono::steady_clock::now() - started;

  const ScrapeEvent* e = last_event_for(hang.address());
  ASSERT_NE(e, nullptr);
  EXPECT_FALSE(e->up);
  EXPECT_EQ(e->error, "Get \"http://" + hang.address() + "/metrics\": context deadline exceeded");
  // The network's timeout is real time; the scrape's duration is read from the scraper's clock
  // (core::Clock::monotonic_now()), here a SimulatedClock that did not move during the scrape.
  EXPECT_EQ(e->duration, 0s);
  EXPECT_GE(elapsed, 500ms);
  EXPECT_LT(elapsed, 5s);  // bounded by the scrape timeout, not by the target
  EXPECT_EQ(hang.requests[0].value("X-Prometheus-Scrape-Timeout-Seconds"), "0.5");
  EXPECT_EQ(value("up{job=\"hang\"}"), 0.0);
  EXPECT_EQ(status_of(hang)->health, TargetHealth::kDown);
  EXPECT_EQ(scraper_->stats().timeouts, 1u);

  const ScrapeEvent* good = last_event_for(ok.address());
  ASSERT_NE(good, nullptr);
  EXPECT_TRUE(good->up) << good->error;
  EXPECT_LT(good, e) << "the healthy target was reported before the hanging one timed out";
  EXPECT_EQ(value("up{job=\"ok\"}"), 1.0);
  EXPECT_EQ(value("vllm:num_requests_waiting"), 7.0);
}

TEST_F(ScraperTest, Http500FailsWithGoStatusText) {
  FakeTarget& t = add_target("broken 1\n");
  t.status = 500;
  apply("scrape_configs:\n" + job("vllm", {t.address()}));
  scrape_round(1);
  EXPECT_FALSE(events_.back().up);
  EXPECT_EQ(events_.back().error, "server returned HTTP status 500 Internal Server Error");
  EXPECT_EQ(status_of(t)->last_error, "server returned HTTP status 500 Internal Server Error");
  EXPECT_EQ(value("up{job=\"vllm\"}"), 0.0);
  EXPECT_TRUE(query("broken").empty());  // the body of a non-200 answer is not ingested
}

TEST_F(ScraperTest, SampleLimitFailsTheWholeScrape) {
  FakeTarget& t = add_target(kHealthyBody);
  apply("scrape_configs:\n" + job("vllm", {t.address()}, "  sample_limit: 2\n"));
  scrape_round(1);
  ASSERT_TRUE(events_.back().up) << events_.back().error;  // two samples: at the limit
  ASSERT_EQ(value("vllm:num_requests_waiting"), 7.0);

  t.body = std::string(kHealthyBody) + "vllm:num_requests_swapped{model_name=\"m\"} 0\n";
  scrape_round(1);
  EXPECT_FALSE(events_.back().up);
  EXPECT_EQ(events_.back().error, "sample limit exceeded (limit 2)");
  EXPECT_EQ(value("up{job=\"vllm\"}"), 0.0);
  // Nothing of that scrape is kept, and what the target exposed before is stale.
  EXPECT_TRUE(query("vllm:num_requests_swapped").empty());
  EXPECT_TRUE(query("vllm:num_requests_waiting").empty());
  EXPECT_TRUE(query("vllm:num_requests_running").empty());
  EXPECT_EQ(value("scrape_samples_post_metric_relabeling{job=\"vllm\"}"), 0.0);
  EXPECT_EQ(scraper_->stats().sample_limit_exceeded, 1u);
}

// A Storage that holds 10 series.
class SeriesCapScraperTest : public ScraperTest {
 protected:
  SeriesCapScraperTest() : ScraperTest(StorageOptions{.max_series = 10}) {}
};

// Issue 11 item 8: once one target fills the series cap, the next target's scrapes fail the way
// a sample_limit does (health down, lastError names the limit, a counter) instead of its series
// and `up` being refused silently while it shows up.
TEST_F(SeriesCapScraperTest, TargetOverTheSeriesCapIsDownWithTheReason) {
  FakeTarget& a = add_target(kHealthyBody);  // 2 series + 5 report series
  apply("scrape_configs:\n" + job("a", {a.address()}));
  scrape_round(1);
  ASSERT_TRUE(events_.back().up) << events_.back().error;
  ASSERT_EQ(storage_.series_count(), 7u);

  FakeTarget& b = add_target("other{x=\"1\"} 1\nother{x=\"2\"} 2\n");
  apply("scrape_configs:\n" + job("a", {a.address()}) + job("b", {b.address()}));
  scrape_round(2);
  scrape_round(2);
  const ScrapeEvent* eb = last_event_for(b.address());
  ASSERT_NE(eb, nullptr);
  EXPECT_FALSE(eb->up);
  // b's two series and `up` fit; scrape_duration_seconds is the 11th.
  const std::string want =
      "series limit exceeded (limit 10): series scrape_duration_seconds{env=\"test\","
      "instance=\"" +
      b.address() + "\",job=\"b\"} was not created";
  EXPECT_EQ(eb->error, want);
  EXPECT_EQ(status_of(b)->health, TargetHealth::kDown);
  EXPECT_EQ(status_of(b)->last_error, want);
  EXPECT_EQ(value("up{job=\"b\"}"), 0.0);
  EXPECT_TRUE(query("other").empty());  // nothing of the failed scrapes is kept
  // The target that filled the cap keeps scraping: all its series exist.
  const ScrapeEvent* ea = last_event_for(a.address());
  ASSERT_NE(ea, nullptr);
  EXPECT_TRUE(ea->up) << ea->error;
  EXPECT_EQ(status_of(a)->health, TargetHealth::kUp);
  EXPECT_EQ(value("vllm:num_requests_waiting"), 7.0);
  EXPECT_EQ(scraper_->stats().series_limit_exceeded, 2u);
  EXPECT_EQ(scraper_->stats().sample_limit_exceeded, 0u);

  // The lookup in-process users (the HPA) use: by target labels, e.g. a pod's.
  auto down = scraper_->targets_matching(Labels{{"job", "b"}});
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].health, TargetHealth::kDown);
  EXPECT_EQ(down[0].last_error, want);
  auto up = scraper_->targets_matching(Labels{{"job", "a"}, {"env", "test"}});
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].health, TargetHealth::kUp);
  EXPECT_EQ(scraper_->targets_matching(Labels{{"env", "test"}}).size(), 2u);
  EXPECT_EQ(scraper_->targets_matching(Labels{}).size(), 2u);
  EXPECT_TRUE(scraper_->targets_matching(Labels{{"job", "c"}}).empty());

  // A new series of the target that filled the cap fails its scrape too.
  a.body = std::string(kHealthyBody) + "vllm:num_requests_swapped{model_name=\"m\"} 0\n";
  scrape_round(2);
  EXPECT_FALSE(last_event_for(a.address())->up);
  EXPECT_TRUE(last_event_for(a.address())->error.starts_with("series limit exceeded (limit 10)"));
  EXPECT_EQ(scraper_->stats().series_limit_exceeded, 4u);
}

// The collector exposes those failures on its /metrics.
TEST_F(SeriesCapScraperTest, CollectorCountsSeriesLimitFailures) {
  FakeTarget& t = add_target(kHealthyBody);  // needs 7 series; the collector's storage holds 3
  CollectorOptions options;
  options.port = 0;
  options.storage.max_series = 3;
  Collector collector(loop_, clock_, options);
  auto config = parse_collect_config("scrape_configs:\n" + job("vllm", {t.address()}));
  ASSERT_TRUE(config.has_value());
  ASSERT_TRUE(collector.start(*config).has_value());
  clock_.advance(1s);
  ASSERT_TRUE(loop_.run_until([&] { return collector.scraper().stats().scrapes >= 1; }, kWait));
  auto status = collector.scraper().targets_matching(Labels{{"job", "vllm"}});
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].health, TargetHealth::kDown);
  EXPECT_TRUE(status[0].last_error.starts_with("series limit exceeded (limit 3): series "))
      << status[0].last_error;

  net::HttpClient client(loop_);
  std::optional<core::Result<net::Response>> metrics;
  net::spawn(loop_,
             [](net::HttpClient& c, std::string url,
                std::optional<core::Result<net::Response>>& out) -> net::Awaitable<void> {
               out = co_await c.request(net::Request::get(url));
             }(client, collector.url() + "/metrics", metrics));
  ASSERT_TRUE(loop_.run_until([&] { return metrics.has_value(); }, kWait));
  ASSERT_TRUE(metrics->has_value()) << metrics->error().to_string();
  EXPECT_NE((*metrics)->body.find("\nprometheus_target_scrapes_exceeded_series_limit_total 1\n"),
            std::string::npos)
      << (*metrics)->body;

  bool stopped = false;
  net::spawn(loop_, [](Collector& c, bool& done) -> net::Awaitable<void> {
    co_await c.stop();
    done = true;
  }(collector, stopped));
  ASSERT_TRUE(loop_.run_until([&] { return stopped; }, kWait));
}

TEST_F(ScraperTest, TargetLimitFailsEveryScrapeOfThePool) {
  FakeTarget& a = add_target("m 1\n");
  FakeTarget& b = add_target("m 2\n");
  apply("scrape_configs:\n" + job("pool", {a.address(), b.address()}, "  target_limit: 1\n"));
  scrape_round(2);
  for (const FakeTarget* t : {&a, &b}) {
    const ScrapeEvent* e = last_event_for(t->address());
    ASSERT_NE(e, nullptr);
    EXPECT_FALSE(e->up);
    EXPECT_EQ(e->error, "target_limit exceeded (number of targets: 2, limit: 1)");
    EXPECT_TRUE(t->requests.empty());  // not even fetched
  }
  EXPECT_TRUE(query("m").empty());
}

TEST_F(ScraperTest, StaticTargetsAddedAndRemovedAtRunTime) {
  FakeTarget& a = add_target("m{t=\"a\"} 1\n");
  FakeTarget& b = add_target("m{t=\"b\"} 2\n");
  apply("scrape_configs:\n" + job("pool", {a.address()}));
  scrape_round(1);
  EXPECT_EQ(query("m").size(), 1u);
  EXPECT_EQ(events_.back().series_added, 1u);

  // Replacing the configuration with one more target: the kept target keeps its series cache
  // and its phase, the new one is scraped.
  apply("scrape_configs:\n" + job("pool", {a.address(), b.address()}));
  EXPECT_EQ(scraper_->stats().active_targets, 2u);
  scrape_round(2);
  EXPECT_EQ(last_event_for(a.address())->series_added, 0u);
  EXPECT_EQ(last_event_for(a.address())->due - events_[0].due, 1s);
  EXPECT_TRUE(last_event_for(b.address())->up);
  EXPECT_EQ(query("m").size(), 2u);
  EXPECT_EQ(query("up").size(), 2u);

  // Removing a target writes its staleness markers at once (report series included).
  apply("scrape_configs:\n" + job("pool", {b.address()}));
  EXPECT_EQ(scraper_->stats().active_targets, 1u);
  EXPECT_FALSE(status_of(a).has_value());
  auto left = query("m");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].metric.get("t"), "b");
  EXPECT_TRUE(query("up{instance=\"" + a.address() + "\"}").empty());
  std::size_t a_requests = a.requests.size();
  scrape_round(1);
  EXPECT_EQ(a.requests.size(), a_requests);  // not scraped any more

  // A pool that disappears stops, with staleness markers.
  apply("scrape_configs: []\n");
  EXPECT_EQ(scraper_->stats().scrape_pools, 0u);
  EXPECT_TRUE(query("m").empty());
  EXPECT_TRUE(query("up").empty());
}

TEST_F(ScraperTest, PodMonitoringTargetsFollowThePodSource) {
  FakeTarget& t0 = add_target("vllm:num_requests_waiting 1\n");
  FakeTarget& t1 = add_target("vllm:num_requests_waiting 2\n");
  auto config = parse_collect_config(R"(
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata: {name: vllm, namespace: llm}
spec:
  selector:
    matchLabels: {app: vllm}
  endpoints:
  - port: metrics
    interval: 1s
  targetLabels:
    metadata: [pod, container]
)");
  ASSERT_TRUE(config.has_value()) << config.error().to_string();
  auto generated = pod_monitoring_scrape_configs(config->pod_monitorings[0], {});
  ASSERT_TRUE(generated.has_value()) << generated.error().to_string();
  auto pod = [](const std::string& name, std::uint16_t port) {
    PodInfo p;
    p.namespace_ = "llm";
    p.name = name;
    p.labels = {{"app", "vllm"}};
    p.pod_ip = "127.0.0.1";
    p.containers = {PodContainer{"server", "vllm", {{"metrics", port, "TCP"}}, false}};
    return p;
  };
  pods_.set_pods({pod("vllm-0", t0.port())});
  ASSERT_TRUE(scraper_->set_scrape_configs(*generated).has_value());
  scraper_->set_pod_source(&pods_);
  scrape_round(1);
  auto first = query("vllm:num_requests_waiting");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].metric.to_string(),
            "{__name__=\"vllm:num_requests_waiting\", container=\"server\", "
            "instance=\"vllm-0:metrics\", job=\"vllm\", namespace=\"llm\", pod=\"vllm-0\"}");
  EXPECT_EQ(events_.back().scrape_pool, "PodMonitoring/llm/vllm/metrics");

  // A new pod becomes a target; a pod of another app does not.
  PodInfo other = pod("other-0", t1.port());
  other.labels = {{"app", "other"}};
  pods_.upsert(other);
  pods_.upsert(pod("vllm-1", t1.port()));
  EXPECT_EQ(scraper_->stats().active_targets, 2u);
  scrape_round(2);
  EXPECT_EQ(value("vllm:num_requests_waiting{pod=\"vllm-1\"}"), 2.0);
  EXPECT_EQ(value("up{pod=\"vllm-1\"}"), 1.0);
  EXPECT_EQ(query("up").size(), 2u);

  // The pod goes away: its series are stale at once, the other pod's stay.
  pods_.remove("llm", "vllm-0");
  EXPECT_EQ(scraper_->stats().active_targets, 1u);
  EXPECT_TRUE(query("vllm:num_requests_waiting{pod=\"vllm-0\"}").empty());
  EXPECT_TRUE(query("up{pod=\"vllm-0\"}").empty());
  EXPECT_EQ(value("vllm:num_requests_waiting{pod=\"vllm-1\"}"), 2.0);
  scraper_->set_pod_source(nullptr);
  EXPECT_EQ(scraper_->stats().active_targets, 0u);
}

TEST_F(ScraperTest, HundredMillisecondIntervalKeepsItsPhase) {
  FakeTarget& t = add_target("m 1\n");
  apply(
      "global:\n  scrape_interval: 100ms\nscrape_configs:\n- job_name: fast\n"
      "  static_configs:\n  - targets: ['" +
      t.address() + "']\n");
  auto status = status_of(t);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->interval, 100ms);
  EXPECT_EQ(status->timeout, 100ms);  // the default timeout is capped at the interval
  core::Time configured = clock_.now();
  for (int i = 0; i < 10; ++i) scrape_round(1, 100ms);
  ASSERT_EQ(events_.size(), 10u);
  EXPECT_GT(events_[0].due, configured);
  EXPECT_LE(events_[0].due, configured + 100ms);
  for (std::size_t i = 1; i < events_.size(); ++i) {
    EXPECT_EQ(events_[i].due - events_[i - 1].due, 100ms) << "scrape " << i;
  }
  EXPECT_EQ(t.requests[0].value("X-Prometheus-Scrape-Timeout-Seconds"), "0.1");
  // One `up` sample per scrape, all within the last second.
  EXPECT_EQ(value("count_over_time(up[1s])"), 10.0);
}

}  // namespace
}  // namespace llmscale::prom
