// The metric contract: per inference engine and release, which Prometheus series carry each
// load signal a policy or the router asks for by meaning ("queue", "KV-cache use", "TTFT"),
// with the preferred name first and the deprecated aliases after it, so a reader written
// against the signal keeps working across a server upgrade (vLLM's gpu_cache_usage_perc →
// kv_cache_usage_perc). The table is data (metric_contract.cc, one row per name, each engine's
// source file cited there); the functions below render it as PromQL `or` chains or read it off
// a scraped sample set. A signal none of whose names is present reads as missing (nullopt),
// never as 0: the policies treat that as a failed fetch that blocks scale-down.
//
// It lives in `server` beside the simulated servers' catalogs (flavor_metrics.cc), which a test
// checks against it; `up` and `sim` already link `server`.
//
// Pure values and functions; thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prom/exposition/labels.h"
#include "server/flavor.h"

namespace llmscale::server {

enum class Signal : std::uint8_t {
  kQueue,    // requests waiting in the server's own queue
  kRunning,  // requests in the running batch
  kKvUsage,  // fraction 0..1 of the KV cache (or its stand-in) in use
  kTtft,     // time to first token, histogram, seconds
  kItl,      // inter-token latency (time per output token), histogram, seconds
};
// "queue", "running", "KV-cache use", "TTFT", "ITL".
std::string_view signal_name(Signal signal);

enum class Engine : std::uint8_t {
  kVllmV1,
  kVllmV0,
  kSglang,
  kTgi,
  kJetStream,
  kNim,
  kTrtLlm,  // TensorRT-LLM behind Triton's metrics endpoint
  kLlamaCpp,
};
std::string_view engine_name(Engine engine);

enum class MetricKind : std::uint8_t { kGauge, kCounter, kHistogram };

// A release of an engine in its own numbering (vLLM 0.10.0, TGI 3.3.7, Triton container 23.11);
// JetStream, untagged after v0.3, by commit date (2025.4.0 = April 2025).
struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  friend auto operator<=>(const Version&, const Version&) = default;
};
inline constexpr Version kStillExported{9999, 0, 0};
std::string format_version(Version version);

// One series by name, optionally narrowed by one label (Triton's request_type="waiting").
struct SeriesName {
  std::string_view name;
  std::string_view label;  // "" for none
  std::string_view value;
};

// One row of the table: where `signal` comes from on `engine` releases [since, until).
struct MetricSource {
  Signal signal;
  Engine engine;
  Version since;  // first release exporting it
  Version until;  // first release no longer exporting it by default; kStillExported if none
  SeriesName series;
  SeriesName divisor;  // empty name: none (TGI's KV use is batch tokens over the token budget)
  double divide_by;    // a constant divisor after that (JetStream's 0–100 percent: 100)
  MetricKind kind;
  std::string_view unit;  // of the signal after the transform
  bool deprecated;        // an alias kept for servers not yet upgraded

  bool exported_at(Version version) const { return since <= version && version < until; }
  bool plain() const { return divisor.name.empty() && divide_by == 1.0; }
};

// The whole table, engines in the order the `or` chains try them (engine-prefixed names before
// the unprefixed ones NIM and JetStream share), each engine's preferred name first.
std::span<const MetricSource> metric_contract();
// The rows of `signal` on `engine`, preferred first; with `version`, only those it exports.
std::vector<const MetricSource*> metric_sources(Signal signal, Engine engine);
std::vector<const MetricSource*> metric_sources(Signal signal, Engine engine, Version version);

// The engine and release a simulated flavor stands for (docs/server.md).
Engine flavor_engine(Flavor flavor);
Version flavor_version(Flavor flavor);

// PromQL for a gauge signal over `selector` (`{namespace="x",pod="y"}` or ""), every engine's
// names in one `or` chain, preferred first: `sum by (pod) (vllm:num_requests_waiting{...}) or
// ...`. `by` is the grouping label list ("" for none). Queue and running are summed over a
// pod's series (data-parallel engines, ranks); KV use takes the max.
std::string signal_promql(Signal signal, std::string_view selector, std::string_view by = "");
// histogram_quantile(q, sum by (le) (rate(<bucket>{selector}[range]))) for each TTFT or ITL
// histogram, `or`-chained, preferred first; in seconds whatever the engine's unit.
std::string quantile_promql(Signal signal, double quantile, std::string_view selector,
                            std::string_view range);

// One series' sample as scraped: labels with __name__, and its value.
struct ScrapedSample {
  prom::Labels labels;
  double value = 0;
};

// A gauge signal read off samples. nullopt when no name of the signal is present (a renamed,
// vanished or never exported series) — never 0; `problem` says what was looked for.
struct SignalReading {
  std::optional<double> value;
  std::string metric;   // the name it was read from ("tgi_batch_current_max_tokens / ...")
  std::string problem;  // set when value is nullopt
};

// The signal from one target's samples (one replica's scrape), the table's first row present.
// REQUIRES: `signal` is a gauge signal (kQueue, kRunning, kKvUsage).
SignalReading read_signal(Signal signal, std::span<const ScrapedSample> samples);
// Per pod (label `pod`) over the samples of many targets: pods not in `pods` are pruned (their
// series outlive them in a TSDB); a pod in `pods` without the series reads as missing.
std::map<std::string, SignalReading> read_signal_by_pod(Signal signal,
                                                        std::span<const ScrapedSample> samples,
                                                        std::span<const std::string> pods);

}  // namespace llmscale::server
