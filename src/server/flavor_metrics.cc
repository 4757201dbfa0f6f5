// The metric families of each flavor and how engine observations feed them.
#include "server/flavor_metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <regex>
#include <string_view>
#include <vector>

#include "core/log.h"
#include "prom/exposition/float_text.h"
#include "prom/exposition/registry.h"

namespace llmscale::server {

namespace {

using engine::FinishReason;
using prom::Counter;
using prom::Gauge;
using prom::Histogram;

// vLLM (vllm/engine/metrics.py ~0.7 and vllm/v1/metrics/loggers.py 0.10).
const std::vector<double> kTtftV0 = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                     0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
const std::vector<double> kTtftV1 = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                     0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                     20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kTpotV0 = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                     0.3,  0.4,   0.5,  0.75,  1.0, 2.5};
const std::vector<double> kTpotV1 = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                                     0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kLatencyV0 = {0.3,  0.5,  0.8,  1.0,  1.5,  2.0,  2.5, 5.0,
                                        10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0};
const std::vector<double> kLatencyV1 = {0.3,  0.5,   0.8,   1.0,   1.5,   2.0,    2.5,
                                        5.0,  10.0,  15.0,  20.0,  30.0,  40.0,   50.0,
                                        60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
const std::vector<double> kIterationTokensV1 = {1,   8,    16,   32,   64,   128,  256,
                                                512, 1024, 2048, 4096, 8192, 16384};
const std::vector<double> kPrefillPerTokenV1 = {0.001, 0.002, 0.005, 0.01, 0.02,
                                                0.05,  0.1,   0.2,   0.5,  1.0};
const std::vector<double> kParamsN = {1, 2, 5, 10, 20};

// V0: the CUDA-graph capture sizes [1, 2, 4] + [8, 16, ..., 256] (vLLM's
// _BATCH_SIZES_TO_CAPTURE), as the aibrix fixture shows.
std::vector<double> cuda_graph_buckets() {
  std::vector<double> out = {1, 2, 4};
  for (int i = 8; i <= 256; i += 8) out.push_back(i);
  return out;
}

// JetStream (jetstream/core/metrics/prometheus.py).
const std::vector<double> kJsQueue = {0.01, 0.02, 0.05, 0.1,  0.2,  0.5,  1.0,
                                      2.0,  5.0,  10.0, 20.0, 50.0, 100.0};
const std::vector<double> kJsPrefillBuckets = {16,   32,   64,   128,  256,   512,
                                               1024, 2048, 4096, 8192, 16384, 32768};
const std::vector<double> kJsOutput = {1,     2,      5,      10,     20,      50,     100,
                                       200,   500,    1000,   2000,   5000,    10000,  20000,
                                       50000, 100000, 200000, 500000, 1000000, 2000000};
const std::vector<double> kJsPrefillPerToken = {
    0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};
const std::vector<double> kJsPerRequest = {1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0};

// SGLang (python/sglang/srt/metrics/collector.py).
const std::vector<double> kSgTtft = {0.1, 0.2, 0.4, 0.6, 0.8, 1,  2,   4,   6,
                                     8,   10,  20,  40,  60,  80, 100, 200, 400};
const std::vector<double> kSgItl = {0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025,
                                    0.030, 0.035, 0.040, 0.060, 0.080, 0.100, 0.200, 0.400,
                                    0.600, 0.800, 1,     2,     4,     6,     8};
const std::vector<double> kSgE2e = {0.1, 0.2, 0.4, 0.6, 0.8, 1,   2,   4,   6,    8,    10,
                                    20,  40,  60,  80,  100, 200, 400, 600, 1200, 1800, 2400};

// TGI (router/src/server.rs): 35 geometric buckets for every *_duration histogram, linear ones
// for lengths, 1..1024 for batch sizes.
std::vector<double> tgi_duration_buckets() {
  std::vector<double> out;
  double value = 0.0001;
  for (int i = 0; i < 35; ++i) {
    value *= 1.5;
    out.push_back(value);
  }
  return out;
}
std::vector<double> tgi_linear_buckets(std::int64_t max_value) {
  std::vector<double> out;
  out.reserve(100);
  for (int x = 0; x < 100; ++x) out.push_back(double(max_value) / 100.0 * double(x + 1));
  return out;
}

std::string python_bool(bool value) {
  return value ? "True" : "False";
}

// str(float) in Python: "0.9".
std::string python_float(double value) {
  std::string text;
  prom::append_python_float(text, value);
  return text;
}

}  // namespace

std::vector<double> one_two_five_buckets(std::int64_t max_value) {
  std::vector<double> out;
  for (double scale = 1;; scale *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      double v = m * scale;
      if (v > double(max_value)) return out;
      out.push_back(v);
    }
  }
}

std::string jetstream_model_label(std::string_view model_name) {
  std::string out(model_name);
  std::replace(out.begin(), out.end(), '-', '_');
  static const std::regex kValid("^[a-zA-Z_:][a-zA-Z0-9_:]*$");
  if (out.empty() || !std::regex_match(out, kValid)) return "";
  return out;
}

struct FlavorMetrics::Impl {
  explicit Impl(const FlavorMetricsConfig& c)
      : config(c),
        registry(c.flavor == Flavor::kTgi ? prom::ValueStyle::kGo : prom::ValueStyle::kPython) {}

  FlavorMetricsConfig config;
  prom::MetricRegistry registry;

  // Label names and values shared by every per-engine series, sorted by name.
  std::vector<std::string> base_names;
  std::vector<std::string> base_values;

