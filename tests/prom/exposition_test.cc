// Exposition parser: real fixtures, syntax edge cases, OpenMetrics rules, family diagnostics,
// errors with line numbers.
#include "prom/exposition/parser.h"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "test_util.h"

namespace llmscale::prom {
namespace {

using testing::prom_test_path;
using testing::read_file;
using testing::strip_elisions;

ParsedExposition parse_ok(const std::string& text,
                          ExpositionFormat format = ExpositionFormat::kPrometheusText) {
  auto parsed = parse_exposition(text, format);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : ParsedExposition{};
}

std::string parse_error(const std::string& text,
                        ExpositionFormat format = ExpositionFormat::kPrometheusText,
                        ParseOptions options = {}) {
  auto parsed = parse_exposition(text, format, options);
  if (parsed) return "no error";
  return parsed.error().message;
}

const FamilySample* find_sample(const ParsedExposition& p, std::string_view name,
                                std::string_view label, std::string_view value) {
  for (const auto& f : p.families) {
    for (const auto& s : f.samples) {
      if (s.name == name && (label.empty() || s.labels.get(label) == value)) return &s;
    }
  }
  return nullptr;
}

TEST(ExpositionFixturesTest, EveryUpstreamFixtureParsesWithoutWarnings) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(prom_test_path("testdata/fixtures"))) {
    if (entry.path().extension() != ".txt") continue;
    ++files;
    std::string text = strip_elisions(read_file(entry.path().string()));
    auto parsed = parse_exposition(text, ExpositionFormat::kPrometheusText);
    ASSERT_TRUE(parsed.has_value()) << entry.path() << ": " << parsed.error().message;
    EXPECT_GT(parsed->sample_count, 0u) << entry.path();
    for (const auto& w : parsed->warnings) {
      ADD_FAILURE() << entry.path() << ": line " << w.line << ": " << w.message;
    }
  }
  EXPECT_EQ(files, 9);
}

TEST(ExpositionFixturesTest, ElisionLinesAreGarbageToTheParser) {
  std::string text = read_file(prom_test_path("testdata/fixtures/dcgm-readme-docker-excerpt.txt"));
  EXPECT_EQ(parse_error(text), "line 7: expected metric name, got \"...\"");
}

TEST(ExpositionFixturesTest, SglangValuesAndHistograms) {
  auto p = parse_ok(
      read_file(prom_test_path("testdata/fixtures/sglang-v0.4-docs-production-metrics.txt")));
  const auto* s = find_sample(p, "sglang:prompt_tokens_total", "", "");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, 8.128902e+06);
  EXPECT_EQ(s->labels.get("model_name"), "meta-llama/Llama-3.1-8B-Instruct");
  s = find_sample(p, "sglang:func_latency_seconds_bucket", "le", "0.07500000000000001");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, 14006.0);
  // _sum first, then buckets, then _count: one histogram family.
  const MetricFamily* ttft = nullptr;
  for (const auto& f : p.families) {
    if (f.name == "sglang:time_to_first_token_seconds") ttft = &f;
  }
  ASSERT_NE(ttft, nullptr);
  EXPECT_EQ(ttft->type, MetricType::kHistogram);
  EXPECT_EQ(ttft->samples.size(), 23u);
  EXPECT_EQ(ttft->samples.front().name, "sglang:time_to_first_token_seconds_sum");
  EXPECT_EQ(ttft->samples.back().name, "sglang:time_to_first_token_seconds_count");
  EXPECT_EQ(p.families.size(), 12u);
}

TEST(ExpositionFixturesTest, HistogramFamilyWhoseNameEndsInTotal) {
  auto p = parse_ok(strip_elisions(
      read_file(prom_test_path("testdata/fixtures/vllm-docs-usage-metrics-excerpt.txt"))));
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].name, "vllm:iteration_tokens_total");
  EXPECT_EQ(p.families[0].type, MetricType::kHistogram);
  EXPECT_EQ(p.families[0].samples.size(), 9u);
}

TEST(ExpositionFixturesTest, DcgmSpacesAfterCommasAndInt64Sentinel) {
  auto p = parse_ok(
      strip_elisions(read_file(prom_test_path("testdata/fixtures/dcgm-readme-k8s-excerpt.txt"))));
  const auto* s = find_sample(p, "DCGM_FI_DEV_MEMORY_TEMP", "gpu", "0");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, 9223372036854775794.0);
  EXPECT_EQ(s->labels.get("UUID"), "GPU-604ac76c-d9cf-fef3-62e9-d92044ab6e52");
  // Empty values are absent labels.
  EXPECT_FALSE(s->labels.has("pod"));
  EXPECT_EQ(p.families.size(), 3u);
}

