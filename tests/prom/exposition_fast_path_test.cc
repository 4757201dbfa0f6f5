// The exposition parser's fast path (common lines, SSE2 or portable byte scanning) against its
// general path: the same documents, values, labels, warnings and errors, with the edge cases at
// the boundary between the two pinned (value forms, escapes, UTF-8 across 16-byte blocks, CRLF).
// This file also runs in prom_portable_tests, where the parser is built without SSE2.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "prom/exposition/byte_scan.h"
#include "prom/exposition/float_text.h"
#include "prom/exposition/parser.h"
#include "test_util.h"

namespace llmscale::prom {
namespace {

std::string bits(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return std::to_string(b);
}

// Everything parse_exposition reports, as text: values by their bits (NaN, -0).
std::string describe(const core::Result<ParsedExposition>& parsed) {
  if (!parsed) return "error: " + parsed.error().message;
  std::string out;
  for (const MetricFamily& f : parsed->families) {
    out += "family " + f.name + " " + std::to_string(static_cast<int>(f.type)) + " " + f.help +
           "|" + f.unit + "\n";
    for (const FamilySample& s : f.samples) {
      out += "  " + s.name;
      for (Label l : s.labels) {
        out += " ";
        out += l.name;
        out += "=";
        out += l.value;
      }
      out += " " + bits(s.value);
      if (s.timestamp_ms) out += " @" + std::to_string(*s.timestamp_ms);
      out += "\n";
    }
  }
  for (const Diagnostic& d : parsed->warnings) {
    out += "warning " + std::to_string(d.line) + " " + d.message + "\n";
  }
  return out;
}

// Parses `text` with and without the fast path; both must agree. Returns the fast path's result.
core::Result<ParsedExposition> parse_both(const std::string& text, ExpositionFormat format) {
  ParseOptions general;
  general.fast_path = false;
  auto slow = parse_exposition(text, format, general);
  auto fast = parse_exposition(text, format);
  EXPECT_EQ(describe(fast), describe(slow)) << "input: " << text;
  return fast;
}

double value_of(const std::string& value_text) {
  // The value at the very end of the input (no newline) and before a newline, CRLF, timestamp.
  double result = 0;
  bool first = true;
  for (const char* tail : {"\n", "", "\r\n", " 17\n"}) {
    std::string text = "m{a=\"b\"} " + value_text + tail;
    auto parsed = parse_both(text, ExpositionFormat::kPrometheusText);
    EXPECT_TRUE(parsed.has_value()) << text;
    if (!parsed) return 0;
    double v = parsed->families.at(0).samples.at(0).value;
    if (!first) EXPECT_EQ(bits(v), bits(result)) << text;
    result = v;
    first = false;
  }
  return result;
}

std::string error_of(const core::Result<ParsedExposition>& parsed) {
  return parsed ? "no error" : parsed.error().message;
}

std::string value_error(const std::string& value_text) {
  return error_of(parse_both("m " + value_text + "\n", ExpositionFormat::kPrometheusText));
}

TEST(ExpositionFastPathTest, PlainDecimalsMatchStrtod) {
  for (const char* text : {"0",
                           "7",
                           "7.0",
                           "131.0",
                           "0.25",
                           "0.4375",
                           "1700000000",
                           "123456789012345",
                           "1234567890123456",
                           "12345678901234567890",
                           "0.1",
                           "0.3",
                           "2.675",
                           "9007199254740993",
                           "0.0000000000000000000001",
                           "0.00000000000000000000001",
                           "1.0000000000000000000000",
                           "100000000000000000000000",
                           "000000000000000000001.5",
                           "5.",
                           ".5",
                           "4088.7",
                           "0.30000000000000004",
                           "8128902.0",
                           "1.7976931348623157"}) {
    EXPECT_EQ(bits(value_of(text)), bits(std::strtod(text, nullptr))) << text;
    std::string negative = std::string("-") + text;
    EXPECT_EQ(bits(value_of(negative)), bits(std::strtod(negative.c_str(), nullptr))) << negative;
  }
}

TEST(ExpositionFastPathTest, OtherValueFormsTakeTheGeneralPath) {
  EXPECT_EQ(value_of("1e3"), 1000);
  EXPECT_EQ(value_of("1.23456789e+08"), 123456789);
  EXPECT_EQ(value_of("+1.5E-3"), 0.0015);
  EXPECT_EQ(value_of("+7"), 7);
  EXPECT_TRUE(std::isnan(value_of("NaN")));
  EXPECT_EQ(value_of("+Inf"), INFINITY);
  EXPECT_EQ(value_of("-Inf"), -INFINITY);
  EXPECT_EQ(value_of("Infinity"), INFINITY);
  EXPECT_TRUE(std::signbit(value_of("-0")));
  EXPECT_TRUE(std::signbit(value_of("-0.0")));
  EXPECT_FALSE(std::signbit(value_of("0.0")));
  EXPECT_EQ(value_of("4.9e-324"), 4.9e-324);
  // Rejected as upstream (Go's ParseFloat without hex floats or '_'), on both paths.
  for (std::string bad : {"0x10", "0x1p3", "1_000", "1e400", "+NaN", "1.2.3", ".", "-", "--1"}) {
    EXPECT_EQ(value_error(bad), "line 1: invalid sample value \"" + bad + "\"");
  }
}

TEST(ExpositionFastPathTest, ParsePlainDecimalStopsWhereTheGeneralPathTakesOver) {
  double v = 0;
  std::string text = "131.0\n";
  EXPECT_EQ(parse_plain_decimal(text.data(), text.data() + text.size(), v), text.data() + 5);
  EXPECT_EQ(v, 131);
  text = "1e3";
  EXPECT_EQ(parse_plain_decimal(text.data(), text.data() + text.size(), v), text.data() + 1);
  text = "1234567890123456";  // 16 significant digits
  EXPECT_EQ(parse_plain_decimal(text.data(), text.data() + text.size(), v), nullptr);
  text = "0.00000000000000000000001";  // 23 fraction digits
  EXPECT_EQ(parse_plain_decimal(text.data(), text.data() + text.size(), v), nullptr);
  text = ".";
  EXPECT_EQ(parse_plain_decimal(text.data(), text.data() + text.size(), v), nullptr);
}

// A label value of `before` filler bytes then `piece`, for every offset across two 16-byte
// blocks, in both formats.
void check_piece_at_every_offset(const std::string& piece, bool valid) {
  for (std::size_t before = 0; before < 40; ++before) {
    for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
      std::string value = std::string(before, 'x') + piece + "yz";
      std::string text = "metric_name{a=\"1\",label=\"" + value + "\",z=\"2\"} 1\n";
      if (format == ExpositionFormat::kOpenMetrics) text += "# EOF\n";
      auto parsed = parse_both(text, format);
      EXPECT_EQ(parsed.has_value(), valid) << text;
    }
  }
}

TEST(ExpositionFastPathTest, Utf8AndEscapesAcrossBlockBoundaries) {
  check_piece_at_every_offset("caf\xc3\xa9", true);
  check_piece_at_every_offset("\xe2\x82\xac", true);
  check_piece_at_every_offset("\xf0\x9f\x98\x80", true);
  check_piece_at_every_offset("\xc3", false);          // truncated sequence
  check_piece_at_every_offset("\xff\xfe", false);      // never valid
  check_piece_at_every_offset("\xed\xa0\x80", false);  // surrogate
  check_piece_at_every_offset("\\\\", true);
  check_piece_at_every_offset("\\\"", true);
  check_piece_at_every_offset("\\n", true);
  check_piece_at_every_offset("a}b c,d=e{", true);
  check_piece_at_every_offset("\r", true);
  // Only OpenMetrics rejects \t; both paths agree on both formats (checked inside).
  for (std::size_t before = 0; before < 20; ++before) {
    std::string text = "m{l=\"" + std::string(before, 'x') + "\\t\"} 1\n";
    EXPECT_EQ(error_of(parse_both(text, ExpositionFormat::kPrometheusText)), "no error");
    EXPECT_EQ(error_of(parse_both(text + "# EOF\n", ExpositionFormat::kOpenMetrics)),
              "line 1: invalid escape sequence in label value");
  }
  // A newline inside a label value ends the line: unterminated.
  for (std::size_t before = 0; before < 20; ++before) {
    std::string text = "m{l=\"" + std::string(before, 'x') + "\nb\"} 1\n";
    EXPECT_EQ(error_of(parse_both(text, ExpositionFormat::kPrometheusText)),
              "line 1: unterminated label value");
  }
}

TEST(ExpositionFastPathTest, LinesAtTheEdgeOfTheCommonShape) {
  for (const char* text : {
           "a 1\n",
           "a 1",
           "a{} 1\n",
           "a{x=\"1\",} 1\n",
           "a{x=\"1\"} 1\r\n",
           "a{x=\"1\"} 1\r",
           "a{x=\"1\"}  1\n",
           "a {x=\"1\"} 1\n",
           "a{ x=\"1\"} 1\n",
           "a{x =\"1\"} 1\n",
           "a{x=\"1\" } 1\n",
           "a{x=\"1\"}\t1\n",
           "a{x=\"1\"} 1 1700000000000\n",
           "a{x=\"1\"} 1 \n",
           "a{x=\"1\"} 1\t\n",
           "a{x=\"1\",x=\"2\"} 1\n",
           "a{__name__=\"b\"} 1\n",
           "a{x=\"1\"y=\"2\"} 1\n",
           "a{x=\"1\"\n",
           "a{x=\"1\"}\n",
           "a{x=\"1\"}",
           "a{x=\"1\"",
           "a{x=\"",
           "a{x=",
           "a{x",
           "a{",
           "a{1x=\"1\"} 1\n",
           "a{x=\"1\"} 1 # {t=\"x\"} 2\n",
           "a:b:c_total{le=\"+Inf\"} 3\n",
           "_ 1\n",
           ": 1\n",
           "a{x=\"1\"} 1\n\n\nb 2\n",
           "a 1\nb 2\na 3\n",
           "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 1\nh 5\n",
           "a{x=\"1\"} 1\n# EOF\n",
           "a{x=\"1\"} 1\n# EOF\nb 1\n",
           "a{x=\"1\"} 1\n# EOF",
           "a{x=\"1\"} 1\r\n# EOF\r\n",
           "a{x=\"1\"} 1.5 1700000000.5\n# EOF\n",
           "a{x=\"1\"} 1 1700000000.5 # {t=\"x\"} 2\n# EOF\n",
       }) {
    for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
      parse_both(text, format);
    }
  }
}