  // Scheduler gauges.
  Gauge* running = nullptr;
  Gauge* waiting = nullptr;
  Gauge* swapped = nullptr;
  Gauge* kv_usage = nullptr;
  Gauge* kv_usage_legacy = nullptr;
  Gauge* cpu_cache_usage = nullptr;
  Gauge* cpu_prefix_hit_rate = nullptr;
  Gauge* gpu_prefix_hit_rate = nullptr;
  Gauge* lora_info = nullptr;
  Gauge* num_request_max = nullptr;
  // Counters fed from EngineStats deltas.
  Counter* preemptions = nullptr;
  Counter* prompt_tokens = nullptr;
  Counter* generation_tokens = nullptr;
  Counter* prefix_queries = nullptr;
  Counter* prefix_hits = nullptr;
  Counter* legacy_prefix_queries = nullptr;
  Counter* legacy_prefix_hits = nullptr;
  std::array<Counter*, 3> success = {nullptr, nullptr, nullptr};  // by FinishReason
  // Histograms.
  Histogram* iteration_tokens = nullptr;
  Histogram* ttft = nullptr;
  Histogram* tpot = nullptr;
  Histogram* e2e = nullptr;
  Histogram* queue = nullptr;
  Histogram* inference = nullptr;
  Histogram* prefill = nullptr;
  Histogram* decode = nullptr;
  Histogram* prefill_per_token = nullptr;
  Histogram* time_in_queue = nullptr;
  Histogram* prompt_len = nullptr;
  Histogram* generation_len = nullptr;
  Histogram* max_generation = nullptr;
  Histogram* params_n = nullptr;
  Histogram* params_max_tokens = nullptr;

  // TGI.
  prom::GaugeFamily* tgi_queue_size = nullptr;
  prom::GaugeFamily* tgi_batch_current_size = nullptr;
  prom::GaugeFamily* tgi_batch_current_max_tokens = nullptr;
  prom::GaugeFamily* tgi_batch_max_total_tokens = nullptr;
  prom::CounterFamily* tgi_request_count = nullptr;
  prom::CounterFamily* tgi_request_success = nullptr;
  prom::CounterFamily* tgi_request_failure = nullptr;
  prom::HistogramFamily* tgi_request_duration = nullptr;
  prom::HistogramFamily* tgi_request_validation_duration = nullptr;
  prom::HistogramFamily* tgi_request_queue_duration = nullptr;
  prom::HistogramFamily* tgi_request_inference_duration = nullptr;
  prom::HistogramFamily* tgi_request_mean_time_per_token_duration = nullptr;
  prom::HistogramFamily* tgi_request_input_length = nullptr;
  prom::HistogramFamily* tgi_request_generated_tokens = nullptr;
  prom::HistogramFamily* tgi_request_max_new_tokens = nullptr;
  prom::HistogramFamily* tgi_batch_next_size = nullptr;
  prom::CounterFamily* tgi_batch_inference_count = nullptr;
  prom::CounterFamily* tgi_batch_inference_success = nullptr;
  prom::HistogramFamily* tgi_batch_inference_duration = nullptr;
  prom::HistogramFamily* tgi_batch_forward_duration = nullptr;
  bool tgi_started = false;

  // JetStream.
  Gauge* js_prefill_backlog = nullptr;
  Gauge* js_transfer_backlog = nullptr;
  Gauge* js_generate_backlog = nullptr;
  Gauge* js_slots_used = nullptr;
  Gauge* js_model_load_time = nullptr;
  Gauge* js_startup_latency = nullptr;
  Gauge* js_num_requests_waiting = nullptr;
  Gauge* js_kv_cache_utilization = nullptr;
  Counter* js_success = nullptr;
  Histogram* js_wait_time = nullptr;
  Histogram* js_prefill_per_token = nullptr;

  // SGLang.
  Gauge* sg_used_tokens = nullptr;
  Gauge* sg_gen_throughput = nullptr;
  // vLLM V0's interval throughputs (vllm/engine/metrics.py, deprecated gauges): prompt and
  // generation tokens over the last local logging interval (5 s), updated when it elapses.
  Gauge* v0_prompt_throughput = nullptr;
  Gauge* v0_generation_throughput = nullptr;
  std::optional<core::Time> v0_last_log;
  std::uint64_t v0_prompt_at_log = 0;
  std::uint64_t v0_generation_at_log = 0;
  Gauge* sg_cache_hit_rate = nullptr;
  Gauge* sg_max_total_tokens = nullptr;
  Gauge* sg_retracted = nullptr;
  Counter* sg_cached_tokens = nullptr;
  Counter* sg_num_requests = nullptr;
  Counter* sg_num_aborted = nullptr;

  std::unordered_map<engine::RequestId, std::optional<std::int64_t>> max_tokens_params;
  engine::EngineStats last;  // counters already added
  std::optional<core::Time> last_render;
  double last_step_unix = 0;

