// TSDB: Gorilla chunks, postings and matchers, windows, retention, limits, concurrency.
#include "prom/tsdb/storage.h"

#include <cmath>
#include <limits>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "prom/tsdb/xor_chunk.h"

namespace llmscale::prom {
namespace {

Matcher m(MatchType type, std::string name, std::string value) {
  return Matcher::make(type, std::move(name), std::move(value)).value();
}
Matcher eq(std::string name, std::string value) {
  return m(MatchType::kEqual, std::move(name), std::move(value));
}

std::vector<std::string> names_of(const std::vector<SeriesSamples>& series) {
  std::vector<std::string> out;
  for (const auto& s : series) out.push_back(s.labels.to_series_string());
  return out;
}

RC_GTEST_PROP(XorChunkProperty, DecodesExactlyWhatWasEncoded, ()) {
  auto n = *rc::gen::inRange(1, 300);
  std::vector<SamplePoint> samples;
  std::int64_t t = *rc::gen::inRange<std::int64_t>(-(1LL << 40), 1LL << 42);
  double v = 0;
  for (int i = 0; i < n; ++i) {
    // Regular intervals with jitter, occasionally big gaps.
    t += *rc::gen::oneOf(rc::gen::just<std::int64_t>(15000),
                         rc::gen::inRange<std::int64_t>(1, 20000),
                         rc::gen::inRange<std::int64_t>(1, 1LL << 36));
    v = *rc::gen::oneOf(rc::gen::just(v), rc::gen::just(v + 1), rc::gen::arbitrary<double>(),
                        rc::gen::element(stale_nan(), std::nan(""), -0.0, INFINITY, 1e-310));
    samples.push_back({t, v});
  }
  XorEncoder enc;
  for (const auto& s : samples) enc.append(s.t, s.v);
  auto chunk = enc.cut();
  RC_ASSERT(chunk->samples() == samples.size());
  RC_ASSERT(chunk->min_time() == samples.front().t);
  RC_ASSERT(chunk->max_time() == samples.back().t);
  XorIterator it(*chunk);
  for (const auto& s : samples) {
    RC_ASSERT(it.next());
    RC_ASSERT(it.at() == s);
  }
  RC_ASSERT(!it.next());
}

TEST(XorChunkTest, RegularScrapesCompressWell) {
  XorEncoder enc;
  double counter = 1000;
  for (int i = 0; i < 120; ++i) {
    enc.append(1700000000000 + i * 15000, counter);
    counter += 3;
  }
  auto chunk = enc.cut();
  // 16 bytes per raw sample; Gorilla gets regular integer counters to about 1.5 bytes.
  EXPECT_LT(chunk->data().size(), 120u * 2);
  XorEncoder gauge;
  for (int i = 0; i < 120; ++i) gauge.append(i * 1000, i % 3 == 0 ? 0.5 : 0.25);
  EXPECT_LT(gauge.cut()->data().size(), 120u * 2);
}

TEST(StaleNaNTest, BitPatternIsPrometheus) {
  double s = stale_nan();
  EXPECT_TRUE(std::isnan(s));
  EXPECT_TRUE(is_stale_nan(s));
  EXPECT_FALSE(is_stale_nan(std::nan("")));
  std::uint64_t bits;
  std::memcpy(&bits, &s, sizeof bits);
  EXPECT_EQ(bits, 0x7ff0000000000002ULL);
}

class StorageTest : public ::testing::Test {
 protected:
  void add(const Labels& l, std::int64_t t, double v) {
    auto s = storage.append(l, t, v);
    ASSERT_TRUE(s.has_value()) << s.error().message;
  }
  void fill() {
    add({{"__name__", "up"}, {"job", "api"}, {"pod", "a"}}, 1000, 1);
    add({{"__name__", "up"}, {"job", "api"}, {"pod", "b"}}, 1000, 0);
    add({{"__name__", "up"}, {"job", "web"}}, 1000, 1);
    add({{"__name__", "queue"}, {"job", "api"}, {"pod", "a"}}, 1000, 7);
  }
  Storage storage;
};

TEST_F(StorageTest, MatchersSelectLikePrometheus) {
  fill();
  auto sel = [&](std::vector<Matcher> ms) { return names_of(storage.select(ms, 0, 2000)); };
  EXPECT_EQ(sel({eq("__name__", "up")}),
            (std::vector<std::string>{"up{job=\"api\",pod=\"a\"}", "up{job=\"api\",pod=\"b\"}",
                                      "up{job=\"web\"}"}));
  EXPECT_EQ(sel({eq("__name__", "up"), m(MatchType::kNotEqual, "job", "api")}),
            (std::vector<std::string>{"up{job=\"web\"}"}));
  EXPECT_EQ(
      sel({eq("job", "api"), m(MatchType::kRegexMatch, "pod", "a|c")}),
      (std::vector<std::string>{"up{job=\"api\",pod=\"a\"}", "queue{job=\"api\",pod=\"a\"}"}));
  // Regexes are anchored: "a" does not match "api".
  EXPECT_TRUE(sel({m(MatchType::kRegexMatch, "job", "a")}).empty());
  // pod="" selects series without a pod label; pod!="" those with one.
  EXPECT_EQ(sel({eq("__name__", "up"), eq("pod", "")}),
            (std::vector<std::string>{"up{job=\"web\"}"}));
  EXPECT_EQ(sel({eq("__name__", "up"), m(MatchType::kNotEqual, "pod", "")}).size(), 2u);
  // !~ keeps series without the label.
  EXPECT_EQ(sel({eq("__name__", "up"), m(MatchType::kRegexNoMatch, "pod", "b")}),
            (std::vector<std::string>{"up{job=\"api\",pod=\"a\"}", "up{job=\"web\"}"}));
  // Only matchers that match the empty string: start from all series.
  EXPECT_EQ(sel({m(MatchType::kRegexMatch, "pod", "b|")}).size(), 2u);
  EXPECT_TRUE(sel({eq("__name__", "nope")}).empty());
}

TEST_F(StorageTest, SeveralEqualityMatchersStartFromTheSmallestList) {
  fill();
  add({{"__name__", "queue"}, {"job", "api"}, {"pod", "b"}}, 1000, 3);
  auto sel = [&](std::vector<Matcher> ms) { return names_of(storage.select(ms, 0, 2000)); };
  // job="api" lists four series, __name__="queue" two: either order gives the same series, in
  // creation order, and a value no series has gives none.
  const std::vector<std::string> want{"queue{job=\"api\",pod=\"a\"}",
                                      "queue{job=\"api\",pod=\"b\"}"};
  EXPECT_EQ(sel({eq("job", "api"), eq("__name__", "queue")}), want);
  EXPECT_EQ(sel({eq("__name__", "queue"), eq("job", "api")}), want);
  EXPECT_EQ(sel({eq("__name__", "queue"), eq("job", "api"), eq("pod", "b")}),
            (std::vector<std::string>{"queue{job=\"api\",pod=\"b\"}"}));
  EXPECT_TRUE(sel({eq("__name__", "queue"), eq("job", "web")}).empty());
  EXPECT_TRUE(sel({eq("__name__", "queue"), eq("zone", "x")}).empty());
}

TEST_F(StorageTest, OutOfOrderAndDuplicates) {
  Labels l{{"__name__", "x"}};
  add(l, 1000, 1);
  EXPECT_EQ(storage.append(l, 999, 1).error().message, "out of order sample");
  EXPECT_EQ(storage.append(l, 1000, 2).error().message, "duplicate sample for timestamp");
  EXPECT_TRUE(storage.append(l, 1000, 1).has_value());  // identical: ignored
  auto got = storage.select({eq("__name__", "x")}, 0, 5000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].samples.size(), 1u);
}

TEST_F(StorageTest, WindowsAcrossManyChunksAndLatest) {
  Labels l{{"__name__", "c"}};
  for (int i = 0; i < 1000; ++i) add(l, i * 1000, i);
  auto got = storage.select({eq("__name__", "c")}, 100500, 300000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].samples.size(), 200u);
  EXPECT_EQ(got[0].samples.front().t, 101000);
  EXPECT_EQ(got[0].samples.back().v, 300);
  // Newest sample in a window: at the end (cached) and in the past (decoded).
  auto latest = storage.select_latest({eq("__name__", "c")}, 0, 5000000);
  ASSERT_EQ(latest.size(), 1u);
  EXPECT_EQ(latest[0].samples[0].t, 999000);
  latest = storage.select_latest({eq("__name__", "c")}, 0, 456789);
  EXPECT_EQ(latest[0].samples[0].t, 456000);
  EXPECT_EQ(latest[0].samples[0].v, 456);
  latest = storage.select_latest({eq("__name__", "c")}, 456500, 456789);
  EXPECT_TRUE(latest.empty());
  EXPECT_TRUE(storage.select({eq("__name__", "c")}, 2000000, 3000000).empty());
  auto stats = storage.stats();
  EXPECT_EQ(stats.samples, 1000u);
  EXPECT_EQ(stats.chunks, 9u);  // 8 closed chunks of 120 and a head of 40
  EXPECT_EQ(stats.min_time, 0);
  EXPECT_EQ(stats.max_time, 999000);
}

