// `llmscale load` as users run it, against in-process loopback servers: a clean streaming run
// with every report written, an unreachable host (counted, exit 0; exit 1 under a gate), a
// stalling server (the run still ends on time), sweeps, https with --cacert / -k, and the exit-2
// contract for bad flags, bad trace rows, unreadable CA files and unwritable report paths.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/clock.h"
#include "net/router.h"
#include "net/server.h"
#include "net/tcp.h"
#include "net/tls_cert.h"

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int exit_code = -1;
  std::string out, err;
  double seconds = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/llmscale_load_" + std::to_string(getpid()) + "_" + name;
}

Outcome run_load(const std::string& args) {
  static int calls = 0;
  std::string base = temp_path("call" + std::to_string(calls++));
  std::string command = "cd " LLMSCALE_SOURCE_DIR " && timeout 60 " LLMSCALE_BINARY " load " +
                        args + " </dev/null >" + base + ".out 2>" + base + ".err";
  auto started = std::chrono::steady_clock::now();
  int status = std::system(command.c_str());
  Outcome outcome;
  outcome.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  outcome.out = slurp(base + ".out");
  outcome.err = slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return outcome;
}

// An OpenAI-compatible server on a background loop: streams `tokens` chunks with usage, or
// stalls on requests whose prompt starts with a marker the test never sends (see Stall).
class LoadCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router.post("/v1/chat/completions",
                [this](net::ServerRequest& r, net::ResponseWriter& w) { return chat(r, w); });
    router.post("/v1/completions",
                [this](net::ServerRequest& r, net::ResponseWriter& w) { return stall(r, w); });
    server = std::make_unique<net::HttpServer>(loop, net::ServerOptions{});
    ASSERT_TRUE(server->start(router.handler()).has_value());
    loop.start();
    url = "http://127.0.0.1:" + std::to_string(server->port());
  }
  void TearDown() override {
    loop.post([this] { server->close(); });
    loop.stop();
    loop.join();
  }

  net::Awaitable<void> chat(net::ServerRequest& request, net::ResponseWriter& writer) {
    ++requests;
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    int tokens =
        body.is_object() && body.contains("max_tokens") ? body["max_tokens"].get<int>() : 4;
    if (!body.value("stream", false)) {
      std::string json =
          R"({"choices":[{"message":{"content":"x"}}],"usage":{"completion_tokens":)" +
          std::to_string(tokens) + "}}";
      co_await writer.send(net::Response::json(200, json));
      co_return;
    }
    if (!co_await writer.begin_sse()) co_return;
    for (int i = 0; i < tokens; ++i) {
      std::string chunk = R"({"choices":[{"delta":{"content":" w"}}]})";
      if (!co_await writer.send_data(chunk)) co_return;
    }
    std::string usage =
        R"({"choices":[],"usage":{"completion_tokens":)" + std::to_string(tokens) + "}}";
    co_await writer.send_data(usage);
    co_await writer.send_data("[DONE]");
  }

  net::Awaitable<void> stall(net::ServerRequest&, net::ResponseWriter&) {
    ++requests;
    co_await net::sleep_for(stalled, 24h);  // a clock that never moves: no answer
  }

  net::EventLoop loop;
  net::Router router;
  std::unique_ptr<net::HttpServer> server;
  std::string url;
  std::atomic<int> requests{0};
  // Never advanced, so handlers waiting on it never answer. Declared after the loop: it is
  // destroyed first, with the waits it holds.
  core::SimulatedClock stalled;
};

