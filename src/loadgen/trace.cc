// Trace readers: CSV by header names (Azure, BurstGPT) and Mooncake JSON lines.
#include "loadgen/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/json.h"
#include "core/strings.h"
#include "net/gzip.h"

namespace llmscale::loadgen {
namespace {

// Decompressed traces larger than this are refused (the Azure 2024 week is ~1.2 GB of CSV;
// slice it first).
constexpr std::size_t kMaxTraceBytes = std::size_t{2} << 30;

struct RowError {
  std::string reason;
};

// Splits one CSV record (RFC 4180 quotes allowed; the traces have none).
std::vector<std::string> split_csv(std::string_view line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return fields;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = core::trim(text);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  text = core::trim(text);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string quoted(std::string_view text) {
  if (text.size() > 40) return core::go_quote(text.substr(0, 40)) + "...";
  return core::go_quote(text);
}

// A parsed row before offsets are known: an absolute time in nanoseconds.
struct RawRow {
  std::int64_t time_ns = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::vector<std::uint64_t> hash_ids;
  std::size_t line = 0;
};

tl::expected<std::int64_t, RowError> token_count(std::string_view column, std::string_view text) {
  auto value = parse_int(text);
  if (!value)
    return tl::unexpected(RowError{std::string(column) + ": invalid integer " + quoted(text)});
  if (*value <= 0) {
    return tl::unexpected(
        RowError{std::string(column) + ": must be positive, got " + std::to_string(*value)});
  }
  return *value;
}

class Collector {
 public:
  Collector(const std::string& source, BadRowPolicy policy) : source_(source), policy_(policy) {}

  // Returns false (with the error set) when the policy makes the bad row fatal.
  bool bad(std::size_t line, std::string reason) {
    if (policy_ == BadRowPolicy::kFail) {
      error_ = source_ + ":" + std::to_string(line) + ": " + reason;
      return false;
    }
    ++trace_.bad_row_count;
    if (trace_.bad_rows.size() < Trace::kMaxBadRowSamples) {
      trace_.bad_rows.push_back({line, std::move(reason)});
    }
    return true;
  }
  void add(RawRow row) { raw_.push_back(std::move(row)); }
  const std::string& error() const { return error_; }

  Trace finish(TraceFormat format) {
    std::stable_sort(raw_.begin(), raw_.end(),
                     [](const RawRow& a, const RawRow& b) { return a.time_ns < b.time_ns; });
    trace_.source = source_;
    trace_.format = format;
    trace_.rows.reserve(raw_.size());
    std::int64_t first = raw_.empty() ? 0 : raw_.front().time_ns;
    for (auto& r : raw_) {
      trace_.rows.push_back({core::Duration(r.time_ns - first), r.input_tokens, r.output_tokens,
                             std::move(r.hash_ids), r.line});
    }
    return std::move(trace_);
  }

 private:
  std::string source_;
  BadRowPolicy policy_;
  Trace trace_;
  std::vector<RawRow> raw_;
  std::string error_;
};

// Calls `fn(line_number, line)` for every line (CRLF, LF or a last line without an end).
template <class Fn>
bool for_each_line(std::string_view text, Fn&& fn) {
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!fn(line_number, line)) return false;
  }
  return true;
}

int column_of(const std::vector<std::string>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (core::to_lower(core::trim(header[i])) == core::to_lower(name)) return static_cast<int>(i);
  }
  return -1;
}

