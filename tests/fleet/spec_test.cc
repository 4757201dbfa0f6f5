// Fleet config: decoding, defaults, validation messages in the API server's words, the serve-sim
// command line and placeholder expansion.
#include "fleet/spec.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmscale::fleet {
namespace {

const char* kFleet = R"(
apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: meta-llama3-8b, namespace: default, labels: {app: meta-llama3-8b}}
spec:
  replicas: 2
  selector: {matchLabels: {app: meta-llama3-8b}}
  template:
    metadata: {labels: {app: meta-llama3-8b}}
    spec:
      serveSim: {flavor: nim, profile: llama-3.1-8b-h100, args: ["--startup-seconds", "10"]}
      ports: [{name: http, containerPort: 8000}, {name: metrics, containerPort: 9100}]
      env: [{name: X, value: "{pod}.{namespace}"}]
      readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 2}
)";

core::Result<FleetSpec> parse(const std::string& yaml) {
  auto doc = core::parse_document(yaml);
  if (!doc) return tl::unexpected(doc.error());
  return parse_fleet(*doc);
}

std::string error_of(const std::string& yaml) {
  auto spec = parse(yaml);
  return spec ? "<ok>" : spec.error().message;
}

// kFleet with one line replaced.
std::string with(const std::string& from, const std::string& to) {
  std::string text = kFleet;
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(FleetSpec, DecodesAndDefaults) {
  auto spec = parse(kFleet);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->name, "meta-llama3-8b");
  EXPECT_EQ(spec->replicas, 2);
  EXPECT_EQ(spec->selector_string(), "app=meta-llama3-8b");
  ASSERT_TRUE(spec->template_.readiness_probe);
  const HttpProbe& probe = *spec->template_.readiness_probe;
  EXPECT_EQ(probe.path, "/health");
  EXPECT_EQ(probe.period_seconds, 2);
  // Kubernetes defaults.
  EXPECT_EQ(probe.timeout_seconds, 1);
  EXPECT_EQ(probe.failure_threshold, 3);
  EXPECT_EQ(probe.success_threshold, 1);
  EXPECT_EQ(probe.initial_delay_seconds, 0);
  EXPECT_EQ(spec->template_.termination_grace_period_seconds, 30);
  EXPECT_EQ(spec->api_port_index(), 0);
  EXPECT_EQ(spec->metrics_port_index(), 1);
  EXPECT_EQ(spec->probe_port_index(), -1);
}

TEST(FleetSpec, ReplicasDefaultToOneAndNamespaceToDefault) {
  auto spec = parse(with("  replicas: 2\n", ""));
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->replicas, 1);
  auto no_ns = parse(with("namespace: default, ", ""));
  ASSERT_TRUE(no_ns);
  EXPECT_EQ(no_ns->namespace_, "default");
}

TEST(FleetSpec, ServeSimCommandLine) {
  auto spec = parse(kFleet);
  ASSERT_TRUE(spec);
  std::vector<std::string> expected = {"/bin/llmscale",
                                       "serve-sim",
                                       "--flavor",
                                       "nim",
                                       "--profile",
                                       "llama-3.1-8b-h100",
                                       "--port",
                                       "{port}",
                                       "--metrics-port",
                                       "{metrics_port}",
                                       "--startup-seconds",
                                       "10"};
  EXPECT_EQ(command_template(*spec, "/bin/llmscale"), expected);
  // Without a separate metrics port, serve-sim serves /metrics on the API port.
  auto one_port = parse(with(", {name: metrics, containerPort: 9100}", ""));
  ASSERT_TRUE(one_port);
  auto argv = command_template(*one_port, "x");
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--metrics-port"), argv.end());
}

TEST(FleetSpec, CommandTemplateAndPlaceholders) {
  auto spec = parse(with(
      "serveSim: {flavor: nim, profile: llama-3.1-8b-h100, args: [\"--startup-seconds\", \"10\"]}",
      "command: [vllm, serve, --port, \"{port}\", --x, '{\"a\": 1}']"));
  ASSERT_TRUE(spec) << spec.error().message;
  auto argv = command_template(*spec, "unused");
  ASSERT_EQ(argv.size(), 6u);
  PlaceholderValues v{8123, 9123, "p-abc", "ns"};
  EXPECT_EQ(expand_placeholders(argv[3], v), "8123");
  EXPECT_EQ(expand_placeholders(argv[5], v), "{\"a\": 1}");  // unknown braces stay
  EXPECT_EQ(expand_placeholders("{pod}/{namespace}:{metrics_port}{", v), "p-abc/ns:9123{");
}

