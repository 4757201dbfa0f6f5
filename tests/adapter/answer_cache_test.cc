// The custom-metrics answer cache: AnswerCache's bounds and validity rules, and MetricsAdapter
// answering byte for byte what an uncached adapter over the same TSDB answers, across writes,
// relists, the clock's second, the lookback window's edge and samples stored ahead of the clock.
#include "adapter/answer_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "adapter/adapter.h"
#include "core/clock.h"
#include "core/time.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"

namespace llmscale::adapter {
namespace {

std::shared_ptr<const net::SharedBody> body_of(std::string text) {
  return std::make_shared<const net::SharedBody>(std::move(text));
}

TEST(AnswerCacheTest, ReusesOnlyForTheSameGenerationSecondAndBeforeValidUntil) {
  AnswerCache cache;
  cache.insert("k", body_of("answer"), {7, 100, 100'800});
  ASSERT_NE(cache.find("k", 7, 100'000), nullptr);
  EXPECT_EQ(cache.find("k", 7, 100'799)->bytes(), "answer");
  EXPECT_EQ(cache.find("k", 8, 100'100), nullptr);  // a write landed (and the entry is dropped)
  EXPECT_EQ(cache.stats().entries, 0u);
  cache.insert("k", body_of("answer"), {7, 100, 100'800});
  EXPECT_EQ(cache.find("k", 7, 100'800), nullptr);  // the lookback window may have moved
  cache.insert("k", body_of("answer"), {7, 100, 200'000});
  EXPECT_EQ(cache.find("k", 7, 101'000), nullptr);  // the next second's timestamps differ
  EXPECT_EQ(cache.find("other", 7, 100'000), nullptr);
  auto stats = cache.stats();
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 4u);
  EXPECT_EQ(AnswerCache::second_of(-1), -1);
  EXPECT_EQ(AnswerCache::second_of(-1000), -1);
  EXPECT_EQ(AnswerCache::second_of(999), 0);
}

TEST(AnswerCacheTest, BoundedByEntriesAndBytesLeastRecentlyUsedFirst) {
  AnswerCache cache({/*max_entries=*/3, /*max_bytes=*/100});
  const AnswerValidity valid{1, 0, 1000};
  cache.insert("a", body_of(std::string(10, 'a')), valid);
  cache.insert("b", body_of(std::string(10, 'b')), valid);
  cache.insert("c", body_of(std::string(10, 'c')), valid);
  ASSERT_NE(cache.find("a", 1, 0), nullptr);  // "a" is now the most recently used
  cache.insert("d", body_of(std::string(10, 'd')), valid);
  EXPECT_EQ(cache.stats().entries, 3u);
  EXPECT_EQ(cache.find("b", 1, 0), nullptr);  // the least recently used went
  EXPECT_NE(cache.find("a", 1, 0), nullptr);
  // Bytes: key + body. 60 more bytes push out the oldest until the sum fits 100.
  cache.insert("e", body_of(std::string(59, 'e')), valid);
  auto stats = cache.stats();
  EXPECT_LE(stats.bytes, 100u);
  EXPECT_EQ(stats.bytes, 60u + 11u + 11u);
  EXPECT_NE(cache.find("e", 1, 0), nullptr);
  // A body over the byte limit on its own is not kept, and replaces nothing else.
  cache.insert("huge", body_of(std::string(200, 'h')), valid);
  EXPECT_EQ(cache.find("huge", 1, 0), nullptr);
  EXPECT_EQ(cache.stats().entries, 3u);
  cache.clear();
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_EQ(cache.stats().bytes, 0u);
}

const char* kRules = R"(
rules:
- seriesQuery: '{__name__=~"^vllm:.*",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
- seriesQuery: '{__name__=~"^tokens_total$",namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)
)";

// Two adapters over one TSDB and one clock: one caching, one not.
class CachedAdapterTest : public ::testing::Test {
 protected:
  CachedAdapterTest()
      : clock_(core::parse_rfc3339("2025-01-02T20:13:15Z").value()),
        engine_(storage_),
        lister_({pod("vllm-0", {{"app", "vllm"}}), pod("vllm-1", {{"app", "vllm"}}),
                 pod("vllm-2", {{"app", "vllm"}}), pod("tgi-0", {{"app", "tgi"}})}) {
    auto config = std::make_shared<const AdapterConfig>(*parse_adapter_config(kRules));
    AdapterOptions cached_options;
    cached_options.answer_cache_storage = &storage_;
    cached_ = std::make_unique<MetricsAdapter>(config, engine_, lister_, clock_, cached_options);
    plain_ = std::make_unique<MetricsAdapter>(config, engine_, lister_, clock_);
  }

  static StaticObjectLister::Object pod(const std::string& name, kube::Labels labels) {
    return {{"", "pods"}, "llm", name, std::move(labels)};
  }

  void add(const std::string& metric, const std::string& pod, std::int64_t t_ms, double value) {
    ASSERT_TRUE(
        storage_.append({{"__name__", metric}, {"namespace", "llm"}, {"pod", pod}}, t_ms, value));
  }
  std::int64_t now_ms() const { return core::to_unix_millis(clock_.now()); }

  void relist_both() {
    ASSERT_TRUE(cached_->relist());
    ASSERT_TRUE(plain_->relist());
  }

  static std::string answer(MetricsAdapter& a, const std::string& path, const std::string& query) {
    auto r = a.serve(path, query);
    return r ? *r : std::to_string(r.error().code) + " " + r.error().to_json();
  }

  // Asks both adapters every request of the table twice; each answer must be the same bytes.
  void expect_same_answers() {
    const std::vector<std::pair<std::string, std::string>> requests = {
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
         "labelSelector=app%3Dvllm"},
        {"/apis/custom.metrics.k8s.io/v1beta1/namespaces/llm/pods/*/num_requests_waiting",
         "labelSelector=app%3Dvllm"},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
         "labelSelector=app%3Dvllm&pretty=true"},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
         "labelSelector=app%3Dvllm&metricLabelSelector=pod%21%3Dvllm-1"},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting", ""},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/vllm-0/num_requests_waiting", ""},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/tgi-0/num_requests_waiting", ""},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/tokens_total",
         "labelSelector=app%3Dvllm"},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/unknown_metric", ""},
        {"/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
         "labelSelector=app%3Dnone"},
    };
    for (int round = 0; round < 2; ++round) {
      for (const auto& [path, query] : requests) {
        EXPECT_EQ(answer(*cached_, path, query), answer(*plain_, path, query))
            << path << "?" << query << " at " << core::format_rfc3339_nano(clock_.now());
      }
    }
  }

  std::string wildcard() {
    return answer(*cached_,
                  "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting",
                  "labelSelector=app%3Dvllm");
  }

  core::SimulatedClock clock_;
  prom::Storage storage_;
  prom::LocalQueryEngine engine_;
  StaticObjectLister lister_;
  std::unique_ptr<MetricsAdapter> cached_;
  std::unique_ptr<MetricsAdapter> plain_;
};

TEST_F(CachedAdapterTest, SameBytesAsUncachedThroughWritesAndTime) {
  for (int i = 0; i < 3; ++i) {
    add("vllm:num_requests_waiting", "vllm-" + std::to_string(i), now_ms() - 1000, i + 0.5);
    add("tokens_total", "vllm-" + std::to_string(i), now_ms() - 30'000, 100);
    add("tokens_total", "vllm-" + std::to_string(i), now_ms() - 1000, 100 + 50 * i);
  }
  relist_both();
  expect_same_answers();
  clock_.advance(std::chrono::milliseconds(400));  // same second: reused
  expect_same_answers();
  EXPECT_GT(cached_->answer_cache_stats()->hits, 0u);
  add("vllm:num_requests_waiting", "vllm-1", now_ms(), 42);  // a scrape lands
  expect_same_answers();
  clock_.advance(std::chrono::milliseconds(700));  // the next second: new timestamps
  expect_same_answers();
  clock_.advance(std::chrono::minutes(3));
  expect_same_answers();
}

TEST_F(CachedAdapterTest, AnAppendInvalidatesAndTheAnswerShowsIt) {
  add("vllm:num_requests_waiting", "vllm-0", now_ms() - 1000, 3);
  relist_both();
  std::string before = wildcard();
  EXPECT_EQ(wildcard(), before);
  EXPECT_EQ(cached_->answer_cache_stats()->hits, 1u);
  add("vllm:num_requests_waiting", "vllm-0", now_ms(), 9);
  std::string after = wildcard();
  EXPECT_NE(after, before);
  EXPECT_NE(after.find(R"("value":"9")"), std::string::npos) << after;
  EXPECT_EQ(cached_->answer_cache_stats()->hits, 1u);
  // A stale marker is a write too: the pod leaves the answer at once.
  add("vllm:num_requests_waiting", "vllm-0", now_ms() + 1, prom::stale_nan());
  clock_.advance(std::chrono::milliseconds(1));
  EXPECT_EQ(wildcard().find("vllm-0"), std::string::npos);
}

TEST_F(CachedAdapterTest, AHitIsTheEntrysOwnBodyNotACopy) {
  add("vllm:num_requests_waiting", "vllm-0", now_ms() - 1000, 3);
  relist_both();
  const std::string path =
      "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting";
  auto first = cached_->serve_shared(path, "labelSelector=app%3Dvllm");
  auto second = cached_->serve_shared(path, "labelSelector=app%3Dvllm");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ((*first)->bytes(), *plain_->serve(path, "labelSelector=app%3Dvllm"));
  add("vllm:num_requests_waiting", "vllm-0", now_ms(), 4);
  auto third = cached_->serve_shared(path, "labelSelector=app%3Dvllm");
  ASSERT_TRUE(third);
  EXPECT_NE(third->get(), first->get());
  EXPECT_EQ((*first)->bytes(), (*second)->bytes());  // earlier answers stay intact
}

TEST_F(CachedAdapterTest, ARelistEmptiesTheCache) {
  add("vllm:num_requests_waiting", "vllm-0", now_ms() - 1000, 3);
  relist_both();
  wildcard();
  EXPECT_EQ(cached_->answer_cache_stats()->entries, 1u);
  ASSERT_TRUE(cached_->relist());
  EXPECT_EQ(cached_->answer_cache_stats()->entries, 0u);
}

TEST_F(CachedAdapterTest, ASeriesLeavingTheLookbackWindowIsNotServedFromTheCache) {
  // vllm-1's only sample leaves the 5-minute lookback window 600 ms into this second.
  add("vllm:num_requests_waiting", "vllm-0", now_ms() - 1000, 1);
  add("vllm:num_requests_waiting", "vllm-1", now_ms() - 300'000 + 600, 2);
  relist_both();
  EXPECT_NE(wildcard().find("vllm-1"), std::string::npos);
  clock_.advance(std::chrono::milliseconds(700));
  EXPECT_EQ(wildcard().find("vllm-1"), std::string::npos);
  expect_same_answers();
}

TEST_F(CachedAdapterTest, SamplesAheadOfTheClockAreNeverCached) {
  add("vllm:num_requests_waiting", "vllm-0", now_ms() - 1000, 1);
  add("vllm:num_requests_waiting", "vllm-1", now_ms() + 300, 2);  // visible 300 ms from now
  relist_both();
  EXPECT_EQ(wildcard().find("vllm-1"), std::string::npos);
  clock_.advance(std::chrono::milliseconds(500));
  EXPECT_NE(wildcard().find("vllm-1"), std::string::npos);
  expect_same_answers();
}

TEST_F(CachedAdapterTest, QueriesThatMoveWithTheClockAreNotCached) {
  add("tokens_total", "vllm-0", now_ms() - 30'000, 100);
  add("tokens_total", "vllm-0", now_ms() - 1000, 160);
  relist_both();
  for (int i = 0; i < 3; ++i) {
    answer(*cached_, "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/tokens_total",
           "labelSelector=app%3Dvllm");
  }
  EXPECT_EQ(cached_->answer_cache_stats()->entries, 0u);
  EXPECT_EQ(cached_->answer_cache_stats()->hits, 0u);
}

// The server answers on several loop threads: readers share the cache while a writer appends.
TEST_F(CachedAdapterTest, ConcurrentRequestsAndWritesStayConsistent) {
  for (int i = 0; i < 3; ++i)
    add("vllm:num_requests_waiting", "vllm-" + std::to_string(i), now_ms() - 1000, i);
  relist_both();
  std::vector<std::thread> readers;
  std::atomic<int> errors{0};
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        std::string body = wildcard();
        if (body.rfind(R"({"kind":"MetricValueList")", 0) != 0) ++errors;
      }
    });
  }
  for (int i = 0; i < 200; ++i) add("vllm:num_requests_waiting", "vllm-0", now_ms() - 999 + i, i);
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(wildcard(), answer(*plain_,
                               "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/"
                               "num_requests_waiting",
                               "labelSelector=app%3Dvllm"));
  EXPECT_NE(wildcard().find(R"("value":"199")"), std::string::npos);
}

}  // namespace
}  // namespace llmscale::adapter
