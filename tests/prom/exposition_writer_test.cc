// Exposition writer and metric registry: golden output with the edge cases pinned, value
// formats, handle semantics, and the parse(write(x)) == x round trip as a property.
#include "prom/exposition/writer.h"

#include <cmath>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "golden_util.h"
#include "prom/exposition/float_text.h"
#include "prom/exposition/parser.h"
#include "prom/exposition/registry.h"

namespace llmscale::prom {
namespace {

// One registry with every shape the servers and our own /metrics emit.
MetricRegistry& edge_case_registry(ValueStyle style) {
  static MetricRegistry* registries[2] = {nullptr, nullptr};
  MetricRegistry*& r = registries[style == ValueStyle::kPython ? 1 : 0];
  if (r != nullptr) return *r;
  r = new MetricRegistry(style);
  // A gauge with a colon name and two labels (vLLM V1 shape).
  auto* waiting =
      r->add_gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.",
                   {"model_name", "engine"})
          .value();
  waiting->with({"meta-llama/Llama-3.1-8B-Instruct", "0"}).set(3);
  waiting->with({"meta-llama/Llama-3.1-8B-Instruct", "1"}).set(0);
  // A counter without labels; a big value (Go prints 1.234567e+06, Python 1.234567e+06).
  r->add_counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.")
      .value()
      ->with({})
      .inc(1234567);
  // A histogram without labels: `le` is the only label.
  auto* plain =
      r->add_histogram("tgi_request_duration", "Request duration in seconds", {}, {0.1, 1, 10})
          .value();
  plain->with({}).observe(0.05);
  plain->with({}).observe(0.1);  // le is inclusive
  plain->with({}).observe(7);
  plain->with({}).observe(100);
  // A histogram with labels: `le` comes last; a family name that ends in _total.
  auto* tokens = r->add_histogram("vllm:iteration_tokens_total",
                                  "Histogram of number of tokens per engine_step.",
                                  {"model_name", "engine"}, {1, 8, 16})
                     .value();
  tokens->with({"m", "0"}).observe(8);
  // A gauge with a real label named `le` (legal outside histograms).
  r->add_gauge("queue_limit", "A gauge whose label happens to be called le.", {"le"})
      .value()
      ->with({"0.5"})
      .set(1);
  // A summary (TGI renders bucket-less histograms as summaries).
  auto* skipped = r->add_summary("tgi_request_skipped_tokens", "Speculated tokens per request", {},
                                 {0, 0.5, 1}, 16)
                      .value();
  for (double v : {1.0, 2.0, 3.0, 4.0}) skipped->with({}).observe(v);
  // Escaping: backslash, quote and newline in a label value; backslash and newline in HELP.
  r->add_gauge("escape_test", "Help with a \\ backslash and a\nnewline and \"quotes\".", {"path"})
      .value()
      ->with({"C:\\dir \"x\"\nline2"})
      .set(-0.25);
  // Special values and an empty label value.
  auto* special = r->add_gauge("special_values", "NaN and infinities.", {"kind", "empty"}).value();
  special->with({"nan", ""}).set(std::nan(""));
  special->with({"pinf", ""}).set(INFINITY);
  special->with({"ninf", ""}).set(-INFINITY);
  special->with({"small", ""}).set(1.5e-7);
  return *r;
}

TEST(ExpositionWriterGoldenTest, GoStyleText) {
  testing::expect_golden(
      "registry_text_go.txt",
      edge_case_registry(ValueStyle::kGo).text(ExpositionFormat::kPrometheusText));
}

TEST(ExpositionWriterGoldenTest, PythonStyleText) {
  testing::expect_golden(
      "registry_text_python.txt",
      edge_case_registry(ValueStyle::kPython).text(ExpositionFormat::kPrometheusText));
}

TEST(ExpositionWriterGoldenTest, OpenMetrics) {
  testing::expect_golden("registry_openmetrics.txt",
                         edge_case_registry(ValueStyle::kGo).text(ExpositionFormat::kOpenMetrics));
}

TEST(ExpositionWriterGoldenTest, OurOutputParsesBackInBothFormats) {
  for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
    for (auto style : {ValueStyle::kGo, ValueStyle::kPython}) {
      std::string text = edge_case_registry(style).text(format);
      auto parsed = parse_exposition(text, format, {.strict_families = true});
      ASSERT_TRUE(parsed.has_value()) << parsed.error().message << "\n" << text;
      EXPECT_EQ(parsed->families.size(), 8u);
      for (const auto& f : parsed->families) {
        if (f.name == "escape_test") {
          EXPECT_EQ(f.help, "Help with a \\ backslash and a\nnewline and \"quotes\".");
          EXPECT_EQ(f.samples[0].labels.get("path"), "C:\\dir \"x\"\nline2");
        }
        if (f.name == "tgi_request_duration") {
          ASSERT_EQ(f.samples.size(), 6u);
          EXPECT_EQ(f.samples[1].labels.get("le"), style == ValueStyle::kGo ? "1" : "1.0");
          EXPECT_EQ(f.samples[1].value, 2);  // 0.05 and 0.1 (inclusive bound)
          EXPECT_EQ(f.samples[3].value, 4);  // +Inf
          EXPECT_EQ(f.samples[5].value, 4);  // _count equals the +Inf bucket
        }
      }
    }
  }
}

