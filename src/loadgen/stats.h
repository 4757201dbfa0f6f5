// What one request measured, and the per-stage aggregates built from it.
//
// Definitions (the ones genai-perf and vLLM's benchmark_serving use, with their names):
//  * TTFT: from the intended send time to the first token-bearing response (streaming only).
//  * ITL: every gap between two consecutive token-bearing responses, over all requests.
//  * TPOT: per request, (e2e - TTFT) / (output tokens - 1): genai-perf's "inter token latency"
//    and vLLM's TPOT; requests with fewer than two output tokens have none.
//  * e2e: from the intended send time to the last byte of the response.
//  * schedule delay: intended send time to the actual send. Open-loop, burst and trace stages
//    measure TTFT and e2e from the intended time, so a late send (the generator or the
//    --max-inflight cap held the request back) counts against latency instead of hiding it
//    (no coordinated omission). In a closed loop the intended time is the send time.
// Only successful requests feed the latency and token distributions; failed ones are counted by
// error class. Warm-up requests are counted apart and left out of everything else except the
// timeline.
//
// The measurement window of a stage runs from the first measured request's intended send to
// the last measured completion; throughputs divide by it. Goodput counts successful requests
// that meet every SLO given (--slo ttft=2s,itl=100ms): ttft (non-streaming requests use e2e,
// when their first token reaches the client), itl (the request's mean gap, genai-perf's
// per-request ITL), itl_max (its largest gap), tpot and e2e.
//
// StageStats is a plain accumulator; the Runner keeps one per stage and client thread, guards
// them with its own lock, and merges them for the report.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "loadgen/histogram.h"

namespace llmscale::loadgen {

struct Slo {
  std::optional<core::Duration> ttft;
  std::optional<core::Duration> itl;
  std::optional<core::Duration> itl_max;
  std::optional<core::Duration> tpot;
  std::optional<core::Duration> e2e;

  bool empty() const { return !ttft && !itl && !itl_max && !tpot && !e2e; }
  // "ttft=2s,itl=100ms" (Go durations, in this field order).
  std::string to_string() const;
};

// Parses "ttft=2s,itl=100ms,e2e=30s" (keys ttft, itl, itl_max, tpot, e2e; Go durations; a bare
// number is milliseconds, as in genai-perf's --goodput). "" is no SLO.
core::Result<Slo> parse_slo(std::string_view text);

// What an Executor measured for one request. Durations are from the actual send.
struct RequestResult {
  bool ok = false;
  std::string error_kind;                  // "" when ok; "connection refused", "http 503", ...
  std::string error_detail;                // the first words of the message or body
  int http_status = 0;                     // 0 when no response head arrived
  std::optional<core::Duration> ttft;      // streaming: first token-bearing response
  std::vector<core::Duration> token_gaps;  // ITLs (streaming)
  core::Duration e2e{};                    // to the last byte (or the failure)
  std::int64_t output_tokens = 0;
};

// A finished request as the Runner hands it to the stats: times are since the run started.
struct CompletedRequest {
  std::uint64_t id = 0;
  bool warmup = false;
  core::Duration intended{};
  core::Duration sent{};
  core::Duration completed{};
  std::int64_t input_tokens = 0;
  std::int64_t max_tokens = 0;
  RequestResult result;
};

// One row of --requests-csv.
struct RequestRow {
  std::uint64_t id = 0;
  std::size_t stage = 0;
  bool warmup = false;
  double intended_s = 0;
  double sent_s = 0;
  std::optional<double> ttft_ms;  // from the intended time
  double e2e_ms = 0;              // from the intended time
  std::optional<double> tpot_ms;
  std::optional<double> itl_max_ms;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  int http_status = 0;
  bool ok = false;
  bool good = false;
  std::string error_kind;
};

// Activity in one timeline interval (by completion time), for the chart and the JSON.
struct TimelineBucket {
  std::uint64_t completed = 0;  // successful
  std::uint64_t errors = 0;
  std::uint64_t output_tokens = 0;
  Histogram ttft{5};
  Histogram e2e{5};
};

class StageStats {
 public:
  static constexpr std::size_t kMaxErrorSamples = 5;

  // `interval` is the timeline bucket width.
  StageStats(std::string name, std::string workload, core::Duration interval, Slo slo);

  void add(const CompletedRequest& request);
  // Requests still in flight when the stage had to end (counted as "stage deadline" errors).
  void add_abandoned(std::uint64_t count, bool warmup);
  // Adds everything `other` counted (another client thread's share of the same stage): counts,
  // histograms and timeline buckets add exactly, the window widens to cover both, rows are
  // appended (reports sort them), error samples are kept up to kMaxErrorSamples. Leaves name,
  // index, start and end as they are.
  void merge(const StageStats& other);

  const std::string& name() const { return name_; }
  const std::string& workload() const { return workload_; }
  const Slo& slo() const { return slo_; }
  core::Duration interval() const { return interval_; }

  std::size_t index = 0;   // position in the run
  core::Duration start{};  // since the run started
  core::Duration end{};

  std::uint64_t warmup_requests = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t failed = 0;
  std::uint64_t good = 0;
  std::map<std::string, std::uint64_t> errors;
  std::map<std::string, std::vector<std::string>> error_samples;
  std::map<int, std::uint64_t> http_statuses;  // measured requests with a response head

  Histogram ttft, itl, tpot, e2e, schedule_delay, input_tokens, output_tokens;
  std::uint64_t output_token_total = 0;
  std::uint64_t input_token_total = 0;

  std::optional<core::Duration> window_start;  // first measured intended send
  std::optional<core::Duration> window_end;    // last measured completion
  // Timeline buckets keyed by completion time / interval (since the run started).
  std::map<std::int64_t, TimelineBucket> timeline;
  std::vector<RequestRow> rows;  // filled when keep_rows
  bool keep_rows = false;

  std::uint64_t measured() const { return succeeded + failed; }
  double window_seconds() const;
  double request_throughput() const;       // successful requests / s
  double output_token_throughput() const;  // output tokens of successful requests / s
  double input_token_throughput() const;
  double goodput() const;  // good requests / s

 private:
  std::string name_;
  std::string workload_;
  core::Duration interval_;
  Slo slo_;
};

}  // namespace llmscale::loadgen