  // Registration helpers: `extra` label names are merged into the base ones, sorted.
  std::vector<std::string> names(std::initializer_list<std::string> extra = {}) const {
    std::vector<std::string> out = base_names;
    out.insert(out.end(), extra.begin(), extra.end());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> values(
      std::initializer_list<std::pair<std::string, std::string>> extra = {}) const {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (std::size_t i = 0; i < base_names.size(); ++i) {
      pairs.emplace_back(base_names[i], base_values[i]);
    }
    pairs.insert(pairs.end(), extra.begin(), extra.end());
    std::sort(pairs.begin(), pairs.end());
    std::vector<std::string> out;
    out.reserve(pairs.size());
    for (auto& p : pairs) out.push_back(p.second);
    return out;
  }
  Gauge* gauge(const std::string& name, const std::string& help) {
    auto family = registry.add_gauge(name, help, names());
    if (!family) return fail(family.error());
    return &(*family)->with(values());
  }
  Counter* counter(const std::string& name, const std::string& help) {
    auto family = registry.add_counter(name, help, names());
    if (!family) return fail(family.error());
    return &(*family)->with(values());
  }
  Histogram* histogram(const std::string& name, const std::string& help,
                       std::vector<double> bounds) {
    auto family = registry.add_histogram(name, help, names(), std::move(bounds));
    if (!family) return fail(family.error());
    return &(*family)->with(values());
  }
  template <class T>
  T* unwrap(core::Result<T*> family) {
    if (!family) return fail(family.error());
    return *family;
  }
  std::nullptr_t fail(const core::Error& error) {
    // Names and buckets are constants: a failure here is a bug, logged loudly.
    core::log_error("server metrics: " + error.to_string());
    return nullptr;
  }

  void build_vllm_v1();
  void build_vllm_v0();
  void build_nim();
  void build_tgi();
  void build_jetstream();
  void build_sglang();
  void add_request_success(const std::string& help, std::initializer_list<std::string> reasons);
  void add_cache_config_info(bool with_engine);
};

void FlavorMetrics::Impl::add_request_success(const std::string& help,
                                              std::initializer_list<std::string> reasons) {
  std::string name =
      config.flavor == Flavor::kNim ? "request_success_total" : "vllm:request_success_total";
  auto family = unwrap(registry.add_counter(name, help, names({"finished_reason"})));
  if (family == nullptr) return;
  for (const std::string& reason : reasons) {
    Counter* c = &family->with(values({{"finished_reason", reason}}));
    if (reason == "stop") success[0] = c;
    if (reason == "length") success[1] = c;
    if (reason == "abort") success[2] = c;
  }
}

void FlavorMetrics::Impl::add_cache_config_info(bool with_engine) {
  const engine::SchedulerConfig& s = config.profile->scheduler;
  std::vector<std::pair<std::string, std::string>> info = {
      {"block_size", std::to_string(s.block_size)},
      {"cache_dtype", "auto"},
      {"calculate_kv_scales", "False"},
      {"cpu_offload_gb", "0"},
      {"enable_prefix_caching", python_bool(s.enable_prefix_caching)},
      {"gpu_memory_utilization", python_float(s.gpu_memory_utilization)},
      {"is_attention_free", "False"},
      {"num_cpu_blocks", "0"},
      {"num_gpu_blocks", std::to_string(config.num_gpu_blocks)},
      {"num_gpu_blocks_override",
       s.num_gpu_blocks_override ? std::to_string(*s.num_gpu_blocks_override) : "None"},
      {"sliding_window", "None"},
      {"swap_space_bytes", "4294967296"},
  };
  if (with_engine) info.emplace_back("engine", "0");
  std::sort(info.begin(), info.end());
  std::vector<std::string> label_names;
  std::vector<std::string> label_values;
  for (auto& [k, v] : info) {
    label_names.push_back(k);
    label_values.push_back(v);
  }
  auto family = unwrap(registry.add_gauge("vllm:cache_config_info",
                                          "Information of the LLMEngine CacheConfig", label_names));
  if (family != nullptr) family->with(label_values).set(1);
}

void FlavorMetrics::Impl::build_vllm_v1() {
  base_names = {"engine", "model_name"};
  base_values = {"0", config.model_name};
  running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.");
  waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.");
  // Upstream concatenates the two sentences without a space.
  kv_usage_legacy = gauge("vllm:gpu_cache_usage_perc",
                          "GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use "
                          "vllm:kv_cache_usage_perc instead.");
  legacy_prefix_queries = counter("vllm:gpu_prefix_cache_queries_total",
                                  "GPU prefix cache queries, in terms of number of queried"
                                  "tokens. DEPRECATED: Use vllm:prefix_cache_queries instead.");
  legacy_prefix_hits = counter("vllm:gpu_prefix_cache_hits_total",
                               "GPU prefix cache hits, in terms of number of cached tokens. "
                               "DEPRECATED: Use vllm:prefix_cache_hits instead.");
  kv_usage = gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.");
  prefix_queries = counter("vllm:prefix_cache_queries_total",
                           "Prefix cache queries, in terms of number of queried tokens.");
  prefix_hits = counter("vllm:prefix_cache_hits_total",
                        "Prefix cache hits, in terms of number of cached tokens.");
  preemptions =
      counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.");
  prompt_tokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.");
  generation_tokens =
      counter("vllm:generation_tokens_total", "Number of generation tokens processed.");
  add_request_success("Count of successfully processed requests.", {"abort", "length", "stop"});
  std::vector<double> lengths = one_two_five_buckets(config.max_model_len);
  prompt_len =
      histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", lengths);
  generation_len = histogram("vllm:request_generation_tokens",
                             "Number of generation tokens processed.", lengths);
  iteration_tokens =
      histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
                kIterationTokensV1);
  max_generation =
      histogram("vllm:request_max_num_generation_tokens",
                "Histogram of maximum number of requested generation tokens.", lengths);
  params_n = histogram("vllm:request_params_n", "Histogram of the n request parameter.", kParamsN);
  params_max_tokens = histogram("vllm:request_params_max_tokens",
                                "Histogram of the max_tokens request parameter.", lengths);
  ttft = histogram("vllm:time_to_first_token_seconds",
                   "Histogram of time to first token in seconds.", kTtftV1);
  tpot = histogram("vllm:time_per_output_token_seconds",
                   "Histogram of time per output token in seconds.", kTpotV1);
  prefill_per_token =
      histogram("vllm:time_per_prefill_token_request_seconds",
                "Time spent per token during prefill  phase in seconds", kPrefillPerTokenV1);
  e2e = histogram("vllm:e2e_request_latency_seconds",
                  "Histogram of e2e request latency in seconds.", kLatencyV1);
  queue = histogram("vllm:request_queue_time_seconds",
                    "Histogram of time spent in WAITING phase for request.", kLatencyV1);
  inference = histogram("vllm:request_inference_time_seconds",
                        "Histogram of time spent in RUNNING phase for request.", kLatencyV1);
  prefill = histogram("vllm:request_prefill_time_seconds",
                      "Histogram of time spent in PREFILL phase for request.", kLatencyV1);
  decode = histogram("vllm:request_decode_time_seconds",
                     "Histogram of time spent in DECODE phase for request.", kLatencyV1);
}