TEST_F(LoadCliTest, StreamingClosedLoopWritesEveryReport) {
  std::string json = temp_path("r.json"), csv = temp_path("r.csv"), svg = temp_path("r.svg"),
              rows = temp_path("rows.csv");
  Outcome o =
      run_load("--url " + url +
               " --api openai-chat --streaming --concurrency 4 --requests 20"
               " --output-tokens-mean 6 --input-tokens-mean 30 --model m"
               " --report-json " +
               json + " --report-csv " + csv + " --report-svg " + svg + " --requests-csv " + rows);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("Time to first token (ms)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("Requests: 20 ok, 0 failed"), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("\r"), std::string::npos);  // no progress line: stdout is not a TTY
  auto doc = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(doc["stages"][0]["requests"]["succeeded"], 20);
  EXPECT_EQ(doc["stages"][0]["metrics"]["output_tokens"]["p50"], 6.0);
  EXPECT_EQ(doc["stages"][0]["metrics"]["itl_ms"]["count"], 100);
  EXPECT_EQ(doc["config"]["endpoint"], "/v1/chat/completions");
  EXPECT_EQ(requests.load(), 20);
  EXPECT_EQ(slurp(csv).rfind("stage,name,metric,statistic,value\n", 0), 0u);
  EXPECT_NE(slurp(svg).find("</svg>"), std::string::npos);
  std::string per_request = slurp(rows);
  EXPECT_EQ(std::count(per_request.begin(), per_request.end(), '\n'), 21);
  for (const auto& path : {json, csv, svg, rows}) std::remove(path.c_str());
}

// Client threads: every request sent once, the figures merged, the open-loop schedule kept.
TEST_F(LoadCliTest, ThreadsSplitTheRunAndMergeTheFigures) {
  std::string json = temp_path("threads.json"), rows = temp_path("threads_rows.csv");
  Outcome o = run_load("--url " + url +
                       " --streaming --concurrency 6 --requests 60 --threads 3"
                       " --output-tokens-mean 3 --quiet --report-json " +
                       json + " --requests-csv " + rows);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto doc = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(doc["stages"][0]["requests"]["succeeded"], 60);
  EXPECT_EQ(doc["stages"][0]["metrics"]["itl_ms"]["count"], 120);
  EXPECT_EQ(doc["stages"][0]["metrics"]["ttft_ms"]["count"], 60);
  EXPECT_EQ(requests.load(), 60);
  std::istringstream lines(slurp(rows));
  std::string line;
  std::getline(lines, line);  // header
  std::uint64_t expected_id = 0;
  while (std::getline(lines, line)) {
    EXPECT_EQ(line.substr(0, line.find(',')), std::to_string(expected_id++)) << line;
  }
  EXPECT_EQ(expected_id, 60u);

  // Open loop, constant arrivals over three threads: ids 0..39 at exactly id / 200 s after the
  // stage's start (the first arrival).
  requests = 0;
  o = run_load("--url " + url +
               " --rate 200 --arrival constant --requests 40 --threads 3 --output-tokens-mean 2"
               " --quiet --requests-csv " +
               rows);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(requests.load(), 40);
  std::istringstream open_lines(slurp(rows));
  std::getline(open_lines, line);
  expected_id = 0;
  double first = 0;
  while (std::getline(open_lines, line)) {
    const std::string& fields = line;
    std::uint64_t id = std::stoull(fields.substr(0, fields.find(',')));
    EXPECT_EQ(id, expected_id++);
    // id,stage,warmup,intended_s,...
    std::size_t third = 0;
    for (int i = 0; i < 3; ++i) third = fields.find(',', third) + 1;
    double intended = std::stod(fields.substr(third));
    if (id == 0) first = intended;
    EXPECT_NEAR(intended - first, static_cast<double>(id) / 200.0, 2e-6) << line;
  }
  EXPECT_EQ(expected_id, 40u);
  for (const auto& path : {json, rows}) std::remove(path.c_str());
}

TEST_F(LoadCliTest, SweepHasOneStagePerValue) {
  std::string json = temp_path("sweep.json");
  Outcome o = run_load("--url " + url + " --concurrency 1,3 --requests 6 --output-tokens-mean 2" +
                       " --quiet --report-json " + json);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(o.out.empty());
  EXPECT_NE(o.err.find("warm-up"), std::string::npos);
  auto doc = nlohmann::json::parse(slurp(json));
  ASSERT_EQ(doc["stages"].size(), 2u);
  EXPECT_EQ(doc["stages"][1]["name"], "concurrency=3");
  EXPECT_EQ(doc["stages"][1]["requests"]["warmup"], 3);
  EXPECT_EQ(doc["stages"][1]["requests"]["succeeded"], 6);
  EXPECT_EQ(requests.load(), 1 + 6 + 3 + 6);
  std::remove(json.c_str());
}

TEST_F(LoadCliTest, UnreachableHostIsCountedAndGated) {
  auto listener = net::TcpListener::listen(loop);
  ASSERT_TRUE(listener.has_value());
  std::string closed = "http://127.0.0.1:" + std::to_string(listener->port());
  listener->close();
  std::string json = temp_path("down.json");
  Outcome o = run_load("--url " + closed + " --concurrency 2 --requests 5 --report-json " + json);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  auto doc = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(doc["stages"][0]["errors"]["connection refused"], 5);
  EXPECT_EQ(doc["passed"], true);
  Outcome gated =
      run_load("--url " + closed + " --requests 3 --fail-on-errors 0 --report-json " + json);
  EXPECT_EQ(gated.exit_code, 1) << gated.err;
  EXPECT_NE(gated.out.find("FAILED gate errors"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(slurp(json))["passed"], false);
  std::remove(json.c_str());
}

TEST_F(LoadCliTest, StallingServerStillEndsOnTime) {
  std::string json = temp_path("stall.json");
  Outcome o = run_load("--url " + url +
                       " --api openai-completions --rate 20 --duration 1s --drain-timeout 500ms"
                       " --report-json " +
                       json);
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_LT(o.seconds, 6.0);  // 1 s + 0.5 s drain + process start, never the 30 s stall
  auto doc = nlohmann::json::parse(slurp(json));
  EXPECT_GT(doc["stages"][0]["errors"]["total timeout"].get<int>(), 10);
  EXPECT_EQ(doc["stages"][0]["requests"]["succeeded"], 0);
  std::remove(json.c_str());
}

TEST(LoadCliErrors, BadFlagsExitTwo) {
  Outcome o = run_load("--url http://127.0.0.1:1 --concurrency x");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "error: --concurrency: invalid value \"x\" in \"x\"\n");
  EXPECT_EQ(run_load("--concurrency 1").exit_code, 2);  // --url is required
  EXPECT_EQ(run_load("--url http://127.0.0.1:1 --no-such-flag").exit_code, 2);
  Outcome report =
      run_load("--url http://127.0.0.1:1 --requests 1 --report-json /nonexistent/r.json");
  EXPECT_EQ(report.exit_code, 2);
  EXPECT_EQ(report.err, "error: --report-json: cannot write /nonexistent/r.json\n");
}

TEST(LoadCliErrors, BadTraceRowFailsWithItsLine) {
  std::string trace = temp_path("bad.csv");
  std::ofstream(trace) << "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                          "2023-11-16 18:17:03.0,100,10\n"
                          "2023-11-16 18:17:04.0,1x0,10\n";
  Outcome o = run_load("--url http://127.0.0.1:1 --trace " + trace + " --on-bad-row fail");
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_EQ(o.err, "error: " + trace + ":3: ContextTokens: invalid integer \"1x0\"\n");
  std::remove(trace.c_str());
}

// https: a loopback TLS server with a certificate from a test CA. --cacert trusts it; without
// it the handshake fails (counted as "tls", exit 0); -k skips verification; a CA file that is
// not PEM is bad input (exit 2, before any request).
TEST(LoadCliTls, HttpsWithCacertInsecureAndBadCa) {
  net::CertificateSpec ca_spec;
  ca_spec.common_name = "llmscale-test-ca";
  ca_spec.is_ca = true;
  auto ca = net::generate_self_signed_certificate(ca_spec);
  ASSERT_TRUE(ca.has_value());
  auto leaf = net::generate_signed_certificate(net::CertificateSpec{}, *ca);
  ASSERT_TRUE(leaf.has_value());
  std::string ca_file = temp_path("ca.pem"), bad_ca = temp_path("bad_ca.pem");
  std::ofstream(ca_file) << ca->cert_pem;
  std::ofstream(bad_ca) << "not a certificate\n";

  net::EventLoop loop;
  net::Router router;
  std::atomic<int> requests{0};
  router.post("/v1/completions",
              [&requests](net::ServerRequest& r, net::ResponseWriter& w) -> net::Awaitable<void> {
                ++requests;
                EXPECT_TRUE(r.tls);
                co_await w.send(net::Response::json(
                    200, R"({"choices":[{"text":"a b"}],"usage":{"completion_tokens":2}})"));
              });
  net::ServerOptions options;
  options.tls = net::TlsServerOptions{};
  options.tls->cert_pem = leaf->cert_pem;
  options.tls->key_pem = leaf->key_pem;
  net::HttpServer server(loop, options);
  ASSERT_TRUE(server.start(router.handler()).has_value());
  loop.start();
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  std::string json = temp_path("tls.json");
  std::string common = "--url " + url + " --api openai-completions --concurrency 2 --requests 4" +
                       " --quiet --report-json " + json;

  Outcome trusted = run_load(common + " --cacert " + ca_file);
  ASSERT_EQ(trusted.exit_code, 0) << trusted.err;
  auto doc = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(doc["stages"][0]["requests"]["succeeded"], 4) << doc.dump();
  EXPECT_EQ(requests.load(), 4);

  Outcome untrusted = run_load(common);
  ASSERT_EQ(untrusted.exit_code, 0) << untrusted.err;
  doc = nlohmann::json::parse(slurp(json));
  EXPECT_EQ(doc["stages"][0]["errors"]["tls"], 4) << doc.dump();
  EXPECT_EQ(requests.load(), 4);

  Outcome insecure = run_load(common + " -k");
  ASSERT_EQ(insecure.exit_code, 0) << insecure.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(json))["stages"][0]["requests"]["succeeded"], 4);
  EXPECT_EQ(requests.load(), 8);

  Outcome bad = run_load(common + " --cacert " + bad_ca);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("error: "), std::string::npos) << bad.err;
  EXPECT_EQ(requests.load(), 8);

  loop.post([&server] { server.close(); });
  loop.stop();
  loop.join();
  for (const auto& path : {json, ca_file, bad_ca}) std::remove(path.c_str());
}

TEST(LoadCliErrors, HelpListsTheFlags) {
  Outcome o = run_load("--help");
  EXPECT_EQ(o.exit_code, 0);
  for (const char* flag : {"--concurrency", "--rate", "--burst", "--trace", "--slo", "--report-svg",
                           "--fail-on-errors", "--streaming", "--cacert", "--insecure"}) {
    EXPECT_NE(o.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace llmscale::loadgen