TEST(FloatTextTest, GoAndPythonFormats) {
  EXPECT_EQ(format_go_float(1), "1");
  EXPECT_EQ(format_go_float(0.25), "0.25");
  EXPECT_EQ(format_go_float(1e6), "1e+06");
  EXPECT_EQ(format_go_float(123456), "123456");
  EXPECT_EQ(format_go_float(1234567), "1.234567e+06");
  EXPECT_EQ(format_go_float(0.0001), "0.0001");
  EXPECT_EQ(format_go_float(0.00001), "1e-05");
  EXPECT_EQ(format_go_float(0.07500000000000001), "0.07500000000000001");
  EXPECT_EQ(format_go_float(-2.5e300), "-2.5e+300");
  EXPECT_EQ(format_go_float(INFINITY), "+Inf");
  EXPECT_EQ(format_go_float(-INFINITY), "-Inf");
  EXPECT_EQ(format_go_float(std::nan("")), "NaN");
  EXPECT_EQ(format_go_float_fixed(1e6), "1000000");
  EXPECT_EQ(format_go_float_fixed(1.5e-7), "0.00000015");
  EXPECT_EQ(format_go_float_fixed(1e21), "1000000000000000000000");
  auto py = [](double v) {
    std::string out;
    append_python_float(out, v);
    return out;
  };
  EXPECT_EQ(py(1), "1.0");
  EXPECT_EQ(py(0), "0.0");
  EXPECT_EQ(py(-1), "-1.0");
  EXPECT_EQ(py(0.04166666666666663), "0.04166666666666663");
  EXPECT_EQ(py(8128902), "8.128902e+06");  // SGLang fixture
  EXPECT_EQ(py(2.3518979474117756e+06), "2.3518979474117756e+06");
  EXPECT_EQ(py(866964.5791549598), "866964.5791549598");
  EXPECT_EQ(py(1.7382173358407154e+09), "1.7382173358407154e+09");  // vLLM fixture
  EXPECT_EQ(py(1e-5), "1e-05");
  EXPECT_EQ(py(1e16), "1e+16");
  EXPECT_EQ(py(1234567890123.0), "1.234567890123e+012");  // prometheus_client's "e+0" quirk
}

TEST(FloatTextTest, ParsesLikeGo) {
  EXPECT_EQ(parse_prom_float("1"), 1.0);
  EXPECT_EQ(parse_prom_float("-Inf"), -INFINITY);
  EXPECT_EQ(parse_prom_float("+inf"), INFINITY);
  EXPECT_EQ(parse_prom_float("Infinity"), INFINITY);
  EXPECT_TRUE(std::isnan(*parse_prom_float("nan")));
  EXPECT_FALSE(parse_prom_float("+NaN"));
  EXPECT_FALSE(parse_prom_float("1,0"));
  EXPECT_FALSE(parse_prom_float("0x1p3"));
  EXPECT_FALSE(parse_prom_float(""));
  EXPECT_FALSE(parse_prom_float("-"));
  EXPECT_EQ(parse_prom_float("1e-320"), 1e-320);
}

TEST(MetricRegistryTest, RejectsBadRegistrations) {
  MetricRegistry r;
  EXPECT_TRUE(r.add_gauge("ok", "h").has_value());
  EXPECT_EQ(r.add_gauge("ok", "h").error().message, "metric family \"ok\" is already registered");
  EXPECT_EQ(r.add_gauge("1bad", "h").error().message, "invalid metric name \"1bad\"");
  EXPECT_EQ(r.add_gauge("g", "h", {"__x"}).error().message, "metric g: invalid label name \"__x\"");
  EXPECT_EQ(r.add_gauge("g2", "h", {"a", "a"}).error().message,
            "metric g2: duplicate label name \"a\"");
  EXPECT_EQ(r.add_histogram("h", "h", {"le"}, {1}).error().message,
            "metric h: label name \"le\" is reserved for this metric type");
  EXPECT_EQ(r.add_summary("s", "h", {"quantile"}).error().message,
            "metric s: label name \"quantile\" is reserved for this metric type");
  EXPECT_EQ(r.add_histogram("h2", "h", {}, {2, 1}).error().message,
            "histogram h2: bucket bounds must be strictly increasing");
}

