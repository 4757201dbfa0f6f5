// `llmscale adapter` as a process, queried by the preinstalled kubectl (`get --raw`) with a
// client certificate: seed 001's query and the discovery request answer in the upstream shape,
// and kubectl renders our Forbidden/NotFound statuses as it does kube-apiserver's.
#include <gtest/gtest.h>

#include <regex>

#include "net/tls_cert.h"
#include "support/process.h"

namespace llmscale::adapter {
namespace {

using llmscale::testing::Process;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl is not installed";
    net::CertificateSpec ca_spec;
    ca_spec.common_name = "client-ca";
    ca_spec.is_ca = true;
    ca_spec.dns_names = {};
    ca_spec.ip_addresses = {};
    auto ca = *net::generate_self_signed_certificate(ca_spec);
    net::CertificateSpec user_spec;
    user_spec.common_name = "system:kube-controller-manager";
    user_spec.dns_names = {};
    user_spec.ip_addresses = {};
    user_spec.server_auth = false;
    user_spec.client_auth = true;
    auto user = *net::generate_signed_certificate(user_spec, ca);
    ca_file_ = dir_.write("client-ca.crt", ca.cert_pem);
    user_cert_ = dir_.write("user.crt", user.cert_pem);
    user_key_ = dir_.write("user.key", user.key_pem);

    const std::string examples = std::string(LLMSCALE_SOURCE_DIR) + "/examples/adapter/";
    auto process = Process::start(
        {LLMSCALE_BINARY, "adapter", "--config", examples + "prometheus-adapter-default.yaml",
         "--metrics", examples + "nim-metrics.prom", "--objects", examples + "nim-pods.yaml",
         "--secure-port", "0", "--bind-address", "127.0.0.1", "--cert-dir", dir_.path() + "/certs",
         "--client-ca-file", ca_file_},
        dir_);
    ASSERT_TRUE(process);
    adapter_.emplace(std::move(*process));
    const std::regex serving("serving on (https://\\S+)");
    ASSERT_TRUE(adapter_->wait_for_output(
        [&](const std::string& out) { return std::regex_search(out, serving); },
        std::chrono::seconds(30)))
        << adapter_->output() << adapter_->errors();
    std::string out = adapter_->output();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, serving));
    server_ = m[1];
  }

  void TearDown() override {
    if (adapter_) {
      EXPECT_EQ(adapter_->stop(SIGTERM), 0) << adapter_->errors();
    }
  }

  llmscale::testing::ProcessResult kubectl(const std::string& path, bool authenticated = true) {
    std::vector<std::string> argv = {
        "kubectl", "--kubeconfig=/dev/null", "--server=" + server_,
        "--certificate-authority=" + dir_.path() + "/certs/apiserver.crt"};
    if (authenticated) {
      argv.push_back("--client-certificate=" + user_cert_);
      argv.push_back("--client-key=" + user_key_);
    } else {
      argv.push_back("--token=not-verified");  // ignored (no TokenReview): anonymous
    }
    argv.insert(argv.end(), {"get", "--raw", path});
    return run_process(argv, "", std::chrono::seconds(30));
  }

  TempDir dir_;
  std::string ca_file_, user_cert_, user_key_, server_;
  std::optional<Process> adapter_;
};

