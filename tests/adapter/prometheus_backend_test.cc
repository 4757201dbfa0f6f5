// `llmscale adapter` over a real Prometheus (Debian's 2.42, `--prometheus-url`) and over its own
// in-process scraper (`--scrape-config`, the same prometheus.yml) answers seed 001's query and
// the discovery document identically: the rules, series and values are the same whether the
// TSDB is Prometheus' or ours.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "support/process.h"

namespace llmscale::adapter {
namespace {

using llmscale::testing::Process;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;
using namespace std::chrono_literals;

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string curl(const std::string& url) {
  auto result = run_process({"curl", "-sk", "--max-time", "5", url}, "", 10s);
  return result.exit_code == 0 ? result.output : "";
}

std::string without_timestamps(const std::string& body) {
  return std::regex_replace(body, std::regex(R"("timestamp":"[0-9TZ:.-]+")"), R"("timestamp":"T")");
}

class PrometheusBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* program : {"prometheus", "python3", "curl"}) {
      if (!llmscale::testing::program_on_path(program))
        GTEST_SKIP() << program << " is not installed";
    }
    const std::string examples = std::string(LLMSCALE_SOURCE_DIR) + "/examples/adapter/";
    // The target: seed 001's scrape (with the pod and namespace labels discovery attached),
    // served as a file.
    std::filesystem::create_directories(dir_.path() + "/www");
    dir_.write("www/nim.prom", llmscale::testing::read_file(examples + "nim-metrics.prom"));
    std::uint16_t target_port = free_port();
    target_ = start({"python3", "-m", "http.server", std::to_string(target_port), "--bind",
                     "127.0.0.1", "--directory", dir_.path() + "/www"});
    std::string config = dir_.write("prometheus.yml", R"(global:
  scrape_interval: 1s
scrape_configs:
- job_name: nim
  honor_labels: true
  metrics_path: /nim.prom
  static_configs:
  - targets: ['127.0.0.1:)" + std::to_string(target_port) +
                                                          "']\n");
    std::uint16_t prometheus_port = free_port();
    prometheus_ = start({"prometheus", "--config.file=" + config,
                         "--storage.tsdb.path=" + dir_.path() + "/data",
                         "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port)});
    auto adapter = [&](const std::string& name, std::vector<std::string> backend) {
      std::vector<std::string> argv = {LLMSCALE_BINARY,
                                       "adapter",
                                       "--config",
                                       examples + "prometheus-adapter-default.yaml",
                                       "--objects",
                                       examples + "nim-pods.yaml",
                                       "--secure-port",
                                       "0",
                                       "--bind-address",
                                       "127.0.0.1",
                                       "--cert-dir",
                                       dir_.path() + "/" + name,
                                       "--authorization-mode",
                                       "AlwaysAllow",
                                       "--metrics-relist-interval",
                                       "1s"};
      argv.insert(argv.end(), backend.begin(), backend.end());
      auto process = start(argv);
      const std::regex serving("serving on (https://\\S+)");
      EXPECT_TRUE(process->wait_for_output(
          [&](const std::string& out) { return std::regex_search(out, serving); }, 30s))
          << process->errors();
      std::smatch m;
      std::string out = process->output();
      std::regex_search(out, m, serving);
      return std::make_pair(std::move(process), std::string(m[1]));
    };
    std::tie(remote_, remote_url_) = adapter(
        "remote", {"--prometheus-url", "http://127.0.0.1:" + std::to_string(prometheus_port)});
    std::tie(local_, local_url_) = adapter("local", {"--scrape-config", config});
  }

  std::unique_ptr<Process> start(const std::vector<std::string>& argv) {
    auto process = Process::start(argv, dir_);
    EXPECT_TRUE(process) << argv[0];
    return std::make_unique<Process>(std::move(*process));
  }

  // GETs `path` from both adapters until both answers contain `needle` (scrapes and relists
  // done) or a minute has passed.
  std::pair<std::string, std::string> both(const std::string& path, const std::string& needle) {
    std::string remote, local;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      remote = curl(remote_url_ + path);
      local = curl(local_url_ + path);
      if (remote.find(needle) != std::string::npos && local.find(needle) != std::string::npos)
        break;
      std::this_thread::sleep_for(250ms);
    }
    return {remote, local};
  }

  void TearDown() override {
    for (auto* p : {&local_, &remote_, &prometheus_, &target_}) {
      if (*p) (*p)->stop(SIGTERM, 5s);
    }
  }

  TempDir dir_;
  std::unique_ptr<Process> target_, prometheus_, remote_, local_;
  std::string remote_url_, local_url_;
};

TEST_F(PrometheusBackendTest, SameAnswersOverPrometheusAndOverOurScraper) {
  auto [remote, local] = both(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/gpu_cache_usage_perc"
      "?selector=app%3Dmeta-llama3-8b",
      R"("items":[{)");
  EXPECT_NE(remote.find(R"("name":"meta-llama3-8b-5c6ddbbfb5-dp2mv")"), std::string::npos)
      << remote << "\n"
      << prometheus_->errors() << remote_->errors();
  EXPECT_NE(remote.find(R"("value":"14m")"), std::string::npos) << remote;
  EXPECT_EQ(without_timestamps(remote), without_timestamps(local));

  auto [remote_discovery, local_discovery] =
      both("/apis/custom.metrics.k8s.io/v1beta1", "pods/gpu_cache_usage_perc");
  EXPECT_NE(remote_discovery.find(R"("name":"pods/num_requests_running")"), std::string::npos)
      << remote_discovery;
  EXPECT_EQ(remote_discovery, local_discovery);
}

}  // namespace
}  // namespace llmscale::adapter
