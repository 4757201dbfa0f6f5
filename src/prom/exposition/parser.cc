// Text 0.0.4 / OpenMetrics 1.0 pull parser: one pass over each line, no allocation per sample
// once warm (label positions are recorded while validating; unescaping is lazy).
#include "prom/exposition/parser.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "core/strings.h"
#include "prom/exposition/byte_scan.h"
#include "prom/exposition/float_text.h"

namespace llmscale::prom {
namespace {

inline bool is_name_start(char c) {
  return scan::char_is(c, scan::kNameStart);
}
inline bool is_name_char(char c) {
  return scan::char_is(c, scan::kNameChar);
}
inline bool is_label_start(char c) {
  return scan::char_is(c, scan::kLabelStart);
}
inline bool is_label_char(char c) {
  return scan::char_is(c, scan::kLabelChar);
}

// True when any byte has the high bit set (possible non-ASCII UTF-8), 8 bytes at a time.
inline bool has_high_bit(const char* p, std::size_t n) {
  std::size_t i = 0;
  std::uint64_t acc = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < n; ++i) acc |= static_cast<unsigned char>(p[i]);
  return (acc & 0x8080808080808080ULL) != 0;
}
inline bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string quote_token(const char* p, const char* end) {
  std::size_t n = 0;
  while (p + n < end && !is_blank(p[n]) && n < 16) ++n;
  if (p >= end) return "end of line";
  std::string out = "\"";
  out.append(p, n);
  out += "\"";
  return out;
}

std::optional<MetricType> parse_type(std::string_view word, ExpositionFormat format) {
  if (word == "counter") return MetricType::kCounter;
  if (word == "gauge") return MetricType::kGauge;
  if (word == "histogram") return MetricType::kHistogram;
  if (word == "summary") return MetricType::kSummary;
  if (format == ExpositionFormat::kPrometheusText) {
    if (word == "untyped") return MetricType::kUnknown;
    return std::nullopt;
  }
  if (word == "unknown") return MetricType::kUnknown;
  if (word == "gaugehistogram") return MetricType::kGaugeHistogram;
  if (word == "info") return MetricType::kInfo;
  if (word == "stateset") return MetricType::kStateSet;
  return std::nullopt;
}

// The sample-name suffixes a family of `type` may use.
std::span<const std::string_view> suffixes_for(MetricType type) {
  static constexpr std::string_view kCounter[] = {"_total", "_created"};
  static constexpr std::string_view kHistogram[] = {"_bucket", "_sum", "_count", "_created"};
  static constexpr std::string_view kGaugeHistogram[] = {"_bucket", "_gsum", "_gcount"};
  static constexpr std::string_view kSummary[] = {"_sum", "_count", "_created"};
  static constexpr std::string_view kInfo[] = {"_info"};
  switch (type) {
    case MetricType::kCounter: return kCounter;
    case MetricType::kHistogram: return kHistogram;
    case MetricType::kGaugeHistogram: return kGaugeHistogram;
    case MetricType::kSummary: return kSummary;
    case MetricType::kInfo: return kInfo;
    default: return {};
  }
}

bool is_family_member(std::string_view sample_name, std::string_view family, MetricType type) {
  if (sample_name.size() < family.size() || sample_name.compare(0, family.size(), family) != 0) {
    return false;
  }
  std::string_view rest = sample_name.substr(family.size());
  if (rest.empty()) return true;
  for (std::string_view s : suffixes_for(type)) {
    if (rest == s) return true;
  }
  return false;
}

// "1700000000.123" -> 1700000000123 without float rounding (plain decimals only; exponents and
// the like take the float path).
std::optional<std::int64_t> decimal_seconds_to_ms(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 15 || frac.size() > 3) return std::nullopt;
  std::int64_t ms = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    ms = ms * 10 + (c - '0');
  }
  std::int64_t f = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return std::nullopt;
    f = f * 10 + (c - '0');
  }
  ms = ms * 1000 + f;
  return negative ? -ms : ms;
}

}  // namespace

std::string_view content_type(ExpositionFormat format) {
  return format == ExpositionFormat::kOpenMetrics
             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
             : "text/plain; version=0.0.4; charset=utf-8";
}

