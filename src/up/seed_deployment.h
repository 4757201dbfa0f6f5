// A seed's own Deployment manifest (image vllm/vllm-openai, TGI, JetStream/MaxEngine,
// nvcr.io/nim/..., SGLang), as the tutorial writes it, turned into a local fleet of simulated
// replicas of the matching flavor:
//
//   flavor    from the image (vLLM before 0.8 runs the V0 engine, from 0.8 on V1)
//   profile   engine::select_profile() on model × accelerator × TP × dtype × engine version,
//             read from the manifest: the model argument (--model, --model-id, --model_name,
//             $(ENV) expanded, or a NIM image's name), the accelerator (nodeSelector
//             cloud.google.com/gke-accelerator, gke-tpu-accelerator or nvidia.com/gpu.product;
//             resources nvidia.com/gpu / google.com/tpu), the tensor parallelism
//             (--tensor-parallel-size, --num-shard, $NUM_SHARD, the GPU or TPU count), the
//             weights' dtype (--quantization / --quantize / $QUANTIZE, --dtype; bf16 otherwise)
//             and the engine and its version (the image and its tag). When no profile matches
//             it all, the query is relaxed field by field (engine version, engine, TP,
//             accelerator), then the closest profile is taken; each step is a warning
//   ports     the container's; readiness from its readinessProbe.httpGet (else /health)
//
// An --image-command override runs a real command instead of the simulator for images starting
// with a prefix (the container's args appended).
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "engine/profile.h"
#include "fleet/spec.h"

namespace llmscale::up {

// `--image-command PREFIX=COMMAND`: images starting with PREFIX run COMMAND (split on spaces).
struct ImageCommand {
  std::string image_prefix;
  std::vector<std::string> command;
};
core::Result<ImageCommand> parse_image_command(const std::string& text);

struct DeploymentFleet {
  fleet::FleetSpec spec;
  std::string explanation;  // "vllm-tpu: image vllm/vllm-openai:v0.6.3 -> flavor vllm-v0; ..."
  // The profile is not what the manifest describes (a fallback), and how it differs.
  std::vector<std::string> warnings;
};

// Whether `document` is an apps/v1 Deployment.
bool is_deployment(const core::Json& document);

// Errors name the field ("spec.template.spec.containers[0].image: ...").
// `profiles`: where profiles are found (server::default_profile_search() in `up`).
core::Result<DeploymentFleet> fleet_from_deployment(const core::Json& document,
                                                    const engine::ProfileSearch& profiles,
                                                    const std::vector<ImageCommand>& overrides);

}  // namespace llmscale::up
