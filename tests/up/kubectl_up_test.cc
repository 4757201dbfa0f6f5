// The preinstalled kubectl (and promtool) against a running `llmscale up` (label integration:
// real processes and time, each step bounded): the fleet is a Deployment with pods, the HPA's
// status and events are the controller's, an applied change of the HPA's target is used by the
// next pass, `kubectl scale` is corrected by the HPA, a deleted HPA stops acting, a deleted pod
// is replaced, the custom metrics API and the Prometheus API answer on the same address, `auth
// can-i` says yes, `kubectl top pods` shows the replicas' processes, and a token is required
// when one is set.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"

namespace llmscale::up {
namespace {

using namespace std::chrono_literals;
using llmscale::testing::Process;
using llmscale::testing::ProcessResult;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;

const char* kFleet = R"(apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: llm, labels: {app: llm}}
spec:
  replicas: 1
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      serveSim: {flavor: vllm-v1, profile: llama-3.1-8b-h100}
      ports: [{name: http, containerPort: 8000}]
      readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
      terminationGracePeriodSeconds: 2
)";

// prometheus-adapter's default catch-all rule: every namespaced series as a pod metric.
const char* kAdapterConfig = R"(rules:
- seriesQuery: '{namespace!="",pod!=""}'
  resources: {template: <<.Resource>>}
  name: {matches: "", as: ""}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
)";

std::string hpa_yaml(const std::string& target) {
  return R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: llm-hpa, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Pods
    pods:
      metric: {name: "vllm:num_requests_waiting"}
      target: {type: AverageValue, averageValue: )" +
         target + "}\n";
}

class KubectlAgainstUp : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(const std::vector<std::string>& extra) {
    if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl not installed";
    std::filesystem::create_directories(dir_.path() + "/m");
    dir_.write("m/fleet.yaml", kFleet);
    dir_.write("m/hpa.yaml", hpa_yaml("5"));
    dir_.write("m/adapter.yaml", kAdapterConfig);
    up_ = Process::start({LLMSCALE_BINARY, "up", dir_.path() + "/m", "--router-listen",
                          "127.0.0.1:0", "--control-listen", "127.0.0.1:0", "--state-dir",
                          dir_.path() + "/st", "--serve-sim-startup", "1s", "--scrape-interval",
                          "1s", "--sync-period", "1s", "-q", "--stop-after", "170s"},
                         dir_);
    if (!extra.empty()) {
      up_->stop(SIGTERM, 30s);
      std::vector<std::string> argv = {LLMSCALE_BINARY,      "up",
                                       dir_.path() + "/m",   "--router-listen",
                                       "127.0.0.1:0",        "--control-listen",
                                       "127.0.0.1:0",        "--state-dir",
                                       dir_.path() + "/st2", "-q",
                                       "--stop-after",       "170s"};
      argv.insert(argv.end(), extra.begin(), extra.end());
      up_ = Process::start(argv, dir_);
    }
    ASSERT_TRUE(up_);
    ASSERT_TRUE(up_->wait_for_output(
        [](const std::string& out) { return out.find("control API on ") != std::string::npos; },
        30s))
        << up_->errors();
    std::string out = up_->output();
    std::size_t at = out.find("control API on ") + std::string("control API on ").size();
    server_ = out.substr(at, out.find_first_of(" \n", at) - at);
    if (!server_.empty() && server_.back() == '/') server_.pop_back();
  }

  void TearDown() override {
    if (up_) up_->stop(SIGTERM, 30s);
  }

  ProcessResult kubectl(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"kubectl", "--server", server_, "--request-timeout", "10s"};
    if (!token_.empty()) argv.insert(argv.end(), {"--token", token_});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, input, 30s);
  }

  // Runs kubectl until `done` holds for its output (bounded).
  bool eventually(const std::vector<std::string>& args,
                  const std::function<bool(const std::string&)>& done, std::string& last,
                  std::chrono::seconds timeout = 30s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      last = kubectl(args).output;
      if (done(last)) return true;
      std::this_thread::sleep_for(300ms);
    }
    return false;
  }

  static bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
  }

  TempDir dir_;
  std::optional<Process> up_;
  std::string server_;
  std::string token_;
};

