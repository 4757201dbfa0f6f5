// Request traces for replay: the Azure LLM inference CSV (2023/2024, and the 2025 multimodal
// file), Mooncake's JSON lines (FAST'25 release), and BurstGPT's CSV, read into one row type.
//
//   Azure:    TIMESTAMP,ContextTokens,GeneratedTokens   ("2023-11-16 18:17:03.9799600", an
//             optional "+00:00" offset, any number of fraction digits; extra columns such as
//             NumImages are ignored; CRLF or LF line ends)
//   Mooncake: {"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [...]}
//             (hash_ids name 512-token prompt blocks; equal ids mean a shared KV prefix)
//   BurstGPT: Timestamp,...,Request tokens,Response tokens,...   (seconds; columns by name)
// Files may be gzip-compressed (".gz" or the gzip magic bytes). Columns are found by their
// header names, so column order does not matter.
//
// A row that cannot be used (unparsable time or count, missing column, zero or negative token
// count, malformed JSON) is a bad row, reported with its 1-based line number. With
// BadRowPolicy::kFail the first one is an error; with kSkip it is counted, the first few are
// kept for the report, and reading goes on. Rows are sorted by time (stably) and their offsets
// are measured from the earliest row.
//
// Pure code; a Trace is an immutable value once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace llmscale::loadgen {

enum class TraceFormat { kAuto, kAzure, kMooncake, kBurstGpt };
enum class BadRowPolicy { kSkip, kFail };

core::Result<TraceFormat> parse_trace_format(std::string_view text);
std::string_view trace_format_name(TraceFormat format);
core::Result<BadRowPolicy> parse_bad_row_policy(std::string_view text);

struct TraceRow {
  core::Duration offset{};  // since the earliest row
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::vector<std::uint64_t> hash_ids;  // Mooncake prefix blocks; empty otherwise
  std::size_t line = 0;
};

struct BadRow {
  std::size_t line = 0;
  std::string reason;
};

struct Trace {
  static constexpr std::size_t kMaxBadRowSamples = 20;
  // Mooncake's block size: each hash id stands for this many prompt tokens.
  static constexpr std::int64_t kMooncakeBlockTokens = 512;

  std::string source;
  TraceFormat format = TraceFormat::kAuto;
  std::vector<TraceRow> rows;
  std::size_t bad_row_count = 0;
  std::vector<BadRow> bad_rows;  // the first kMaxBadRowSamples

  // Offset of the last row (0 for an empty trace).
  core::Duration span() const;
};

// Parses trace text (already decompressed). `source` names it in messages ("trace.csv").
// kInvalidArgument for an unknown layout (no recognizable header), or a bad row under kFail:
// "trace.csv:17: ContextTokens: invalid integer \"x\"".
core::Result<Trace> parse_trace(std::string_view text, TraceFormat format, BadRowPolicy policy,
                                const std::string& source);

// Reads (and gunzips when needed) a trace file, then parses it.
core::Result<Trace> load_trace(const std::string& path, TraceFormat format, BadRowPolicy policy);

// Parses an Azure timestamp ("2023-11-16 18:17:03.9799600", "2024-05-10 00:00:00.1+00:00",
// also with a 'T' separator) as UTC unless it carries an offset.
core::Result<core::Time> parse_azure_timestamp(std::string_view text);

}  // namespace llmscale::loadgen
