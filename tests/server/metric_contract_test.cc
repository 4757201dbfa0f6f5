// The metric contract (server/metric_contract.h): every simulated flavor's catalog exports what
// the table says its engine exports at the release it stands for (the golden scrapes of
// metrics_test.cc are that catalog, so a drift on either side fails here); PromQL rendering;
// the rendered PromQL evaluated by our engine over a TSDB (what up's router signal and dashboard
// run); reading signals off samples across a vLLM upgrade (V0 gpu_cache_usage_perc on one replica,
// V1 kv_cache_usage_perc on another); a vanished series reads as missing (never 0) and, given
// to the SLO policy, blocks scale-down and says so.
#include "server/metric_contract.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "engine/profile.h"
#include "harness.h"
#include "policy/slo_policy.h"
#include "prom/exposition/parser.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/xor_chunk.h"

namespace llmscale::server {
namespace {

constexpr std::array kFlavors = {Flavor::kVllmV1,    Flavor::kVllmV0, Flavor::kTgi,
                                 Flavor::kJetStream, Flavor::kNim,    Flavor::kSglang};

struct Scrape {
  std::map<std::string, prom::MetricType, std::less<>> families;
  std::vector<ScrapedSample> samples;
};

// A flavor's golden scrape, parsed; `pod` is added to every sample as a scraper would.
Scrape scrape_of(Flavor flavor, const std::string& pod = "") {
  std::string text = testing::read_file(testing::source_path(
      "tests/server/golden/metrics_" + std::string(flavor_name(flavor)) + ".txt"));
  Scrape out;
  prom::ExpositionParser parser(text, prom::ExpositionFormat::kPrometheusText);
  while (parser.next() == prom::ExpositionParser::Step::kEntry) {
    if (parser.kind() == prom::ExpositionParser::Kind::kType) {
      out.families[std::string(parser.family())] = parser.type();
    } else if (parser.kind() == prom::ExpositionParser::Kind::kSample) {
      std::vector<std::pair<std::string, std::string>> pairs;
      pairs.emplace_back(prom::kMetricNameLabel, parser.name());
      for (const prom::Label& l : parser.labels()) pairs.emplace_back(l.name, l.value);
      if (!pod.empty()) pairs.emplace_back("pod", pod);
      ScrapedSample s;
      s.labels = prom::Labels::from_pairs(std::move(pairs));
      s.value = parser.value();
      out.samples.push_back(std::move(s));
    }
  }
  return out;
}

prom::MetricType type_of(MetricKind kind) {
  switch (kind) {
    case MetricKind::kGauge: return prom::MetricType::kGauge;
    case MetricKind::kCounter: return prom::MetricType::kCounter;
    case MetricKind::kHistogram: return prom::MetricType::kHistogram;
  }
  return prom::MetricType::kUnknown;
}

ScrapedSample sample(std::string_view name, double value, std::string_view pod,
                     std::pair<std::string_view, std::string_view> extra = {"", ""}) {
  ScrapedSample s;
  s.labels = prom::Labels{{prom::kMetricNameLabel, name}, {"pod", pod}, extra};
  s.value = value;
  return s;
}

TEST(MetricContract, EverySimulatedFlavorExportsWhatTheTableSays) {
  constexpr std::array kSignals = {Signal::kQueue, Signal::kRunning, Signal::kKvUsage,
                                   Signal::kTtft, Signal::kItl};
  for (Flavor flavor : kFlavors) {
    SCOPED_TRACE(std::string(flavor_name(flavor)));
    Scrape scrape = scrape_of(flavor);
    ASSERT_FALSE(scrape.families.empty());
    Engine engine = flavor_engine(flavor);
    Version version = flavor_version(flavor);
    for (Signal signal : kSignals) {
      for (const MetricSource* s : metric_sources(signal, engine)) {
        bool exported = s->exported_at(version);
        for (const SeriesName& series : {s->series, s->divisor}) {
          if (series.name.empty()) continue;
          auto it = scrape.families.find(series.name);
          // What the release exports is in the catalog with the table's type; what it no longer
          // (or not yet) exports is not.
          EXPECT_EQ(it != scrape.families.end(), exported)
              << series.name << " for " << signal_name(signal) << " at " << format_version(version);
          if (it != scrape.families.end()) {
            EXPECT_EQ(it->second, type_of(s->kind)) << series.name;
          }
        }
      }
    }
    // Each gauge signal the release has reads as a value off the flavor's own scrape.
    for (Signal signal : {Signal::kQueue, Signal::kRunning, Signal::kKvUsage}) {
      bool has = !metric_sources(signal, engine, version).empty();
      SignalReading r = read_signal(signal, scrape.samples);
      EXPECT_EQ(r.value.has_value(), has) << signal_name(signal) << ": " << r.problem;
    }
  }
}

TEST(MetricContract, TableRowsAreWellFormed) {
  std::set<std::pair<Signal, Engine>> preferred;
  for (const MetricSource& s : metric_contract()) {
    EXPECT_FALSE(s.series.name.empty());
    EXPECT_LT(s.since, s.until) << s.series.name;
    EXPECT_GT(s.divide_by, 0) << s.series.name;
    bool histogram = s.signal == Signal::kTtft || s.signal == Signal::kItl;
    EXPECT_EQ(s.kind == MetricKind::kHistogram, histogram) << s.series.name;
    EXPECT_EQ(s.unit,
              histogram ? "seconds" : (s.signal == Signal::kKvUsage ? "fraction" : "requests"))
        << s.series.name;
    if (!s.deprecated) preferred.insert({s.signal, s.engine});
  }
  // Every engine has a preferred (not deprecated) queue name.
  for (Engine e : {Engine::kVllmV1, Engine::kVllmV0, Engine::kSglang, Engine::kTgi,
                   Engine::kJetStream, Engine::kNim, Engine::kTrtLlm, Engine::kLlamaCpp}) {
    EXPECT_TRUE(preferred.contains({Signal::kQueue, e})) << engine_name(e);
  }
}

TEST(MetricContract, VersionsPickTheNamesOfARelease) {
  auto names = [](Signal signal, Engine engine, Version version) {
    std::vector<std::string_view> out;
    for (const MetricSource* s : metric_sources(signal, engine, version))
      out.push_back(s->series.name);
    return out;
  };
  using V = std::vector<std::string_view>;
  EXPECT_EQ(names(Signal::kKvUsage, Engine::kVllmV1, {0, 9, 1}), V{"vllm:gpu_cache_usage_perc"});
  EXPECT_EQ(names(Signal::kKvUsage, Engine::kVllmV1, {0, 10, 0}),
            (V{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}));
  EXPECT_EQ(names(Signal::kKvUsage, Engine::kVllmV1, {0, 12, 0}), V{"vllm:kv_cache_usage_perc"});
  EXPECT_EQ(names(Signal::kItl, Engine::kVllmV1, {0, 11, 0}),
            (V{"vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"}));
  EXPECT_EQ(names(Signal::kItl, Engine::kVllmV1, {0, 12, 0}),
            V{"vllm:inter_token_latency_seconds"});
  EXPECT_TRUE(names(Signal::kRunning, Engine::kJetStream, {2026, 1, 0}).empty());
}

TEST(MetricContract, RendersPromqlOrChainsPreferredFirst) {
  std::string kv = signal_promql(Signal::kKvUsage, "{pod=\"p\"}", "pod");
  EXPECT_EQ(kv.find("max by (pod) (vllm:kv_cache_usage_perc{pod=\"p\"}) or "
                    "max by (pod) (vllm:gpu_cache_usage_perc{pod=\"p\"}) or "),
            0u)
      << kv;
  // vLLM V0 and V1 share gpu_cache_usage_perc: listed once.
  EXPECT_EQ(kv.find("vllm:gpu_cache_usage_perc"), kv.rfind("vllm:gpu_cache_usage_perc"));
  // Transforms: TGI's ratio, JetStream's percent, Triton's label matchers.
  EXPECT_NE(kv.find("(max by (pod) (tgi_batch_current_max_tokens{pod=\"p\"}) / "
                    "max by (pod) (tgi_batch_max_total_tokens{pod=\"p\"}))"),
            std::string::npos)
      << kv;
  EXPECT_NE(kv.find("(max by (pod) (kv_cache_utilization_perc{pod=\"p\"}) / 100)"),
            std::string::npos);
  EXPECT_NE(kv.find("nv_trt_llm_kv_cache_block_metrics{pod=\"p\",kv_cache_block_type=\"used\"}"),
            std::string::npos);
  EXPECT_LT(kv.find("jetstream_slots_used_percentage"), kv.find("kv_cache_utilization_perc"));
  EXPECT_LT(kv.find("sglang:token_usage"), kv.find(" gpu_cache_usage_perc"));

  std::string queue = signal_promql(Signal::kQueue, "");
  EXPECT_EQ(queue.find("sum (vllm:num_requests_waiting) or sum (sglang:num_queue_reqs) or "
                       "sum (tgi_queue_size) or sum (jetstream_prefill_backlog_size) or "
                       "sum (num_requests_waiting) or "
                       "sum (nv_trt_llm_request_metrics{request_type=\"waiting\"})"),
            0u)
      << queue;

  std::string ttft = quantile_promql(Signal::kTtft, 0.5, "{pod=\"p\"}", "1m");
  EXPECT_EQ(ttft.find("histogram_quantile(0.500000, sum by (le) "
                      "(rate(vllm:time_to_first_token_seconds_bucket{pod=\"p\"}[1m]))) or "),
            0u)
      << ttft;
  EXPECT_NE(ttft.find("(histogram_quantile(0.500000, sum by (le) (rate("
                      "nv_inference_first_response_histogram_ms_bucket{pod=\"p\"}[1m]))) / 1000)"),
            std::string::npos)
      << ttft;
  std::string itl = quantile_promql(Signal::kItl, 0.9, "", "1m");
  EXPECT_LT(itl.find("vllm:inter_token_latency_seconds"),
            itl.find("vllm:time_per_output_token_seconds"));
  EXPECT_NE(itl.find("tgi_request_mean_time_per_token_duration"), std::string::npos);
}

TEST(MetricContract, VllmV0AndV1NamesBothReadAsKvCacheUse) {
  std::vector<ScrapedSample> samples = {
      sample("vllm:gpu_cache_usage_perc", 0.25, "old"),  // a V0 replica
      sample("vllm:kv_cache_usage_perc", 0.75, "new"),   // an upgraded V1 replica
      sample("vllm:num_requests_waiting", 3, "old"),
      sample("vllm:num_requests_waiting", 4, "new"),
  };
  std::vector<std::string> pods = {"new", "old"};
  auto kv = read_signal_by_pod(Signal::kKvUsage, samples, pods);
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv["old"].value, 0.25);
  EXPECT_EQ(kv["old"].metric, "vllm:gpu_cache_usage_perc");
  EXPECT_EQ(kv["new"].value, 0.75);
  EXPECT_EQ(kv["new"].metric, "vllm:kv_cache_usage_perc");
  // A 0.9–0.10 replica exports both: the preferred name is read.
  std::vector<ScrapedSample> both = {sample("vllm:gpu_cache_usage_perc", 0.5, "p"),
                                     sample("vllm:kv_cache_usage_perc", 0.5, "p")};
  EXPECT_EQ(read_signal(Signal::kKvUsage, both).metric, "vllm:kv_cache_usage_perc");
}

TEST(MetricContract, TransformsAndAggregation) {
  std::vector<ScrapedSample> tgi = {sample("tgi_batch_current_max_tokens", 250, "p"),
                                    sample("tgi_batch_max_total_tokens", 1000, "p")};
  EXPECT_EQ(read_signal(Signal::kKvUsage, tgi).value, 0.25);
  // Before backend v3 sets the budget the ratio has no divisor: missing, not infinity or 0.
  EXPECT_FALSE(read_signal(Signal::kKvUsage, std::span(tgi).first(1)).value);
  std::vector<ScrapedSample> jetstream = {sample("kv_cache_utilization_perc", 40, "p")};
  EXPECT_EQ(read_signal(Signal::kKvUsage, jetstream).value, 0.4);
  std::vector<ScrapedSample> triton = {
      sample("nv_trt_llm_request_metrics", 5, "p", {"request_type", "active"}),
      sample("nv_trt_llm_request_metrics", 256, "p", {"request_type", "max"}),
      sample("nv_trt_llm_request_metrics", 1, "p", {"request_type", "waiting"}),
      sample("nv_trt_llm_kv_cache_block_metrics", 110, "p", {"kv_cache_block_type", "used"}),
      sample("nv_trt_llm_kv_cache_block_metrics", 200, "p", {"kv_cache_block_type", "max"}),
  };
  EXPECT_EQ(read_signal(Signal::kQueue, triton).value, 1);
  EXPECT_EQ(read_signal(Signal::kRunning, triton).value, 5);
  EXPECT_EQ(read_signal(Signal::kKvUsage, triton).value, 0.55);
  // Data-parallel ranks: queues add up, KV use is the fullest rank's.
  std::vector<ScrapedSample> dp = {
      sample("vllm:num_requests_waiting", 2, "p", {"engine", "0"}),
      sample("vllm:num_requests_waiting", 3, "p", {"engine", "1"}),
      sample("vllm:kv_cache_usage_perc", 0.2, "p", {"engine", "0"}),
      sample("vllm:kv_cache_usage_perc", 0.6, "p", {"engine", "1"}),
  };
  EXPECT_EQ(read_signal(Signal::kQueue, dp).value, 5);
  EXPECT_EQ(read_signal(Signal::kKvUsage, dp).value, 0.6);
  std::vector<ScrapedSample> llamacpp = {sample("llamacpp:requests_deferred", 2, "p"),
                                         sample("llamacpp:requests_processing", 4, "p")};
  EXPECT_EQ(read_signal(Signal::kQueue, llamacpp).value, 2);
  EXPECT_EQ(read_signal(Signal::kRunning, llamacpp).value, 4);
  EXPECT_FALSE(read_signal(Signal::kTtft, llamacpp).value);
}

TEST(MetricContract, VanishedSeriesReadAsMissingNeverZeroAndGonePodsArePruned) {
  std::vector<ScrapedSample> samples = {
      sample("vllm:num_requests_waiting", 0, "a"),
      sample("vllm:num_requests_running", 0, "a"),
      // "b" lost its gauges (renamed to something the table does not know).
      sample("vllm:num_requests_waiting_v2", 0, "b"),
      // "gone" was deleted; its series remain in the TSDB.
      sample("vllm:num_requests_waiting", 9, "gone"),
  };
  std::vector<std::string> pods = {"a", "b"};
  auto queue = read_signal_by_pod(Signal::kQueue, samples, pods);
  ASSERT_EQ(queue.size(), 2u);  // "gone" pruned
  EXPECT_EQ(queue["a"].value, 0.0);
  EXPECT_FALSE(queue["b"].value);
  EXPECT_NE(queue["b"].problem.find("b: no queue series (looked for vllm:num_requests_waiting"),
            std::string::npos)
      << queue["b"].problem;
  EXPECT_TRUE(read_signal(Signal::kQueue, {}).problem.starts_with("no queue series"));
}

// The two cases end to end through the SLO policy: one replica upgraded mid-run from
// vLLM V0 to V1 names keeps scaling (its readings never go missing); a replica whose gauges
// vanish blocks scale-down, and the explanation names it.
class ContractPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    auto profile = engine::load_builtin_profile("llama-3.1-8b-h100");
    ASSERT_TRUE(profile) << profile.error().message;
    config_.profile = std::make_shared<const engine::Profile>(*profile);
  }

  // Signals of a quiet fleet of three ready replicas, their gauges read by the contract.
  policy::Signals quiet_fleet(const std::vector<ScrapedSample>& samples) {
    policy::Signals s;
    s.current = 3;
    s.ready = 3;
    s.min_replicas = 1;
    s.max_replicas = 10;
    s.arrival_rate = 0.1;
    s.mean_input_tokens = 200;
    s.mean_output_tokens = 100;
    s.ready_times = {30};
    std::vector<std::string> pods = {"pod-0", "pod-1", "pod-2"};
    auto waiting = read_signal_by_pod(Signal::kQueue, samples, pods);
    auto running = read_signal_by_pod(Signal::kRunning, samples, pods);
    auto kv = read_signal_by_pod(Signal::kKvUsage, samples, pods);
    for (const std::string& pod : pods) {
      policy::ReplicaSignals r;
      r.name = pod;
      r.ready = true;
      r.waiting = waiting[pod].value;
      r.running = running[pod].value;
      r.kv_usage = kv[pod].value;
      s.replicas.push_back(r);
    }
    return s;
  }

  static std::vector<ScrapedSample> v0(const std::string& pod) {
    return {sample("vllm:num_requests_waiting", 0, pod),
            sample("vllm:num_requests_running", 1, pod),
            sample("vllm:gpu_cache_usage_perc", 0.1, pod)};
  }
  static std::vector<ScrapedSample> v1(const std::string& pod) {
    return {sample("vllm:num_requests_waiting", 0, pod, {"engine", "0"}),
            sample("vllm:num_requests_running", 1, pod, {"engine", "0"}),
            sample("vllm:kv_cache_usage_perc", 0.1, pod, {"engine", "0"})};
  }

  policy::SloPolicyConfig config_;
};

