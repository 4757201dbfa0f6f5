// Reports of a load run: the terminal table (genai-perf's layout), JSON, CSV, per-request CSV,
// an SVG chart of latency and throughput over time, the live progress line, and the exit gates.
//
// All writers are pure functions of a RunReport, so the same figures give the same bytes
// (golden tests pin the shapes). Durations are reported in milliseconds rounded to the
// microsecond; throughputs per second. The JSON schema is documented in docs/loadgen.md
// ("Report schema"); `schema_version` changes when a field is renamed or removed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "loadgen/runner.h"
#include "loadgen/stats.h"
#include "loadgen/trace.h"

namespace llmscale::loadgen {

struct TraceSummary {
  std::string source;
  std::string format;
  std::size_t rows = 0;
  std::size_t bad_row_count = 0;
  std::vector<BadRow> bad_rows;
  core::Duration span{};
};

// Exit gates (--fail-on-errors, --fail-on-goodput); each applies to every stage.
struct Gates {
  std::optional<double> max_error_fraction;    // failed / measured above this fails
  std::optional<double> min_goodput_fraction;  // good / measured below this fails
};

struct GateResult {
  std::string gate;   // "errors" or "goodput"
  std::string stage;  // stage name
  bool passed = true;
  double value = 0;
  double threshold = 0;
};

struct RunReport {
  static constexpr int kSchemaVersion = 1;

  std::string url;
  std::string api;
  std::string endpoint;
  bool streaming = false;
  std::string model;
  std::uint64_t seed = 0;
  Slo slo;
  core::Time started_at{};
  core::Duration elapsed{};
  bool interrupted = false;  // stopped by a signal
  std::optional<TraceSummary> trace;
  std::vector<StageStats> stages;
  std::vector<GateResult> gates;

  bool gates_passed() const;
};

std::vector<GateResult> evaluate_gates(const std::vector<StageStats>& stages, const Gates& gates);

std::string report_json(const RunReport& report);
// Long format: stage,name,metric,statistic,value (one row per figure).
std::string report_csv(const RunReport& report);
// One row per request (needs RunOptions::keep_rows).
std::string requests_csv(const RunReport& report);
// The terminal tables: one per stage, then a summary across stages when there are several.
std::string report_table(const RunReport& report);
// Latency (TTFT and e2e, p50 and p99) and throughput (requests and output tokens per second)
// per timeline interval across the run, with stage boundaries marked.
std::string report_svg(const RunReport& report);

// "stage 1/3 concurrency=10 | 12.0s | sent 1234 done 1200 err 3 | in flight 34 | 95.1 req/s"
std::string progress_line(const Progress& progress, double requests_per_second);

}  // namespace llmscale::loadgen