TEST(StorageRetentionTest, DropsOldChunksAndEmptySeriesButNotPinnedOnes) {
  Storage storage(StorageOptions{.retention = std::chrono::minutes(1)});
  Labels old_series{{"__name__", "old"}};
  Labels live{{"__name__", "live"}};
  ASSERT_TRUE(storage.append(old_series, 0, 1).has_value());
  auto pinned = storage.acquire(Labels{{"__name__", "pinned"}});
  ASSERT_TRUE(pinned.has_value());
  storage.append_to(*pinned, 0, 1);
  for (int i = 0; i <= 600; ++i) ASSERT_TRUE(storage.append(live, i * 1000, i).has_value());
  // Retention runs from the append path: data older than 600s - 60s is gone.
  EXPECT_EQ(storage.series_count(), 2u);
  auto got = storage.select({eq("__name__", "live")}, 0, 1000000);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(got[0].samples.front().t, 540000 - 120000);
  EXPECT_TRUE(storage.select({eq("__name__", "pinned")}, 0, 1000000).empty());
  // Too old for the store now.
  EXPECT_EQ(storage.append(old_series, 1000, 1).error().message, "out of bounds: sample too old");
  storage.unpin(*pinned);
  storage.truncate(600000);
  EXPECT_EQ(storage.series_count(), 1u);
}

