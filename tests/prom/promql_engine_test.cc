// PromQL evaluation: what the promtool cross-check cannot cover (range queries, errors, the
// QueryEngine listing calls, limits) plus pinned values for the semantics that matter most.
#include "prom/promql/engine.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/clock.h"

#include "prom/promql/parser.h"
#include "prom/promql/series_notation.h"
#include "prom/scrape/ingest.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/target_appender.h"

namespace llmscale::prom {
namespace {

constexpr std::int64_t kMinute = 60000;

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : storage(StorageOptions{.retention = std::chrono::hours(24)}), engine(storage) {}

  void load(std::string_view series, std::string_view values, std::int64_t interval = kMinute) {
    auto s = load_series(storage, series, values, interval);
    ASSERT_TRUE(s.has_value()) << s.error().message;
  }
  // "{labels} value, ..." in result order.
  std::string instant(std::string_view q, std::int64_t t) {
    auto r = engine.instant_query_ms(q, t);
    if (!r) return "error: " + r.error().message;
    std::string out;
    auto add = [&](const Labels& l, double v) {
      if (!out.empty()) out += ", ";
      out += l.to_series_string() + " " + format_value(v);
    };
    switch (r->type()) {
      case ResultType::kVector:
        for (const auto& s : r->vector()) add(s.metric, s.value);
        break;
      case ResultType::kScalar: out = "scalar " + format_value(r->scalar().value); break;
      case ResultType::kString: out = "string " + r->string().value; break;
      case ResultType::kMatrix:
        for (const auto& s : r->matrix()) {
          out += s.metric.to_series_string() + " [";
          for (const auto& p : s.points) out += std::to_string(p.t) + ":" + format_value(p.v) + " ";
          out += "]";
        }
        break;
    }
    return out;
  }
  static std::string format_value(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
  }

  Storage storage;
  LocalQueryEngine engine;
};

TEST_F(EngineTest, LookbackIsInclusiveAndStaleMarkersEndSeries) {
  load("x", "1 _ _ _ _ _ _");
  EXPECT_EQ(instant("x", 5 * kMinute), "x 1");   // exactly 5m old: still there (2.x)
  EXPECT_EQ(instant("x", 5 * kMinute + 1), "");  // older than the lookback delta
  load("y", "1 stale 3");
  EXPECT_EQ(instant("y", 0), "y 1");
  EXPECT_EQ(instant("y", kMinute), "");
  EXPECT_EQ(instant("y", kMinute + 30000), "");
  EXPECT_EQ(instant("y", 2 * kMinute), "y 3");
  EXPECT_EQ(instant("count_over_time(y[5m])", 2 * kMinute), "{} 2");
}

TEST_F(EngineTest, RangeQueriesEqualInstantQueriesAtEveryStep) {
  load("c{pod=\"a\"}", "0+10x30");
  load("c{pod=\"b\"}", "5+3x10 0+2x19");
  load("g{pod=\"a\"}", "1 5 2 8 _ _ 3 9 1 stale 2 6 3 9 0 5");
  for (const char* q :
       {"rate(c[2m])", "sum(rate(c[3m]))", "g", "g offset 2m", "avg_over_time(g[4m])",
        "c / on(pod) g", "scalar(sum(c))", "time()", "histogram_quantile(0.5, c)"}) {
    std::int64_t start = 2 * kMinute, end = 20 * kMinute, step = 30000;
    auto range = engine.range_query_ms(q, start, end, step);
    ASSERT_TRUE(range.has_value()) << q << ": " << range.error().message;
    ASSERT_EQ(range->type(), ResultType::kMatrix);
    std::map<std::string, std::map<std::int64_t, double>> by_series;
    for (const auto& s : range->matrix()) {
      for (const auto& p : s.points) by_series[std::string(s.metric.data())][p.t] = p.v;
    }
    for (std::int64_t t = start; t <= end; t += step) {
      auto inst = engine.instant_query_ms(q, t);
      ASSERT_TRUE(inst.has_value());
      std::size_t at_step = 0;
      for (const auto& [key, points] : by_series) at_step += points.count(t);
      if (inst->type() == ResultType::kScalar) {
        double v = by_series[""][t];
        EXPECT_TRUE(v == inst->scalar().value ||
                    (std::isnan(v) && std::isnan(inst->scalar().value)))
            << q << " @" << t;
        continue;
      }
      EXPECT_EQ(at_step, inst->vector().size()) << q << " @" << t;
      for (const auto& s : inst->vector()) {
        auto it = by_series[std::string(s.metric.data())].find(t);
        ASSERT_NE(it, by_series[std::string(s.metric.data())].end()) << q << " @" << t;
        EXPECT_TRUE(it->second == s.value || (std::isnan(it->second) && std::isnan(s.value)));
      }
    }
  }
}

TEST_F(EngineTest, RangeQueryResultShape) {
  load("up{job=\"b\"}", "1x4");
  load("up{job=\"a\"}", "0x4");
  auto r = engine.range_query_ms("up", 0, 2 * kMinute, kMinute);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->matrix().size(), 2u);
  EXPECT_EQ(r->matrix()[0].metric.get("job"), "a");  // sorted by labels
  EXPECT_EQ(r->matrix()[0].points.size(), 3u);
  auto s = engine.range_query_ms("1 + 1", 0, kMinute, 30000);
  ASSERT_TRUE(s.has_value());
  ASSERT_EQ(s->matrix().size(), 1u);
  EXPECT_TRUE(s->matrix()[0].metric.empty());
  EXPECT_EQ(s->matrix()[0].points.size(), 3u);
  EXPECT_EQ(engine.range_query_ms("up[5m]", 0, kMinute, 1000).error().message,
            "invalid expression type \"range vector\" for range query, must be Scalar or instant "
            "Vector");
  EXPECT_EQ(engine.range_query_ms("up", 0, kMinute, 0).error().message,
            "zero or negative query resolution step widths are not accepted. Try a positive "
            "integer");
  EXPECT_EQ(engine.range_query_ms("up", 0, 100000000, 1000).error().code,
            core::ErrorCode::kInvalidArgument);
}

