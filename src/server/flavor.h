// Flavors of the simulated inference server: which real server's HTTP routes, error shapes and
// Prometheus metrics (names, types, labels, buckets, value style) a SimServer reproduces.
//
//   vllm-v1   vLLM with the V1 engine, v0.10-era metrics (`engine` label, both
//             vllm:kv_cache_usage_perc and the deprecated vllm:gpu_cache_usage_perc)
//   vllm-v0   vLLM with the V0 engine, ~v0.7 metrics (`model_name` only, swapped/CPU gauges)
//   tgi       Hugging Face TGI v3 router (label-less tgi_* families, Rust exporter)
//   jetstream JetStream on TPU (jetstream_* with `id`, 0-1 slots_used_percentage)
//   nim       NVIDIA NIM for LLMs (vLLM V0 names without the prefix, num_request_max)
//   sglang    SGLang (sglang:* scheduler gauges and tokenizer histograms)
//
// docs/server.md has the tables. Pure values; thread-compatible.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.h"

namespace llmscale::server {

enum class Flavor : std::uint8_t { kVllmV1, kVllmV0, kTgi, kJetStream, kNim, kSglang };

std::string_view flavor_name(Flavor flavor);
// "vllm-v1", "vllm-v0", "tgi", "jetstream", "nim", "sglang" (also "vllm" for vllm-v1).
core::Result<Flavor> parse_flavor(std::string_view text);
// The accepted names, comma-separated, for usage messages.
std::string_view flavor_names();

// The second metrics endpoint a node agent would expose next to the server.
enum class AcceleratorMetrics : std::uint8_t { kNone, kDcgm, kTpu };
std::string_view accelerator_metrics_name(AcceleratorMetrics kind);
core::Result<AcceleratorMetrics> parse_accelerator_metrics(std::string_view text);

// The server family's conventions.
bool is_python_server(Flavor flavor);   // prometheus_client value style ("1.0"), FastAPI errors
bool has_openai_routes(Flavor flavor);  // /v1/completions, /v1/chat/completions, /v1/models

}  // namespace llmscale::server