TEST_F(KubectlAgainstUp, FleetHpaAndMetricsAreKubernetesObjects) {
  std::string out;
  // The fleet as a Deployment whose pod is ready, the HPA with the controller's status.
  ASSERT_TRUE(eventually(
      {"get", "deploy,pods", "-o", "wide", "--show-labels"},
      [](const std::string& o) {
        return contains(o, "deployment.apps/llm   1/1") && contains(o, "1/1     Running");
      },
      out))
      << out << up_->errors();
  EXPECT_TRUE(contains(out, "serve-sim/vllm-v1")) << out;
  EXPECT_TRUE(contains(out, "app=llm,pod-template-hash=")) << out;
  EXPECT_TRUE(contains(out, "localhost")) << out;
  ASSERT_TRUE(eventually(
      {"get", "hpa"}, [](const std::string& o) { return contains(o, "0/5"); }, out))
      << out;
  EXPECT_TRUE(contains(out, "NAME      REFERENCE        TARGETS   MINPODS   MAXPODS   REPLICAS"))
      << out;
  auto deploy = kubectl({"get", "deploy", "llm", "-o", "jsonpath={.status.conditions[*].type}"});
  EXPECT_EQ(deploy.output, "Available Progressing");
  auto pod_owner = kubectl({"get", "pods", "-l", "app=llm", "-o",
                            "jsonpath={.items[0].metadata.ownerReferences[0].kind}"});
  EXPECT_EQ(pod_owner.output, "ReplicaSet");
  auto missing = kubectl({"get", "hpa", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(contains(missing.output,
                       "Error from server (NotFound): horizontalpodautoscalers.autoscaling "
                       "\"nope\" not found"))
      << missing.output;

  // The custom metrics API, as seed 001 checks it, and the Prometheus API on the same address.
  ASSERT_TRUE(eventually(
      {"get", "--raw",
       "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/"
       "vllm:num_requests_waiting?selector=app%3Dllm"},
      [](const std::string& o) { return contains(o, "\"MetricValueList\""); }, out))
      << out;
  EXPECT_TRUE(contains(out, "\"metricName\":\"vllm:num_requests_waiting\"")) << out;
  auto groups = kubectl({"api-versions"});
  EXPECT_TRUE(contains(groups.output, "custom.metrics.k8s.io/v1beta2")) << groups.output;
  if (llmscale::testing::program_on_path("promtool")) {
    auto query = run_process({"promtool", "query", "instant", server_, "vllm:num_requests_waiting"},
                             "", 30s);
    EXPECT_EQ(query.exit_code, 0) << query.output;
    EXPECT_TRUE(contains(query.output, "vllm:num_requests_waiting{")) << query.output;
  }
  auto explain = kubectl({"explain", "hpa.spec.metrics.pods.target"});
  EXPECT_EQ(explain.exit_code, 0) << explain.output;
  EXPECT_TRUE(contains(explain.output, "averageValue")) << explain.output;
  auto can = kubectl({"auth", "can-i", "create", "hpa"});
  EXPECT_EQ(can.exit_code, 0) << can.output;
  EXPECT_EQ(can.output, "yes\n");
  // kubectl top: the replicas' CPU and memory from /proc, as metrics-server would serve them.
  EXPECT_TRUE(eventually(
      {"top", "pods", "-l", "app=llm"},
      [](const std::string& o) {
        return contains(o, "MEMORY(bytes)") && contains(o, "llm-") && contains(o, "Mi");
      },
      out))
      << out;
}

TEST_F(KubectlAgainstUp, ChangesThroughKubectlReachTheController) {
  std::string out;
  ASSERT_TRUE(eventually(
      {"get", "hpa"}, [](const std::string& o) { return contains(o, "0/5"); }, out))
      << out << up_->errors();

  // apply: the next pass uses the new target.
  dir_.write("new-hpa.yaml", hpa_yaml("250m"));
  auto applied = kubectl({"apply", "-f", dir_.path() + "/new-hpa.yaml"});
  EXPECT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_TRUE(contains(applied.output, "horizontalpodautoscaler.autoscaling/llm-hpa configured"))
      << applied.output;
  ASSERT_TRUE(eventually(
      {"get", "hpa"}, [](const std::string& o) { return contains(o, "0/250m"); }, out))
      << out;

  // scale: the HPA corrects it on its next pass, as on a cluster. With no load it scales down;
  // pods not scraped yet count as at target on a scale-down (replica_calculator.go), so the
  // first correction may stop at 2, and the 5-minute window then holds it there.
  auto scaled = kubectl({"scale", "deploy", "llm", "--replicas", "3"});
  EXPECT_EQ(scaled.exit_code, 0) << scaled.output;
  ASSERT_TRUE(eventually(
      {"get", "events", "--field-selector",
       "involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale"},
      [](const std::string& o) { return contains(o, "reason: All metrics below target"); }, out))
      << out;
  ASSERT_TRUE(eventually(
      {"get", "deploy", "llm", "-o", "jsonpath={.spec.replicas}"},
      [](const std::string& o) { return o == "1" || o == "2"; }, out))
      << out;
  auto described = kubectl({"describe", "hpa", "llm-hpa"});
  EXPECT_TRUE(contains(described.output, "SuccessfulRescale")) << described.output;
  EXPECT_TRUE(contains(described.output, "Deployment pods:")) << described.output;

  // A scale above --max-replicas is refused by the API (422), not accepted and left unrun.
  auto too_many = kubectl({"scale", "deploy", "llm", "--replicas", "1000"});
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_TRUE(contains(too_many.output, "llmscale up --max-replicas")) << too_many.output;

  // delete pod: the fleet replaces it.
  std::string pod =
      kubectl({"get", "pods", "-l", "app=llm", "-o", "jsonpath={.items[0].metadata.name}"}).output;
  ASSERT_FALSE(pod.empty());
  auto deleted_pod = kubectl({"delete", "pod", pod, "--wait=false"});
  EXPECT_EQ(deleted_pod.exit_code, 0) << deleted_pod.output;
  ASSERT_TRUE(eventually(
      {"get", "pods", "-l", "app=llm", "-o", "jsonpath={range .items[*]}{.metadata.name} {end}"},
      [&](const std::string& o) { return !o.empty() && o.find(pod) == std::string::npos; }, out,
      40s))
      << out;

  // delete hpa: nothing corrects a scale any more.
  auto deleted = kubectl({"delete", "hpa", "llm-hpa"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_EQ(kubectl({"scale", "deploy", "llm", "--replicas", "2"}).exit_code, 0);
  std::this_thread::sleep_for(3s);  // three sync periods: an HPA would have acted
  EXPECT_EQ(kubectl({"get", "deploy", "llm", "-o", "jsonpath={.spec.replicas}"}).output, "2");
  ASSERT_TRUE(eventually(
      {"get", "pods", "-l", "app=llm", "--no-headers"},
      [](const std::string& o) {
        std::size_t lines = 0;
        for (char c : o) lines += c == '\n' ? 1 : 0;
        return lines == 2 && o.find("Terminating") == std::string::npos;
      },
      out, 40s))
      << out;

  // kubectl annotate pod: the cost reaches the fleet's pod and stays in the API across the
  // bridge's syncs; the drain-aware scale-down (the default) then sets every pod's cost from its
  // load (idle here: 0) before choosing.
  const std::string cost_path =
      "jsonpath={.metadata.annotations.controller\\.kubernetes\\.io/pod-deletion-cost}";
  std::string first =
      kubectl({"get", "pods", "-l", "app=llm", "-o", "jsonpath={.items[0].metadata.name}"}).output;
  // --overwrite: the scale-down above may already have written this pod's cost (0, idle).
  auto annotated = kubectl(
      {"annotate", "--overwrite", "pod", first, "controller.kubernetes.io/pod-deletion-cost=-100"});
  EXPECT_EQ(annotated.exit_code, 0) << annotated.output;
  ASSERT_TRUE(eventually(
      {"get", "pod", first, "-o", cost_path}, [](const std::string& o) { return o == "-100"; },
      out))
      << out;
  std::this_thread::sleep_for(2s);  // scrapes and syncs rewrite the pods: the cost stays
  EXPECT_EQ(kubectl({"get", "pod", first, "-o", cost_path}).output, "-100");
  EXPECT_EQ(kubectl({"scale", "deploy", "llm", "--replicas", "1"}).exit_code, 0);
  ASSERT_TRUE(eventually(
      {"get", "pods", "-l", "app=llm", "-o",
       "jsonpath={range .items[*]}{.metadata.annotations.controller\\.kubernetes\\.io/"
       "pod-deletion-cost}|{end}"},
      [](const std::string& o) { return o == "0|"; }, out, 40s))
      << out;
}

// kubectl sends a bearer token only over TLS: up serves HTTPS with a certificate made here.
TEST_F(KubectlAgainstUp, AControlTokenIsRequiredWhenSet) {
  if (!llmscale::testing::program_on_path("openssl")) GTEST_SKIP() << "openssl not installed";
  up_->stop(SIGTERM, 30s);
  std::string key = dir_.path() + "/key.pem";
  std::string cert = dir_.path() + "/cert.pem";
  auto made = run_process(
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
       "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
      "", 60s);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  std::string token_file = dir_.write("token", "Zm9vYmFyCg\n");
  start({"--control-token-file", token_file, "--control-tls-cert", cert, "--control-tls-key", key});
  ASSERT_EQ(server_.rfind("https://", 0), 0u) << server_;
  auto refused = kubectl({"--certificate-authority", cert, "get", "hpa"});
  EXPECT_NE(refused.exit_code, 0) << refused.output;
  EXPECT_FALSE(contains(refused.output, "llm-hpa")) << refused.output;
  token_ = "Zm9vYmFyCg";
  std::string out;
  EXPECT_TRUE(eventually(
      {"--certificate-authority", cert, "get", "hpa"},
      [](const std::string& o) { return contains(o, "llm-hpa"); }, out))
      << out;
}

}  // namespace
}  // namespace llmscale::up