ExpositionFormat exposition_format_for_content_type(std::string_view content_type) {
  std::string_view media = core::trim(content_type.substr(0, content_type.find(';')));
  return media == "application/openmetrics-text" ? ExpositionFormat::kOpenMetrics
                                                 : ExpositionFormat::kPrometheusText;
}

std::string_view metric_type_name(MetricType type, ExpositionFormat format) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kGaugeHistogram: return "gaugehistogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kInfo: return "info";
    case MetricType::kStateSet: return "stateset";
    case MetricType::kUnknown: break;
  }
  return format == ExpositionFormat::kOpenMetrics ? "unknown" : "untyped";
}

ExpositionParser::ExpositionParser(std::string_view text, ExpositionFormat format,
                                   ParseOptions options)
    : text_in_(text),
      format_(format),
      options_(options),
      pos_(text.data()),
      end_(text.data() + text.size()) {
  raw_labels_.reserve(16);
  labels_.reserve(16);
}

ExpositionParser::Step ExpositionParser::fail(std::string message) {
  failed_ = true;
  error_ = core::Error{core::ErrorCode::kInvalidArgument,
                       "line " + std::to_string(line_) + ": " + std::move(message)};
  return Step::kError;
}

ExpositionParser::Step ExpositionParser::diagnose(std::string message) {
  if (options_.strict_families) return fail(std::move(message));
  warnings_.push_back(Diagnostic{line_, std::move(message)});
  return Step::kEntry;
}

ExpositionParser::Step ExpositionParser::next() {
  if (failed_) return Step::kError;
  if (done_) return Step::kEnd;
  while (true) {
    if (pos_ >= end_) {
      done_ = true;
      if (format_ == ExpositionFormat::kOpenMetrics && !saw_eof_) {
        line_ = next_line_ > 1 ? next_line_ - 1 : 1;
        return fail("data does not end with # EOF");
      }
      return Step::kEnd;
    }
    if (options_.fast_path && !saw_eof_ && is_name_start(*pos_)) {
      line_ = next_line_;
      if (const char* nl = parse_common_sample(pos_)) {
        ++next_line_;
        pos_ = nl + 1;
        return finish_sample();
      }
    }
    const char* line_start = pos_;
    const char* nl = static_cast<const char*>(std::memchr(pos_, '\n', end_ - pos_));
    const char* line_end = nl != nullptr ? nl : end_;
    pos_ = nl != nullptr ? nl + 1 : end_;
    line_ = next_line_++;
    if (saw_eof_) {
      // OpenMetrics allows only a final newline after "# EOF".
      if (line_end == line_start && pos_ >= end_) continue;
      return fail("unexpected data after # EOF");
    }
    // Tolerate CRLF line ends (some exporters behind proxies produce them).
    if (line_end > line_start && line_end[-1] == '\r') --line_end;
    const char* p = line_start;
    if (format_ == ExpositionFormat::kPrometheusText) {
      while (p < line_end && is_blank(*p)) ++p;
      if (p == line_end) continue;  // blank line
    } else if (p == line_end) {
      return fail("blank lines are not allowed in OpenMetrics");
    }
    Step step = *p == '#' ? parse_comment(p, line_end) : parse_sample(p, line_end);
    if (step == Step::kEnd) continue;  // a plain comment
    return step;
  }
}