void FlavorMetrics::Impl::build_vllm_v0() {
  base_names = {"model_name"};
  base_values = {config.model_name};
  add_cache_config_info(false);
  running = gauge("vllm:num_requests_running", "Number of requests currently running on GPU.");
  swapped = gauge("vllm:num_requests_swapped", "Number of requests swapped to CPU.");
  waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.");
  kv_usage = gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.");
  cpu_cache_usage =
      gauge("vllm:cpu_cache_usage_perc", "CPU KV-cache usage. 1 means 100 percent usage.");
  cpu_prefix_hit_rate = gauge("vllm:cpu_prefix_cache_hit_rate", "CPU prefix cache block hit rate.");
  gpu_prefix_hit_rate = gauge("vllm:gpu_prefix_cache_hit_rate", "GPU prefix cache block hit rate.");
  // No model_name: the value is the Unix time of the last update.
  auto lora =
      unwrap(registry.add_gauge("vllm:lora_requests_info", "Running stats on lora requests.",
                                {"max_lora", "running_lora_adapters", "waiting_lora_adapters"}));
  if (lora != nullptr) lora_info = &lora->with({"0", "", ""});
  preemptions =
      counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.");
  prompt_tokens = counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.");
  generation_tokens =
      counter("vllm:generation_tokens_total", "Number of generation tokens processed.");
  add_request_success("Count of successfully processed requests.", {"stop", "length"});
  iteration_tokens =
      histogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
                cuda_graph_buckets());
  ttft = histogram("vllm:time_to_first_token_seconds",
                   "Histogram of time to first token in seconds.", kTtftV0);
  tpot = histogram("vllm:time_per_output_token_seconds",
                   "Histogram of time per output token in seconds.", kTpotV0);
  e2e = histogram("vllm:e2e_request_latency_seconds",
                  "Histogram of end to end request latency in seconds.", kLatencyV0);
  queue = histogram("vllm:request_queue_time_seconds",
                    "Histogram of time spent in WAITING phase for request.", kLatencyV0);
  inference = histogram("vllm:request_inference_time_seconds",
                        "Histogram of time spent in RUNNING phase for request.", kLatencyV0);
  prefill = histogram("vllm:request_prefill_time_seconds",
                      "Histogram of time spent in PREFILL phase for request.", kLatencyV0);
  decode = histogram("vllm:request_decode_time_seconds",
                     "Histogram of time spent in DECODE phase for request.", kLatencyV0);
  time_in_queue =
      histogram("vllm:time_in_queue_requests",
                "Histogram of time the request spent in the queue in seconds.", kLatencyV0);
  std::vector<double> lengths = one_two_five_buckets(config.max_model_len);
  prompt_len =
      histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", lengths);
  generation_len = histogram("vllm:request_generation_tokens",
                             "Number of generation tokens processed.", lengths);
  max_generation =
      histogram("vllm:request_max_num_generation_tokens",
                "Histogram of maximum number of requested generation tokens.", lengths);
  params_n = histogram("vllm:request_params_n", "Histogram of the n request parameter.", kParamsN);
  params_max_tokens = histogram("vllm:request_params_max_tokens",
                                "Histogram of the max_tokens request parameter.", lengths);
  // Deprecated in favour of the token counters, but still exported by V0 (<= 0.6), and what
  // seed 003's PromQL reads.
  v0_prompt_throughput =
      gauge("vllm:avg_prompt_throughput_toks_per_s", "Average prefill throughput in tokens/s.");
  v0_generation_throughput = gauge("vllm:avg_generation_throughput_toks_per_s",
                                   "Average generation throughput in tokens/s.");
}

