// Real clients against the embedded API server on loopback: the preinstalled kubectl
// (discovery, apply, get with server-side tables and -o json, patch, edit, scale, watch,
// delete, server-side apply, dry run, NotFound) and Debian's python3-kubernetes (list, watch
// with bookmarks, scale patch, 409, 410). The server runs in-process on a background event
// loop; the clients run as child processes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "apiserver/api_server.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"
#include "support/process.h"

namespace llmscale::apiserver {
namespace {

using core::Json;
using llmscale::testing::Process;
using llmscale::testing::ProcessResult;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;
using namespace std::chrono_literals;

const char* kHpaYaml = R"(apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: gpu-hpa
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 1
  maxReplicas: MAX
  metrics:
  - type: Pods
    pods:
      metric: {name: gpu_cache_usage_perc}
      target: {type: AverageValue, averageValue: 100m}
)";

const char* kDeploymentYaml = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: llm
  labels: {app: llm}
spec:
  replicas: 1
  selector:
    matchLabels: {app: llm}
  template:
    metadata:
      labels: {app: llm}
    spec:
      containers:
      - name: server
        image: vllm/vllm-openai:v0.6.3
)";

std::string hpa_yaml(int max_replicas) {
  std::string text = kHpaYaml;
  text.replace(text.find("MAX"), 3, std::to_string(max_replicas));
  return text;
}

// An API server in-process on a background event loop, on a free loopback port.
class LoopbackApiServer : public ::testing::Test {
 protected:
  void start(std::size_t history = 10'000) {
    store_ = std::make_unique<Store>(loop_.clock(), history);
    api_ = std::make_unique<ApiServer>(*store_, loop_.clock(), builtin_resources());
    ASSERT_TRUE(
        api_->create(*api_->find("", "namespaces"), Json{{"metadata", {{"name", "default"}}}}));
    api_->add_routes(router_);
    server_ = std::make_unique<net::HttpServer>(loop_, net::ServerOptions{});
    ASSERT_TRUE(server_->start(router_.handler()));
    url_ = server_->url("");
    loop_.start();
  }

  void TearDown() override {
    loop_.stop();
    loop_.join();
  }

  net::EventLoop loop_;
  net::Router router_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<ApiServer> api_;
  std::unique_ptr<net::HttpServer> server_;
  std::string url_;
  TempDir dir_;
};

class KubectlTest : public LoopbackApiServer {
 protected:
  void SetUp() override {
    if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl is not installed";
    start();
  }

  ProcessResult kubectl(std::vector<std::string> args, const std::string& input = "") {
    std::vector<std::string> argv = {"kubectl", "--kubeconfig=/dev/null", "--server=" + url_,
                                     "--cache-dir=" + dir_.path() + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, input, 30s);
  }
};