ExpositionParser::Step ExpositionParser::parse_comment(const char* p, const char* end) {
  const char* q = p + 1;
  bool om = format_ == ExpositionFormat::kOpenMetrics;
  if (q < end && *q == ' ') {
    ++q;
  } else if (om) {
    return fail("expected a space after '#'");
  } else {
    return Step::kEnd;  // "#foo" is a comment in 0.0.4
  }
  const char* word = q;
  while (q < end && !is_blank(*q)) ++q;
  std::string_view keyword(word, static_cast<std::size_t>(q - word));
  if (om && keyword == "EOF") {
    if (q != end) return fail("unexpected text after # EOF");
    saw_eof_ = true;
    return Step::kEnd;
  }
  Kind kind;
  if (keyword == "HELP") {
    kind = Kind::kHelp;
  } else if (keyword == "TYPE") {
    kind = Kind::kType;
  } else if (keyword == "UNIT" && om) {
    kind = Kind::kUnit;
  } else {
    if (om) return fail("invalid comment: OpenMetrics allows only HELP, TYPE, UNIT and EOF");
    return Step::kEnd;  // other comments are ignored in 0.0.4
  }
  if (q == end || !is_blank(*q)) return fail("expected metric name after " + std::string(keyword));
  while (q < end && is_blank(*q)) ++q;
  const char* name_start = q;
  if (q == end || !is_name_start(*q)) {
    return fail("expected metric name after " + std::string(keyword) + ", got " +
                quote_token(q, end));
  }
  while (q < end && is_name_char(*q)) ++q;
  std::string_view name(name_start, static_cast<std::size_t>(q - name_start));
  if (q < end && !is_blank(*q)) return fail("invalid metric name in " + std::string(keyword));
  // Prometheus textparse: a single separator, the rest of the line is the text.
  const char* text = q;
  if (text < end) ++text;
  if (!om || kind != Kind::kHelp) {
    while (text < end && is_blank(*text)) ++text;
  }
  std::string_view rest(text, static_cast<std::size_t>(end - text));
  kind_ = kind;
  family_ = name;
  if (current_family_ != name) enter_family(name);
  FamilyState& state = *current_state_;
  switch (kind) {
    case Kind::kHelp: {
      // Escapes: \\ and \n (0.0.4); OpenMetrics also \".
      bool has_escape = rest.find('\\') != std::string_view::npos;
      if (has_escape) {
        help_scratch_.clear();
        for (std::size_t i = 0; i < rest.size(); ++i) {
          char c = rest[i];
          if (c == '\\' && i + 1 < rest.size()) {
            char e = rest[i + 1];
            if (e == 'n') {
              help_scratch_.push_back('\n');
              ++i;
              continue;
            }
            if (e == '\\' || (om && e == '"')) {
              help_scratch_.push_back(e);
              ++i;
              continue;
            }
            if (om) return fail("invalid escape sequence in HELP text");
          } else if (c == '\\' && om) {
            return fail("invalid escape sequence in HELP text");
          }
          help_scratch_.push_back(c);
        }
        text_ = help_scratch_;
      } else {
        text_ = rest;
      }
      if (has_high_bit(text_.data(), text_.size()) &&
          core::find_invalid_utf8(text_) != std::string_view::npos) {
        return fail("HELP text is not valid UTF-8");
      }
      type_ = state.type;
      if (state.has_help)
        return diagnose("second HELP line for metric family " + std::string(name));
      state.has_help = true;
      return Step::kEntry;
    }
    case Kind::kType: {
      std::string_view word_text = core::trim(rest);
      auto type = parse_type(word_text, format_);
      if (!type) return fail("invalid metric type \"" + std::string(word_text) + "\"");
      type_ = *type;
      text_ = {};
      bool duplicate = state.has_type;
      bool after_samples = state.has_samples;
      state.type = *type;
      state.has_type = true;
      if (duplicate) return diagnose("second TYPE line for metric family " + std::string(name));
      if (after_samples) {
        return diagnose("TYPE line for metric family " + std::string(name) + " after its samples");
      }
      return Step::kEntry;
    }
    case Kind::kUnit: {
      text_ = core::trim(rest);
      type_ = state.type;
      if (state.has_unit)
        return diagnose("second UNIT line for metric family " + std::string(name));
      state.has_unit = true;
      return Step::kEntry;
    }
    case Kind::kSample: break;
  }
  return Step::kEntry;
}

