// Integration tests with real peers (label: integration):
//  * promtool (Debian's prometheus package) accepts every golden /metrics file; its only
//    complaints are the upstream servers' own lint quirks (':' in names, TGI counters without
//    _total, DCGM's camelCase labels...);
//  * `llmscale serve-sim` as a process on loopback port 0, driven with curl: the JSON ports
//    line, cold start, completions and SSE, a live scrape through promtool, bad input (invalid
//    JSON, a 10 MB body, unknown routes) answered while the server keeps serving, SIGTERM
//    drain with exit 0, and a crash fault's exit code;
//  * a slow-loris client gets 408 from an in-process SimServer while other requests flow.
// Every process runs under `timeout`, is polled with a deadline and killed by PID.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../net/test_util.h"
#include "harness.h"
#include "net/client.h"
#include "net/tcp.h"
#include "support/process.h"

namespace llmscale::server {
namespace {

using namespace std::chrono_literals;
using llmscale::testing::Process;
using llmscale::testing::TempDir;
using Json = nlohmann::json;

// Runs a command to completion (bounded by `timeout` seconds and a kill).
Process run(const TempDir& dir, std::vector<std::string> argv, int timeout = 20) {
  std::vector<std::string> full = {"timeout", std::to_string(timeout)};
  full.insert(full.end(), argv.begin(), argv.end());
  auto p = Process::start(full, dir);
  EXPECT_TRUE(p.has_value());
  EXPECT_TRUE(p->wait_exit(std::chrono::seconds(timeout + 5)));
  return std::move(*p);
}

// Lint messages promtool prints for the real servers' own exposition (not parse errors).
bool known_upstream_lint(const std::string& line) {
  static const std::vector<std::string> kAllowed = {
      "metric names should not contain ':'",
      "counter metrics should have \"_total\" suffix",
      "non-histogram and non-summary metrics should not have \"_count\" suffix",
      "non-counter metrics should not have \"_total\" suffix",
      "no help text",
      "label names should be written in 'snake_case' not 'camelCase'",
      // vLLM V0's vllm:avg_{prompt,generation}_throughput_toks_per_s (upstream names).
      "metric names should not contain abbreviated units",
  };
  for (const auto& allowed : kAllowed) {
    if (line.find(allowed) != std::string::npos) return true;
  }
  return false;
}

void expect_promtool_accepts(const TempDir& dir, const std::string& file) {
  Process p = run(dir, {"sh", "-c", "promtool check metrics < '" + file + "'"});
  // 0: clean; 3: lint problems only; 1: a parse error.
  EXPECT_TRUE(p.exit_code() == 0 || p.exit_code() == 3)
      << file << ": exit " << p.exit_code() << "\n"
      << p.output() << p.errors();
  std::istringstream lines(p.output() + p.errors());
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_TRUE(known_upstream_lint(line)) << file << ": " << line;
  }
}

TEST(PromtoolTest, AcceptsEveryGoldenMetricsFile) {
  if (!llmscale::testing::have_program("/usr/bin/promtool"))
    GTEST_SKIP() << "promtool not installed";
  TempDir dir;
  for (const char* name :
       {"metrics_vllm-v1.txt", "metrics_vllm-v0.txt", "metrics_tgi.txt", "metrics_jetstream.txt",
        "metrics_nim.txt", "metrics_sglang.txt", "accelerator_dcgm.txt", "accelerator_tpu.txt"}) {
    SCOPED_TRACE(name);
    expect_promtool_accepts(dir, testing::source_path(std::string("tests/server/golden/") + name));
  }
}

class ServeSimProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!llmscale::testing::have_program("/usr/bin/curl") ||
        !llmscale::testing::have_program("/usr/bin/timeout")) {
      GTEST_SKIP() << "curl or timeout not installed";
    }
  }

  // Starts serve-sim and reads its ports line.
  std::optional<Process> start(std::vector<std::string> extra) {
    std::vector<std::string> argv = {
        "timeout", "60", LLMSCALE_BINARY,  "serve-sim",
        "--port",  "0",  "--profiles-dir", testing::source_path("profiles")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = Process::start(argv, dir_);
    if (!p) return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (p->output().find('\n') == std::string::npos) {
      if (p->poll() || std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "serve-sim did not print its ports: " << p->errors();
        return std::nullopt;
      }
      std::this_thread::sleep_for(5ms);
    }
    Json line = Json::parse(p->output().substr(0, p->output().find('\n')));
    EXPECT_EQ(line["event"], "listening");
    api_port_ = line["api_port"].get<int>();
    metrics_port_ = line["metrics_port"].get<int>();
    accelerator_port_ = line["accelerator_port"].get<int>();
    pid_ = line["pid"].get<int>();
    return p;
  }
  std::string url(const std::string& path, int port = 0) {
    return "http://127.0.0.1:" + std::to_string(port ? port : api_port_) + path;
  }
  // curl -s with the HTTP status on the last line.
  std::pair<int, std::string> curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"curl", "-sS", "-w", "\n%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p = run(dir_, argv);
    std::string out = p.output();
    auto nl = out.rfind('\n');
    int status = nl == std::string::npos ? 0 : std::atoi(out.c_str() + nl + 1);
    return {status, nl == std::string::npos ? out : out.substr(0, nl)};
  }
  bool wait_ready(std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (curl({url("/health")}).first == 200) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  TempDir dir_;
  int api_port_ = 0;
  int metrics_port_ = 0;
  int accelerator_port_ = 0;
  int pid_ = 0;
};

