// Scrape ingestion through the per-target appender: cache reuse, staleness markers, failed
// scrapes, target removal, label clashes, relabeling, sample limits and report series.
#include "prom/scrape/ingest.h"

#include <bit>
#include <cmath>

#include <gtest/gtest.h>

#include "prom/exposition/registry.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/target_appender.h"

namespace llmscale::prom {
namespace {

Matcher eq(std::string name, std::string value) {
  return Matcher::make(MatchType::kEqual, std::move(name), std::move(value)).value();
}

class ScrapeIngestTest : public ::testing::Test {
 protected:
  ScrapeIngestTest() : appender(storage) {
    options.target_labels =
        Labels{{"job", "vllm"}, {"instance", "10.0.0.1:8000"}, {"pod", "vllm-0"}};
  }

  IngestReport scrape(std::int64_t t, const std::string& body) {
    return ingest_scrape(appender, body, t, 0.01, options);
  }
  std::vector<SamplePoint> samples(const std::string& name) {
    auto got = storage.select({eq("__name__", name)}, 0, 1LL << 50);
    return got.empty() ? std::vector<SamplePoint>{} : got[0].samples;
  }
  double latest(const std::string& name) {
    auto got = storage.select_latest({eq("__name__", name)}, 0, 1LL << 50);
    return got.empty() ? -12345 : got[0].samples[0].v;
  }

  Storage storage;
  TargetAppender appender;
  IngestOptions options;
};

const char* kBody =
    "# TYPE vllm:num_requests_waiting gauge\n"
    "vllm:num_requests_waiting{model_name=\"m\",engine=\"0\"} 3\n"
    "vllm:num_requests_waiting{model_name=\"m\",engine=\"1\"} 4\n"
    "# TYPE vllm:prompt_tokens_total counter\n"
    "vllm:prompt_tokens_total{model_name=\"m\",engine=\"0\"} 100\n";

TEST_F(ScrapeIngestTest, FirstScrapeCreatesSeriesAndLaterScrapesUseTheCache) {
  auto r = scrape(1000, kBody);
  EXPECT_TRUE(r.up);
  EXPECT_EQ(r.samples_scraped, 3u);
  EXPECT_EQ(r.samples_post_relabeling, 3u);
  EXPECT_EQ(r.series_added, 3u);
  EXPECT_EQ(r.stats.series_created, 3u + 5u);  // + up, scrape_duration_seconds, ...
  EXPECT_EQ(r.stats.samples_appended, 3u + 5u);
  auto got = storage.select({eq("__name__", "vllm:num_requests_waiting")}, 0, 2000);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].labels.to_string(),
            R"({__name__="vllm:num_requests_waiting", engine="0", instance="10.0.0.1:8000", )"
            R"(job="vllm", model_name="m", pod="vllm-0"})");
  r = scrape(2000, kBody);
  EXPECT_EQ(r.series_added, 0u);
  EXPECT_EQ(r.stats.series_created, 0u);
  EXPECT_EQ(appender.cached_series(), 3u + 5u);
  EXPECT_EQ(latest("up"), 1);
  EXPECT_EQ(latest("scrape_samples_scraped"), 3);
  EXPECT_EQ(latest("scrape_series_added"), 0);
  EXPECT_EQ(samples("scrape_series_added").front().v, 3);
  EXPECT_EQ(latest("scrape_duration_seconds"), 0.01);
}

TEST_F(ScrapeIngestTest, SeriesMissingFromAScrapeGetAStaleMarker) {
  scrape(1000, kBody);
  std::string without_engine_1 =
      "vllm:num_requests_waiting{model_name=\"m\",engine=\"0\"} 5\n"
      "vllm:prompt_tokens_total{model_name=\"m\",engine=\"0\"} 110\n";
  auto r = scrape(2000, without_engine_1);
  EXPECT_EQ(r.stats.stale_markers, 1u);
  auto got = storage.select({eq("engine", "1")}, 0, 5000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 2u);
  EXPECT_EQ(got[0].samples[1].t, 2000);
  EXPECT_TRUE(is_stale_nan(got[0].samples[1].v));
  // Only once: the next scrape does not mark it again.
  r = scrape(3000, without_engine_1);
  EXPECT_EQ(r.stats.stale_markers, 0u);
  // It may come back.
  r = scrape(4000, kBody);
  EXPECT_EQ(r.series_added, 1u);
  EXPECT_EQ(r.stats.series_created, 0u);
  EXPECT_EQ(storage.select({eq("engine", "1")}, 0, 5000)[0].samples.back().v, 4);
}