bool ExpositionParser::parse_labels(const char*& p, const char* end) {
  // At '{'.
  ++p;
  bool om = format_ == ExpositionFormat::kOpenMetrics;
  while (true) {
    if (!om) {
      while (p < end && is_blank(*p)) ++p;
    }
    if (p >= end) {
      fail("unexpected end of line inside label set");
      return false;
    }
    if (*p == '}') {
      ++p;
      return true;
    }
    const char* name = p;
    if (!is_label_start(*p)) {
      fail("expected label name, got " + quote_token(p, end));
      return false;
    }
    ++p;
    while (p < end && is_label_char(*p)) ++p;
    auto name_len = static_cast<std::uint32_t>(p - name);
    if (!om) {
      while (p < end && is_blank(*p)) ++p;
    }
    if (p >= end || *p != '=') {
      fail("expected '=' after label name, got " + quote_token(p, end));
      return false;
    }
    ++p;
    if (!om) {
      while (p < end && is_blank(*p)) ++p;
    }
    if (p >= end || *p != '"') {
      fail("expected '\"' to start the label value, got " + quote_token(p, end));
      return false;
    }
    ++p;
    const char* value = p;
    bool escaped = false;
    unsigned char high = 0;
    // Fast path: no backslash before the closing quote.
    const char* quote =
        static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
    if (quote != nullptr && std::memchr(p, '\\', static_cast<std::size_t>(quote - p)) == nullptr) {
      if (has_high_bit(p, static_cast<std::size_t>(quote - p))) high = 0x80;
      p = quote;
    }
    while (true) {
      if (p >= end) {
        fail("unterminated label value");
        return false;
      }
      char c = *p;
      if (c == '"') break;
      if (c == '\\') {
        escaped = true;
        if (p + 1 >= end) {
          fail("unterminated label value");
          return false;
        }
        char e = p[1];
        if (om && e != '\\' && e != '"' && e != 'n') {
          fail("invalid escape sequence in label value");
          return false;
        }
        high |= static_cast<unsigned char>(e);  // kept verbatim: must be valid UTF-8 too
        p += 2;
        continue;
      }
      high |= static_cast<unsigned char>(c);
      ++p;
    }
    auto value_len = static_cast<std::uint32_t>(p - value);
    ++p;  // closing quote
    if ((high & 0x80) != 0 &&
        core::find_invalid_utf8(std::string_view(value, value_len)) != std::string_view::npos) {
      fail("invalid UTF-8 label value");
      return false;
    }
    std::string_view name_view(name, name_len);
    for (const RawLabel& other : raw_labels_) {
      if (other.name_len == name_len && other.name[0] == name[0] &&
          std::memcmp(other.name, name, name_len) == 0) {
        fail("duplicate label name \"" + std::string(name_view) + "\"");
        return false;
      }
    }
    if (name_view == kMetricNameLabel) {
      fail("label name __name__ is not allowed inside the label set");
      return false;
    }
    raw_labels_.push_back(RawLabel{name, name_len, value, value_len, escaped});
    if (!om) {
      while (p < end && is_blank(*p)) ++p;
    }
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    if (p < end && *p == '}') {
      ++p;
      return true;
    }
    fail("expected ',' or '}' after label value, got " + quote_token(p, end));
    return false;
  }
}

bool ExpositionParser::skip_exemplar(const char* p, const char* end) {
  // " # {labels} value [timestamp]"; validated, then dropped.
  if (p >= end || *p != '#') {
    fail("expected exemplar after '#'");
    return false;
  }
  ++p;
  if (p >= end || *p != ' ') {
    fail("expected a space after exemplar '#'");
    return false;
  }
  ++p;
  if (p >= end || *p != '{') {
    fail("expected exemplar label set");
    return false;
  }
  std::size_t keep = raw_labels_.size();
  bool ok = parse_labels(p, end);
  raw_labels_.resize(keep);
  if (!ok) return false;
  if (p >= end || *p != ' ') {
    fail("expected value after exemplar labels");
    return false;
  }
  ++p;
  const char* v = p;
  while (p < end && *p != ' ') ++p;
  if (!parse_prom_float(std::string_view(v, static_cast<std::size_t>(p - v)))) {
    fail("invalid exemplar value");
    return false;
  }
  if (p < end) {
    ++p;
    const char* t = p;
    while (p < end && *p != ' ') ++p;
    auto ts = parse_prom_float(std::string_view(t, static_cast<std::size_t>(p - t)));
    if (!ts || !std::isfinite(*ts)) {
      fail("invalid exemplar timestamp");
      return false;
    }
    if (p != end) {
      fail("unexpected text after exemplar");
      return false;
    }
  }
  return true;
}

