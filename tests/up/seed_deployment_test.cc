// Seeds' own Deployment manifests (as the GKE tutorials write them) as local fleets: the flavor
// from the image, the profile from model × accelerator × TP with the reason, ports and
// readiness, the --image-command override, and clear errors.
#include "up/seed_deployment.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/strings.h"

namespace llmscale::up {
namespace {

// The profiles built into the binary (profiles/), nothing from the environment.
engine::ProfileSearch shipped() {
  return engine::ProfileSearch{};
}

core::Json yaml(const std::string& text) {
  auto doc = core::parse_document(text);
  EXPECT_TRUE(doc) << doc.error().message;
  return *doc;
}

// GKE's "Serve Gemma with vLLM on L4" Deployment.
const char* kVllmL4 = R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm-gemma-deployment}
spec:
  replicas: 1
  selector: {matchLabels: {app: gemma-server}}
  template:
    metadata:
      labels: {app: gemma-server, ai.gke.io/model: gemma-7b, ai.gke.io/inference-server: vllm}
    spec:
      containers:
      - name: inference-server
        image: us-docker.pkg.dev/vertex-ai/vertex-vision-model-garden-dockers/pytorch-vllm-serve:20240930_0945_RC00
        resources:
          limits: {cpu: "2", memory: 10Gi, nvidia.com/gpu: "1"}
        command: ["python3", "-m", "vllm.entrypoints.api_server"]
        args: ["--model=$(MODEL_ID)", "--tensor-parallel-size=1"]
        env:
        - {name: MODEL_ID, value: google/gemma-7b}
      nodeSelector:
        cloud.google.com/gke-accelerator: nvidia-l4
)yaml";

TEST(SeedDeploymentTest, VllmOnL4ChoosesTheGemmaL4Profile) {
  auto made = fleet_from_deployment(yaml(kVllmL4), shipped(), {});
  ASSERT_TRUE(made) << made.error().message;
  const auto& spec = made->spec;
  EXPECT_EQ(spec.name, "vllm-gemma-deployment");
  ASSERT_TRUE(spec.template_.serve_sim);
  EXPECT_EQ(spec.template_.serve_sim->flavor, "vllm-v1");
  EXPECT_EQ(spec.template_.serve_sim->profile, "gemma-7b-l4");
  EXPECT_EQ(spec.template_.serve_sim->args,
            (std::vector<std::string>{"--model", "google/gemma-7b"}));
  EXPECT_EQ(spec.template_.labels.at("app"), "gemma-server");
  ASSERT_EQ(spec.template_.ports.size(), 1u);
  EXPECT_EQ(spec.template_.ports[0].container_port, 8000);
  EXPECT_NE(made->explanation.find("profile gemma-7b-l4"), std::string::npos) << made->explanation;
}

TEST(SeedDeploymentTest, OldVllmRunsTheV0EngineAndTpuSelectsTheTpuProfile) {
  std::string text = R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: vllm-tpu, namespace: serving}
spec:
  selector: {matchLabels: {app: vllm-tpu}}
  template:
    metadata: {labels: {app: vllm-tpu}}
    spec:
      nodeSelector:
        cloud.google.com/gke-tpu-accelerator: tpu-v6e-slice
        cloud.google.com/gke-tpu-topology: 2x4
      containers:
      - name: vllm-tpu
        image: vllm/vllm-tpu:v0.6.3
        args: [--model, meta-llama/Meta-Llama-3.1-70B, --tensor-parallel-size, "8"]
        ports: [{containerPort: 8000, name: http}]
        readinessProbe: {httpGet: {path: /health, port: 8000}, periodSeconds: 5}
        resources: {limits: {google.com/tpu: 8}}
)yaml";
  auto made = fleet_from_deployment(yaml(text), shipped(), {});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->spec.namespace_, "serving");
  EXPECT_EQ(made->spec.replicas, 1);
  EXPECT_EQ(made->spec.template_.serve_sim->flavor, "vllm-v0");
  EXPECT_EQ(made->spec.template_.serve_sim->profile, "llama-3.1-70b-tpu-v6e-8");
  ASSERT_TRUE(made->spec.template_.readiness_probe);
  EXPECT_EQ(made->spec.template_.readiness_probe->port, "8000");
  EXPECT_EQ(made->spec.template_.readiness_probe->period_seconds, 5);
  EXPECT_NE(made->explanation.find("before 0.8: the V0 engine"), std::string::npos);
}

