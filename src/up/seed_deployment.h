// A seed's own Deployment manifest (image vllm/vllm-openai, TGI, JetStream/MaxEngine,
// nvcr.io/nim/..., SGLang), as the tutorial writes it, turned into a local fleet of simulated
// replicas of the matching flavor:
//
//   flavor    from the image (vLLM before 0.8 runs the V0 engine, from 0.8 on V1)
//   profile   from the model argument (--model, --model-id, --model_name, $(ENV) expanded, or a
//             NIM image's name), the accelerator (nodeSelector cloud.google.com/gke-accelerator
//             or gke-tpu-accelerator, resources nvidia.com/gpu / google.com/tpu) and the tensor
//             parallelism (--tensor-parallel-size, --num-shard, the GPU count); the closest
//             shipped profile when none matches exactly, and the reason in `explanation`
//   ports     the container's; readiness from its readinessProbe.httpGet (else /health)
//
// An --image-command override runs a real command instead of the simulator for images starting
// with a prefix (the container's args appended).
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "fleet/spec.h"

namespace llmscale::up {

// What a shipped or user profile says it models (profiles/*.yaml: model, accelerator,
// tensor_parallel_size).
struct ProfileFacts {
  std::string name;
  std::string model;        // "llama-3.1-8b"
  std::string accelerator;  // "nvidia-h100-80gb", "tpu-v6e"
  int tensor_parallel = 1;
};

// `--image-command PREFIX=COMMAND`: images starting with PREFIX run COMMAND (split on spaces).
struct ImageCommand {
  std::string image_prefix;
  std::vector<std::string> command;
};
core::Result<ImageCommand> parse_image_command(const std::string& text);

struct DeploymentFleet {
  fleet::FleetSpec spec;
  std::string explanation;  // "vllm-tpu: image vllm/vllm-openai:v0.6.3 -> flavor vllm-v0; ..."
};

// Whether `document` is an apps/v1 Deployment.
bool is_deployment(const core::Json& document);

// Errors name the field ("spec.template.spec.containers[0].image: ...").
core::Result<DeploymentFleet> fleet_from_deployment(const core::Json& document,
                                                    const std::vector<ProfileFacts>& profiles,
                                                    const std::vector<ImageCommand>& overrides);

}  // namespace llmscale::up