TEST_F(ServeSimProcessTest, ServesStreamsRefusesBadInputAndDrainsOnSigterm) {
  auto server = start({"--flavor", "vllm-v1", "--startup-seconds", "1", "--accelerator-metrics",
                       "dcgm", "--accelerator-metrics-port", "0", "--pod", "sim-0"});
  ASSERT_TRUE(server.has_value());
  EXPECT_GT(api_port_, 0);
  EXPECT_EQ(metrics_port_, api_port_);
  EXPECT_GT(accelerator_port_, 0);
  EXPECT_EQ(curl({url("/health")}).first, 503);   // cold start
  EXPECT_EQ(curl({url("/metrics")}).first, 200);  // metrics from the start
  ASSERT_TRUE(wait_ready(20s));

  auto [status, body] = curl({url("/v1/completions"), "-H", "Content-Type: application/json", "-d",
                              R"({"prompt":"San Francisco is a","max_tokens":7})"});
  EXPECT_EQ(status, 200);
  Json completion = Json::parse(body);
  EXPECT_EQ(completion["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(completion["usage"]["completion_tokens"], 7);

  auto [stream_status, stream] = curl(
      {"-N", url("/v1/chat/completions"), "-d",
       R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"stream":true,"stream_options":{"include_usage":true}})"});
  EXPECT_EQ(stream_status, 200);
  EXPECT_NE(stream.find("\"usage\":{\"prompt_tokens\""), std::string::npos);
  EXPECT_EQ(stream.substr(stream.size() - 14), "data: [DONE]\n\n");

  // Bad input, answered with vLLM's shapes; the server keeps serving.
  auto [bad_status, bad] = curl({url("/v1/completions"), "-d", "{\"prompt\":"});
  EXPECT_EQ(bad_status, 400);
  EXPECT_EQ(Json::parse(bad)["error"]["code"], 400);
  EXPECT_EQ(curl({url("/v1/completions"), "-d", R"({"prompt":"x","max_tokens":0})"}).first, 400);
  EXPECT_EQ(curl({url("/v1/completions"), "-d", R"({"max_tokens":3})"}).first, 400);
  EXPECT_EQ(curl({url("/nope")}).first, 404);
  std::string big =
      dir_.write("big.json", "{\"prompt\":\"" + std::string(10 * 1000 * 1000, 'a') + "\"}");
  EXPECT_EQ(curl({url("/v1/completions"), "--data-binary", "@" + big}).first, 413);
  EXPECT_EQ(curl({url("/v1/completions"), "-d", R"({"prompt":"x","max_tokens":3})"}).first, 200);

  // A live scrape of each endpoint passes promtool.
  std::string scrape = dir_.write("scrape.txt", curl({url("/metrics")}).second);
  std::string accel = dir_.write("accel.txt", curl({url("/metrics", accelerator_port_)}).second);
  if (llmscale::testing::have_program("/usr/bin/promtool")) {
    expect_promtool_accepts(dir_, scrape);
    expect_promtool_accepts(dir_, accel);
  }
  EXPECT_NE(llmscale::testing::read_file(scrape).find("vllm:num_requests_running"),
            std::string::npos);

  // SIGTERM: drain and exit 0.
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  ASSERT_TRUE(server->wait_exit(15s));
  EXPECT_EQ(server->exit_code(), 0) << server->errors();
}

TEST_F(ServeSimProcessTest, CrashFaultExitsNonZero) {
  auto server = start({"--flavor", "tgi", "--startup-seconds", "0", "--fault-crash-after-requests",
                       "2", "--fault-exit-code", "3"});
  ASSERT_TRUE(server.has_value());
  EXPECT_EQ(curl({url("/generate"), "-H", "Content-Type: application/json", "-d",
                  R"({"inputs":"x","parameters":{"max_new_tokens":2}})"})
                .first,
            200);
  curl({url("/generate"), "-H", "Content-Type: application/json", "-d", R"({"inputs":"x"})"});
  ASSERT_TRUE(server->wait_exit(15s));
  EXPECT_EQ(server->exit_code(), 3);
}

TEST_F(ServeSimProcessTest, RejectsBadFlags) {
  Process p = run(dir_, {LLMSCALE_BINARY, "serve-sim", "--flavor", "triton"});
  EXPECT_EQ(p.exit_code(), 2);
  EXPECT_NE(p.errors().find("unknown flavor"), std::string::npos);
  Process q = run(dir_, {LLMSCALE_BINARY, "serve-sim", "--profiles-dir",
                         testing::source_path("profiles"), "--profile", "no-such-profile"});
  EXPECT_EQ(q.exit_code(), 2);
}

// issue 15: the binary does not need the repository. From an empty directory, with no
// --profiles-dir and no $LLMSCALE_PROFILES, the shipped profiles come from the binary; a missing
// one names every place looked in.
TEST_F(ServeSimProcessTest, RunsFromADirectoryWithoutProfiles) {
  Process list = run(
      dir_, {"env", "-u", "LLMSCALE_PROFILES", LLMSCALE_BINARY, "serve-sim", "--list-profiles"});
  EXPECT_EQ(list.exit_code(), 0) << list.errors();
  EXPECT_NE(list.output().find("llama-3.1-8b-h100\n"), std::string::npos) << list.output();
  EXPECT_NE(list.errors().find("the profiles built into llmscale"), std::string::npos);

  Process missing = run(dir_, {"env", "-u", "LLMSCALE_PROFILES", LLMSCALE_BINARY, "serve-sim",
                               "--profiles-dir", dir_.path(), "--profile", "no-such-profile"});
  EXPECT_EQ(missing.exit_code(), 2);
  EXPECT_NE(missing.errors().find(dir_.path() + "/no-such-profile.yaml"), std::string::npos)
      << missing.errors();
  EXPECT_NE(missing.errors().find("built-in profiles/no-such-profile.yaml"), std::string::npos)
      << missing.errors();

  auto server = Process::start(
      {"timeout", "60", "env", "-u", "LLMSCALE_PROFILES", LLMSCALE_BINARY, "serve-sim", "--port",
       "0", "--profile", "llama-3.1-8b-h100", "--startup-seconds", "0"},
      dir_);
  ASSERT_TRUE(server.has_value());
  ASSERT_TRUE(server->wait_for_output(
      [](const std::string& out) { return out.find('\n') != std::string::npos; }, 20s))
      << server->errors();
  Json line = Json::parse(server->output().substr(0, server->output().find('\n')));
  EXPECT_EQ(line["event"], "listening");
  ASSERT_EQ(::kill(line["pid"].get<int>(), SIGTERM), 0);
  ASSERT_TRUE(server->wait_exit(15s));
  EXPECT_EQ(server->exit_code(), 0) << server->errors();
}

TEST(SlowLorisTest, SlowHeaderGets408WhileOthersFlow) {
  net::EventLoop loop;
  SimServerOptions o = testing::test_options(Flavor::kVllmV1);
  o.listen = true;
  o.port = 0;
  o.header_timeout = 300ms;
  auto created = SimServer::create(loop, loop.clock(), std::move(o));
  ASSERT_TRUE(created.has_value());
  SimServer& server = **created;
  ASSERT_TRUE(server.start().has_value());
  std::uint16_t port = server.ports().api;
  net::HttpClient client(loop);
  net::testing::run(loop, [](std::uint16_t p, net::HttpClient& c) -> net::Awaitable<void> {
    auto slow = co_await net::TcpStream::connect("127.0.0.1", p, 2s);
    CO_ASSERT_OK(slow);
    CO_ASSERT_OK(co_await slow->write("POST /v1/completions HTTP/1.1\r\nHost: x\r\n"));
    // Another client is served meanwhile.
    net::Request ok =
        net::Request::post("http://127.0.0.1:" + std::to_string(p) + "/v1/completions",
                           R"({"prompt":"x","max_tokens":2})", "application/json");
    auto response = co_await c.request(std::move(ok));
    CO_ASSERT_OK(response);
    EXPECT_EQ(response->status, 200);
    auto answer = co_await slow->read_until_eof(5s);
    CO_ASSERT_OK(answer);
    EXPECT_NE(answer->find("408"), std::string::npos) << *answer;
  }(port, client));
}

}  // namespace
}  // namespace llmscale::server