TEST_F(ContractPolicy, RenamedMidRunKeepsScaling) {
  policy::SloPolicy policy(config_);
  std::vector<ScrapedSample> before;
  for (const char* pod : {"pod-0", "pod-1", "pod-2"}) {
    auto s = v0(pod);
    before.insert(before.end(), s.begin(), s.end());
  }
  std::vector<ScrapedSample> after = v1("pod-1");  // pod-1 upgraded to V1
  for (const char* pod : {"pod-0", "pod-2"}) {
    auto s = v0(pod);
    after.insert(after.end(), s.begin(), s.end());
  }
  policy::Signals s = quiet_fleet(before);
  s.now = core::Time{} + std::chrono::seconds(1000);
  policy::Decision d = policy.decide(s);
  EXPECT_FALSE(d.scale_down_blocked) << d.explanation;
  // Over the scale-down window the quiet fleet shrinks, the upgrade notwithstanding.
  std::int32_t desired = d.desired;
  for (int t = 1; t <= 40; ++t) {
    s = quiet_fleet(after);
    s.now = core::Time{} + std::chrono::seconds(1000 + 15 * t);
    d = policy.decide(s);
    ASSERT_FALSE(d.scale_down_blocked) << d.explanation;
    EXPECT_EQ(s.replicas[1].kv_usage, 0.1);
    desired = d.desired;
  }
  EXPECT_LT(desired, 3) << d.explanation;
}

