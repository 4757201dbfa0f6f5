// Simulator workloads: the arrivals a simulated run replays, generated up front as one sorted
// list (offset, prompt and output tokens, Mooncake prefix blocks).
//
// Trace replay goes through loadgen's trace reader (Azure 2023/2024 CSV, Mooncake JSONL,
// BurstGPT CSV) and its ArrivalGenerator (time_scale, rate_scale), so `llmscale load` and
// `llmscale simulate` read a trace the same way; a window [start, end) of the trace is sliced
// first. Synthetic kinds: poisson, gamma (burstiness), constant, burst (loadgen's), plus ramp
// (rate from `rate` to `rate_end` linearly over the duration) and diurnal (rate · (1 + amplitude
// · sin(2π t / period))) as non-homogeneous Poisson processes by thinning (Lewis & Shedler).
//
// Pure and deterministic for a seed. Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "core/time.h"
#include "loadgen/trace.h"

namespace llmscale::sim {

enum class WorkloadKind { kTrace, kPoisson, kGamma, kConstant, kBurst, kRamp, kDiurnal };

core::Result<WorkloadKind> parse_workload_kind(std::string_view text);
std::string_view workload_kind_name(WorkloadKind kind);

struct WorkloadConfig {
  WorkloadKind kind = WorkloadKind::kPoisson;
  // Trace replay.
  std::string trace_path;
  loadgen::TraceFormat trace_format = loadgen::TraceFormat::kAuto;
  std::shared_ptr<const loadgen::Trace> trace;  // set by load_trace_for() or a caller
  core::Duration window_start{};                // slice of the trace (original time)
  core::Duration window_end{};                  // 0: to the end
  double time_scale = 1;
  double rate_scale = 1;
  // Synthetic.
  double rate = 1;         // requests/s (ramp: start rate; diurnal: mean rate)
  double rate_end = 1;     // ramp
  double burstiness = 1;   // gamma shape
  double amplitude = 0.5;  // diurnal, 0..1
  core::Duration period = std::chrono::hours(24);      // diurnal
  int burst_size = 0;                                  // burst
  core::Duration burst_interval{};                     // burst
  core::Duration duration = std::chrono::minutes(10);  // synthetic kinds
  double input_mean = 550, input_stddev = 0;
  double output_mean = 128, output_stddev = 0;
  std::uint64_t seed = 1;

  std::string describe() const;
};

struct SimArrival {
  core::Duration offset{};
  std::int64_t input_tokens = 1;
  std::int64_t output_tokens = 1;
  const std::vector<std::uint64_t>* hash_ids = nullptr;  // points into the config's trace
};

// Reads the trace file of a trace workload into config.trace (no-op when already set).
core::Status load_trace_for(WorkloadConfig& config);

// Every arrival, in offset order, and the (sliced) trace their hash_ids point into.
struct Arrivals {
  std::vector<SimArrival> list;
  std::shared_ptr<const loadgen::Trace> trace;
  core::Duration span{};  // how long the workload sends (trace: sliced span x time_scale)
};
// REQUIRES: a trace workload has config.trace.
core::Result<Arrivals> generate_arrivals(const WorkloadConfig& config);

// A `kind: Workload` document (llmscale.io/v1alpha1) of a scenario, or the same fields as flags:
//   spec: {kind: trace, trace: path, format: azure, window: {start: 10m, end: 20m},
//          timeScale: 1, rateScale: 2, rate: 5, rateEnd: 20, burstiness: 0.5, amplitude: 0.5,
//          period: 24h, burstSize: 100, burstInterval: 1m, duration: 10m,
//          input: {mean: 550, stddev: 0}, output: {mean: 128, stddev: 0}, seed: 1}
// Relative trace paths are taken from `base_dir`. Errors name the field.
core::Result<WorkloadConfig> decode_workload(const core::Json& spec, const std::string& base_dir);

}  // namespace llmscale::sim