TEST_F(EngineTest, InstantResultTypes) {
  load("up{job=\"a\"}", "1 2 3");
  EXPECT_EQ(instant("up", kMinute), "up{job=\"a\"} 2");
  EXPECT_EQ(instant("1 + 1", 0), "scalar 2");
  EXPECT_EQ(instant("\"hello\"", 0), "string hello");
  EXPECT_EQ(instant("up[2m]", 2 * kMinute), "up{job=\"a\"} [0:1 60000:2 120000:3 ]");
  auto r = engine.instant_query_ms("up", 90000);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->vector()[0].t, 90000);  // evaluation time, not the sample's
}

TEST_F(EngineTest, ExecutionErrorsUseUpstreamWording) {
  load("a{x=\"1\",y=\"1\"}", "1");
  load("a{x=\"1\",y=\"2\"}", "2");
  load("b{x=\"1\"}", "3");
  auto err = [&](std::string_view q) {
    auto r = engine.instant_query_ms(q, 0);
    return r ? std::string("no error") : r.error().message;
  };
  EXPECT_EQ(err("b / on(x) a"),
            "found duplicate series for the match group {x=\"1\"} on the right hand-side of the "
            "operation: [{__name__=\"a\", x=\"1\", y=\"2\"}, {__name__=\"a\", x=\"1\", y=\"1\"}];"
            "many-to-many matching not "
            "allowed: matching labels must be unique on one side");
  EXPECT_EQ(err("a / on(x) b"),
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
  EXPECT_EQ(err("a / on(x) group_left b"), "no error");
  load("c{x=\"1\"}", "4");
  EXPECT_EQ(err("{__name__=~\"b|c\"} - 0"), "vector cannot contain metrics with the same labelset");
  EXPECT_EQ(err("label_replace(a, \"dst\", \"$1\", \"x\", \"(\")"),
            "invalid regular expression in label_replace(): (");
  EXPECT_EQ(err("label_replace(a, \"1dst\", \"$1\", \"x\", \"(.*)\")"),
            "invalid destination label name in label_replace(): 1dst");
  EXPECT_EQ(err("count_values(\"1bad\", a)"), "invalid label name \"1bad\"");
  auto r = engine.instant_query_ms("a / on(x) b", 0);
  EXPECT_EQ(api_error_type(r.error()), "execution");
  EXPECT_EQ(api_http_status(r.error()), 422);
  auto p = engine.instant_query_ms("rate(a)", 0);
  EXPECT_EQ(api_error_type(p.error()), "bad_data");
  EXPECT_EQ(api_http_status(p.error()), 400);
}

TEST_F(EngineTest, BinaryMatchingBasics) {
  load("m{pod=\"a\",node=\"n\"}", "10");
  load("m{pod=\"b\",node=\"n\"}", "20");
  load("n{node=\"n\",zone=\"z\"}", "2");
  EXPECT_EQ(instant("m / on(node) group_left(zone) n", 0),
            "{node=\"n\",pod=\"a\",zone=\"z\"} 5, {node=\"n\",pod=\"b\",zone=\"z\"} 10");
  EXPECT_EQ(instant("m > 15", 0), "m{node=\"n\",pod=\"b\"} 20");
  EXPECT_EQ(instant("m > bool 15", 0), "{node=\"n\",pod=\"a\"} 0, {node=\"n\",pod=\"b\"} 1");
  EXPECT_EQ(instant("30 > m", 0), "m{node=\"n\",pod=\"a\"} 10, m{node=\"n\",pod=\"b\"} 20");
}

TEST_F(EngineTest, RateExtrapolationPinnedValues) {
  // 15s scrapes of a counter growing 1/s, window 1m ending on a sample: exactly 1.
  load("c", "0+15x40", 15000);
  EXPECT_EQ(instant("rate(c[1m])", 5 * kMinute), "{} 1");
  EXPECT_EQ(instant("increase(c[1m])", 5 * kMinute), "{} 60");
  // Counter starting near zero: extrapolation stops at the zero point.
  storage.append(Labels{{"__name__", "z"}}, 50000, 5);
  storage.append(Labels{{"__name__", "z"}}, 60000, 15);
  // Window [0, 60s]: durationToZero = 10 * 5/10 = 5s < 50s; factor (10+5+0)/10 = 1.5.
  EXPECT_EQ(instant("increase(z[1m])", 60000), "{} 15");
}

TEST_F(EngineTest, SeriesAndLabelListings) {
  load("up{job=\"api\",pod=\"a\"}", "1 1");
  load("up{job=\"web\"}", "1 1");
  load("queue{job=\"api\",pod=\"a\"}", "5 5");
  auto t0 = core::from_unix_millis(0);
  auto t1 = core::from_unix_millis(kMinute);
  auto series = engine.series({"up", "queue{pod=\"a\"}"}, t0, t1);
  ASSERT_TRUE(series.has_value());
  ASSERT_EQ(series->size(), 3u);
  EXPECT_EQ(engine.series({}, t0, t1).error().message, "no match[] parameter provided");
  EXPECT_EQ(engine.series({"sum(up)"}, t0, t1).error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(*engine.label_names({}, t0, t1), (std::vector<std::string>{"__name__", "job", "pod"}));
  EXPECT_EQ(*engine.label_values("job", {"up"}, t0, t1), (std::vector<std::string>{"api", "web"}));
  EXPECT_EQ(engine.label_values("1x", {}, t0, t1).error().message, "invalid label name: \"1x\"");
}

// A clock whose wall time stands still and whose every monotonic reading is one second later than
// the last: query deadlines must be measured on monotonic_now().
class TickingClock final : public core::Clock {
 public:
  core::Time now() const override { return core::SimulatedClock::default_start(); }
  core::MonotonicTime monotonic_now() const override {
    return core::MonotonicTime(std::chrono::seconds(++readings_));
  }
  TimerId call_after(core::Duration, Callback) override { return 0; }
  bool cancel(TimerId) override { return false; }
  int readings() const { return readings_; }

 private:
  mutable int readings_ = 0;
};

TEST_F(EngineTest, LimitsAndTimeouts) {
  for (int i = 0; i < 50; ++i) load("many{i=\"" + std::to_string(i) + "\"}", "1+1x100");
  QueryOptions small;
  small.max_samples = 100;
  auto r = engine.range_query_ms("many", 0, 100 * kMinute, kMinute, small);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::kResourceExhausted);
  EXPECT_EQ(r.error().message,
            "query processing would load too many samples into memory in query execution");
  // A simulated deadline: 2.5 s on a clock that moves 1 s per reading. The start and the first two
  // steps' checks are in time, the third step's is late.
  TickingClock clock;
  QueryOptions fast;
  fast.clock = &clock;
  fast.timeout = std::chrono::milliseconds(2500);
  auto t = engine.range_query_ms("sum(rate(many[10m]))", 0, 100 * kMinute, kMinute, fast);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, core::ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(clock.readings(), 4);
  // A timeout needs a clock to be measured on.
  QueryOptions clockless;
  clockless.timeout = std::chrono::seconds(1);
  auto u = engine.instant_query_ms("1", 0, clockless);
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().code, core::ErrorCode::kInvalidArgument);
}

