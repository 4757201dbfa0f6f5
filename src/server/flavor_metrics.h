// FlavorMetrics: the Prometheus metrics of one simulated server, with the exact names, types,
// label names, HELP texts and histogram buckets of the real server the flavor stands for
// (../shared/reference/server-metrics.md; tables in docs/server.md).
//
// It is the engine's EngineObserver: per-token and per-request observations (TTFT, ITL/TPOT,
// e2e, queue, prefill, decode, lengths) go into histograms as they happen; scheduler gauges
// (running, waiting, KV usage, slots) and engine counters (prompt/generation tokens,
// preemptions, prefix-cache queries) are read from Engine::stats() at scrape time, so a scrape
// always sees the engine's current state. HTTP-level events (TGI's request_count and
// request_failure{err}) come from the server.
//
// Output: prom::MetricRegistry text, Python value style ("1.0") for the Python servers, Go
// style for TGI's Rust exporter. Label names are registered in sorted order, as
// prometheus_client prints them; the registry prints `le` last (prometheus_client sorts it in),
// an order-only difference every parser ignores. Families are registered in the upstream
// declaration order.
//
// Thread-safety: observer callbacks, on_* and render() are called on the server's loop thread;
// the registry itself is thread-safe for concurrent scrapes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/time.h"
#include "engine/engine.h"
#include "engine/profile.h"
#include "prom/exposition/registry.h"
#include "server/api.h"
#include "server/flavor.h"

namespace llmscale::server {

struct FlavorMetricsConfig {
  Flavor flavor = Flavor::kVllmV1;
  std::string model_name;   // served model name (model_name label)
  std::string instance_id;  // JetStream `id` label (the pod's HOSTNAME)
  std::int64_t max_model_len = 0;
  int max_num_seqs = 0;
  std::int64_t num_gpu_blocks = 0;
  std::int64_t kv_capacity_tokens = 0;
  const engine::Profile* profile = nullptr;  // cache_config_info labels; REQUIRES non-null
};

class FlavorMetrics final : public engine::EngineObserver {
 public:
  explicit FlavorMetrics(const FlavorMetricsConfig& config);
  ~FlavorMetrics() override;
  FlavorMetrics(const FlavorMetrics&) = delete;
  FlavorMetrics& operator=(const FlavorMetrics&) = delete;

  // EngineObserver.
  void on_step(const engine::StepRecord& step) override;
  void on_token(const engine::TokenRecord& token) override;
  void on_request_finished(const engine::RequestRecord& request) override;

  // An inference request arrived (TGI tgi_request_count counts every one).
  void on_request_received(Api api);
  // A request accepted by the engine, with the max_tokens parameter as sent (vLLM
  // request_params_max_tokens observes only explicit ones).
  void on_request_submitted(engine::RequestId id, std::optional<std::int64_t> max_tokens_param);
  // A request refused before the engine (TGI tgi_request_failure{err}).
  void on_request_failed(Api api, ErrorKind kind);
  // Cold start finished: vLLM's cache_config_info appears, JetStream's load/startup gauges set.
  void on_ready(double model_load_seconds, double startup_seconds, core::Time now);

  // The exposition text now: gauges and counters from `stats`.
  std::string render(const engine::EngineStats& stats, core::Time now);
  // The same scrape as render() without the text: its samples appended to `out` (for a scraper
  // in the same process, the fleet simulator; see prom::ingest_samples).
  void collect(const engine::EngineStats& stats, core::Time now,
               std::vector<prom::MetricRegistry::Sample>& out);

 private:
  // Sets the gauges and counters read from `stats` at `now` (the first half of a scrape).
  void refresh(const engine::EngineStats& stats, core::Time now);

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// JetStream's model_name label value: '-' -> '_', omitted (empty) unless it then matches
// ^[a-zA-Z_:][a-zA-Z0-9_:]*$ (jetstream/core/metrics/prometheus.py).
std::string jetstream_model_label(std::string_view model_name);

// vLLM's build_1_2_5_buckets(max_value): 1, 2, 5, 10, 20, 50, ... <= max_value.
std::vector<double> one_two_five_buckets(std::int64_t max_value);

}  // namespace llmscale::server