core::Result<Trace> parse_csv(std::string_view text, TraceFormat format, BadRowPolicy policy,
                              const std::string& source) {
  Collector collector(source, policy);
  std::vector<std::string> header;
  int time_col = -1, input_col = -1, output_col = -1;
  std::string time_name, input_name, output_name;
  std::optional<core::Error> header_error;
  bool ok = for_each_line(text, [&](std::size_t number, std::string_view line) {
    if (core::trim(line).empty()) return true;
    auto fields = split_csv(line);
    if (header.empty()) {
      header = fields;
      if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);
      TraceFormat detected = column_of(header, "ContextTokens") >= 0    ? TraceFormat::kAzure
                             : column_of(header, "Request tokens") >= 0 ? TraceFormat::kBurstGpt
                                                                        : TraceFormat::kAuto;
      if (format == TraceFormat::kAuto) format = detected;
      if (format == TraceFormat::kAzure) {
        time_name = "TIMESTAMP", input_name = "ContextTokens", output_name = "GeneratedTokens";
      } else if (format == TraceFormat::kBurstGpt) {
        time_name = "Timestamp", input_name = "Request tokens", output_name = "Response tokens";
      } else {
        header_error = core::Error{
            core::ErrorCode::kInvalidArgument,
            source + ":" + std::to_string(number) +
                ": unrecognized trace header: expected Azure (TIMESTAMP,ContextTokens,"
                "GeneratedTokens), BurstGPT (Timestamp,...,Request tokens,Response tokens) or "
                "Mooncake JSON lines"};
        return false;
      }
      time_col = column_of(header, time_name);
      input_col = column_of(header, input_name);
      output_col = column_of(header, output_name);
      if (time_col < 0 || input_col < 0 || output_col < 0) {
        header_error = core::Error{core::ErrorCode::kInvalidArgument,
                                   source + ":" + std::to_string(number) + ": header lacks " +
                                       (time_col < 0    ? time_name
                                        : input_col < 0 ? input_name
                                                        : output_name)};
        return false;
      }
      return true;
    }
    auto field = [&](int col) -> std::optional<std::string_view> {
      if (col >= static_cast<int>(fields.size())) return std::nullopt;
      return std::string_view(fields[static_cast<std::size_t>(col)]);
    };
    auto t = field(time_col), in = field(input_col), out = field(output_col);
    if (!t || !in || !out) {
      return collector.bad(number, "expected " + std::to_string(header.size()) + " columns, got " +
                                       std::to_string(fields.size()));
    }
    RawRow row;
    row.line = number;
    if (format == TraceFormat::kAzure) {
      auto time = parse_azure_timestamp(core::trim(*t));
      if (!time) return collector.bad(number, time_name + ": " + time.error().message);
      row.time_ns = time->time_since_epoch().count();
    } else {
      auto seconds = parse_double(*t);
      if (!seconds || *seconds < 0 || *seconds > 1e12) {
        return collector.bad(number, time_name + ": invalid seconds " + quoted(*t));
      }
      row.time_ns = static_cast<std::int64_t>(std::llround(*seconds * 1e9));
    }
    auto input = token_count(input_name, *in);
    if (!input) return collector.bad(number, input.error().reason);
    auto output = token_count(output_name, *out);
    if (!output) return collector.bad(number, output.error().reason);
    row.input_tokens = *input;
    row.output_tokens = *output;
    collector.add(std::move(row));
    return true;
  });
  if (header_error) return tl::unexpected(*header_error);
  if (!ok) return core::invalid_argument(collector.error());
  if (header.empty()) return core::invalid_argument(source + ": empty trace");
  return collector.finish(format);
}

tl::expected<RawRow, RowError> parse_mooncake_line(std::string_view line) {
  if (auto depth = core::check_json_depth(line); !depth)
    return tl::unexpected(RowError{depth.error().message});
  nlohmann::json doc = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return tl::unexpected(RowError{"invalid JSON"});
  if (!doc.is_object()) return tl::unexpected(RowError{"expected a JSON object"});
  RawRow row;
  auto ts = doc.find("timestamp");
  if (ts == doc.end() || !ts->is_number() || !std::isfinite(ts->get<double>()) ||
      ts->get<double>() < 0 || ts->get<double>() > 1e15) {
    return tl::unexpected(RowError{"timestamp: expected milliseconds >= 0"});
  }
  row.time_ns = ts->is_number_integer()
                    ? ts->get<std::int64_t>() * 1'000'000
                    : static_cast<std::int64_t>(std::llround(ts->get<double>() * 1e6));
  for (auto [key, target] :
       {std::pair<const char*, std::int64_t*>{"input_length", &row.input_tokens},
        {"output_length", &row.output_tokens}}) {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_number_integer()) {
      return tl::unexpected(RowError{std::string(key) + ": expected an integer"});
    }
    if (it->get<std::int64_t>() <= 0) {
      return tl::unexpected(RowError{std::string(key) + ": must be positive, got " +
                                     std::to_string(it->get<std::int64_t>())});
    }
    *target = it->get<std::int64_t>();
  }
  if (auto ids = doc.find("hash_ids"); ids != doc.end() && !ids->is_null()) {
    if (!ids->is_array()) return tl::unexpected(RowError{"hash_ids: expected an array"});
    row.hash_ids.reserve(ids->size());
    for (const auto& id : *ids) {
      if (!id.is_number_unsigned()) {
        return tl::unexpected(RowError{"hash_ids: expected non-negative integers"});
      }
      row.hash_ids.push_back(id.get<std::uint64_t>());
    }
  }
  return row;
}