TEST(StorageLimitTest, SeriesCapIsAClearError) {
  Storage storage(StorageOptions{.max_series = 2});
  ASSERT_TRUE(storage.append({{"__name__", "a"}}, 1, 1).has_value());
  ASSERT_TRUE(storage.append({{"__name__", "b"}}, 1, 1).has_value());
  auto err = storage.append({{"__name__", "c"}, {"pod", "x"}}, 1, 1);
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().code, core::ErrorCode::kResourceExhausted);
  EXPECT_EQ(err.error().message,
            "series limit exceeded (limit 2): series c{pod=\"x\"} was not created");
  // Existing series still take samples.
  EXPECT_TRUE(storage.append({{"__name__", "a"}}, 2, 1).has_value());
}

TEST_F(StorageTest, SeriesAndLabelListing) {
  fill();
  add({{"__name__", "late"}, {"zone", "z"}}, 90000, 1);
  auto series = storage.series({{eq("job", "api")}}, 0, 2000);
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].to_series_string(), "queue{job=\"api\",pod=\"a\"}");
  EXPECT_EQ(storage.label_names({}, 0, 2000), (std::vector<std::string>{"__name__", "job", "pod"}));
  EXPECT_EQ(storage.label_names({}, 0, 100000),
            (std::vector<std::string>{"__name__", "job", "pod", "zone"}));
  EXPECT_EQ(storage.label_values("pod", {}, 0, 2000), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(storage.label_values("__name__", {{eq("pod", "a")}}, 0, 2000),
            (std::vector<std::string>{"queue", "up"}));
  EXPECT_EQ(storage.series({{eq("__name__", "up")}, {eq("__name__", "queue")}}, 0, 2000).size(),
            4u);
}