std::string chain(std::string_view term, std::string_view op, int n) {
  std::string out(term);
  for (int i = 1; i < n; ++i) out.append(op).append(term);
  return out;
}
std::string nest(std::string_view open, std::string_view middle, std::string_view close, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += open;
  out += middle;
  for (int i = 0; i < n; ++i) out += close;
  return out;
}

// Issue 11 item 1: the queries that crashed or hung `collect` answer a bad_data error at once,
// and queries at the parser's bounds evaluate (the evaluator recurses as deep as the tree).
TEST_F(EngineTest, HugeExpressionsAreRejectedAndDeepOnesEvaluate) {
  load("good{a=\"1\"}", "1x10");
  for (const std::string& q : {chain("1", "+", 7000), chain("1", "+", 100000),
                               chain("good", " and ", 10000), nest("abs(", "good", ")", 5000)}) {
    auto r = engine.instant_query_ms(q, 5 * kMinute);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
    EXPECT_EQ(api_error_type(r.error()), "bad_data");
    EXPECT_NE(r.error().message.find("expression nesting exceeds 1000 levels"), std::string::npos);
  }
  EXPECT_EQ(instant(chain("1", "+", 1000), 5 * kMinute), "scalar 1000");
  EXPECT_EQ(instant(chain("good", " and ", 1000), 5 * kMinute), "good{a=\"1\"} 1");
  EXPECT_EQ(instant(nest("abs(", "-good", ")", 998), 5 * kMinute), "{a=\"1\"} 1");
  EXPECT_EQ(instant(nest("sum(", "good", ")", 999), 5 * kMinute), "{} 1");
  EXPECT_EQ(instant(nest("-(", "good", ")", 499), 5 * kMinute), "{a=\"1\"} -1");
  auto range = engine.range_query_ms(chain("good", " * ", 1000), 0, 9 * kMinute, kMinute);
  ASSERT_TRUE(range.has_value()) << range.error().message;
  EXPECT_EQ(range->matrix().size(), 1u);
}