TEST_F(ScrapeIngestTest, SeriesInAnotherOrderOrNewOnesBetweenKnownOnesLandRight) {
  // The appender first tries the series at the same position of the previous scrape; a scrape
  // in another order, with a series inserted or one missing, must write the same samples.
  scrape(1000, "a 1\nb 2\nc 3\n");
  auto r = scrape(2000, "c 30\nnew 5\na 10\n");
  EXPECT_EQ(r.series_added, 1u);
  EXPECT_EQ(r.stats.stale_markers, 1u);  // b
  r = scrape(3000, "a 100\nb 200\nc 300\nnew 50\n");
  EXPECT_EQ(r.series_added, 1u);  // b is back
  EXPECT_EQ(r.stats.samples_appended, 4u + 5u);
  EXPECT_EQ(latest("a"), 100);
  EXPECT_EQ(latest("b"), 200);
  EXPECT_EQ(latest("c"), 300);
  EXPECT_EQ(latest("new"), 50);
  auto c = samples("c");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[1].v, 30);
  EXPECT_TRUE(is_stale_nan(samples("b")[1].v));
  // After a failed scrape (everything stale, nothing cached but the report series) the same
  // body starts over.
  scrape(4000, "broken\n");
  r = scrape(5000, "a 1000\nb 2000\nc 3000\nnew 500\n");
  EXPECT_EQ(r.series_added, 4u);
  EXPECT_EQ(latest("c"), 3000);
}

TEST_F(ScrapeIngestTest, FailedScrapeMarksEverythingStaleAndReportsUpZero) {
  scrape(1000, kBody);
  auto r = scrape(2000, "vllm:num_requests_waiting{model_name=\"m\" 3\n");
  EXPECT_FALSE(r.up);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->message, "line 1: expected ',' or '}' after label value, got \"3\"");
  EXPECT_EQ(r.stats.stale_markers, 3u);
  EXPECT_EQ(latest("up"), 0);
  EXPECT_TRUE(is_stale_nan(samples("vllm:prompt_tokens_total").back().v));
  // A half-parsed body writes nothing.
  auto r2 = scrape(3000, "vllm:num_requests_waiting{model_name=\"m\",engine=\"0\"} 9\nbroken\n");
  EXPECT_FALSE(r2.up);
  EXPECT_EQ(samples("vllm:num_requests_waiting").back().t, 2000);
  // Connection-level failures too.
  auto r3 = ingest_failed_scrape(appender, 4000, 10, options,
                                 core::Error{core::ErrorCode::kDeadlineExceeded, "timeout"});
  EXPECT_FALSE(r3.up);
  EXPECT_EQ(latest("scrape_duration_seconds"), 10);
}

TEST_F(ScrapeIngestTest, TargetRemovalMarksEverythingStale) {
  scrape(1000, kBody);
  auto stats = appender.mark_all_stale(1500);
  EXPECT_EQ(stats.stale_markers, 3u + 5u);
  EXPECT_TRUE(is_stale_nan(samples("up").back().v));
  EXPECT_EQ(appender.cached_series(), 0u);
}

TEST_F(ScrapeIngestTest, ExplicitTimestampsAreNotMarkedStale) {
  scrape(1000, "a 1 500\nb 2\n");
  auto r = scrape(2000, "c 3\n");
  EXPECT_EQ(r.stats.stale_markers, 1u);  // b only
  EXPECT_EQ(samples("a").size(), 1u);
  EXPECT_EQ(samples("a")[0].t, 500);
  options.honor_timestamps = false;
  scrape(3000, "a 1 500\n");
  EXPECT_EQ(samples("a").back().t, 3000);
}

TEST_F(ScrapeIngestTest, ExposedLabelsClashingWithTargetLabelsAreExported) {
  scrape(1000, "m{job=\"inner\",pod=\"p\",exported_pod=\"x\"} 1\n");
  auto got = storage.select({eq("__name__", "m")}, 0, 2000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels.get("job"), "vllm");
  EXPECT_EQ(got[0].labels.get("exported_job"), "inner");
  EXPECT_EQ(got[0].labels.get("exported_pod"), "x");
  EXPECT_EQ(got[0].labels.get("exported_exported_pod"), "p");
  options.honor_labels = true;
  TargetAppender honoring(storage);
  ingest_scrape(honoring, "n{job=\"inner\"} 1\n", 1000, 0, options);
  got = storage.select({eq("__name__", "n")}, 0, 2000);
  EXPECT_EQ(got[0].labels.get("job"), "inner");
  EXPECT_EQ(got[0].labels.get("pod"), "vllm-0");
}