TEST(StorageConcurrencyTest, AppendersAndQueriesRunTogether) {
  Storage storage;
  constexpr int kSeries = 200;
  constexpr int kSamples = 300;
  std::atomic<bool> done{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kSamples; ++i) {
        for (int s = w; s < kSeries; s += 2) {
          Labels l{{"__name__", "load"}, {"series", std::to_string(s)}};
          ASSERT_TRUE(storage.append(l, i * 1000, i).has_value());
        }
      }
    });
  }
  std::thread reader([&] {
    while (!done.load()) {
      for (const auto& s : storage.select({eq("__name__", "load")}, 0, kSamples * 1000)) {
        // Samples are always a consistent prefix: t and v agree.
        for (const auto& p : s.samples) ASSERT_EQ(p.v * 1000, static_cast<double>(p.t));
      }
      storage.select_latest({eq("__name__", "load")}, 0, kSamples * 1000);
    }
  });
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  auto all = storage.select({eq("__name__", "load")}, 0, kSamples * 1000);
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kSeries));
  for (const auto& s : all) EXPECT_EQ(s.samples.size(), static_cast<std::size_t>(kSamples));
}

}  // namespace
}  // namespace llmscale::prom

namespace llmscale::prom {
namespace {

// Answer caches trust generation(): it must move on every change a query could see, and only
// then.
TEST(StorageGenerationTest, MovesOnEveryVisibleChangeOnly) {
  Storage storage;
  Labels a{{"__name__", "x"}, {"pod", "a"}};
  std::uint64_t g = storage.generation();
  ASSERT_TRUE(storage.append(a, 1000, 1));
  EXPECT_GT(storage.generation(), g);  // a new series and its sample
  g = storage.generation();
  ASSERT_TRUE(storage.append(a, 2000, 2));
  EXPECT_GT(storage.generation(), g);
  g = storage.generation();
  ASSERT_TRUE(storage.append(a, 2000, 2));  // the same sample again: ignored, nothing changed
  EXPECT_EQ(storage.generation(), g);
  EXPECT_FALSE(storage.append(a, 1500, 3));  // out of order: refused
  EXPECT_EQ(storage.generation(), g);
  ASSERT_TRUE(storage.append(a, 3000, stale_nan()));  // a staleness marker hides the series
  EXPECT_GT(storage.generation(), g);
  g = storage.generation();
  storage.truncate(2500);
  EXPECT_GT(storage.generation(), g);
  EXPECT_EQ(storage.newest_time(), 3000);
}

TEST(StorageGenerationTest, EarliestNewestSampleAfter) {
  Storage storage;
  EXPECT_EQ(storage.earliest_newest_sample_after(0), std::numeric_limits<std::int64_t>::max());
  ASSERT_TRUE(storage.append({{"__name__", "x"}, {"pod", "a"}}, 1000, 1));
  ASSERT_TRUE(storage.append({{"__name__", "x"}, {"pod", "a"}}, 5000, 1));
  ASSERT_TRUE(storage.append({{"__name__", "x"}, {"pod", "b"}}, 3000, 1));
  ASSERT_TRUE(storage.append({{"__name__", "x"}, {"pod", "c"}}, 2000, 1));
  // Newest samples: a 5000, b 3000, c 2000.
  EXPECT_EQ(storage.earliest_newest_sample_after(0), 2000);
  EXPECT_EQ(storage.earliest_newest_sample_after(2000), 3000);
  EXPECT_EQ(storage.earliest_newest_sample_after(4000), 5000);
  EXPECT_EQ(storage.earliest_newest_sample_after(5000), std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace llmscale::prom