ExpositionParser::Step ExpositionParser::parse_sample(const char* p, const char* end) {
  bool om = format_ == ExpositionFormat::kOpenMetrics;
  const char* name = p;
  if (!is_name_start(*p)) return fail("expected metric name, got " + quote_token(p, end));
  ++p;
  while (p < end && is_name_char(*p)) ++p;
  name_ = std::string_view(name, static_cast<std::size_t>(p - name));
  const char* series_end = p;
  raw_labels_.clear();
  labels_ready_ = false;
  const char* after_name = p;
  if (!om) {
    while (p < end && is_blank(*p)) ++p;
  }
  if (p < end && *p == '{') {
    if (!parse_labels(p, end)) return Step::kError;
    series_end = p;
  } else {
    p = after_name;
  }
  series_ = std::string_view(name, static_cast<std::size_t>(series_end - name));
  // Value.
  if (p >= end || !is_blank(*p)) {
    if (p >= end) return fail("expected value after metric " + std::string(name_));
    return fail("expected value after metric, got " + quote_token(p, end));
  }
  if (om) {
    if (*p != ' ') return fail("expected a single space before the value");
    ++p;
  } else {
    while (p < end && is_blank(*p)) ++p;
  }
  const char* v = p;
  while (p < end && !is_blank(*p)) ++p;
  std::string_view value_text(v, static_cast<std::size_t>(p - v));
  if (value_text.empty()) return fail("expected value after metric " + std::string(name_));
  auto value = parse_prom_float(value_text);
  if (!value) return fail("invalid sample value \"" + std::string(value_text) + "\"");
  value_ = *value;
  has_timestamp_ = false;
  // Timestamp, exemplar.
  if (!om) {
    while (p < end && is_blank(*p)) ++p;
    if (p < end) {
      const char* t = p;
      while (p < end && !is_blank(*p)) ++p;
      std::int64_t ts = 0;
      auto res = std::from_chars(t + (*t == '+' ? 1 : 0), p, ts);
      if (res.ec != std::errc() || res.ptr != p) {
        return fail("invalid timestamp \"" + std::string(t, static_cast<std::size_t>(p - t)) +
                    "\"");
      }
      has_timestamp_ = true;
      timestamp_ms_ = ts;
      while (p < end && is_blank(*p)) ++p;
      if (p < end) return fail("unexpected text after timestamp: " + quote_token(p, end));
    }
  } else if (p < end) {
    if (*p != ' ') return fail("expected a single space after the value");
    ++p;
    if (p < end && *p != '#') {
      const char* t = p;
      while (p < end && *p != ' ') ++p;
      std::string_view ts_text(t, static_cast<std::size_t>(p - t));
      if (auto exact = decimal_seconds_to_ms(ts_text)) {
        timestamp_ms_ = *exact;
      } else {
        auto ts = parse_prom_float(ts_text);
        // Must fit int64 milliseconds (Go's conversion of larger values is undefined too).
        if (!ts || !std::isfinite(*ts) || std::fabs(*ts) >= 9.2e15) {
          return fail("invalid timestamp \"" + std::string(ts_text) + "\"");
        }
        // Prometheus openmetricsparse: seconds as float, truncated to milliseconds.
        timestamp_ms_ = static_cast<std::int64_t>(*ts * 1000);
      }
      has_timestamp_ = true;
      if (p < end) {
        if (*p != ' ') return fail("unexpected text after timestamp");
        ++p;
      }
    }
    if (p < end && !skip_exemplar(p, end)) return Step::kError;
  }
  return finish_sample();
}

// The family bookkeeping of a sample, for both paths. The fast path's functions are inlined into
// next(): on a ~100-byte line the calls cost more than they save.
[[gnu::always_inline]] inline ExpositionParser::Step ExpositionParser::finish_sample() {
  kind_ = Kind::kSample;
  // Family bookkeeping; the common case (same name as the previous sample) costs one compare.
  if (name_.size() != last_sample_name_.size() ||
      !scan::equal_bytes(name_.data(), last_sample_name_.data(), name_.size())) {
    std::string_view family = resolve_family(name_);
    if (family != current_family_) enter_family(family);
    last_sample_name_.assign(name_);
    last_sample_family_ = current_family_;
    FamilyState& state = *current_state_;
    last_sample_state_ = &state;
    if (state.closed) {
      state.closed = false;
      std::size_t previous = state.last_sample_line;
      state.has_samples = true;
      state.last_sample_line = line_;
      family_ = last_sample_family_;
      type_ = state.type;
      return diagnose("samples of metric family " + last_sample_family_ +
                      " are not contiguous (earlier samples end at line " +
                      std::to_string(previous) + ")");
    }
    state.has_samples = true;
    state.last_sample_line = line_;
    type_ = state.type;
  } else {
    last_sample_state_->last_sample_line = line_;
  }
  family_ = last_sample_family_;
  return Step::kEntry;
}