TEST_F(ScrapeIngestTest, MetricRelabelingDropsAndRewritesOnceThenCaches) {
  auto configs = parse_relabel_configs(R"(
- source_labels: [__name__]
  regex: 'vllm:num_requests_waiting'
  action: keep
- action: labeldrop
  regex: engine
- source_labels: [model_name]
  target_label: model
)",
                                       RelabelFieldNames::kPrometheus);
  ASSERT_TRUE(configs.has_value()) << configs.error().message;
  options.metric_relabeling =
      std::make_shared<RelabelRules>(RelabelRules::compile(*configs).value());
  std::string body =
      "vllm:num_requests_waiting{model_name=\"m\",engine=\"0\"} 3\n"
      "vllm:prompt_tokens_total{model_name=\"m\",engine=\"0\"} 100\n";
  auto r = scrape(1000, body);
  EXPECT_EQ(r.samples_scraped, 2u);
  EXPECT_EQ(r.samples_post_relabeling, 1u);
  EXPECT_EQ(r.stats.dropped_by_relabeling, 1u);
  r = scrape(2000, body);
  EXPECT_EQ(r.stats.dropped_by_relabeling, 1u);
  auto got = storage.select({eq("__name__", "vllm:num_requests_waiting")}, 0, 3000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].labels.has("engine"));
  EXPECT_EQ(got[0].labels.get("model"), "m");
  EXPECT_TRUE(samples("vllm:prompt_tokens_total").empty());
}

TEST_F(ScrapeIngestTest, EnginesCollapsingIntoOneSeriesAreDuplicates) {
  // Dropping the engine label makes two exposed series one: the second sample per scrape is a
  // duplicate for the same timestamp, as Prometheus reports it.
  auto configs = parse_relabel_configs("- action: labeldrop\n  regex: engine\n",
                                       RelabelFieldNames::kPrometheus);
  options.metric_relabeling =
      std::make_shared<RelabelRules>(RelabelRules::compile(*configs).value());
  auto r = scrape(1000, kBody);
  EXPECT_EQ(r.stats.duplicates, 1u);
}

TEST_F(ScrapeIngestTest, SampleLimitFailsTheScrape) {
  options.sample_limit = 2;
  auto r = scrape(1000, kBody);
  EXPECT_FALSE(r.up);
  EXPECT_EQ(r.error->message, "sample limit exceeded (limit 2)");
  EXPECT_TRUE(samples("vllm:num_requests_waiting").empty());
  EXPECT_EQ(latest("up"), 0);
  EXPECT_EQ(latest("scrape_samples_scraped"), 3);
}

// Issue 11 item 8: the series cap used to drop series silently while the scrape stayed up. Like
// sample_limit, it now fails the scrape with the reason.
TEST_F(ScrapeIngestTest, SeriesCapFailsTheScrapeThatHitsIt) {
  Storage small(StorageOptions{.max_series = 6});
  TargetAppender app(small);
  // 3 samples + 5 report series want 8 series; 6 fit: the report series
  // scrape_samples_post_metric_relabeling is the first one refused.
  auto r = ingest_scrape(app, kBody, 1000, 0, options);
  EXPECT_FALSE(r.up);
  EXPECT_TRUE(r.series_limit_exceeded);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->code, core::ErrorCode::kResourceExhausted);
  EXPECT_TRUE(
      r.error->message.starts_with("series limit exceeded (limit 6): series "
                                   "scrape_samples_post_metric_relabeling{"))
      << r.error->message;
  // The failed scrape's body series are released (and truncated away); the report series that
  // fit (up, scrape_duration_seconds, scrape_samples_scraped) stay, so `up` reads 0.
  EXPECT_EQ(small.series_count(), 3u);

  // A full storage refuses the first new series of the body: the scrape fails at once.
  Storage full(StorageOptions{.max_series = 2});
  TargetAppender other(full);
  auto f = ingest_scrape(other, kBody, 1000, 0, options);
  EXPECT_FALSE(f.up);
  EXPECT_TRUE(f.series_limit_exceeded);
  EXPECT_TRUE(f.error->message.starts_with("series limit exceeded (limit 2): series "))
      << f.error->message;

  // Other failures are not series-limit failures.
  Storage roomy(StorageOptions{.max_series = 100});
  TargetAppender fine(roomy);
  auto g = ingest_scrape(fine, "garbage{", 1000, 0, options);
  EXPECT_FALSE(g.up);
  EXPECT_FALSE(g.series_limit_exceeded);
}