TEST(ExpositionParserTest, StreamingAccessorsAndSeriesKey) {
  std::string text =
      "# HELP vllm:num_requests_waiting Number of requests waiting.\n"
      "# TYPE vllm:num_requests_waiting gauge\n"
      "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"} 3 1700000000123\n";
  ExpositionParser p(text, ExpositionFormat::kPrometheusText);
  ASSERT_EQ(p.next(), ExpositionParser::Step::kEntry);
  EXPECT_EQ(p.kind(), ExpositionParser::Kind::kHelp);
  EXPECT_EQ(p.family(), "vllm:num_requests_waiting");
  EXPECT_EQ(p.help(), "Number of requests waiting.");
  ASSERT_EQ(p.next(), ExpositionParser::Step::kEntry);
  EXPECT_EQ(p.kind(), ExpositionParser::Kind::kType);
  EXPECT_EQ(p.type(), MetricType::kGauge);
  ASSERT_EQ(p.next(), ExpositionParser::Step::kEntry);
  EXPECT_EQ(p.kind(), ExpositionParser::Kind::kSample);
  EXPECT_EQ(p.line(), 3u);
  EXPECT_EQ(p.series(), "vllm:num_requests_waiting{engine=\"0\",model_name=\"m\"}");
  EXPECT_EQ(p.name(), "vllm:num_requests_waiting");
  EXPECT_EQ(p.family(), "vllm:num_requests_waiting");
  EXPECT_EQ(p.type(), MetricType::kGauge);
  auto labels = p.labels();
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].name, "engine");
  EXPECT_EQ(labels[1].value, "m");
  EXPECT_EQ(p.value(), 3);
  EXPECT_EQ(p.timestamp_ms(), 1700000000123);
  EXPECT_EQ(p.next(), ExpositionParser::Step::kEnd);
  EXPECT_EQ(p.next(), ExpositionParser::Step::kEnd);
}

TEST(ExpositionParserTest, EscapesInLabelValuesAndHelp) {
  std::string text =
      "# HELP m A \\\\ backslash,\\na newline and a \"quote\".\n"
      "m{path=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\",odd=\"\\t\"} 1\n";
  auto p = parse_ok(text);
  ASSERT_EQ(p.families.size(), 1u);
  EXPECT_EQ(p.families[0].help, "A \\ backslash,\na newline and a \"quote\".");
  const auto& s = p.families[0].samples[0];
  EXPECT_EQ(s.labels.get("path"), "C:\\dir");
  EXPECT_EQ(s.labels.get("q"), "say \"hi\"");
  EXPECT_EQ(s.labels.get("nl"), "a\nb");
  // Prometheus' text parser keeps unknown escapes verbatim.
  EXPECT_EQ(s.labels.get("odd"), "\\t");
}

TEST(ExpositionParserTest, SpecialValuesAndNumberForms) {
  auto p = parse_ok(
      "a NaN\nb +Inf\nc -Inf\nd 1e3\ne -0.5\nf .5\ng 7\nh Inf\ni +1.5E-3\nj 9223372036854775807\n");
  ASSERT_EQ(p.sample_count, 10u);
  auto v = [&](std::string_view name) { return find_sample(p, name, "", "")->value; };
  EXPECT_TRUE(std::isnan(v("a")));
  EXPECT_EQ(v("b"), INFINITY);
  EXPECT_EQ(v("c"), -INFINITY);
  EXPECT_EQ(v("d"), 1000);
  EXPECT_EQ(v("e"), -0.5);
  EXPECT_EQ(v("f"), 0.5);
  EXPECT_EQ(v("g"), 7);
  EXPECT_EQ(v("h"), INFINITY);
  EXPECT_EQ(v("i"), 0.0015);
  EXPECT_EQ(v("j"), 9223372036854775807.0);
}

TEST(ExpositionParserTest, WhitespaceCommentsAndEmptyLabelSets) {
  auto p = parse_ok(
      "\n   \n# just a comment\n#nospace comment\n  a{} 1\nb { x = \"1\" , } 2  \nc\t3\t4\n");
  ASSERT_EQ(p.sample_count, 3u);
  EXPECT_EQ(find_sample(p, "b", "x", "1")->value, 2);
  EXPECT_EQ(find_sample(p, "c", "", "")->timestamp_ms, 4);
}