core::Result<Trace> parse_jsonl(std::string_view text, BadRowPolicy policy,
                                const std::string& source) {
  Collector collector(source, policy);
  bool ok = for_each_line(text, [&](std::size_t number, std::string_view line) {
    if (core::trim(line).empty()) return true;
    auto row = parse_mooncake_line(line);
    if (!row) return collector.bad(number, row.error().reason);
    row->line = number;
    collector.add(std::move(*row));
    return true;
  });
  if (!ok) return core::invalid_argument(collector.error());
  return collector.finish(TraceFormat::kMooncake);
}

}  // namespace

core::Result<TraceFormat> parse_trace_format(std::string_view text) {
  if (text == "auto") return TraceFormat::kAuto;
  if (text == "azure") return TraceFormat::kAzure;
  if (text == "mooncake") return TraceFormat::kMooncake;
  if (text == "burstgpt") return TraceFormat::kBurstGpt;
  return core::invalid_argument("unknown trace format " + core::go_quote(text) +
                                " (auto, azure, mooncake, burstgpt)");
}

std::string_view trace_format_name(TraceFormat format) {
  switch (format) {
    case TraceFormat::kAuto: return "auto";
    case TraceFormat::kAzure: return "azure";
    case TraceFormat::kMooncake: return "mooncake";
    case TraceFormat::kBurstGpt: return "burstgpt";
  }
  return "auto";
}

core::Result<BadRowPolicy> parse_bad_row_policy(std::string_view text) {
  if (text == "skip") return BadRowPolicy::kSkip;
  if (text == "fail") return BadRowPolicy::kFail;
  return core::invalid_argument("unknown bad-row policy " + core::go_quote(text) + " (skip, fail)");
}

core::Duration Trace::span() const {
  return rows.empty() ? core::Duration::zero() : rows.back().offset;
}

core::Result<core::Time> parse_azure_timestamp(std::string_view text) {
  // "2023-11-16 18:17:03.9799600" -> RFC 3339 ("...T...Z"), which core parses with up to nine
  // fraction digits; more digits than that are truncated (sub-nanosecond).
  std::string rfc(text);
  if (rfc.size() > 10 && (rfc[10] == ' ' || rfc[10] == 't')) rfc[10] = 'T';
  bool has_zone = false;
  if (rfc.size() > 19) {
    char last = rfc.back();
    has_zone = last == 'Z' || last == 'z' ||
               (rfc.size() >= 25 && (rfc[rfc.size() - 6] == '+' || rfc[rfc.size() - 6] == '-') &&
                rfc[rfc.size() - 3] == ':');
  }
  if (!has_zone) rfc += 'Z';
  auto dot = rfc.find('.');
  if (dot != std::string::npos) {
    std::size_t end = dot + 1;
    while (end < rfc.size() && rfc[end] >= '0' && rfc[end] <= '9') ++end;
    if (end - dot - 1 > 9) rfc.erase(dot + 10, end - dot - 10);
  }
  auto time = core::parse_rfc3339(rfc);
  if (!time) return core::invalid_argument("invalid timestamp " + quoted(text));
  return *time;
}

core::Result<Trace> parse_trace(std::string_view text, TraceFormat format, BadRowPolicy policy,
                                const std::string& source) {
  if (format == TraceFormat::kAuto) {
    std::string_view head = core::trim(text);
    if (head.rfind("\xEF\xBB\xBF", 0) == 0) head.remove_prefix(3);
    if (!head.empty() && head.front() == '{') format = TraceFormat::kMooncake;
  }
  if (format == TraceFormat::kMooncake) return parse_jsonl(text, policy, source);
  return parse_csv(text, format, policy, source);
}

core::Result<Trace> load_trace(const std::string& path, TraceFormat format, BadRowPolicy policy) {
  auto read = core::read_file(path, kMaxTraceBytes);
  if (!read) return tl::unexpected(read.error());
  std::string data = std::move(*read);
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    auto inflated = net::gzip_decompress(data, kMaxTraceBytes);
    if (!inflated) return core::with_context(inflated.error(), path);
    data = std::move(*inflated);
  }
  return parse_trace(data, format, policy, path);
}

}  // namespace llmscale::loadgen
