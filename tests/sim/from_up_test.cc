// End to end: what-if on a live fleet (issue 16). A running `llmscale up` serves its
// configuration and its router's recent requests on the control address; `llmscale simulate
// --from-up` replays them through the same manifests. Checks the requests the router saw (count,
// prompt and output tokens of streamed and whole answers) reach the simulation, and that bad
// parameters get clear errors. Real processes on loopback port 0, bounded, stopped by PID.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "support/process.h"

namespace llmscale::sim {
namespace {

using llmscale::testing::printed_url;
using llmscale::testing::Process;
using llmscale::testing::ProcessResult;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;
using namespace std::chrono_literals;

constexpr const char* kFolder = R"(apiVersion: llmscale.io/v1alpha1
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
      readinessProbe:
        httpGet: {path: /health, port: http}
        periodSeconds: 1
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: llm}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 1
  maxReplicas: 3
  metrics:
  - type: Pods
    pods:
      metric: {name: "prometheus.googleapis.com|vllm:num_requests_running|gauge"}
      target: {type: AverageValue, averageValue: "4"}
---
apiVersion: monitoring.googleapis.com/v1
kind: PodMonitoring
metadata: {name: llm}
spec:
  selector: {matchLabels: {app: llm}}
  endpoints: [{port: http, interval: 1s}]
)";

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class FromUpTest : public ::testing::Test {
 protected:
  net::Response send(net::Request request) {
    net::Response out;
    out.status = 0;
    auto fetch = [](net::HttpClient& client, net::Request request,
                    net::Response* result) -> net::Awaitable<void> {
      auto response = co_await client.request(std::move(request));
      if (response) *result = std::move(*response);
    };
    EXPECT_TRUE(loop_.block_on(fetch(http_, std::move(request), &out), 60s));
    return out;
  }

  TempDir dir_;
  net::EventLoop loop_;
  net::HttpClient http_{loop_};
};

TEST_F(FromUpTest, SimulatesTheRequestsUpServed) {
  std::string folder = dir_.write("fleet.yaml", kFolder);
  auto up = Process::start({LLMSCALE_BINARY, "up", folder, "--serve-sim-startup", "1s",
                            "--router-listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0",
                            "--state-dir", dir_.path() + "/state", "--stop-after", "120s"},
                           dir_);
  ASSERT_TRUE(up);
  std::string router = printed_url(*up, "fleet llm: router on");
  std::string control = printed_url(*up, "control API on");
  ASSERT_FALSE(router.empty()) << up->output() << up->errors();
  ASSERT_FALSE(control.empty()) << up->output() << up->errors();

  // Nothing served yet: the simulation has nothing to replay and says so.
  ProcessResult empty = run_process(
      {LLMSCALE_BINARY, "simulate", "--from-up", control, "--out", dir_.path() + "/empty"}, "",
      60s);
  EXPECT_NE(empty.exit_code, 0);
  EXPECT_NE(empty.output.find("served no request in the last 1h"), std::string::npos)
      << empty.output;

  // Three whole answers of 8 tokens, three streamed answers of 5 (once the replica is ready,
  // the router queues them meanwhile).
  for (int i = 0; i < 3; ++i) {
    net::Response whole = send(net::Request::post(
        router + "/v1/completions",
        R"({"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"one two three four","max_tokens":8})",
        "application/json"));
    EXPECT_EQ(whole.status, 200) << whole.body;
    net::Response streamed = send(net::Request::post(
        router + "/v1/completions",
        R"({"model":"meta-llama/Llama-3.1-8B-Instruct","prompt":"five six","max_tokens":5,"stream":true})",
        "application/json"));
    EXPECT_EQ(streamed.status, 200) << streamed.body;
  }

  // The journal as the control API serves it.
  net::Response trace = send(net::Request::get(control + "/llmscale/v1/requests?since=10m"));
  ASSERT_EQ(trace.status, 200) << trace.body;
  EXPECT_EQ(std::count(trace.body.begin(), trace.body.end(), '\n'), 6) << trace.body;
  EXPECT_EQ(std::regex_search(trace.body, std::regex(R"("output_length": 8)")), true) << trace.body;
  EXPECT_EQ(std::regex_search(trace.body, std::regex(R"("output_length": 5)")), true) << trace.body;
  EXPECT_FALSE(trace.headers.value("X-Llmscale-Window-Start").empty());
  EXPECT_EQ(send(net::Request::get(control + "/llmscale/v1/requests?since=soon")).status, 400);
  EXPECT_EQ(send(net::Request::get(control + "/llmscale/v1/requests?fleet=nope")).status, 404);

  // The what-if: the same manifests, a different target, the fleet's own six requests.
  std::string out = dir_.path() + "/whatif";
  ProcessResult sim = run_process(
      {LLMSCALE_BINARY, "simulate", "--from-up", control, "--out", out, "--progress", "never"}, "",
      120s);
  ASSERT_EQ(sim.exit_code, 0) << sim.output;
  EXPECT_NE(sim.output.find("from-up: 6 requests"), std::string::npos) << sim.output;
  EXPECT_NE(read_all(out + "/from-up/scenario.yaml").find("kind: HorizontalPodAutoscaler"),
            std::string::npos);
  auto summary = core::parse_json(read_all(out + "/summary.json"));
  ASSERT_TRUE(summary) << read_all(out + "/summary.json");
  EXPECT_EQ((*summary)["requests"].value("total", -1), 6) << summary->dump();

  // A scenario and --from-up together, and an unknown fleet, are refused by name.
  ProcessResult both = run_process(
      {LLMSCALE_BINARY, "simulate", folder, "--from-up", control, "--out", out + "2"}, "", 60s);
  EXPECT_NE(both.exit_code, 0);
  EXPECT_NE(both.output.find("not both"), std::string::npos) << both.output;
  ProcessResult unknown = run_process({LLMSCALE_BINARY, "simulate", "--from-up", control,
                                       "--from-up-fleet", "default/nope", "--out", out + "3"},
                                      "", 60s);
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("fleet \"default/nope\" not found"), std::string::npos)
      << unknown.output;

  EXPECT_EQ(up->stop(SIGTERM, 30s), 0) << up->errors();
}

}  // namespace
}  // namespace llmscale::sim