TEST(SeedDeploymentTest, NimAndTgiAndJetStreamImages) {
  std::string nim = R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: meta-llama3-8b}
spec:
  selector: {matchLabels: {app: meta-llama3-8b}}
  template:
    metadata: {labels: {app: meta-llama3-8b}}
    spec:
      nodeSelector: {cloud.google.com/gke-accelerator: nvidia-h100-80gb}
      containers:
      - name: nim
        image: nvcr.io/nim/meta/llama3-8b-instruct:1.0.0
        ports: [{containerPort: 8000, name: http-openai}]
        resources: {limits: {nvidia.com/gpu: 1}}
)yaml";
  auto made = fleet_from_deployment(yaml(nim), shipped(), {});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->spec.template_.serve_sim->flavor, "nim");
  EXPECT_EQ(made->spec.template_.serve_sim->profile, "llama-3.1-8b-h100");
  EXPECT_EQ(made->spec.template_.serve_sim->args[1], "meta/llama3-8b-instruct");

  std::string tgi = R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: tgi-gemma-deployment}
spec:
  selector: {matchLabels: {app: gemma-server}}
  template:
    metadata: {labels: {app: gemma-server}}
    spec:
      nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}
      containers:
      - name: inference-server
        image: us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-text-generation-inference-cu121.2-1.ubuntu2204.py310
        env: [{name: MODEL_ID, value: google/gemma-7b-it}, {name: NUM_SHARD, value: "1"}]
        ports: [{containerPort: 8000}]
        resources: {limits: {nvidia.com/gpu: 1}}
)yaml";
  made = fleet_from_deployment(yaml(tgi), shipped(), {});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->spec.template_.serve_sim->flavor, "tgi");
  EXPECT_EQ(made->spec.template_.serve_sim->profile, "gemma-7b-l4");

  std::string jetstream = R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: maxengine-server}
spec:
  selector: {matchLabels: {app: maxengine-server}}
  template:
    metadata: {labels: {app: maxengine-server}}
    spec:
      nodeSelector:
        cloud.google.com/gke-tpu-accelerator: tpu-v5-lite-podslice
        cloud.google.com/gke-tpu-topology: 2x4
      containers:
      - name: maxengine-server
        image: us-docker.pkg.dev/cloud-tpu-images/inference/maxengine-server:v0.2.2
        args: [model_name=gemma-7b, tokenizer_path=assets/tokenizer.gemma, per_device_batch_size=4]
        ports: [{containerPort: 9000}]
        resources: {limits: {google.com/tpu: 8}}
      - name: jetstream-http
        image: us-docker.pkg.dev/cloud-tpu-images/inference/jetstream-http:v0.2.2
        ports: [{containerPort: 8000}]
)yaml";
  made = fleet_from_deployment(yaml(jetstream), shipped(), {});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_EQ(made->spec.template_.serve_sim->flavor, "jetstream");
  EXPECT_EQ(made->spec.template_.serve_sim->profile, "gemma-7b-tpu-v5e-8");
}

// A vLLM Deployment for the selection table below.
std::string vllm_deployment(const std::string& image, const std::string& node_selector,
                            const std::string& args, int gpus) {
  return R"yaml(apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      nodeSelector: {)yaml" +
         node_selector + R"yaml(}
      containers:
      - name: vllm
        image: )yaml" +
         image + R"yaml(
        args: [)yaml" +
         args + R"yaml(]
        resources: {limits: {nvidia.com/gpu: )yaml" +
         std::to_string(gpus) + R"yaml(}}
)yaml";
}

struct Selection {
  const char* what;
  std::string manifest;
  const char* profile;
  const char* warning;  // "" when the profile is what the manifest describes
};