void FlavorMetrics::Impl::build_nim() {
  // NIM for LLMs "Observability" table: vLLM V0 names without the prefix, per model.
  base_names = {"model_name"};
  base_values = {config.model_name};
  running = gauge("num_requests_running", "Number of requests currently running on GPU.");
  waiting = gauge("num_requests_waiting", "Number of requests waiting to be processed.");
  num_request_max = gauge("num_request_max", "Max number of concurrently running requests.");
  kv_usage = gauge("gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.");
  prompt_tokens = counter("prompt_tokens_total", "Number of prefill tokens processed.");
  generation_tokens = counter("generation_tokens_total", "Number of generation tokens processed.");
  ttft = histogram("time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                   kTtftV0);
  tpot = histogram("time_per_output_token_seconds",
                   "Histogram of time per output token in seconds.", kTpotV0);
  e2e = histogram("e2e_request_latency_seconds",
                  "Histogram of end to end request latency in seconds.", kLatencyV0);
  std::vector<double> lengths = one_two_five_buckets(config.max_model_len);
  prompt_len = histogram("request_prompt_tokens", "Number of prefill tokens processed.", lengths);
  generation_len =
      histogram("request_generation_tokens", "Number of generation tokens processed.", lengths);
  add_request_success("Count of successfully processed requests.", {"stop", "length"});
}

void FlavorMetrics::Impl::build_tgi() {
  // Families are described up front (metrics::describe_* in router/src/server.rs); series appear
  // when first touched, as metrics-exporter-prometheus renders them.
  std::vector<double> durations = tgi_duration_buckets();
  std::int64_t max_total = config.max_model_len;
  std::int64_t max_input = std::max<std::int64_t>(1, max_total - 1);
  tgi_request_count = unwrap(registry.add_counter("tgi_request_count", "Total number of requests"));
  tgi_request_success =
      unwrap(registry.add_counter("tgi_request_success", "Number of successful requests"));
  // Not described upstream: no HELP text.
  tgi_request_failure = unwrap(registry.add_counter("tgi_request_failure", "", {"err"}));
  tgi_queue_size = unwrap(registry.add_gauge("tgi_queue_size", "Current queue size"));
  tgi_batch_current_size =
      unwrap(registry.add_gauge("tgi_batch_current_size", "Current batch size"));
  tgi_batch_current_max_tokens = unwrap(
      registry.add_gauge("tgi_batch_current_max_tokens", "Maximum tokens for the current batch"));
  // Described under another name upstream (tgi_batch_total_tokens), so printed without HELP.
  tgi_batch_max_total_tokens = unwrap(registry.add_gauge("tgi_batch_max_total_tokens", ""));
  tgi_request_duration = unwrap(registry.add_histogram(
      "tgi_request_duration", "Total time spent processing the request", {}, durations));
  tgi_request_validation_duration = unwrap(registry.add_histogram(
      "tgi_request_validation_duration", "Time spent validating the request", {}, durations));
  tgi_request_queue_duration = unwrap(registry.add_histogram(
      "tgi_request_queue_duration", "Time spent in the queue per request", {}, durations));
  tgi_request_inference_duration = unwrap(registry.add_histogram(
      "tgi_request_inference_duration", "Request inference duration", {}, durations));
  tgi_request_mean_time_per_token_duration =
      unwrap(registry.add_histogram("tgi_request_mean_time_per_token_duration",
                                    "Mean time per token per request", {}, durations));
  tgi_request_input_length =
      unwrap(registry.add_histogram("tgi_request_input_length", "Input token length per request",
                                    {}, tgi_linear_buckets(max_input)));
  tgi_request_generated_tokens =
      unwrap(registry.add_histogram("tgi_request_generated_tokens", "Generated tokens per request",
                                    {}, tgi_linear_buckets(max_total)));
  tgi_request_max_new_tokens =
      unwrap(registry.add_histogram("tgi_request_max_new_tokens", "Maximum new tokens per request",
                                    {}, tgi_linear_buckets(max_total)));
  std::vector<double> batch_sizes;
  for (int i = 1; i <= 1024; ++i) batch_sizes.push_back(i);
  tgi_batch_next_size = unwrap(registry.add_histogram(
      "tgi_batch_next_size", "Batch size of the next batch", {}, batch_sizes));
  tgi_batch_inference_count = unwrap(registry.add_counter(
      "tgi_batch_inference_count", "Inference calls per method (prefill or decode)", {"method"}));
  tgi_batch_inference_success = unwrap(registry.add_counter(
      "tgi_batch_inference_success",
      "Number of successful inference calls per method (prefill or decode)", {"method"}));
  tgi_batch_inference_duration = unwrap(registry.add_histogram(
      "tgi_batch_inference_duration", "Batch inference duration", {"method"}, durations));
  tgi_batch_forward_duration = unwrap(registry.add_histogram(
      "tgi_batch_forward_duration", "Batch forward duration per method (prefill or decode)",
      {"method"}, durations));
}

void FlavorMetrics::Impl::build_jetstream() {
  base_names = {"id"};
  base_values = {config.instance_id};
  std::string model = jetstream_model_label(config.model_name);
  if (!model.empty()) {
    base_names.push_back("model_name");
    base_values.push_back(model);
  }
  auto with_idx = [&](const std::string& name, const std::string& help) -> Gauge* {
    auto family = unwrap(registry.add_gauge(name, help, names({"idx"})));
    return family == nullptr ? nullptr : &family->with(values({{"idx", "0"}}));
  };
  js_prefill_backlog = gauge("jetstream_prefill_backlog_size", "Size of prefill queue");
  js_transfer_backlog = with_idx("jetstream_transfer_backlog_size", "Size of transfer queue");
  js_generate_backlog = with_idx("jetstream_generate_backlog_size", "Size of generate queue");
  queue = histogram("jetstream_queue_duration",
                    "The total time each request spends enqueued in seconds", kJsQueue);
  js_slots_used = with_idx("jetstream_slots_used_percentage",
                           "The percentage of decode slots currently being used");
  js_model_load_time = gauge("jetstream_model_load_time", "Total time taken to load the model");
  js_startup_latency =
      gauge("jetstream_server_startup_latency", "Total time taken to start the Jetstream server");
  prompt_len = histogram("jetstream_request_input_length", "Number of input tokens per request",
                         kJsPrefillBuckets);
  generation_len = histogram("jetstream_request_output_length",
                             "Number of output tokens per request", kJsOutput);
  js_success =
      counter("jetstream_request_success_count_total", "Number of requests successfully completed");
  ttft = histogram("jetstream_time_to_first_token", "Time to first token per request in seconds",
                   kTtftV0);
  tpot = histogram("jetstream_time_per_output_token",
                   "Average time per output token per request in seconds", kTpotV0);
  js_prefill_per_token =
      histogram("jetstream_time_per_prefill_token", "Prefill time per token per request in seconds",
                kJsPrefillPerToken);
  e2e = histogram("jetstream_time_per_request", "End to end request latency in seconds",
                  kJsPerRequest);
  js_wait_time = histogram("jetstream_wait_time_per_request",
                           "Time each request is not being prefilled or decoded", kJsQueue);
  js_num_requests_waiting =
      gauge("num_requests_waiting", "Number of requests waiting to be processed for inference.");
  js_kv_cache_utilization = gauge("kv_cache_utilization_perc",
                                  "kv-cache utilization % by the requests under processing.");
  // Registered, set only when LoRA adapters are loaded: HELP and TYPE without samples.
  unwrap(registry.add_gauge("lora_request_info",
                            "LoRA adapters loaded into HBM for processing requests.",
                            names({"max_lora", "running_lora_adapters"})));
}

void FlavorMetrics::Impl::build_sglang() {
  base_names = {"engine_type", "model_name", "pp_rank", "tp_rank"};
  base_values = {"unified", config.model_name, "0", "0"};
  running = gauge("sglang:num_running_reqs", "The number of running requests.");
  sg_used_tokens = gauge("sglang:num_used_tokens", "The number of used tokens.");
  kv_usage = gauge("sglang:token_usage", "The token usage.");
  sg_gen_throughput = gauge("sglang:gen_throughput", "The generation throughput (token/s).");
  waiting = gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.");
  sg_cache_hit_rate = gauge("sglang:cache_hit_rate", "The prefix cache hit rate.");
  sg_max_total_tokens =
      gauge("sglang:max_total_num_tokens", "Maximum total number of tokens in the KV cache pool.");
  sg_retracted = gauge("sglang:num_retracted_reqs", "The number of retracted requests.");
  // Tokenizer-side collector: model_name only.
  base_names = {"model_name"};
  base_values = {config.model_name};
  prompt_tokens = counter("sglang:prompt_tokens_total", "Number of prefill tokens processed.");
  generation_tokens =
      counter("sglang:generation_tokens_total", "Number of generation tokens processed.");
  sg_cached_tokens = counter("sglang:cached_tokens_total", "Number of cached prompt tokens.");
  sg_num_requests = counter("sglang:num_requests_total", "Number of requests processed.");
  sg_num_aborted = counter("sglang:num_aborted_requests_total", "Number of requests aborted.");
  ttft = histogram("sglang:time_to_first_token_seconds",
                   "Histogram of time to first token in seconds.", kSgTtft);
  tpot = histogram("sglang:inter_token_latency_seconds",
                   "Histogram of inter-token latency in seconds.", kSgItl);
  e2e = histogram("sglang:e2e_request_latency_seconds",
                  "Histogram of End-to-end request latency in seconds", kSgE2e);
}

FlavorMetrics::FlavorMetrics(const FlavorMetricsConfig& config)
    : impl_(std::make_unique<Impl>(config)) {
  switch (config.flavor) {
    case Flavor::kVllmV1: impl_->build_vllm_v1(); break;
    case Flavor::kVllmV0: impl_->build_vllm_v0(); break;
    case Flavor::kNim: impl_->build_nim(); break;
    case Flavor::kTgi: impl_->build_tgi(); break;
    case Flavor::kJetStream: impl_->build_jetstream(); break;
    case Flavor::kSglang: impl_->build_sglang(); break;
  }
}

FlavorMetrics::~FlavorMetrics() = default;

void FlavorMetrics::on_step(const engine::StepRecord& step) {
  Impl& m = *impl_;
  if (m.iteration_tokens) m.iteration_tokens->observe(double(step.scheduled_tokens));
  m.last_step_unix = core::to_unix_seconds(step.start + step.duration);
  if (m.config.flavor == Flavor::kTgi) {
    // TGI v3 runs prefill (with chunks) and decode as separate calls; a step with prompt
    // tokens counts as a prefill call.
    std::string method = step.is_prefill() ? "prefill" : "decode";
    double seconds = core::to_seconds(step.duration);
    if (m.tgi_batch_inference_count) m.tgi_batch_inference_count->with({method}).inc();
    if (m.tgi_batch_inference_success) m.tgi_batch_inference_success->with({method}).inc();
    if (m.tgi_batch_inference_duration)
      m.tgi_batch_inference_duration->with({method}).observe(seconds);
    if (m.tgi_batch_forward_duration) m.tgi_batch_forward_duration->with({method}).observe(seconds);
    if (step.num_new_seqs > 0 && m.tgi_batch_next_size) {
      m.tgi_batch_next_size->with({}).observe(step.num_new_seqs);
    }
  }
}

void FlavorMetrics::on_token(const engine::TokenRecord& token) {
  Impl& m = *impl_;
  double seconds = core::to_seconds(token.since_previous);
  if (token.index == 1) {
    if (m.ttft) m.ttft->observe(seconds);
  } else if (m.tpot && m.config.flavor != Flavor::kJetStream) {
    // vLLM observes the gap between output events (time_per_output_token_seconds, V0 and V1);
    // SGLang its inter-token latency; JetStream a per-request average (at the end).
    m.tpot->observe(seconds);
  }
}

void FlavorMetrics::on_request_finished(const engine::RequestRecord& r) {
  Impl& m = *impl_;
  std::optional<std::int64_t> max_tokens_param;
  if (auto it = m.max_tokens_params.find(r.id); it != m.max_tokens_params.end()) {
    max_tokens_param = it->second;
    m.max_tokens_params.erase(it);
  }
  bool aborted = r.reason == FinishReason::kAbort;
  switch (m.config.flavor) {
    case Flavor::kTgi: {
      if (aborted) return;
      double inference = core::to_seconds(r.inference_time());
      if (m.tgi_request_success) m.tgi_request_success->with({}).inc();
      if (m.tgi_request_duration)
        m.tgi_request_duration->with({}).observe(core::to_seconds(r.e2e()));
      if (m.tgi_request_validation_duration) m.tgi_request_validation_duration->with({}).observe(0);
      if (m.tgi_request_queue_duration) {
        m.tgi_request_queue_duration->with({}).observe(core::to_seconds(r.queue_time()));
      }
      if (m.tgi_request_inference_duration)
        m.tgi_request_inference_duration->with({}).observe(inference);
      if (m.tgi_request_mean_time_per_token_duration && r.output_tokens > 0) {
        m.tgi_request_mean_time_per_token_duration->with({}).observe(inference /
                                                                     double(r.output_tokens));
      }
      if (m.tgi_request_input_length) m.tgi_request_input_length->with({}).observe(r.prompt_tokens);
      if (m.tgi_request_generated_tokens) {
        m.tgi_request_generated_tokens->with({}).observe(double(r.output_tokens));
      }
      if (m.tgi_request_max_new_tokens)
        m.tgi_request_max_new_tokens->with({}).observe(r.max_tokens);
      return;
    }
    case Flavor::kJetStream: {
      if (aborted) return;
      if (m.js_success) m.js_success->inc();
      if (m.queue) m.queue->observe(core::to_seconds(r.queue_time()));
      if (m.e2e) m.e2e->observe(core::to_seconds(r.e2e()));
      if (m.prompt_len) m.prompt_len->observe(double(r.prompt_tokens));
      if (m.generation_len) m.generation_len->observe(double(r.output_tokens));
      if (auto tpot = r.mean_time_per_output_token(); tpot && m.tpot) {
        m.tpot->observe(core::to_seconds(*tpot));
      }
      if (m.js_prefill_per_token && r.prompt_tokens > 0) {
        m.js_prefill_per_token->observe(core::to_seconds(r.prefill_time()) /
                                        double(r.prompt_tokens));
      }
      if (m.js_wait_time) {
        double busy = core::to_seconds(r.prefill_time()) + core::to_seconds(r.decode_time());
        m.js_wait_time->observe(std::max(0.0, core::to_seconds(r.e2e()) - busy));
      }
      return;
    }
    case Flavor::kSglang: {
      if (m.sg_num_requests) m.sg_num_requests->inc();
      if (aborted) {
        if (m.sg_num_aborted) m.sg_num_aborted->inc();
        return;
      }
      if (m.e2e) m.e2e->observe(core::to_seconds(r.e2e()));
      return;
    }
    default: break;
  }
  // vLLM V0/V1 and NIM.
  std::size_t reason =
      r.reason == FinishReason::kStop ? 0 : (r.reason == FinishReason::kLength ? 1 : 2);
  if (m.success[reason]) m.success[reason]->inc();
  if (aborted && m.config.flavor != Flavor::kVllmV1) return;
  if (m.e2e) m.e2e->observe(core::to_seconds(r.e2e()));
  if (m.queue) m.queue->observe(core::to_seconds(r.queue_time()));
  if (m.time_in_queue) m.time_in_queue->observe(core::to_seconds(r.queue_time()));
  if (m.prefill) m.prefill->observe(core::to_seconds(r.prefill_time()));
  if (m.inference) m.inference->observe(core::to_seconds(r.inference_time()));
  if (m.decode) m.decode->observe(core::to_seconds(r.decode_time()));
  if (m.prefill_per_token && r.prompt_tokens > 0) {
    m.prefill_per_token->observe(core::to_seconds(r.prefill_time()) / double(r.prompt_tokens));
  }
  if (m.prompt_len) m.prompt_len->observe(double(r.prompt_tokens));
  if (m.generation_len) m.generation_len->observe(double(r.output_tokens));
  if (m.max_generation) m.max_generation->observe(double(r.max_tokens));
  if (m.params_n) m.params_n->observe(1);
  if (m.params_max_tokens && max_tokens_param)
    m.params_max_tokens->observe(double(*max_tokens_param));
}

void FlavorMetrics::on_request_received(Api /*api*/) {
  Impl& m = *impl_;
  if (m.tgi_request_count) m.tgi_request_count->with({}).inc();
}

void FlavorMetrics::on_request_submitted(engine::RequestId id,
                                         std::optional<std::int64_t> max_tokens_param) {
  impl_->max_tokens_params[id] = max_tokens_param;
}

void FlavorMetrics::on_request_failed(Api /*api*/, ErrorKind kind) {
  Impl& m = *impl_;
  if (m.tgi_request_failure == nullptr) return;
  std::string err;
  switch (kind) {
    case ErrorKind::kValidation: err = "validation"; break;
    case ErrorKind::kOverloaded: err = "overloaded"; break;
    case ErrorKind::kGeneration: err = "generation"; break;
    default: return;
  }
  m.tgi_request_failure->with({err}).inc();
}

void FlavorMetrics::on_ready(double model_load_seconds, double startup_seconds, core::Time now) {
  Impl& m = *impl_;
  if (m.config.flavor == Flavor::kVllmV1) m.add_cache_config_info(true);
  if (m.js_model_load_time) m.js_model_load_time->set(model_load_seconds);
  if (m.js_startup_latency) m.js_startup_latency->set(startup_seconds);
  if (m.config.flavor == Flavor::kTgi && m.tgi_batch_max_total_tokens) {
    m.tgi_batch_max_total_tokens->with({}).set(double(m.config.kv_capacity_tokens));
  }
  m.tgi_started = true;
  if (!m.last_render) m.last_render = now;  // rates (SGLang gen_throughput) start here
  if (!m.v0_last_log) m.v0_last_log = now;  // and vLLM V0's interval throughputs
  if (m.last_step_unix == 0) m.last_step_unix = core::to_unix_seconds(now);
}

std::string FlavorMetrics::render(const engine::EngineStats& stats, core::Time now) {
  refresh(stats, now);
  return impl_->registry.text();
}

void FlavorMetrics::collect(const engine::EngineStats& stats, core::Time now,
                            std::vector<prom::MetricRegistry::Sample>& out) {
  refresh(stats, now);
  impl_->registry.collect(out);
}

void FlavorMetrics::refresh(const engine::EngineStats& s, core::Time now) {
  Impl& m = *impl_;
  auto set = [](Gauge* g, double v) {
    if (g) g->set(v);
  };
  auto add = [](Counter* c, std::uint64_t now_value, std::uint64_t before) {
    if (c && now_value > before) c->inc(double(now_value - before));
  };
  const engine::EngineStats& last = m.last;
  set(m.running, double(s.num_running));
  set(m.waiting, double(s.num_waiting));
  set(m.swapped, 0);
  set(m.kv_usage, s.kv_usage);
  set(m.kv_usage_legacy, s.kv_usage);
  set(m.cpu_cache_usage, 0);
  set(m.cpu_prefix_hit_rate, -1);  // no CPU cache: vLLM V0's "no data" sentinel
  set(m.gpu_prefix_hit_rate, s.prefix_cache_queries > 0
                                 ? double(s.prefix_cache_hits) / double(s.prefix_cache_queries)
                                 : -1.0);
  if (m.lora_info) m.lora_info->set(m.last_step_unix);
  set(m.num_request_max, double(s.max_num_seqs));
  add(m.preemptions, s.preemptions_total, last.preemptions_total);
  add(m.prompt_tokens, s.prompt_tokens_total, last.prompt_tokens_total);
  add(m.generation_tokens, s.generation_tokens_total, last.generation_tokens_total);
  add(m.prefix_queries, s.prefix_cache_queries, last.prefix_cache_queries);
  add(m.prefix_hits, s.prefix_cache_hits, last.prefix_cache_hits);
  add(m.legacy_prefix_queries, s.prefix_cache_queries, last.prefix_cache_queries);
  add(m.legacy_prefix_hits, s.prefix_cache_hits, last.prefix_cache_hits);
  switch (m.config.flavor) {
    case Flavor::kTgi:
      if (m.tgi_started) {
        if (m.tgi_queue_size) m.tgi_queue_size->with({}).set(double(s.num_waiting));
        if (m.tgi_batch_current_size) m.tgi_batch_current_size->with({}).set(double(s.num_running));
        if (m.tgi_batch_current_max_tokens) {
          m.tgi_batch_current_max_tokens->with({}).set(double(s.reserved_tokens));
        }
      }
      break;
    case Flavor::kJetStream: {
      double slots = s.max_num_seqs > 0 ? double(s.num_running) / double(s.max_num_seqs) : 0.0;
      set(m.js_prefill_backlog, double(s.prefill_backlog));
      // Upstream registers these with a value computed once at start-up (always 0).
      set(m.js_transfer_backlog, 0);
      set(m.js_generate_backlog, 0);
      set(m.js_slots_used, slots);
      set(m.js_num_requests_waiting, double(s.prefill_backlog));
      set(m.js_kv_cache_utilization, slots * 100.0);
      break;
    }
    case Flavor::kSglang: {
      set(m.sg_used_tokens, double(s.kv_tokens_used));
      set(m.sg_max_total_tokens, double(s.kv_tokens_capacity));
      set(m.sg_cache_hit_rate, s.prefix_cache_queries > 0
                                   ? double(s.prefix_cache_hits) / double(s.prefix_cache_queries)
                                   : 0.0);
      set(m.sg_retracted, double(s.num_waiting_preempted));
      add(m.sg_cached_tokens, s.cached_prompt_tokens, last.cached_prompt_tokens);
      double throughput = 0;
      if (m.last_render && now > *m.last_render) {
        throughput = double(s.generation_tokens_total - last.generation_tokens_total) /
                     core::to_seconds(now - *m.last_render);
      }
      set(m.sg_gen_throughput, throughput);
      break;
    }
    case Flavor::kVllmV0: {
      // vLLM V0 (metrics.py PrometheusStatLogger.log): once local_interval (5 s) has elapsed
      // since the last log, throughput = tokens since then / elapsed; between logs the gauges
      // keep their value.
      constexpr double kLocalIntervalSeconds = 5.0;
      if (!m.v0_last_log) {
        m.v0_last_log = now;
        m.v0_prompt_at_log = s.prompt_tokens_total;
        m.v0_generation_at_log = s.generation_tokens_total;
      } else if (core::to_seconds(now - *m.v0_last_log) >= kLocalIntervalSeconds) {
        double elapsed = core::to_seconds(now - *m.v0_last_log);
        set(m.v0_prompt_throughput, double(s.prompt_tokens_total - m.v0_prompt_at_log) / elapsed);
        set(m.v0_generation_throughput,
            double(s.generation_tokens_total - m.v0_generation_at_log) / elapsed);
        m.v0_last_log = now;
        m.v0_prompt_at_log = s.prompt_tokens_total;
        m.v0_generation_at_log = s.generation_tokens_total;
      }
      break;
    }
    default: break;
  }
  m.last = s;
  m.last_render = now;
}

}  // namespace llmscale::server