TEST(FleetSpec, DuplicatePortNamesAndBadPorts) {
  EXPECT_EQ(
      error_of(with("{name: metrics, containerPort: 9100}", "{name: http, containerPort: 0}")),
      "The Fleet \"meta-llama3-8b\" is invalid: \n"
      "* spec.template.spec.ports[1].name: Duplicate value: \"http\"\n"
      "* spec.template.spec.ports[1].containerPort: Invalid value: 0: must be between 1 and "
      "65535, inclusive");
}

TEST(FleetSpec, MissingReplicaKind) {
  std::string text = with(
      "      serveSim: {flavor: nim, profile: llama-3.1-8b-h100, args: [\"--startup-seconds\", "
      "\"10\"]}\n",
      "");
  EXPECT_EQ(error_of(text),
            "The Fleet \"meta-llama3-8b\" is invalid: spec.template.spec: Required value: one of "
            "serveSim or command");
}

TEST(FleetSpec, SelectorMustMatchTemplate) {
  EXPECT_EQ(error_of(with("selector: {matchLabels: {app: meta-llama3-8b}}",
                          "selector: {matchLabels: {app: other}}")),
            "The Fleet \"meta-llama3-8b\" is invalid: spec.template.metadata.labels: Invalid "
            "value: map[string]string{\"app\":\"meta-llama3-8b\"}: `selector` does not match "
            "template `labels`");
  EXPECT_EQ(error_of(with("  selector: {matchLabels: {app: meta-llama3-8b}}\n", "")),
            "The Fleet \"meta-llama3-8b\" is invalid: spec.selector: Required value");
}

TEST(FleetSpec, SeveralErrorsAreListed) {
  std::string text = with("replicas: 2", "replicas: -1");
  text = text.replace(text.find("periodSeconds: 2"), 16, "periodSeconds: 0");
  text = text.replace(text.find("flavor: nim"), 11, "flavor: foo");
  EXPECT_EQ(error_of(text),
            "The Fleet \"meta-llama3-8b\" is invalid: \n"
            "* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n"
            "* spec.template.spec.serveSim.flavor: Unsupported value: \"foo\": supported values: "
            "\"vllm-v1\", \"vllm-v0\", \"tgi\", \"jetstream\", \"nim\", \"sglang\"\n"
            "* spec.template.spec.readinessProbe.periodSeconds: Invalid value: 0: must be greater "
            "than or equal to 1");
}

TEST(FleetSpec, ProbePortMustBeDeclared) {
  EXPECT_EQ(error_of(with("port: http}", "port: admin}")),
            "The Fleet \"meta-llama3-8b\" is invalid: "
            "spec.template.spec.readinessProbe.httpGet.port: Invalid value: \"admin\": must name "
            "a port of spec.template.spec.ports");
  // A containerPort number names its port too.
  auto spec = parse(with("port: http}", "port: 9100}"));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->probe_port_index(), 1);
}

TEST(FleetSpec, StrictDecoding) {
  EXPECT_EQ(error_of(with("periodSeconds: 2", "periodSeconds: 2, perodSeconds: 3")),
            "Fleet in version \"v1alpha1\" cannot be handled as a Fleet: strict decoding error: "
            "unknown field \"spec.template.spec.readinessProbe.perodSeconds\"");
  EXPECT_EQ(error_of(with("replicas: 2", "replicas: two")),
            "Fleet in version \"v1alpha1\" cannot be handled as a Fleet: spec.replicas: expected "
            "a 32-bit integer, got string \"two\"");
  EXPECT_EQ(error_of(with("apiVersion: llmscale.io/v1alpha1", "apiVersion: apps/v1")),
            "no matches for kind \"Fleet\" in version \"apps/v1\" (want llmscale.io/v1alpha1)");
}

}  // namespace
}  // namespace llmscale::fleet