TEST_F(KubectlTest, SeedQueryAndDiscoveryInTheUpstreamShape) {
  auto seed = kubectl(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/gpu_cache_usage_perc"
      "?selector=app%3Dmeta-llama3-8b");
  ASSERT_EQ(seed.exit_code, 0) << seed.output;
  // Seed 001's output (namespace placeholder filled in), timestamps aside.
  std::string expected =
      R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1","metadata":{},"items":[{"describedObject":{"kind":"Pod","namespace":"default","name":"meta-llama3-70b-5db5f7dd89-tvcwl","apiVersion":"/v1"},"metricName":"gpu_cache_usage_perc","timestamp":"T","value":"1m","selector":null},{"describedObject":{"kind":"Pod","namespace":"default","name":"meta-llama3-8b-5c6ddbbfb5-dp2mv","apiVersion":"/v1"},"metricName":"gpu_cache_usage_perc","timestamp":"T","value":"14m","selector":null}]})";
  std::string actual = std::regex_replace(seed.output, std::regex(R"("timestamp":"[0-9TZ:-]+")"),
                                          R"("timestamp":"T")");
  EXPECT_EQ(actual, expected + "\n");

  auto discovery = kubectl("/apis/custom.metrics.k8s.io/v1beta1");
  ASSERT_EQ(discovery.exit_code, 0) << discovery.output;
  EXPECT_NE(
      discovery.output.find(
          R"({"name":"pods/gpu_cache_usage_perc","singularName":"","namespaced":true,"kind":"MetricValueList","verbs":["get"]})"),
      std::string::npos)
      << discovery.output;

  auto missing = kubectl("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/nope");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output,
            "Error from server (NotFound): the server could not find the metric nope for pods\n");

  auto anonymous =
      kubectl("/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/gpu_cache_usage_perc",
              /*authenticated=*/false);
  EXPECT_EQ(anonymous.exit_code, 1);
  EXPECT_EQ(anonymous.output,
            "Error from server (Forbidden): pods.custom.metrics.k8s.io \"*\" is forbidden: User "
            "\"system:anonymous\" "
            "cannot get resource \"pods/gpu_cache_usage_perc\" in API group "
            "\"custom.metrics.k8s.io\" in the "
            "namespace \"default\"\n");
}

// Issue 11 item 19: the secure defaults answer anonymous kubectl with 403, and kubectl asks for a
// username over https. `--insecure-loopback` (plain HTTP, every request allowed, loopback only)
// makes the command documented in docs/adapter.md print the answer without prompting.
TEST(KubectlLoopbackTest, TheDocumentedLocalCommandAnswersWithoutPrompting) {
  if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl is not installed";
  TempDir dir;
  const std::string examples = std::string(LLMSCALE_SOURCE_DIR) + "/examples/adapter/";
  auto process = Process::start(
      {LLMSCALE_BINARY, "adapter", "--config", examples + "prometheus-adapter-default.yaml",
       "--metrics", examples + "nim-metrics.prom", "--objects", examples + "nim-pods.yaml",
       "--insecure-loopback", "--secure-port", "0"},
      dir);
  ASSERT_TRUE(process);
  const std::regex serving("serving on (http://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_TRUE(process->wait_for_output(
      [&](const std::string& out) { return std::regex_search(out, serving); },
      std::chrono::seconds(30)))
      << process->output() << process->errors();
  std::string out = process->output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, serving));
  const std::string server = m[1];

  // Exactly the command docs/adapter.md shows, with nothing on stdin: a prompt would fail.
  auto answer = run_process(
      {"kubectl", "--kubeconfig=/dev/null", "--server=" + server, "get", "--raw",
       "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/gpu_cache_usage_perc"},
      "", std::chrono::seconds(30));
  EXPECT_EQ(answer.exit_code, 0) << answer.output;
  EXPECT_EQ(answer.output.rfind(
                R"({"kind":"MetricValueList","apiVersion":"custom.metrics.k8s.io/v1beta1")", 0),
            0u)
      << answer.output;
  EXPECT_EQ(answer.output.find("Username"), std::string::npos) << answer.output;
  EXPECT_EQ(process->stop(SIGTERM), 0) << process->errors();

  // Anywhere but loopback the flag is refused before anything listens.
  auto refused = run_process(
      {LLMSCALE_BINARY, "adapter", "--config", examples + "prometheus-adapter-default.yaml",
       "--metrics", examples + "nim-metrics.prom", "--insecure-loopback", "--bind-address",
       "0.0.0.0", "--secure-port", "0"},
      "", std::chrono::seconds(30));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("--insecure-loopback serves plain HTTP without authentication, so "
                                "it needs a loopback --bind-address (127.0.0.1, ::1 or "
                                "localhost), not \"0.0.0.0\""),
            std::string::npos)
      << refused.output;
}