// One unit per node evaluated per step plus one per sample read or produced.
TEST_F(EngineTest, WorkBudgetBoundsEvaluation) {
  for (int i = 0; i < 10; ++i) load("w{i=\"" + std::to_string(i) + "\"}", "1+1x100");
  QueryOptions small;
  small.max_work = 1000;
  auto r = engine.range_query_ms(chain("w", " + ", 10), 0, 100 * kMinute, kMinute, small);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::kResourceExhausted);
  EXPECT_EQ(api_error_type(r.error()), "execution");
  EXPECT_EQ(r.error().message,
            "query processing would touch too many samples and expressions in query execution "
            "(limit 1000)");
  // Range functions count the samples of their windows.
  auto rate = engine.instant_query_ms("sum(rate(w[100m]))", 100 * kMinute, small);
  ASSERT_FALSE(rate.has_value());
  EXPECT_EQ(rate.error().code, core::ErrorCode::kResourceExhausted);
  // Scalar chains have no samples, only nodes: 11 steps of 999 nodes.
  auto scalars = engine.range_query_ms(chain("1", "+", 500), 0, 10 * kMinute, kMinute, small);
  ASSERT_FALSE(scalars.has_value());
  EXPECT_EQ(scalars.error().code, core::ErrorCode::kResourceExhausted);
  // The default budget lets ordinary queries through.
  EXPECT_TRUE(engine.range_query_ms(chain("w", " + ", 10), 0, 100 * kMinute, kMinute).has_value());
}