TEST(ExpositionFastPathTest, LongNamesAndValuesSpanSeveralBlocks) {
  std::string text =
      std::string(51, 'a') + "{" + std::string(38, 'b') + "=\"" + std::string(46, 'c') + "\"} 1\n";
  auto parsed = parse_both(text, ExpositionFormat::kPrometheusText);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->families[0].samples[0].labels.get(std::string(38, 'b')), std::string(46, 'c'));
}

TEST(ExpositionFastPathTest, CrLfLineEndsAsBefore) {
  auto parsed =
      parse_both("# TYPE a gauge\r\na{x=\"1\"} 1\r\nb 2.5\r\n", ExpositionFormat::kPrometheusText);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->sample_count, 2u);
  EXPECT_EQ(parsed->families[1].samples[0].value, 2.5);
}

TEST(ExpositionFastPathTest, UpstreamFixturesAgree) {
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(testing::prom_test_path("testdata/fixtures"))) {
    if (entry.path().extension() != ".txt") continue;
    std::string text = testing::strip_elisions(testing::read_file(entry.path().string()));
    for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
      parse_both(text, format);
    }
    ++files;
  }
  EXPECT_GT(files, 5);
}

// Random lines built from the pieces the two paths treat differently.
RC_GTEST_PROP(ExpositionFastPathProperty, FastAndGeneralPathsAgree, ()) {
  auto piece = rc::gen::element<std::string>(
      "a", "m_total", "vllm:x", "{", "}", "=", "\"", ",", " ", "\t", "\\", "\\\"", "\\n", "\n",
      "\r\n", "x", "le", "0", "1.5", "-0", "NaN", "+Inf", "1e3", "0x1", "#", "# TYPE a gauge\n",
      "# EOF\n", "\xc3\xa9", "\xc3", "a{x=\"1\"} 2\n", "{le=\"0.5\"} 3\n", "170000000000");
  std::string text;
  int n = *rc::gen::inRange(1, 30);
  for (int i = 0; i < n; ++i) text += *piece;
  for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
    ParseOptions general;
    general.fast_path = false;
    RC_ASSERT(describe(parse_exposition(text, format)) ==
              describe(parse_exposition(text, format, general)));
  }
}