// Debian's python3-kubernetes (scripts/install-deps.sh installs it for /usr/bin/python3).
TEST_F(LoopbackApiServer, PythonKubernetesClient) {
  ProcessResult probe = run_process({"/usr/bin/python3", "-c", "import kubernetes"}, "", 30s);
  if (probe.exit_code != 0) GTEST_SKIP() << "python3-kubernetes is not installed";
  start(/*history=*/8);
  ProcessResult run =
      run_process({"/usr/bin/python3",
                   std::string(LLMSCALE_SOURCE_DIR) + "/tests/apiserver/python_client.py", url_},
                  "", 60s);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("conflict 409"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("expired 410"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("scaled 3 app=llm"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\nok\n"), std::string::npos) << run.output;
}

TEST_F(KubectlTest, ApplyGetPatchDelete) {
  ProcessResult empty = kubectl({"get", "hpa"});
  EXPECT_EQ(empty.exit_code, 0) << empty.output;
  EXPECT_EQ(empty.output, "No resources found in default namespace.\n");

  std::string file = dir_.write("hpa.yaml", hpa_yaml(5));
  ProcessResult created = kubectl({"apply", "-f", file});
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_EQ(created.output, "horizontalpodautoscaler.autoscaling/gpu-hpa created\n");

  ProcessResult table = kubectl({"get", "hpa"});
  ASSERT_EQ(table.exit_code, 0) << table.output;
  EXPECT_EQ(table.output.substr(0, table.output.find('\n')),
            "NAME      REFERENCE        TARGETS          MINPODS   MAXPODS   REPLICAS   AGE");
  EXPECT_NE(table.output.find("gpu-hpa   Deployment/llm   <unknown>/100m   1         5         0"),
            std::string::npos)
      << table.output;

  std::string changed = dir_.write("hpa2.yaml", hpa_yaml(7));
  ProcessResult configured = kubectl({"apply", "-f", changed});
  ASSERT_EQ(configured.exit_code, 0) << configured.output;
  EXPECT_EQ(configured.output, "horizontalpodautoscaler.autoscaling/gpu-hpa configured\n");

  ProcessResult patched = kubectl(
      {"patch", "hpa", "gpu-hpa", "--type", "merge", "-p", R"({"spec":{"maxReplicas":8}})"});
  ASSERT_EQ(patched.exit_code, 0) << patched.output;
  EXPECT_EQ(patched.output, "horizontalpodautoscaler.autoscaling/gpu-hpa patched\n");

  ProcessResult json = kubectl({"get", "hpa", "gpu-hpa", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  Json object = Json::parse(json.output);
  EXPECT_EQ(object["spec"]["maxReplicas"], 8);
  EXPECT_EQ(object["metadata"]["generation"], 3);
  EXPECT_TRUE(object["metadata"]["annotations"].contains(
      "kubectl.kubernetes.io/last-applied-configuration"));

  ProcessResult missing = kubectl({"get", "hpa", "nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.output,
            "Error from server (NotFound): horizontalpodautoscalers.autoscaling \"nope\" not "
            "found\n");

  ProcessResult invalid = kubectl(
      {"patch", "hpa", "gpu-hpa", "--type", "merge", "-p", R"({"spec":{"maxReplicas":0}})"});
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_NE(invalid.output.find("The HorizontalPodAutoscaler \"gpu-hpa\" is invalid: \n"
                                "* spec.maxReplicas: Invalid value: 0: must be greater than 0\n"),
            std::string::npos)
      << invalid.output;

  // kubectl edit: the editor is a script (through the shell, as kubectl runs an editor
  // command with arguments).
  ::setenv("KUBE_EDITOR", "sed -i 's/maxReplicas: 8/maxReplicas: 9/'", 1);
  ProcessResult edited = kubectl({"edit", "hpa", "gpu-hpa"});
  ::unsetenv("KUBE_EDITOR");
  ASSERT_EQ(edited.exit_code, 0) << edited.output;
  EXPECT_EQ(edited.output, "horizontalpodautoscaler.autoscaling/gpu-hpa edited\n");
  EXPECT_EQ(
      Json::parse(kubectl({"get", "hpa", "gpu-hpa", "-o", "json"}).output)["spec"]["maxReplicas"],
      9);

  ProcessResult deleted = kubectl({"delete", "hpa", "gpu-hpa"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_EQ(deleted.output, "horizontalpodautoscaler.autoscaling \"gpu-hpa\" deleted\n");
}

TEST_F(KubectlTest, ServerSideApplyAndDryRun) {
  std::string file = dir_.write("hpa.yaml", hpa_yaml(5));
  ProcessResult dry = kubectl({"apply", "--dry-run=server", "-f", file});
  ASSERT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_EQ(dry.output, "horizontalpodautoscaler.autoscaling/gpu-hpa created (server dry run)\n");
  EXPECT_EQ(kubectl({"get", "hpa"}).output, "No resources found in default namespace.\n");
  ProcessResult applied = kubectl({"apply", "--server-side", "-f", file});
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  EXPECT_EQ(applied.output, "horizontalpodautoscaler.autoscaling/gpu-hpa serverside-applied\n");
}

TEST_F(KubectlTest, ScaleAndWatchDeployments) {
  std::string file = dir_.write("deploy.yaml", kDeploymentYaml);
  ASSERT_EQ(kubectl({"apply", "-f", file}).exit_code, 0);
  auto watch = Process::start({"kubectl", "--kubeconfig=/dev/null", "--server=" + url_,
                               "--cache-dir=" + dir_.path() + "/cache", "get", "deploy", "-w"},
                              dir_);
  ASSERT_TRUE(watch);
  ASSERT_TRUE(watch->wait_for_output(
      [](const std::string& out) { return out.find("llm    0/1") != std::string::npos; }, 20s))
      << watch->output() << watch->errors();

  ProcessResult scaled = kubectl({"scale", "deploy", "llm", "--replicas=3"});
  ASSERT_EQ(scaled.exit_code, 0) << scaled.output;
  EXPECT_EQ(scaled.output, "deployment.apps/llm scaled\n");
  EXPECT_TRUE(watch->wait_for_output(
      [](const std::string& out) { return out.find("llm    0/3") != std::string::npos; }, 20s))
      << watch->output() << watch->errors();
  watch->stop();

  ProcessResult wide = kubectl({"get", "deploy", "-o", "wide"});
  ASSERT_EQ(wide.exit_code, 0) << wide.output;
  EXPECT_NE(wide.output.find("CONTAINERS   IMAGES"), std::string::npos) << wide.output;
  EXPECT_NE(wide.output.find("vllm/vllm-openai:v0.6.3   app=llm"), std::string::npos)
      << wide.output;

  ProcessResult resources = kubectl({"api-resources"});
  ASSERT_EQ(resources.exit_code, 0) << resources.output;
  EXPECT_NE(resources.output.find("horizontalpodautoscalers"), std::string::npos);
  EXPECT_NE(resources.output.find("hpa"), std::string::npos);
}

}  // namespace
}  // namespace llmscale::apiserver