// The deadline is checked inside one long evaluation, not only between steps: an instant query
// of a large scalar expression (no selectors, one step) times out.
TEST_F(EngineTest, DeadlineIsEnforcedInsideOneEvaluation) {
  // 9 groups of 500 terms: 9,008 nodes (over two 4,096-unit check intervals), 508 levels.
  std::string q = chain("(" + chain("1", "+", 500) + ")", "+", 9);
  TickingClock clock;
  QueryOptions options;
  options.clock = &clock;
  options.timeout = std::chrono::milliseconds(1500);
  auto r = engine.instant_query_ms(q, 0, options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(r.error().message, "query timed out in expression evaluation");
  EXPECT_EQ(clock.readings(), 3);  // the start, the checks after 4,096 and 8,192 units
  options.timeout = std::chrono::seconds(10);
  EXPECT_TRUE(engine.instant_query_ms(q, 0, options).has_value());
}

// What prom_promql_fuzz does to each input, run over its corpus (the bound seeds included) in the
// ordinary test build, which has no libFuzzer: parse, print, reparse, evaluate with a budget.
TEST_F(EngineTest, FuzzCorpusSeedsAnswerWithoutCrashing) {
  load("up{job=\"api\",pod=\"a\"}", "1 1 0 1 stale 1");
  load("req_total{pod=\"a\",code=\"200\"}", "0+10x5");
  std::filesystem::path dir =
      std::filesystem::path(LLMSCALE_SOURCE_DIR) / "fuzz/corpus/prom_promql";
  std::size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++seeds;
    auto expr = parse_promql(text);
    if (!expr) continue;
    std::string printed = to_string(**expr);
    auto again = parse_promql(printed);
    ASSERT_TRUE(again.has_value()) << entry.path() << ": " << again.error().message;
    EXPECT_EQ(to_string(**again), printed) << entry.path();
    QueryOptions options;
    options.max_samples = 100000;
    options.max_work = 1'000'000;
    (void)engine.instant_query_ms(text, 180000, options);
    (void)engine.range_query_ms(text, 0, 300000, 30000, options);
  }
  EXPECT_GE(seeds, 30u);
}

TEST_F(EngineTest, ScrapedDataIsQueryableWithStaleness) {
  TargetAppender appender(storage);
  IngestOptions options;
  options.target_labels = Labels{{"job", "vllm"}, {"pod", "vllm-0"}};
  ingest_scrape(
      appender,
      "vllm:num_requests_waiting{engine=\"0\"} 3\nvllm:num_requests_waiting{engine=\"1\"} 5\n",
      1000, 0.01, options);
  EXPECT_EQ(instant("sum by (pod) (vllm:num_requests_waiting)", 2000), "{pod=\"vllm-0\"} 8");
  ingest_scrape(appender, "vllm:num_requests_waiting{engine=\"0\"} 4\n", 16000, 0.01, options);
  // engine 1 vanished at 16s: its stale marker removes it immediately, not after 5 minutes.
  EXPECT_EQ(instant("sum by (pod) (vllm:num_requests_waiting)", 17000), "{pod=\"vllm-0\"} 4");
  EXPECT_EQ(instant("up", 17000), "up{job=\"vllm\",pod=\"vllm-0\"} 1");
  appender.mark_all_stale(31000);
  EXPECT_EQ(instant("up", 32000), "");
}

TEST(GoPowTest, MatchesGoForIntegerExponents) {
  EXPECT_EQ(go_pow(2, 10), 1024);
  EXPECT_EQ(go_pow(2, -2), 0.25);
  EXPECT_EQ(go_pow(-2, 3), -8);
  EXPECT_EQ(go_pow(0, -1), INFINITY);
  EXPECT_EQ(go_pow(-0.0, -1), -INFINITY);
  EXPECT_TRUE(std::isnan(go_pow(-8, 1.0 / 3)));
  EXPECT_EQ(go_pow(4, 0.5), 2);
  EXPECT_EQ(go_pow(-1, INFINITY), 1);
  EXPECT_EQ(go_pow(0.5, INFINITY), 0);
  EXPECT_DOUBLE_EQ(go_pow(1.5, 2.5), std::pow(1.5, 2.5));
}

}  // namespace
}  // namespace llmscale::prom
