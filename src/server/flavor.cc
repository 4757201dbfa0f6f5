// Flavor names and conventions.
#include "server/flavor.h"

#include <string>

namespace llmscale::server {

std::string_view flavor_name(Flavor flavor) {
  switch (flavor) {
    case Flavor::kVllmV1: return "vllm-v1";
    case Flavor::kVllmV0: return "vllm-v0";
    case Flavor::kTgi: return "tgi";
    case Flavor::kJetStream: return "jetstream";
    case Flavor::kNim: return "nim";
    case Flavor::kSglang: return "sglang";
  }
  return "unknown";
}

std::string_view flavor_names() {
  return "vllm-v1, vllm-v0, tgi, jetstream, nim, sglang";
}

core::Result<Flavor> parse_flavor(std::string_view text) {
  if (text == "vllm-v1" || text == "vllm") return Flavor::kVllmV1;
  if (text == "vllm-v0") return Flavor::kVllmV0;
  if (text == "tgi") return Flavor::kTgi;
  if (text == "jetstream") return Flavor::kJetStream;
  if (text == "nim") return Flavor::kNim;
  if (text == "sglang") return Flavor::kSglang;
  return core::invalid_argument("unknown flavor \"" + std::string(text) + "\" (want one of " +
                                std::string(flavor_names()) + ")");
}

std::string_view accelerator_metrics_name(AcceleratorMetrics kind) {
  switch (kind) {
    case AcceleratorMetrics::kNone: return "none";
    case AcceleratorMetrics::kDcgm: return "dcgm";
    case AcceleratorMetrics::kTpu: return "tpu";
  }
  return "unknown";
}

core::Result<AcceleratorMetrics> parse_accelerator_metrics(std::string_view text) {
  if (text == "none" || text.empty()) return AcceleratorMetrics::kNone;
  if (text == "dcgm") return AcceleratorMetrics::kDcgm;
  if (text == "tpu") return AcceleratorMetrics::kTpu;
  return core::invalid_argument("unknown accelerator metrics \"" + std::string(text) +
                                "\" (want dcgm, tpu or none)");
}

bool is_python_server(Flavor flavor) {
  return flavor != Flavor::kTgi;
}

bool has_openai_routes(Flavor flavor) {
  return flavor != Flavor::kJetStream;
}

}  // namespace llmscale::server