// metrics.k8s.io through the real kubectl, over the loopback developer path: resourceRules with
// an --objects file holding pods and a node (cluster-scoped, so listed without a namespace).
TEST(KubectlLoopbackTest, ResourceMetricsApiAnswersKubectl) {
  if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl is not installed";
  TempDir dir;
  const std::string config = dir.write("config.yaml", R"(
resourceRules:
  cpu:
    containerQuery: sum(cpu_cores{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(node_cpu_cores{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}
    containerLabel: container
  memory:
    containerQuery: sum(memory_bytes{<<.LabelMatchers>>,container!=""}) by (<<.GroupBy>>)
    nodeQuery: sum(node_memory_bytes{<<.LabelMatchers>>}) by (<<.GroupBy>>)
    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}, node: {resource: node}}}
    containerLabel: container
  window: 1m
)");
  const std::string metrics =
      dir.write("metrics.prom", R"(cpu_cores{namespace="llm",pod="vllm-0",container="vllm"} 1.25
memory_bytes{namespace="llm",pod="vllm-0",container="vllm"} 1073741824
node_cpu_cores{node="gpu-node-1"} 7.5
node_memory_bytes{node="gpu-node-1"} 17179869184
)");
  const std::string objects = dir.write("objects.yaml", R"(
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Pod, metadata: {name: vllm-0, namespace: llm, labels: {app: vllm}}}
- {apiVersion: v1, kind: Pod, metadata: {name: vllm-1, namespace: llm, labels: {app: vllm}}}
- {apiVersion: v1, kind: Node, metadata: {name: gpu-node-1, labels: {pool: gpu}}}
)");
  auto process =
      Process::start({LLMSCALE_BINARY, "adapter", "--config", config, "--metrics", metrics,
                      "--objects", objects, "--insecure-loopback", "--secure-port", "0"},
                     dir);
  ASSERT_TRUE(process);
  const std::regex serving("serving on (http://127\\.0\\.0\\.1:[0-9]+)");
  ASSERT_TRUE(process->wait_for_output(
      [&](const std::string& out) { return std::regex_search(out, serving); },
      std::chrono::seconds(30)))
      << process->output() << process->errors();
  std::string out = process->output();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, serving));
  const std::string server = m[1];
  auto kubectl = [&](const std::string& path) {
    auto r = run_process(
        {"kubectl", "--kubeconfig=/dev/null", "--server=" + server, "get", "--raw", path}, "",
        std::chrono::seconds(30));
    r.output = std::regex_replace(
        r.output, std::regex(R"re("(creationTimestamp|timestamp)":"[0-9TZ:-]+")re"), R"("$1":"T")");
    return r;
  };
  auto pods = kubectl("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods?labelSelector=app%3Dvllm");
  EXPECT_EQ(pods.exit_code, 0) << pods.output;
  // vllm-1 has no samples: left out, as prometheus-adapter does.
  EXPECT_EQ(
      pods.output,
      R"({"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[{"metadata":{"name":"vllm-0","namespace":"llm","creationTimestamp":"T","labels":{"app":"vllm"}},"timestamp":"T","window":"1m0s","containers":[{"name":"vllm","usage":{"cpu":"1250m","memory":"1Gi"}}]}]})"
      "\n");
  auto node = kubectl("/apis/metrics.k8s.io/v1beta1/nodes/gpu-node-1");
  EXPECT_EQ(node.exit_code, 0) << node.output;
  EXPECT_EQ(
      node.output,
      R"({"kind":"NodeMetrics","apiVersion":"metrics.k8s.io/v1beta1","metadata":{"name":"gpu-node-1","creationTimestamp":"T","labels":{"pool":"gpu"}},"timestamp":"T","window":"1m0s","usage":{"cpu":"7500m","memory":"16Gi"}})"
      "\n");
  auto missing = kubectl("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods/vllm-1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output,
            "Error from server (NotFound): pods.metrics.k8s.io \"llm/vllm-1\" not found\n");
  EXPECT_EQ(process->stop(SIGTERM), 0) << process->errors();
}

}  // namespace
}  // namespace llmscale::adapter
