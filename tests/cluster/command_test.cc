// The `llmscale controller` binary against the embedded API server on loopback (a child process
// and real time, so labelled integration): it resolves the kubeconfig, acquires the Lease, serves
// /readyz once its informer synced and /metrics with API requests by verb and the HPA controller's
// families (passing `promtool check metrics` where promtool is installed), and releases the Lease
// on SIGTERM.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kubeclient/loopback_api.h"
#include "net/client.h"
#include "support/process.h"

namespace llmscale::cluster {
namespace {

using core::Json;
using llmscale::testing::Process;
using llmscale::testing::TempDir;
using namespace std::chrono_literals;

class ControllerCommandTest : public ::testing::Test {
 protected:
  void SetUp() override { server_loop_.start(); }
  void TearDown() override {
    server_loop_.stop();
    server_loop_.join();
  }

  net::Response get(const std::string& url) {
    net::Response out;
    out.status = 0;
    auto fetch = [](net::HttpClient& client, std::string url,
                    net::Response* result) -> net::Awaitable<void> {
      auto response = co_await client.request(net::Request::get(std::move(url)));
      if (response) *result = std::move(*response);
    };
    EXPECT_TRUE(client_loop_.block_on(fetch(http_, url, &out), 10s));
    return out;
  }

  std::string lease_holder() {
    net::Response lease = get(api_.url() +
                              "/apis/coordination.k8s.io/v1/namespaces/default/leases/"
                              "llmscale-controller");
    if (lease.status != 200) return "<" + std::to_string(lease.status) + ">";
    return Json::parse(lease.body)["spec"].value("holderIdentity", "");
  }

  net::EventLoop server_loop_;
  kubeclient::testing::LoopbackApi api_{server_loop_};
  net::EventLoop client_loop_;
  net::HttpClient http_{client_loop_};
  TempDir dir_;
};

TEST_F(ControllerCommandTest, ServesHealthMetricsAndHoldsTheLease) {
  std::string kubeconfig = dir_.write("config", R"(apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: ")" + api_.url() +
                                                    R"("}}]
users: [{name: me, user: {token: abc}}]
contexts: [{name: local, context: {cluster: local, user: me, namespace: default}}]
current-context: local
)");
  auto process = Process::start(
      {LLMSCALE_BINARY, "controller", "--kubeconfig", kubeconfig, "--identity", "test-1",
       "--prometheus-url", "http://127.0.0.1:1", "--adapter-config",
       std::string(LLMSCALE_SOURCE_DIR) + "/examples/adapter/prometheus-adapter-default.yaml",
       "--listen", "127.0.0.1:0"},
      dir_);
  ASSERT_TRUE(process);
  ASSERT_TRUE(process->wait_for_output(
      [](const std::string& out) { return out.find("serving on ") != std::string::npos; }, 30s))
      << process->output() << process->errors();
  std::string out = process->output();
  std::string url = out.substr(out.find("serving on ") + 11);
  url = url.substr(0, url.find_first_of("\r\n"));
  while (!url.empty() && url.back() == '/') url.pop_back();

  net::Response ready;
  for (int i = 0; i < 100 && ready.status != 200; ++i) {
    ready = get(url + "/readyz");
    if (ready.status != 200) client_loop_.run_until([] { return false; }, 100ms);
  }
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(get(url + "/healthz").status, 200);
  net::Response metrics = get(url + "/metrics");
  EXPECT_NE(metrics.body.find("llmscale_controller_api_requests_total{verb=\"list\"}"),
            std::string::npos)
      << metrics.body;
  // kube-controller-manager's HPA controller families, as `llmscale up` exports them.
  EXPECT_NE(metrics.body.find(
                "# TYPE horizontal_pod_autoscaler_controller_reconciliation_duration_seconds "
                "histogram\n"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("\nhorizontal_pod_autoscaler_controller_num_horizontal_pod_"
                              "autoscalers 0\n"),
            std::string::npos)
      << metrics.body;
  if (llmscale::testing::program_on_path("promtool")) {
    auto lint = llmscale::testing::run_process({"promtool", "check", "metrics"}, metrics.body, 30s);
    EXPECT_EQ(lint.exit_code, 0) << lint.output << "\n" << metrics.body;
  }
  for (int i = 0; i < 100 && lease_holder() != "test-1"; ++i) {
    client_loop_.run_until([] { return false; }, 100ms);
  }
  EXPECT_EQ(lease_holder(), "test-1");

  EXPECT_EQ(process->stop(SIGTERM, 15s), 0) << process->errors();
  EXPECT_EQ(lease_holder(), "");  // released on shutdown
}

}  // namespace
}  // namespace llmscale::cluster