TEST(MetricRegistryTest, HandlesAreStableAndUpdatesAreAtomic) {
  MetricRegistry r;
  auto* c = r.add_counter("requests_total", "Requests.", {"code"}).value();
  Counter& ok = c->with({"200"});
  EXPECT_EQ(&ok, &c->with({"200"}));
  auto* h = r.add_histogram("latency_seconds", "Latency.", {}, {0.5}).value();
  Histogram& hist = h->with({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        ok.inc();
        hist.observe(i % 2 == 0 ? 0.1 : 1.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.value(), 40000);
  EXPECT_EQ(hist.count(), 40000u);
  EXPECT_EQ(hist.cumulative_counts()[0], 20000u);
  EXPECT_NEAR(hist.sum(), 20000 * 0.1 + 20000 * 1.0, 1e-6);
  ok.inc(-5);  // ignored: counters never go down
  EXPECT_EQ(ok.value(), 40000);
}

// Random families of every type, written and parsed back: identical names, labels and values.
RC_GTEST_PROP(ExpositionRoundTripProperty, ParseOfWriteIsIdentity, ()) {
  auto label_name = rc::gen::element<std::string>("a", "b", "model_name", "engine", "le_x", "z_9");
  auto label_value =
      rc::gen::oneOf(rc::gen::element<std::string>("", "x", "with space", "q\"uote", "back\\slash",
                                                   "new\nline", "caf\xc3\xa9", "{}=,"),
                     rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~')));
  auto value = rc::gen::oneOf(
      rc::gen::arbitrary<double>(),
      rc::gen::element<double>(0.0, 1.0, -1.0, 0.1, 1e-300, 1e300, INFINITY, -INFINITY, NAN));
  auto format =
      *rc::gen::element(ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics);
  auto style = *rc::gen::element(ValueStyle::kGo, ValueStyle::kPython);
  int family_count = *rc::gen::inRange(1, 5);
  std::vector<MetricFamily> families;
  for (int f = 0; f < family_count; ++f) {
    MetricFamily family;
    family.name = "fam" + std::to_string(f) + *rc::gen::element<std::string>("", ":x", "_y");
    family.type = *rc::gen::element(MetricType::kGauge, MetricType::kUnknown, MetricType::kCounter);
    family.help = *rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~'));
    int samples = *rc::gen::inRange(1, 4);
    for (int s = 0; s < samples; ++s) {
      FamilySample sample;
      sample.name = family.type == MetricType::kCounter ? family.name + "_total" : family.name;
      std::vector<std::pair<std::string, std::string>> pairs;
      int n = *rc::gen::inRange(0, 4);
      for (int i = 0; i < n; ++i) pairs.emplace_back(*label_name, *label_value);
      pairs.emplace_back("i", std::to_string(s));  // distinct series
      sample.labels = Labels::from_pairs(pairs);
      sample.value = *value;
      if (*rc::gen::arbitrary<bool>())
        sample.timestamp_ms = *rc::gen::inRange<std::int64_t>(0, 1LL << 42);
      family.samples.push_back(sample);
    }
    families.push_back(family);
  }
  std::string text = write_families(families, format, style);
  auto parsed = parse_exposition(text, format, {.strict_families = true});
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(parsed->families.size() == families.size());
  for (std::size_t f = 0; f < families.size(); ++f) {
    const auto& want = families[f];
    const auto& got = parsed->families[f];
    RC_ASSERT(got.type == want.type);
    // The text format's parsers (expfmt and ours) skip blanks before the HELP text.
    std::string_view want_help = want.help;
    if (format == ExpositionFormat::kPrometheusText) {
      while (!want_help.empty() && want_help.front() == ' ') want_help.remove_prefix(1);
    }
    RC_ASSERT(got.help == want_help);
    RC_ASSERT(got.samples.size() == want.samples.size());
    for (std::size_t s = 0; s < want.samples.size(); ++s) {
      RC_ASSERT(got.samples[s].name == want.samples[s].name);
      RC_ASSERT(got.samples[s].labels == want.samples[s].labels);
      double a = got.samples[s].value, b = want.samples[s].value;
      RC_ASSERT((std::isnan(a) && std::isnan(b)) || a == b);
      RC_ASSERT(got.samples[s].timestamp_ms == want.samples[s].timestamp_ms);
    }
  }
}

}  // namespace
}  // namespace llmscale::prom