TEST_F(ContractPolicy, DisappearedMetricBlocksScaleDownAndSaysSo) {
  policy::SloPolicy policy(config_);
  std::vector<ScrapedSample> samples = v1("pod-0");
  auto s2 = v1("pod-2");
  samples.insert(samples.end(), s2.begin(), s2.end());
  // pod-1 is up but exports none of the table's names (a server upgrade we do not know yet).
  samples.push_back(sample("vllm:num_requests_queued", 0, "pod-1"));
  for (int t = 0; t <= 40; ++t) {
    policy::Signals s = quiet_fleet(samples);
    ASSERT_FALSE(s.replicas[1].waiting);  // missing, not 0
    s.now = core::Time{} + std::chrono::seconds(1000 + 15 * t);
    policy::Decision d = policy.decide(s);
    EXPECT_GE(d.desired, 3) << d.explanation;
    if (d.desired < 3 || t == 40) {
      EXPECT_TRUE(d.scale_down_blocked) << d.explanation;
      EXPECT_NE(d.explanation.find("pod-1 queue/running series missing"), std::string::npos)
          << d.explanation;
    }
  }
}

// The chains as `up` runs them: evaluated by the PromQL engine over a TSDB holding a fleet in
// the middle of a vLLM upgrade (pod-b's V0 series end at 60 s, its V1 ones start at 75 s), a TGI
// and a JetStream replica.
TEST(MetricContract, PromqlChainsEvaluateAcrossAnUpgrade) {
  prom::StorageOptions options;
  options.retention = std::chrono::hours(24);
  prom::Storage storage(options);
  prom::LocalQueryEngine engine(storage);
  auto put = [&](std::string_view name, std::string_view pod, std::int64_t t_ms, double v,
                 std::pair<std::string_view, std::string_view> extra = {"", ""}) {
    prom::Labels labels{
        {prom::kMetricNameLabel, name}, {"namespace", "default"}, {"pod", pod}, extra};
    ASSERT_TRUE(storage.append(labels, t_ms, v).has_value());
  };
  for (std::int64_t t = 0; t <= 90'000; t += 15'000) {
    put("vllm:gpu_cache_usage_perc", "pod-a", t, 0.2);
    put("vllm:num_requests_waiting", "pod-a", t, 1);
    if (t <= 60'000) {
      put("vllm:gpu_cache_usage_perc", "pod-b", t, 0.3);
      put("vllm:num_requests_waiting", "pod-b", t, 2);
    } else {
      if (t == 75'000) {
        // The scraper marks what the restarted server no longer exports stale (Prometheus'
        // staleness markers), so its old queue is not added to the new one.
        put("vllm:gpu_cache_usage_perc", "pod-b", t, prom::stale_nan());
        put("vllm:num_requests_waiting", "pod-b", t, prom::stale_nan());
      }
      put("vllm:kv_cache_usage_perc", "pod-b", t, 0.6, {"engine", "0"});
      put("vllm:num_requests_waiting", "pod-b", t, 5, {"engine", "0"});
    }
    put("tgi_batch_current_max_tokens", "pod-t", t, 250);
    put("tgi_batch_max_total_tokens", "pod-t", t, 1000);
    put("tgi_queue_size", "pod-t", t, 3);
    put("kv_cache_utilization_perc", "pod-j", t, 40);
    put("jetstream_prefill_backlog_size", "pod-j", t, 4);
    put("vllm:time_to_first_token_seconds_bucket", "pod-a", t, double(t) / 1000.0, {"le", "0.5"});
    put("vllm:time_to_first_token_seconds_bucket", "pod-a", t, double(t) / 1000.0, {"le", "+Inf"});
  }
  core::Time at = core::from_unix_millis(90'000);
  auto by_pod = [&](const std::string& expr) {
    std::map<std::string, double> out;
    auto r = engine.instant_query(expr, at);
    EXPECT_TRUE(r.has_value()) << expr << ": " << (r ? "" : r.error().message);
    if (!r || r->type() != prom::ResultType::kVector) return out;
    for (const auto& s : r->vector()) out[std::string(s.metric.get("pod"))] = s.value;
    return out;
  };
  std::string fleet = "{namespace=\"default\",pod=~\"pod-.*\"}";
  std::map<std::string, double> kv = by_pod(signal_promql(Signal::kKvUsage, fleet, "pod"));
  EXPECT_EQ(kv, (std::map<std::string, double>{
                    {"pod-a", 0.2}, {"pod-b", 0.6}, {"pod-j", 0.4}, {"pod-t", 0.25}}));
  std::map<std::string, double> queue = by_pod(signal_promql(Signal::kQueue, fleet, "pod"));
  EXPECT_EQ(queue, (std::map<std::string, double>{
                       {"pod-a", 1}, {"pod-b", 5}, {"pod-j", 4}, {"pod-t", 3}}));
  // One replica, as the router's load signal asks (no grouping).
  auto one = by_pod(signal_promql(Signal::kKvUsage, "{namespace=\"default\",pod=\"pod-b\"}"));
  EXPECT_EQ(one, (std::map<std::string, double>{{"", 0.6}}));
  // A replica none of whose names exists: an empty answer, not 0.
  EXPECT_TRUE(by_pod(signal_promql(Signal::kRunning, "{pod=\"pod-j\"}")).empty());
  // Every rendering parses, Triton's label matchers and unit division included.
  for (Signal signal : {Signal::kTtft, Signal::kItl}) {
    by_pod(quantile_promql(signal, 0.95, fleet, "1m"));
  }
  auto ttft = by_pod(quantile_promql(Signal::kTtft, 0.5, fleet, "1m"));
  ASSERT_EQ(ttft.size(), 1u);
  EXPECT_DOUBLE_EQ(ttft.begin()->second, 0.25);  // half of the first bucket, 0–0.5 s
}

}  // namespace
}  // namespace llmscale::server
