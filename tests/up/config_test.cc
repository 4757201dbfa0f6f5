// Loading `llmscale up` folders: the shipped examples, documents sorted by kind, skipped kinds,
// and errors that name the file, the document and the field.
#include "up/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.h"

namespace llmscale::up {
namespace {

std::string example(const std::string& name) {
  return std::string(LLMSCALE_SOURCE_DIR) + "/examples/" + name;
}

TEST(UpConfigTest, LoadsEveryShippedExample) {
  for (const char* name : {"nim-gpu", "jetstream-tpu", "tgi-gpu", "vllm-tpu"}) {
    SCOPED_TRACE(name);
    auto config = load_up_config({example(name)});
    ASSERT_TRUE(config) << config.error().message;
    EXPECT_EQ(config->fleets.size(), 1u);
    EXPECT_GE(config->hpas.size(), 1u);
    EXPECT_GE(config->pod_monitorings.size(), 1u);
  }
}

TEST(UpConfigTest, NimExampleIsTheSeedsManifests) {
  auto config = load_up_config({example("nim-gpu")});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->fleets[0].name, "meta-llama3-8b");
  EXPECT_EQ(config->hpas[0].metadata.name, "gpu-hpa-cache");
  EXPECT_EQ(config->hpas[0].metadata.namespace_, "default");
  EXPECT_EQ(config->hpas[0].spec.max_replicas, 10);
  ASSERT_TRUE(config->adapter);
  EXPECT_FALSE(config->adapter->rules.empty());
}

class UpConfigErrors : public ::testing::Test {
 protected:
  llmscale::testing::TempDir dir;
  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  std::string fleet = R"(apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: llm, labels: {app: llm}}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      command: [sleep, "100"]
)";
};

TEST_F(UpConfigErrors, NameTheFileDocumentAndField) {
  std::string path = write("a.yaml", fleet + R"(---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  maxReplicas: 0
)");
  auto config = load_up_config({dir.path()});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find(path + ": document 2 (HorizontalPodAutoscaler \"h\"): "),
            std::string::npos)
      << config.error().message;
  EXPECT_NE(config.error().message.find("spec.maxReplicas"), std::string::npos);
}

TEST_F(UpConfigErrors, SkipsOtherKindsAndRefusesTwoAdapterConfigs) {
  write("a.yaml", fleet + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
  auto config = load_up_config({dir.path()});
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->notes.size(), 1u);
  EXPECT_NE(config->notes[0].find("Service \"s\""), std::string::npos);

  write("b.yaml", "rules: []\n---\nexternalRules: []\n");
  auto twice = load_up_config({dir.path()});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("a second prometheus-adapter configuration"),
            std::string::npos)
      << twice.error().message;
}

TEST_F(UpConfigErrors, MissingPathsAndFleets) {
  EXPECT_NE(load_up_config({dir.path() + "/nope"}).error().message.find("no such file"),
            std::string::npos);
  write("h.yaml", "rules: []\n");
  auto config = load_up_config({dir.path()});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("no Fleet or Deployment document"), std::string::npos);
}

// Issue 11 item 9: `replicas: 100000` was accepted and every pod spawned.
TEST_F(UpConfigErrors, FleetReplicasAboveMaxReplicasAreAnErrorNamingFieldAndFlag) {
  std::string text = fleet;
  text.replace(text.find("spec:\n"), 6, "spec:\n  replicas: 100000\n");
  write("a.yaml", text);
  auto config = load_up_config({dir.path()});
  ASSERT_TRUE(config) << config.error().message;
  std::vector<std::string> warnings;
  auto limited = apply_replica_limit(*config, 64, warnings);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().message,
            "The Fleet \"llm\" is invalid: spec.replicas: Invalid value: 100000: must be less "
            "than or equal to 64 (llmscale up --max-replicas)");
  EXPECT_TRUE(apply_replica_limit(*config, 100000, warnings));
}

TEST_F(UpConfigErrors, HpaMaxReplicasAboveTheCapIsClampedWithAWarning) {
  write("a.yaml", fleet + R"(---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  maxReplicas: 1000
)");
  auto config = load_up_config({dir.path()});
  ASSERT_TRUE(config) << config.error().message;
  std::vector<std::string> warnings;
  ASSERT_TRUE(apply_replica_limit(*config, 64, warnings));
  EXPECT_EQ(config->hpas[0].spec.max_replicas, 64);
  EXPECT_EQ(warnings, std::vector<std::string>{"HorizontalPodAutoscaler \"h\": spec.maxReplicas "
                                               "1000 is above --max-replicas 64; using 64"});

  config->hpas[0].spec.min_replicas = 65;
  auto refused = apply_replica_limit(*config, 64, warnings);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("spec.minReplicas: Invalid value: 65"), std::string::npos)
      << refused.error().message;
}

TEST_F(UpConfigErrors, PodMonitorsAndServiceMonitorsBecomePodMonitorings) {
  write("a.yaml", fleet + R"(---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: pm}
spec:
  selector: {matchLabels: {app: llm}}
  podMetricsEndpoints: [{port: metrics}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: sm}
spec:
  selector: {matchLabels: {app: llm}}
  endpoints: [{port: http, interval: 10s}]
---
apiVersion: v1
kind: Service
metadata: {name: llm, labels: {app: llm}}
spec:
  selector: {app: llm}
  ports: [{name: http, port: 80, targetPort: api}]
)");
  auto config = load_up_config({dir.path()});
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->pod_monitorings.size(), 2u);
  EXPECT_EQ(config->pod_monitorings[0].name, "pm");
  EXPECT_EQ(config->pod_monitorings[0].endpoints[0].port_name, "metrics");
  EXPECT_EQ(config->pod_monitorings[1].name, "sm-llm");
  EXPECT_EQ(config->pod_monitorings[1].endpoints[0].port_name, "api");

  write("b.yaml", R"(apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: bad}
spec:
  namespaceSelector: {any: true}
  podMetricsEndpoints: [{port: metrics}]
)");
  auto refused = load_up_config({dir.path()});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("spec.namespaceSelector"), std::string::npos)
      << refused.error().message;
}

}  // namespace
}  // namespace llmscale::up