// The fast path: one line of the shape `name{label="value",...} value\n` (labels optional, a
// trailing comma allowed) with no blanks but the one before the value, no escapes, no timestamp,
// and a value parse_prom_float accepts. Both formats read such a line the same way. Returns the
// line's '\n' with name_, series_, raw_labels_ and value_ set, or nullptr: then the general path
// reads the line again (and reports its error, if it has one).
[[gnu::always_inline]] inline const char* ExpositionParser::parse_common_sample(const char* p) {
  const char* end = end_;
  const char* name = p;
  p = scan::active::skip_name_chars(p + 1, end);
  if (p >= end) return nullptr;
  name_ = std::string_view(name, static_cast<std::size_t>(p - name));
  raw_labels_.clear();
  labels_ready_ = false;
  if (*p == '{') {
    p = parse_common_labels(p + 1);
    if (p == nullptr || p >= end) return nullptr;
  }
  series_ = std::string_view(name, static_cast<std::size_t>(p - name));
  if (*p != ' ' || end - p < 2) return nullptr;
  ++p;
  const char* value_text = p;
  bool negative = *p == '-';
  double value = 0;
  const char* stop = parse_plain_decimal(p + (negative ? 1 : 0), end, value);
  if (stop != nullptr && stop < end && *stop == '\n') {
    value_ = negative ? -value : value;
    p = stop;
  } else {
    // Exponents, NaN, Inf, long mantissas: the value ends at the line's end.
    while (p < end && *p != '\n' && *p != '\r' && !is_blank(*p)) ++p;
    if (p >= end || *p != '\n') return nullptr;
    auto parsed =
        parse_prom_float(std::string_view(value_text, static_cast<std::size_t>(p - value_text)));
    if (!parsed) return nullptr;
    value_ = *parsed;
  }
  has_timestamp_ = false;
  return p;
}

// After the '{' of a label set; returns the byte after its '}', or nullptr (see above).
[[gnu::always_inline]] inline const char* ExpositionParser::parse_common_labels(const char* p) {
  const char* end = end_;
  while (true) {
    if (p >= end) return nullptr;
    if (*p == '}') return p + 1;
    const char* name = p;
    if (!is_label_start(*p)) return nullptr;
    p = scan::active::skip_label_chars(p + 1, end);
    if (end - p < 2 || p[0] != '=' || p[1] != '"') return nullptr;
    auto name_len = static_cast<std::uint32_t>(p - name);
    p += 2;
    const char* value = p;
    scan::ValueStop stop = scan::active::find_value_stop(p, end);
    if (stop.stop >= end || *stop.stop != '"') return nullptr;  // an escape, or no closing quote
    auto value_len = static_cast<std::uint32_t>(stop.stop - value);
    if (stop.high &&
        core::find_invalid_utf8(std::string_view(value, value_len)) != std::string_view::npos) {
      return nullptr;
    }
    for (const RawLabel& other : raw_labels_) {
      if (other.name_len == name_len && std::memcmp(other.name, name, name_len) == 0) {
        return nullptr;
      }
    }
    if (std::string_view(name, name_len) == kMetricNameLabel) return nullptr;
    raw_labels_.push_back(RawLabel{name, name_len, value, value_len, false});
    p = stop.stop + 1;
    if (p >= end) return nullptr;
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p != '}') return nullptr;
    return p + 1;
  }
}

ExpositionParser::FamilyState& ExpositionParser::family_state(std::string_view name) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(std::string(name), FamilyState{}).first;
  return it->second;
}