TEST(ExpositionParserTest, CrLfLineEndsAreTolerated) {
  auto p = parse_ok("# TYPE a gauge\r\na{x=\"1\"} 1\r\n");
  EXPECT_EQ(p.sample_count, 1u);
}

TEST(ExpositionParserTest, ErrorsCarryTheLine) {
  EXPECT_EQ(parse_error("a 1\nb\n"), "line 2: expected value after metric b");
  EXPECT_EQ(parse_error("a 1\nb x\n"), "line 2: invalid sample value \"x\"");
  EXPECT_EQ(parse_error("a{x=\"1} 2\n"), "line 1: unterminated label value");
  EXPECT_EQ(parse_error("a{x=1} 2\n"),
            "line 1: expected '\"' to start the label value, got \"1}\"");
  EXPECT_EQ(parse_error("a{1x=\"1\"} 2\n"), "line 1: expected label name, got \"1x=\"1\"}\"");
  EXPECT_EQ(parse_error("a{x=\"1\" y=\"2\"} 2\n"),
            "line 1: expected ',' or '}' after label value, got \"y=\"2\"}\"");
  EXPECT_EQ(parse_error("a{x=\"1\",x=\"2\"} 2\n"), "line 1: duplicate label name \"x\"");
  EXPECT_EQ(parse_error("a 1 12.5\n"), "line 1: invalid timestamp \"12.5\"");
  EXPECT_EQ(parse_error("a 1 2 3\n"), "line 1: unexpected text after timestamp: \"3\"");
  EXPECT_EQ(parse_error("# TYPE a gauges\n"), "line 1: invalid metric type \"gauges\"");
  EXPECT_EQ(parse_error("# TYPE 1a gauge\n"),
            "line 1: expected metric name after TYPE, got \"1a\"");
  EXPECT_EQ(parse_error("a 0x10\n"), "line 1: invalid sample value \"0x10\"");
  EXPECT_EQ(parse_error("a 1_000\n"), "line 1: invalid sample value \"1_000\"");
  EXPECT_EQ(parse_error("a 1e400\n"), "line 1: invalid sample value \"1e400\"");
  EXPECT_EQ(parse_error("a{__name__=\"b\"} 1\n"),
            "line 1: label name __name__ is not allowed inside the label set");
}

TEST(ExpositionParserTest, RejectsInvalidUtf8) {
  EXPECT_EQ(parse_error("a{x=\"\xff\xfe\"} 1\n"), "line 1: invalid UTF-8 label value");
  // Found by the fuzzer: a byte after a backslash is kept verbatim, so it is checked too.
  EXPECT_EQ(parse_error("a{x=\"\\\xa2\"} 1\n"), "line 1: invalid UTF-8 label value");
  EXPECT_EQ(parse_error("# HELP a bad \xc3\x28 text\na 1\n"),
            "line 1: HELP text is not valid UTF-8");
  // Valid multi-byte text is fine.
  auto p = parse_ok("# HELP a caf\xc3\xa9\na{x=\"\xe2\x82\xac\"} 1\n");
  EXPECT_EQ(p.families[0].samples[0].labels.get("x"), "\xe2\x82\xac");
}

TEST(ExpositionParserTest, FamilyDiagnosticsAreWarningsOrStrictErrors) {
  std::string duplicate_type = "# TYPE a gauge\n# TYPE a gauge\na 1\n";
  auto p = parse_ok(duplicate_type);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].line, 2u);
  EXPECT_EQ(p.warnings[0].message, "second TYPE line for metric family a");
  EXPECT_EQ(
      parse_error(duplicate_type, ExpositionFormat::kPrometheusText, {.strict_families = true}),
      "line 2: second TYPE line for metric family a");

  p = parse_ok("a 1\n# TYPE a gauge\n");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].message, "TYPE line for metric family a after its samples");

  p = parse_ok("a{x=\"1\"} 1\nb 2\na{x=\"2\"} 3\n");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].line, 3u);
  EXPECT_EQ(p.warnings[0].message,
            "samples of metric family a are not contiguous (earlier samples end at line 1)");
  // Both samples still land in one family.
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].samples.size(), 2u);

  p = parse_ok("# HELP a x\n# HELP a y\na 1\n");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0].message, "second HELP line for metric family a");

  // Metadata for every family first, then samples in order (DCGM's README): no warnings.
  p = parse_ok("# TYPE a gauge\n# TYPE b gauge\na 1\nb 2\n");
  EXPECT_TRUE(p.warnings.empty());
}

