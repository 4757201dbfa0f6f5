// Exposition formats: writing Prometheus text 0.0.4 and OpenMetrics 1.0.
//
// ExpositionWriter appends HELP/TYPE/UNIT lines and samples to a string with the format's
// escaping (label values: \\ \" \n; HELP: \\ \n, and \" in OpenMetrics). Values print like Go's
// client (strconv 'g': "1", "0.25", "1e+06", "+Inf") or, with ValueStyle::kPython, like Python's
// prometheus_client ("1.0", "8.128902e+06"), which vLLM, SGLang and JetStream use.
// write_families() renders parsed families back (the round-trip partner of parse_exposition).
// For live metrics with cheap updates use MetricRegistry (metrics_registry.h).
// Not thread-safe; the output string is owned by the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prom/exposition/labels.h"
#include "prom/exposition/parser.h"

namespace llmscale::prom {

enum class ValueStyle { kGo, kPython };

class ExpositionWriter {
 public:
  ExpositionWriter(std::string& out, ExpositionFormat format, ValueStyle style = ValueStyle::kGo)
      : out_(out), format_(format), style_(style) {}

  ExpositionFormat format() const { return format_; }

  void help(std::string_view family, std::string_view text);
  void type(std::string_view family, MetricType type);
  // OpenMetrics only; ignored for the text format.
  void unit(std::string_view family, std::string_view unit);
  // Labels print in the order given; `extra` (e.g. le="0.5") prints last when it has a name.
  void sample(std::string_view name, std::span<const Label> labels, double value,
              std::optional<std::int64_t> timestamp_ms = std::nullopt, Label extra = {});
  // A sample line in two parts: its series `name{labels}` (the text a scrape cache keys by,
  // ExpositionParser::series()), then " value[ timestamp]\n".
  void series(std::string_view name, std::span<const Label> labels, Label extra = {});
  void value_and_timestamp(double value, std::optional<std::int64_t> timestamp_ms = std::nullopt);
  // OpenMetrics "# EOF"; nothing for the text format.
  void eof();

  void append_value(double value);

 private:
  std::string& out_;
  ExpositionFormat format_;
  ValueStyle style_;
};

// Family name as OpenMetrics wants it on TYPE/HELP lines: counters drop a "_total" suffix.
std::string_view openmetrics_family_name(std::string_view name, MetricType type);

// Renders families (HELP, TYPE, UNIT, samples in order) and, for OpenMetrics, "# EOF".
std::string write_families(const std::vector<MetricFamily>& families, ExpositionFormat format,
                           ValueStyle style = ValueStyle::kGo);

}  // namespace llmscale::prom