#if defined(__SSE2__)
// The SSE2 scanners against the portable ones, at every start and end across blocks.
RC_GTEST_PROP(ByteScanProperty, Sse2AndPortableAgree, ()) {
  auto byte = rc::gen::oneOf(rc::gen::element<char>('"', '\\', '\n', ':', '_', '0', '9', 'a', 'z',
                                                    'A', 'Z', '=', '{', '`', '@', '[', '/'),
                             rc::gen::arbitrary<char>());
  std::string text = *rc::gen::container<std::string>(byte);
  for (std::size_t start = 0; start <= text.size(); ++start) {
    const char* p = text.data() + start;
    const char* end = text.data() + text.size();
    RC_ASSERT(scan::sse2::skip_name_chars(p, end) == scan::portable::skip_name_chars(p, end));
    RC_ASSERT(scan::sse2::skip_label_chars(p, end) == scan::portable::skip_label_chars(p, end));
    scan::ValueStop a = scan::sse2::find_value_stop(p, end);
    scan::ValueStop b = scan::portable::find_value_stop(p, end);
    RC_ASSERT(a.stop == b.stop);
    RC_ASSERT(a.high == b.high);
    std::size_t n = text.size() - start;
    RC_ASSERT(scan::equal_bytes(p, text.data(), n) == (std::memcmp(p, text.data(), n) == 0));
  }
}
#endif

TEST(ByteScanTest, ScannersStopAtTheFirstByteOutsideTheClass) {
  std::string text = "vllm:num_requests_running_with_a_long_name{engine=\"0\"} 1\n";
  const char* end = text.data() + text.size();
  EXPECT_EQ(scan::active::skip_name_chars(text.data(), end) - text.data(), 42);
  EXPECT_EQ(scan::active::skip_label_chars(text.data(), end) - text.data(), 4);
  std::string value = "0123456789abcdef\xc3\xa9xyz\"rest";
  scan::ValueStop stop = scan::active::find_value_stop(value.data(), value.data() + value.size());
  EXPECT_EQ(stop.stop - value.data(), 21);
  EXPECT_TRUE(stop.high);
  stop = scan::active::find_value_stop(value.data(), value.data() + 16);
  EXPECT_EQ(stop.stop, value.data() + 16);
  EXPECT_FALSE(stop.high);
}

}  // namespace
}  // namespace llmscale::prom