TEST(ExpositionParserTest, HistogramAndSummarySuffixesResolveToTheirFamily) {
  auto p = parse_ok(
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\nh_created 1.7e9\n"
      "# TYPE s summary\n"
      "s{quantile=\"0.5\"} 1\ns_sum 2\ns_count 3\n"
      "# TYPE c counter\nc_total 4\n"
      "h_bucket_total 5\n");
  ASSERT_EQ(p.families.size(), 4u);
  EXPECT_EQ(p.families[0].samples.size(), 5u);
  EXPECT_EQ(p.families[1].samples.size(), 3u);
  EXPECT_EQ(p.families[2].name, "c");
  EXPECT_EQ(p.families[2].samples.size(), 1u);
  EXPECT_EQ(p.families[3].name, "h_bucket_total");
  EXPECT_TRUE(p.warnings.empty());
}

TEST(ExpositionOpenMetricsTest, ParsesUnitsCountersTimestampsAndSkipsExemplars) {
  std::string text =
      "# TYPE request_latency_seconds histogram\n"
      "# UNIT request_latency_seconds seconds\n"
      "# HELP request_latency_seconds Latency with \\\"quotes\\\".\n"
      "request_latency_seconds_bucket{le=\"0.5\"} 3 # {trace_id=\"abc\"} 0.43 1700000000.5\n"
      "request_latency_seconds_bucket{le=\"+Inf\"} 4\n"
      "request_latency_seconds_sum 2.5 1700000000.25\n"
      "request_latency_seconds_count 4\n"
      "request_latency_seconds_created 1700000000\n"
      "# TYPE tokens counter\n"
      "tokens_total{model=\"m\"} 17 # {} 1\n"
      "tokens_created{model=\"m\"} 1.6e9\n"
      "# EOF\n";
  auto p = parse_ok(text, ExpositionFormat::kOpenMetrics);
  ASSERT_EQ(p.families.size(), 2u);
  EXPECT_EQ(p.families[0].unit, "seconds");
  EXPECT_EQ(p.families[0].help, "Latency with \"quotes\".");
  EXPECT_EQ(p.families[0].samples.size(), 5u);
  EXPECT_EQ(p.families[0].samples[2].timestamp_ms, 1700000000250);
  EXPECT_EQ(p.families[1].name, "tokens");
  EXPECT_EQ(p.families[1].samples.size(), 2u);
  EXPECT_TRUE(p.warnings.empty());
}

TEST(ExpositionOpenMetricsTest, StructuralErrors) {
  auto om = ExpositionFormat::kOpenMetrics;
  EXPECT_EQ(parse_error("a 1\n", om), "line 1: data does not end with # EOF");
  EXPECT_EQ(parse_error("a 1\n# EOF\nb 2\n", om), "line 3: unexpected data after # EOF");
  EXPECT_EQ(parse_error("a 1\n\n# EOF\n", om),
            "line 2: blank lines are not allowed in OpenMetrics");
  EXPECT_EQ(parse_error("# random comment\n# EOF\n", om),
            "line 1: invalid comment: OpenMetrics allows only HELP, TYPE, UNIT and EOF");
  EXPECT_EQ(parse_error("a{x=\"\\t\"} 1\n# EOF\n", om),
            "line 1: invalid escape sequence in label value");
  EXPECT_EQ(parse_error("a 1 # {x=\"1\"}\n# EOF\n", om),
            "line 1: expected value after exemplar labels");
  EXPECT_EQ(parse_error("# TYPE a untyped\n# EOF\n", om),
            "line 1: invalid metric type \"untyped\"");
  EXPECT_EQ(parse_error("a 1 NaN\n# EOF\n", om), "line 1: invalid timestamp \"NaN\"");
  EXPECT_EQ(parse_error("a 1 1e300\n# EOF\n", om), "line 1: invalid timestamp \"1e300\"");
  EXPECT_EQ(parse_error("# EOF\n", om), "no error");
}

TEST(ExpositionFormatTest, ContentNegotiation) {
  EXPECT_EQ(exposition_format_for_content_type(
                "application/openmetrics-text; version=1.0.0; charset=utf-8"),
            ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(exposition_format_for_content_type("text/plain; version=0.0.4"),
            ExpositionFormat::kPrometheusText);
  EXPECT_EQ(exposition_format_for_content_type(""), ExpositionFormat::kPrometheusText);
}

}  // namespace
}  // namespace llmscale::prom