// Issue 15: the profile is engine::select_profile()'s, by model × accelerator × TP × dtype ×
// engine version as the manifest states them; a fallback is a warning saying what differs.
TEST(SeedDeploymentTest, SelectsTheProfileTheManifestDescribesOrWarns) {
  const std::string h100 = "cloud.google.com/gke-accelerator: nvidia-h100-80gb";
  const std::vector<Selection> table = {
      {"exact: Llama 3.1 8B on L4, vLLM 0.10",
       vllm_deployment("vllm/vllm-openai:v0.10.1", "cloud.google.com/gke-accelerator: nvidia-l4",
                       "--model, meta-llama/Llama-3.1-8B-Instruct", 1),
       "llama-3.1-8b-l4", ""},
      {"the GPU product label of NVIDIA's feature discovery",
       vllm_deployment("vllm/vllm-openai:latest", "nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3",
                       "--model, meta-llama/Llama-3.1-8B-Instruct", 1),
       "llama-3.1-8b-h100", ""},
      {"FP8 weights by --quantization",
       vllm_deployment("vllm/vllm-openai:latest", h100,
                       "--model, meta-llama/Llama-3.1-8B-Instruct, --quantization, fp8", 1),
       "llama-3.1-8b-h100-fp8", ""},
      {"TP from the flag, 70B on 8 H100",
       vllm_deployment("vllm/vllm-openai:v0.10.0", h100,
                       "--model, meta-llama/Llama-3.1-70B-Instruct, --tensor-parallel-size, 8", 8),
       "llama-3.1-70b-8xh100", ""},
      {"no T4 profile: another chip",
       vllm_deployment("vllm/vllm-openai:latest",
                       "cloud.google.com/gke-accelerator: nvidia-tesla-t4",
                       "--model, meta-llama/Llama-3.1-8B-Instruct", 1),
       nullptr, "profile on nvidia-tesla-t4; using "},
      {"no TP2 profile of 70B on H100",
       vllm_deployment("vllm/vllm-openai:latest", h100,
                       "--model, meta-llama/Llama-3.1-70B-Instruct, --tensor-parallel-size, 2", 2),
       nullptr, "tensor parallelism 2 asked, the profile has "},
      {"vLLM 0.6 (V0) where the only H200 profile models vLLM V1 0.10",
       vllm_deployment("vllm/vllm-openai:v0.6.3",
                       "cloud.google.com/gke-accelerator: nvidia-h200-141gb",
                       "--model, meta-llama/Llama-3.1-8B-Instruct", 1),
       "llama-3.1-8b-h200", "engine vllm-v0 0.6 asked, the profile models vllm-v1 0.10"},
      {"a model no profile has",
       vllm_deployment("vllm/vllm-openai:latest", h100, "--model, mistralai/Mistral-7B-v0.1", 1),
       nullptr, "no profile models mistralai/Mistral-7B-v0.1; using "},
  };
  for (const Selection& row : table) {
    SCOPED_TRACE(row.what);
    auto made = fleet_from_deployment(yaml(row.manifest), shipped(), {});
    ASSERT_TRUE(made) << made.error().message;
    ASSERT_TRUE(made->spec.template_.serve_sim);
    if (row.profile != nullptr) EXPECT_EQ(made->spec.template_.serve_sim->profile, row.profile);
    EXPECT_NE(made->explanation.find("profile " + made->spec.template_.serve_sim->profile),
              std::string::npos)
        << made->explanation;
    std::string warnings = core::join(made->warnings, "\n");
    if (std::string(row.warning).empty()) {
      EXPECT_TRUE(made->warnings.empty()) << warnings;
    } else {
      EXPECT_NE(warnings.find(row.warning), std::string::npos) << warnings;
      EXPECT_NE(warnings.find("llm: the manifest asks for "), std::string::npos) << warnings;
    }
  }
}

TEST(SeedDeploymentTest, UnknownImagesNeedAnOverride) {
  std::string text = kVllmL4;
  std::string image =
      "us-docker.pkg.dev/vertex-ai/vertex-vision-model-garden-dockers/pytorch-vllm-serve:"
      "20240930_0945_RC00";
  text.replace(text.find(image), image.size(), "example.com/my-server:1");
  auto refused = fleet_from_deployment(yaml(text), shipped(), {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find(
                "spec.template.spec.containers[0].image: \"example.com/my-server:1\" is not an "
                "inference server"),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("--image-command"), std::string::npos);

  auto override_command = parse_image_command("example.com/my-server=python3 -m server");
  ASSERT_TRUE(override_command);
  auto made = fleet_from_deployment(yaml(text), shipped(), {*override_command});
  ASSERT_TRUE(made) << made.error().message;
  EXPECT_FALSE(made->spec.template_.serve_sim);
  EXPECT_EQ(made->spec.template_.command,
            (std::vector<std::string>{"python3", "-m", "server", "python3", "-m",
                                      "vllm.entrypoints.api_server", "--model=google/gemma-7b",
                                      "--tensor-parallel-size=1"}));
  EXPECT_FALSE(parse_image_command("no-equals"));
}

TEST(SeedDeploymentTest, MissingFieldsAreNamed) {
  auto made = fleet_from_deployment(
      yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {}\n"), shipped(),
      {});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().message, "spec.selector: Required value");
}

}  // namespace
}  // namespace llmscale::up