// A registry's samples ingested directly (the fleet simulator's path) land exactly as its text
// does when scraped: same series (escaped label values, histogram and summary lines, target
// labels), same values and stale markers, same report.
TEST(IngestSamplesTest, RegistrySamplesLandLikeItsScrapedText) {
  MetricRegistry registry(ValueStyle::kPython);
  auto* waiting =
      registry.add_gauge("vllm:num_requests_waiting", "Waiting.", {"model_name", "pod"}).value();
  auto* tokens =
      registry.add_counter("vllm:prompt_tokens_total", "Tokens.", {"model_name"}).value();
  auto* ttft = registry
                   .add_histogram("vllm:time_to_first_token_seconds", "TTFT.", {"model_name"},
                                  {0.001, 0.25, 1.0 / 3.0, 10})
                   .value();
  auto* summary = registry.add_summary("tgi_batch", "Batch.", {}, {0.5, 0.99}).value();
  IngestOptions options;
  options.target_labels = Labels{{"job", "vllm"}, {"pod", "vllm-0"}, {"namespace", "default"}};
  Storage by_text, by_samples;
  TargetAppender text_appender(by_text), samples_appender(by_samples);
  for (std::int64_t t = 1000; t <= 5000; t += 1000) {
    waiting->with({"m \"a\"\\b\nc", "vllm-0"}).set(double(t) / 7);  // exported_pod
    tokens->with({"m"}).inc(1e15 / 3);
    ttft->with({"m"}).observe(double(t) / 3000);
    if (t >= 3000) summary->with({}).observe(double(t) * 0.1);    // NaN quantiles before
    if (t == 4000) waiting->remove({"m \"a\"\\b\nc", "vllm-0"});  // stale next scrape
    IngestReport text = ingest_scrape(text_appender, registry.text(), t, 0.01, options);
    std::vector<MetricRegistry::Sample> samples;
    registry.collect(samples);
    IngestReport direct = ingest_samples(samples_appender, samples, t, 0.01, options);
    EXPECT_TRUE(text.up && direct.up) << t;
    EXPECT_EQ(direct.samples_scraped, text.samples_scraped) << t;
    EXPECT_EQ(direct.series_added, text.series_added) << t;
    EXPECT_EQ(direct.stats.samples_appended, text.stats.samples_appended) << t;
    EXPECT_EQ(direct.stats.stale_markers, text.stats.stale_markers) << t;
  }
  auto all = [](Storage& storage) {
    auto m = Matcher::make(MatchType::kRegexMatch, "__name__", ".+").value();
    return storage.select({m}, 0, 1LL << 50);
  };
  auto want = all(by_text);
  auto got = all(by_samples);
  ASSERT_EQ(got.size(), want.size());
  ASSERT_GT(want.size(), 15u);
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].labels.to_string(), want[i].labels.to_string());
    ASSERT_EQ(got[i].samples.size(), want[i].samples.size()) << want[i].labels.to_string();
    for (std::size_t j = 0; j < want[i].samples.size(); ++j) {
      EXPECT_EQ(got[i].samples[j].t, want[i].samples[j].t);
      // Bit for bit: the text's value round-trips exactly, stale markers are one NaN pattern.
      EXPECT_EQ(std::bit_cast<std::uint64_t>(got[i].samples[j].v),
                std::bit_cast<std::uint64_t>(want[i].samples[j].v))
          << want[i].labels.to_string() << " at " << want[i].samples[j].t;
    }
  }
}

TEST(IngestSamplesTest, SampleLimitFailsTheScrapeAsForText) {
  MetricRegistry registry;
  auto* g = registry.add_gauge("g", "", {"i"}).value();
  for (const char* i : {"1", "2", "3"}) g->with({i}).set(1);
  IngestOptions options;
  options.sample_limit = 2;
  Storage storage;
  TargetAppender appender(storage);
  std::vector<MetricRegistry::Sample> samples;
  registry.collect(samples);
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[0].series, "g{i=\"1\"}");
  IngestReport report = ingest_samples(appender, samples, 1000, 0.01, options);
  EXPECT_FALSE(report.up);
  ASSERT_TRUE(report.error);
  EXPECT_EQ(report.error->message, "sample limit exceeded (limit 2)");
}

}  // namespace
}  // namespace llmscale::prom