std::string_view ExpositionParser::resolve_family(std::string_view sample_name) {
  if (current_state_ != nullptr &&
      is_family_member(sample_name, current_family_, current_state_->type)) {
    return current_family_;
  }
  if (auto it = families_.find(sample_name); it != families_.end()) return it->first;
  // A declared family whose suffix this sample carries.
  for (std::string_view suffix :
       {std::string_view("_bucket"), std::string_view("_sum"), std::string_view("_count"),
        std::string_view("_created"), std::string_view("_total"), std::string_view("_info"),
        std::string_view("_gsum"), std::string_view("_gcount")}) {
    if (sample_name.size() > suffix.size() &&
        sample_name.compare(sample_name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      std::string_view base = sample_name.substr(0, sample_name.size() - suffix.size());
      auto it = families_.find(base);
      if (it != families_.end() && it->second.has_type &&
          is_family_member(sample_name, base, it->second.type)) {
        return it->first;
      }
    }
  }
  return sample_name;
}

void ExpositionParser::enter_family(std::string_view family) {
  if (current_state_ != nullptr && current_state_->has_samples) current_state_->closed = true;
  current_family_.assign(family);
  current_state_ = &family_state(current_family_);
  last_sample_name_.clear();
}

std::span<const Label> ExpositionParser::labels() {
  if (labels_ready_) return labels_;
  labels_.clear();
  std::size_t need = 0;
  for (const RawLabel& raw : raw_labels_) need += raw.escaped ? raw.value_len : 0;
  scratch_.clear();
  scratch_.reserve(need);  // views into scratch_ stay valid: no reallocation below
  bool om = format_ == ExpositionFormat::kOpenMetrics;
  for (const RawLabel& raw : raw_labels_) {
    std::string_view name(raw.name, raw.name_len);
    if (!raw.escaped) {
      labels_.push_back(Label{name, std::string_view(raw.value, raw.value_len)});
      continue;
    }
    std::size_t start = scratch_.size();
    for (std::uint32_t i = 0; i < raw.value_len; ++i) {
      char c = raw.value[i];
      if (c == '\\' && i + 1 < raw.value_len) {
        char e = raw.value[i + 1];
        if (e == '\\' || e == '"') {
          scratch_.push_back(e);
          ++i;
          continue;
        }
        if (e == 'n') {
          scratch_.push_back('\n');
          ++i;
          continue;
        }
        // Prometheus textparse keeps unknown escapes verbatim (OpenMetrics rejected them).
        (void)om;
      }
      scratch_.push_back(c);
    }
    labels_.push_back(Label{name, std::string_view(scratch_).substr(start)});
  }
  labels_ready_ = true;
  return labels_;
}

core::Result<ParsedExposition> parse_exposition(std::string_view text, ExpositionFormat format,
                                                ParseOptions options) {
  ExpositionParser parser(text, format, options);
  ParsedExposition out;
  std::map<std::string, std::size_t, std::less<>> index;
  auto family_for = [&](std::string_view name) -> MetricFamily& {
    auto it = index.find(name);
    if (it == index.end()) {
      it = index.emplace(std::string(name), out.families.size()).first;
      out.families.push_back(MetricFamily{});
      out.families.back().name = std::string(name);
    }
    return out.families[it->second];
  };
  while (true) {
    auto step = parser.next();
    if (step == ExpositionParser::Step::kEnd) break;
    if (step == ExpositionParser::Step::kError) return tl::unexpected(parser.error());
    MetricFamily& family = family_for(parser.family());
    switch (parser.kind()) {
      case ExpositionParser::Kind::kHelp: family.help = std::string(parser.help()); break;
      case ExpositionParser::Kind::kType: family.type = parser.type(); break;
      case ExpositionParser::Kind::kUnit: family.unit = std::string(parser.unit()); break;
      case ExpositionParser::Kind::kSample: {
        FamilySample sample;
        sample.name = std::string(parser.name());
        std::vector<std::pair<std::string, std::string>> pairs;
        for (Label l : parser.labels())
          pairs.emplace_back(std::string(l.name), std::string(l.value));
        sample.labels = Labels::from_pairs(std::move(pairs));
        sample.value = parser.value();
        sample.timestamp_ms = parser.timestamp_ms();
        family.samples.push_back(std::move(sample));
        ++out.sample_count;
        break;
      }
    }
  }
  out.warnings = parser.warnings();
  return out;
}

}  // namespace llmscale::prom
