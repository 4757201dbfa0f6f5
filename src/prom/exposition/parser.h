// Exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0 (parsing).
//
// ExpositionParser is a zero-copy pull parser in the manner of Prometheus' textparse: next()
// moves to the next HELP/TYPE/UNIT line or sample and the accessors return views into the input
// (label values with escapes are unescaped into a scratch buffer that lives until the next call).
// series() is the raw `name{labels}` text of a sample, the key a scraper caches series by, so a
// repeated scrape never re-parses labels it has seen (labels() decodes them lazily).
//
// What is checked (errors carry "line N: "):
//  * syntax of names, labels, escapes, values (Go float syntax, NaN, +Inf, -Inf) and timestamps
//    (integer milliseconds in 0.0.4, float seconds in OpenMetrics), invalid UTF-8 in label values
//    and HELP text, duplicate label names in one sample, unknown TYPE keywords;
//  * OpenMetrics: `# EOF` last and present, no blank lines or free comments, exemplars
//    (`# {...} v [ts]`) are validated and skipped;
//  * families: a second TYPE or HELP line, a TYPE after the family's samples, and a family whose
//    samples resume after another family's (interleaved/out of order) are diagnostics: warnings
//    by default (Prometheus' scraper accepts them), errors with ParseOptions::strict_families.
// Sample names resolve to their family through the declared type's suffixes (`_bucket`, `_sum`,
// `_count`, `_created`, `_total`, `_info`, `_gsum`, `_gcount`), so `foo_bucket` belongs to the
// histogram `foo` and `vllm:iteration_tokens_total_bucket` to `vllm:iteration_tokens_total`.
//
// Speed: most lines have one shape (`name{label="value",...} value`, no escapes, blanks or
// timestamp); they take a fast path that scans names and label values 16 bytes at a time
// (byte_scan.h) and converts plain decimals without strtod, then shares the family bookkeeping.
// Any other line, or one the fast path doubts, is read by the general path, which alone reports
// errors, so both give the same results (ParseOptions::fast_path turns the fast path off).
//
// parse_exposition() builds the whole document (families with their samples) for tests, tools and
// round trips. Not thread-safe; the input must outlive the parser.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "prom/exposition/labels.h"

namespace llmscale::prom {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

// "text/plain; version=0.0.4; charset=utf-8" and
// "application/openmetrics-text; version=1.0.0; charset=utf-8".
std::string_view content_type(ExpositionFormat format);
// OpenMetrics for "application/openmetrics-text...", the text format for anything else
// (Prometheus falls back the same way).
ExpositionFormat exposition_format_for_content_type(std::string_view content_type);

enum class MetricType {
  kUnknown,
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateSet
};

// The TYPE keyword: 0.0.4 says "untyped" where OpenMetrics says "unknown".
std::string_view metric_type_name(MetricType type, ExpositionFormat format);

struct ParseOptions {
  // Family diagnostics (duplicate/misplaced metadata, interleaved families) become errors.
  bool strict_families = false;
  // Lines of the common shape (`name{label="value",...} value`, no escapes, blanks or timestamp)
  // take a fast path that gives the same results as the general one; off, every line takes the
  // general path (the tests and the fuzzer compare the two).
  bool fast_path = true;
};

struct Diagnostic {
  std::size_t line = 0;
  std::string message;
};

class ExpositionParser {
 public:
  enum class Step { kEntry, kEnd, kError };
  enum class Kind { kSample, kHelp, kType, kUnit };

  ExpositionParser(std::string_view text, ExpositionFormat format, ParseOptions options = {});

  // Advances to the next entry. After kEnd or kError every further call returns the same.
  Step next();

  Kind kind() const { return kind_; }
  // 1-based line of the current entry.
  std::size_t line() const { return line_; }
  // Family name (HELP/TYPE/UNIT: the named family; samples: the family the sample belongs to).
  std::string_view family() const { return family_; }
  // The family's declared type (kUnknown when undeclared).
  MetricType type() const { return type_; }
  std::string_view help() const { return text_; }
  std::string_view unit() const { return text_; }

  // Samples.
  std::string_view series() const { return series_; }
  std::string_view name() const { return name_; }
  // Labels in input order, without the metric name; unescaped on first access.
  std::span<const Label> labels();
  double value() const { return value_; }
  std::optional<std::int64_t> timestamp_ms() const {
    return has_timestamp_ ? std::optional<std::int64_t>(timestamp_ms_) : std::nullopt;
  }

  const core::Error& error() const { return error_; }
  const std::vector<Diagnostic>& warnings() const { return warnings_; }

 private:
  struct RawLabel {
    const char* name;
    std::uint32_t name_len;
    const char* value;  // between the quotes, still escaped
    std::uint32_t value_len;
    bool escaped;
  };
  struct FamilyState {
    MetricType type = MetricType::kUnknown;
    bool has_type = false;
    bool has_help = false;
    bool has_unit = false;
    bool has_samples = false;
    bool closed = false;
    std::size_t last_sample_line = 0;
  };

  Step fail(std::string message);
  Step parse_comment(const char* p, const char* end);
  Step parse_sample(const char* p, const char* end);
  const char* parse_common_sample(const char* p);
  const char* parse_common_labels(const char* p);
  Step finish_sample();
  bool parse_labels(const char*& p, const char* end);
  bool skip_exemplar(const char* p, const char* end);
  Step diagnose(std::string message);
  FamilyState& family_state(std::string_view name);
  std::string_view resolve_family(std::string_view sample_name);
  void enter_family(std::string_view family);

  std::string_view text_in_;
  ExpositionFormat format_;
  ParseOptions options_;
  const char* pos_;
  const char* end_;
  std::size_t next_line_ = 1;
  bool done_ = false;
  bool failed_ = false;
  bool saw_eof_ = false;

  Kind kind_ = Kind::kSample;
  std::size_t line_ = 0;
  std::string_view family_;
  MetricType type_ = MetricType::kUnknown;
  std::string_view text_;
  std::string_view series_;
  std::string_view name_;
  double value_ = 0;
  bool has_timestamp_ = false;
  std::int64_t timestamp_ms_ = 0;

  std::vector<RawLabel> raw_labels_;
  std::vector<Label> labels_;
  bool labels_ready_ = false;
  std::string scratch_;
  std::string help_scratch_;

  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const {
      return std::hash<std::string_view>{}(name);
    }
  };
  // Node-based: FamilyState pointers stay valid as families are added.
  std::unordered_map<std::string, FamilyState, NameHash, std::equal_to<>> families_;
  std::string current_family_;            // the family whose samples came last
  FamilyState* current_state_ = nullptr;  // families_[current_family_]
  std::string last_sample_name_;
  std::string last_sample_family_;
  FamilyState* last_sample_state_ = nullptr;  // map nodes are stable

  core::Error error_;
  std::vector<Diagnostic> warnings_;
};

struct FamilySample {
  std::string name;  // the sample's metric name (`foo_bucket`)
  Labels labels;     // without __name__, sorted
  double value = 0;
  std::optional<std::int64_t> timestamp_ms;
};

struct MetricFamily {
  std::string name;
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
  std::vector<FamilySample> samples;
};

struct ParsedExposition {
  std::vector<MetricFamily> families;  // in order of first appearance
  std::vector<Diagnostic> warnings;
  std::size_t sample_count = 0;
};

core::Result<ParsedExposition> parse_exposition(std::string_view text, ExpositionFormat format,
                                                ParseOptions options = {});

}  // namespace llmscale::prom
