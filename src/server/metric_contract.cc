// The metric contract table (metric_contract.h) and its PromQL and sample readers. Names, types
// and releases come from each engine's own source, cited per engine below and summarised in
// docs/metric-contract.md.
#include "server/metric_contract.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

namespace llmscale::server {

namespace {

constexpr SeriesName named(std::string_view name) {
  return SeriesName{name, "", ""};
}
constexpr SeriesName named(std::string_view name, std::string_view label, std::string_view value) {
  return SeriesName{name, label, value};
}
constexpr SeriesName kNone{"", "", ""};

constexpr MetricSource row(Signal signal, Engine engine, Version since, Version until,
                           SeriesName series, MetricKind kind, std::string_view unit,
                           bool deprecated) {
  return MetricSource{signal, engine, since, until, series, kNone, 1.0, kind, unit, deprecated};
}
constexpr MetricSource ratio(Signal signal, Engine engine, Version since, Version until,
                             SeriesName series, SeriesName divisor, double divide_by,
                             bool deprecated) {
  return MetricSource{signal,     engine,    since,     until,
                      series,     divisor,   divide_by, MetricKind::kGauge,
                      "fraction", deprecated};
}

using enum Signal;
using enum Engine;
constexpr auto kGauge = MetricKind::kGauge;
constexpr auto kHistogram = MetricKind::kHistogram;
constexpr bool kPreferred = false;
constexpr bool kDeprecated = true;
constexpr Version kAlways{0, 0, 0};

constexpr std::array kTable = {
    // vLLM V1 engine: vllm/v1/metrics/loggers.py (PrometheusStatLogger). The V1 engine is the
    // default from 0.8.0. kv_cache_usage_perc renames gpu_cache_usage_perc in 0.9.2 ("Deprecated
    // in 0.9.2 - Renamed as vllm:kv_cache_usage_perc"; hidden in 0.11 behind
    // --show-hidden-metrics-for-version=0.10, removed in 0.12); inter_token_latency_seconds
    // renames time_per_output_token_seconds in 0.11 (hidden in 0.12, removed in 0.13).
    row(kQueue, kVllmV1, {0, 8, 0}, kStillExported, named("vllm:num_requests_waiting"), kGauge,
        "requests", kPreferred),
    row(kRunning, kVllmV1, {0, 8, 0}, kStillExported, named("vllm:num_requests_running"), kGauge,
        "requests", kPreferred),
    row(kKvUsage, kVllmV1, {0, 9, 2}, kStillExported, named("vllm:kv_cache_usage_perc"), kGauge,
        "fraction", kPreferred),
    row(kKvUsage, kVllmV1, {0, 8, 0}, {0, 11, 0}, named("vllm:gpu_cache_usage_perc"), kGauge,
        "fraction", kDeprecated),
    row(kTtft, kVllmV1, {0, 8, 0}, kStillExported, named("vllm:time_to_first_token_seconds"),
        kHistogram, "seconds", kPreferred),
    row(kItl, kVllmV1, {0, 11, 0}, kStillExported, named("vllm:inter_token_latency_seconds"),
        kHistogram, "seconds", kPreferred),
    row(kItl, kVllmV1, {0, 8, 0}, {0, 12, 0}, named("vllm:time_per_output_token_seconds"),
        kHistogram, "seconds", kDeprecated),
    // vLLM V0 engine: vllm/engine/metrics.py (Metrics), from the first Prometheus support
    // (0.3) until V0 was removed.
    row(kQueue, kVllmV0, {0, 3, 0}, {0, 11, 0}, named("vllm:num_requests_waiting"), kGauge,
        "requests", kPreferred),
    row(kRunning, kVllmV0, {0, 3, 0}, {0, 11, 0}, named("vllm:num_requests_running"), kGauge,
        "requests", kPreferred),
    row(kKvUsage, kVllmV0, {0, 3, 0}, {0, 11, 0}, named("vllm:gpu_cache_usage_perc"), kGauge,
        "fraction", kPreferred),
    row(kTtft, kVllmV0, {0, 3, 0}, {0, 11, 0}, named("vllm:time_to_first_token_seconds"),
        kHistogram, "seconds", kPreferred),
    row(kItl, kVllmV0, {0, 3, 0}, {0, 11, 0}, named("vllm:time_per_output_token_seconds"),
        kHistogram, "seconds", kPreferred),
    // SGLang: python/sglang/srt/metrics/collector.py (SchedulerMetricsCollector,
    // TokenizerMetricsCollector); the 0.4 docs (docs/references/production_metrics.md) still
    // show time_per_output_token_seconds, renamed inter_token_latency_seconds in 0.4.4 (2025).
    row(kQueue, kSglang, {0, 4, 0}, kStillExported, named("sglang:num_queue_reqs"), kGauge,
        "requests", kPreferred),
    row(kRunning, kSglang, {0, 4, 0}, kStillExported, named("sglang:num_running_reqs"), kGauge,
        "requests", kPreferred),
    row(kKvUsage, kSglang, {0, 4, 0}, kStillExported, named("sglang:token_usage"), kGauge,
        "fraction", kPreferred),
    row(kTtft, kSglang, {0, 4, 0}, kStillExported, named("sglang:time_to_first_token_seconds"),
        kHistogram, "seconds", kPreferred),
    row(kItl, kSglang, {0, 4, 4}, kStillExported, named("sglang:inter_token_latency_seconds"),
        kHistogram, "seconds", kPreferred),
    row(kItl, kSglang, {0, 4, 0}, {0, 4, 4}, named("sglang:time_per_output_token_seconds"),
        kHistogram, "seconds", kDeprecated),
    // TGI: router/src/server.rs and backends/v3 (metrics::gauge!/histogram!). KV use is the
    // running batch's token budget over the KV token capacity (tgi_batch_max_total_tokens, set
    // by backend v3 from 2.3.1). No TTFT histogram exists; the per-request mean time per token
    // (inference time / generated tokens, prefill included) stands for ITL.
    row(kQueue, kTgi, {0, 3, 0}, kStillExported, named("tgi_queue_size"), kGauge, "requests",
        kPreferred),
    row(kRunning, kTgi, {0, 3, 0}, kStillExported, named("tgi_batch_current_size"), kGauge,
        "requests", kPreferred),
    ratio(kKvUsage, kTgi, {2, 3, 1}, kStillExported, named("tgi_batch_current_max_tokens"),
          named("tgi_batch_max_total_tokens"), 1.0, kPreferred),
    row(kItl, kTgi, {0, 3, 0}, kStillExported, named("tgi_request_mean_time_per_token_duration"),
        kHistogram, "seconds", kPreferred),
    // JetStream: jetstream/core/metrics/prometheus.py (JetstreamMetricsCollector). Releases by
    // date: v0.2.2 = 2024.5, v0.3 = 2024.12; the unprefixed num_requests_waiting and
    // kv_cache_utilization_perc (0–100) came with multi-LoRA (PR #221, 2025.4). No running
    // gauge; KV use is slot-based (decode slots in use, a 0–1 fraction despite the name).
    row(kQueue, kJetStream, {2024, 5, 0}, kStillExported, named("jetstream_prefill_backlog_size"),
        kGauge, "requests", kPreferred),
    row(kQueue, kJetStream, {2025, 4, 0}, kStillExported, named("num_requests_waiting"), kGauge,
        "requests", kPreferred),
    row(kKvUsage, kJetStream, {2024, 6, 0}, kStillExported,
        named("jetstream_slots_used_percentage"), kGauge, "fraction", kPreferred),
    ratio(kKvUsage, kJetStream, {2025, 4, 0}, kStillExported, named("kv_cache_utilization_perc"),
          kNone, 100.0, kPreferred),
    row(kTtft, kJetStream, {2024, 8, 0}, kStillExported, named("jetstream_time_to_first_token"),
        kHistogram, "seconds", kPreferred),
    row(kItl, kJetStream, {2024, 8, 0}, kStillExported, named("jetstream_time_per_output_token"),
        kHistogram, "seconds", kPreferred),
    // NVIDIA NIM for LLMs: the "Observability" page of its docs (no public source): vLLM V0's
    // names without the prefix.
    row(kQueue, kNim, {1, 0, 0}, kStillExported, named("num_requests_waiting"), kGauge, "requests",
        kPreferred),
    row(kRunning, kNim, {1, 0, 0}, kStillExported, named("num_requests_running"), kGauge,
        "requests", kPreferred),
    row(kKvUsage, kNim, {1, 0, 0}, kStillExported, named("gpu_cache_usage_perc"), kGauge,
        "fraction", kPreferred),
    row(kTtft, kNim, {1, 0, 0}, kStillExported, named("time_to_first_token_seconds"), kHistogram,
        "seconds", kPreferred),
    row(kItl, kNim, {1, 0, 0}, kStillExported, named("time_per_output_token_seconds"), kHistogram,
        "seconds", kPreferred),
    // TensorRT-LLM via Triton (container releases, batch-manager stats from 23.11):
    // triton-inference-server/tensorrtllm_backend README.md "Triton Metrics" and
    // ci/L0_backend_trtllm/test.sh. request_type="waiting" and kv_cache_block_type="fraction"
    // appear only in later releases (not pinned here), hence the fallbacks after them. TTFT
    // only with --metrics-config histogram_latencies=true (time to the first response, ms).
    row(kQueue, kTrtLlm, {23, 11, 0}, kStillExported,
        named("nv_trt_llm_request_metrics", "request_type", "waiting"), kGauge, "requests",
        kPreferred),
    row(kQueue, kTrtLlm, {23, 11, 0}, kStillExported, named("nv_inference_pending_request_count"),
        kGauge, "requests", kPreferred),
    row(kRunning, kTrtLlm, {23, 11, 0}, kStillExported,
        named("nv_trt_llm_request_metrics", "request_type", "active"), kGauge, "requests",
        kPreferred),
    row(kKvUsage, kTrtLlm, {23, 11, 0}, kStillExported,
        named("nv_trt_llm_kv_cache_block_metrics", "kv_cache_block_type", "fraction"), kGauge,
        "fraction", kPreferred),
    ratio(kKvUsage, kTrtLlm, {23, 11, 0}, kStillExported,
          named("nv_trt_llm_kv_cache_block_metrics", "kv_cache_block_type", "used"),
          named("nv_trt_llm_kv_cache_block_metrics", "kv_cache_block_type", "max"), 1.0,
          kPreferred),
    MetricSource{kTtft,
                 kTrtLlm,
                 {23, 11, 0},
                 kStillExported,
                 named("nv_inference_first_response_histogram_ms"),
                 kNone,
                 1000.0,
                 kHistogram,
                 "seconds",
                 kPreferred},
    // llama.cpp server (--metrics): tools/server/server.cpp (examples/server/server.cpp before
    // the 2025 move), every name prefixed `llamacpp:`; builds numbered bNNNN. Deferred requests
    // wait for a free slot. kv_cache_usage_ratio (used cells / n_ctx) was removed by PR #13660
    // (May 2025, about b5450; the upper bound is approximate); no latency histograms.
    row(kQueue, kLlamaCpp, kAlways, kStillExported, named("llamacpp:requests_deferred"), kGauge,
        "requests", kPreferred),
    row(kRunning, kLlamaCpp, kAlways, kStillExported, named("llamacpp:requests_processing"), kGauge,
        "requests", kPreferred),
    row(kKvUsage, kLlamaCpp, kAlways, {5450, 0, 0}, named("llamacpp:kv_cache_usage_ratio"), kGauge,
        "fraction", kDeprecated),
};

bool is_histogram(Signal signal) {
  return signal == kTtft || signal == kItl;
}

// The label matcher added to `selector`: {a="b"} + c="d" → {a="b",c="d"}.
std::string with_matcher(std::string_view selector, const SeriesName& series) {
  std::string out(series.name);
  if (series.label.empty()) return out + std::string(selector);
  std::string matcher = std::string(series.label) + "=\"" + std::string(series.value) + "\"";
  if (selector.size() < 2 || selector.back() != '}') return out + "{" + matcher + "}";
  std::string_view inner = selector.substr(1, selector.size() - 2);
  out += "{";
  out += inner;
  if (!inner.empty()) out += ",";
  return out + matcher + "}";
}

std::string number(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

// Sources of a signal in chain order, identical reads listed once (vLLM V0 and V1 share names).
std::vector<const MetricSource*> chain(Signal signal) {
  std::vector<const MetricSource*> out;
  std::set<std::string> seen;
  for (const MetricSource& s : kTable) {
    if (s.signal != signal) continue;
    std::string key =
        with_matcher("", s.series) + "/" + with_matcher("", s.divisor) + "/" + number(s.divide_by);
    if (seen.insert(key).second) out.push_back(&s);
  }
  return out;
}

bool matches(const ScrapedSample& sample, const SeriesName& series) {
  if (sample.labels.metric_name() != series.name) return false;
  return series.label.empty() || sample.labels.get(series.label) == series.value;
}

// The aggregate of a series over samples (a pod's ranks): sum for counts, max for a fraction.
std::optional<double> aggregate(Signal signal, const SeriesName& series,
                                std::span<const ScrapedSample> samples) {
  std::optional<double> out;
  for (const ScrapedSample& s : samples) {
    if (!matches(s, series)) continue;
    if (!out) {
      out = s.value;
    } else if (signal == kKvUsage) {
      out = std::max(*out, s.value);
    } else {
      *out += s.value;
    }
  }
  return out;
}

std::string describe(const MetricSource& s) {
  std::string out = with_matcher("", s.series);
  if (!s.divisor.name.empty()) out += " / " + with_matcher("", s.divisor);
  if (s.divide_by != 1.0) out += " / " + number(s.divide_by);
  return out;
}

}  // namespace

std::string_view signal_name(Signal signal) {
  switch (signal) {
    case kQueue: return "queue";
    case kRunning: return "running";
    case kKvUsage: return "KV-cache use";
    case kTtft: return "TTFT";
    case kItl: return "ITL";
  }
  return "?";
}

std::string_view engine_name(Engine engine) {
  switch (engine) {
    case kVllmV1: return "vLLM V1";
    case kVllmV0: return "vLLM V0";
    case kSglang: return "SGLang";
    case kTgi: return "TGI";
    case kJetStream: return "JetStream";
    case kNim: return "NIM";
    case kTrtLlm: return "TensorRT-LLM (Triton)";
    case kLlamaCpp: return "llama.cpp";
  }
  return "?";
}

std::string format_version(Version version) {
  if (version == kStillExported) return "-";
  return std::to_string(version.major) + "." + std::to_string(version.minor) + "." +
         std::to_string(version.patch);
}

std::span<const MetricSource> metric_contract() {
  return kTable;
}

std::vector<const MetricSource*> metric_sources(Signal signal, Engine engine) {
  std::vector<const MetricSource*> out;
  for (const MetricSource& s : kTable)
    if (s.signal == signal && s.engine == engine) out.push_back(&s);
  return out;
}

std::vector<const MetricSource*> metric_sources(Signal signal, Engine engine, Version version) {
  std::vector<const MetricSource*> out = metric_sources(signal, engine);
  std::erase_if(out, [&](const MetricSource* s) { return !s->exported_at(version); });
  return out;
}

Engine flavor_engine(Flavor flavor) {
  switch (flavor) {
    case Flavor::kVllmV1: return kVllmV1;
    case Flavor::kVllmV0: return kVllmV0;
    case Flavor::kTgi: return kTgi;
    case Flavor::kJetStream: return kJetStream;
    case Flavor::kNim: return kNim;
    case Flavor::kSglang: return kSglang;
  }
  return kVllmV1;
}

Version flavor_version(Flavor flavor) {
  switch (flavor) {
    case Flavor::kVllmV1: return {0, 10, 0};       // both KV names, time_per_output_token only
    case Flavor::kVllmV0: return {0, 7, 0};        // ~0.7 metrics.py
    case Flavor::kTgi: return {3, 3, 7};           // db931fcf
    case Flavor::kJetStream: return {2026, 1, 0};  // acd4f5ad, 2026-01-05
    case Flavor::kNim: return {1, 0, 0};           // the docs' table
    case Flavor::kSglang: return {0, 5, 0};        // a recent collector.py
  }
  return {};
}

std::string signal_promql(Signal signal, std::string_view selector, std::string_view by) {
  std::string op = signal == kKvUsage ? "max" : "sum";
  if (!by.empty()) op += " by (" + std::string(by) + ")";
  auto read = [&](const SeriesName& series) {
    return op + " (" + with_matcher(selector, series) + ")";
  };
  std::string out;
  for (const MetricSource* s : chain(signal)) {
    if (s->kind != MetricKind::kGauge) continue;
    if (!out.empty()) out += " or ";
    std::string term = read(s->series);
    if (!s->divisor.name.empty()) term += " / " + read(s->divisor);
    if (s->divide_by != 1.0) term += " / " + number(s->divide_by);
    out += s->plain() ? term : "(" + term + ")";
  }
  return out;
}

std::string quantile_promql(Signal signal, double quantile, std::string_view selector,
                            std::string_view range) {
  std::string out;
  for (const MetricSource* s : chain(signal)) {
    if (s->kind != MetricKind::kHistogram) continue;
    SeriesName bucket = s->series;
    std::string bucket_name = std::string(bucket.name) + "_bucket";
    bucket.name = bucket_name;
    std::string term = "histogram_quantile(" + std::to_string(quantile) + ", sum by (le) (rate(" +
                       with_matcher(selector, bucket) + "[" + std::string(range) + "])))";
    if (s->divide_by != 1.0) term = "(" + term + " / " + number(s->divide_by) + ")";
    if (!out.empty()) out += " or ";
    out += term;
  }
  return out;
}

SignalReading read_signal(Signal signal, std::span<const ScrapedSample> samples) {
  SignalReading reading;
  if (is_histogram(signal)) {
    reading.problem = std::string(signal_name(signal)) + " is a histogram: query it as PromQL";
    return reading;
  }
  std::vector<std::string> tried;
  for (const MetricSource* s : chain(signal)) {
    std::optional<double> value = aggregate(signal, s->series, samples);
    std::optional<double> divisor;
    if (value && !s->divisor.name.empty()) {
      divisor = aggregate(signal, s->divisor, samples);
      if (!divisor || *divisor == 0) value.reset();
    }
    if (!value) {
      tried.push_back(describe(*s));
      continue;
    }
    double v = *value;
    if (divisor) v /= *divisor;
    reading.value = v / s->divide_by;
    reading.metric = describe(*s);
    return reading;
  }
  reading.problem = "no " + std::string(signal_name(signal)) + " series (looked for ";
  for (std::size_t i = 0; i < tried.size(); ++i) {
    if (i > 0) reading.problem += ", ";
    reading.problem += tried[i];
  }
  reading.problem += ")";
  return reading;
}

std::map<std::string, SignalReading> read_signal_by_pod(Signal signal,
                                                        std::span<const ScrapedSample> samples,
                                                        std::span<const std::string> pods) {
  std::map<std::string, std::vector<ScrapedSample>> by_pod;
  for (const std::string& pod : pods) by_pod[pod];
  for (const ScrapedSample& s : samples) {
    auto it = by_pod.find(std::string(s.labels.get("pod")));
    if (it != by_pod.end()) it->second.push_back(s);  // others: pods gone, pruned
  }
  std::map<std::string, SignalReading> out;
  for (const auto& [pod, pod_samples] : by_pod) {
    SignalReading r = read_signal(signal, pod_samples);
    if (!r.value) r.problem = pod + ": " + r.problem;
    out.emplace(pod, std::move(r));
  }
  return out;
}

}  // namespace llmscale::server
