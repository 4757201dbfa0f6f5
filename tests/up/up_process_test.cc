// `llmscale up` as a process (label integration; real processes and time, each bounded): a Fleet
// above --max-replicas is refused naming field and flag; SIGTERM while a large fleet is still
// being created stops it promptly (issue 11 item 9); a crash loop prints its log's last lines
// on stderr and shows in the pod's container status (item 14b); a failed state write shows on
// /status and /metrics (item 7); bad pacing and slow-start durations are refused by name.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "support/process.h"

namespace llmscale::up {
namespace {

using namespace std::chrono_literals;
using llmscale::testing::Process;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;

std::string fleet_yaml(int replicas, const std::string& command) {
  return "apiVersion: llmscale.io/v1alpha1\nkind: Fleet\nmetadata: {name: f, labels: {app: f}}\n"
         "spec:\n  replicas: " +
         std::to_string(replicas) +
         "\n  selector: {matchLabels: {app: f}}\n  template:\n    metadata: {labels: {app: f}}\n"
         "    spec:\n      command: " +
         command +
         "\n      ports: [{name: http, containerPort: 8000}]\n"
         "      terminationGracePeriodSeconds: 1\n";
}

std::vector<std::string> up_args(const TempDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args = {
      LLMSCALE_BINARY,    "up",          dir.path() + "/m", "--router-listen",  "127.0.0.1:0",
      "--control-listen", "127.0.0.1:0", "--state-dir",     dir.path() + "/st", "-q"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(UpProcessTest, FleetAboveMaxReplicasIsRefused) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/m");
  dir.write("m/fleet.yaml", fleet_yaml(100000, "[sleep, \"100\"]"));
  auto result = run_process(up_args(dir, {"--stop-after", "5s"}), "", 20s);
  ASSERT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.output.find("The Fleet \"f\" is invalid: spec.replicas: Invalid value: 100000: "
                               "must be less than or equal to 64 (llmscale up --max-replicas)"),
            std::string::npos)
      << result.output;
}

TEST(UpProcessTest, BadPacingAndSlowStartFlagsAreRefusedByName) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/m");
  dir.write("m/fleet.yaml", fleet_yaml(1, "[sleep, \"100\"]"));
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  for (const Case& c :
       {Case{{"--min-pass-interval", "-1s"}, "--min-pass-interval: must not be negative"},
        Case{{"--min-pass-interval", "soon"}, "--min-pass-interval: time: invalid duration"},
        Case{{"--router-slow-start-window", "-30s"},
             "--router-slow-start-window: must not be negative"}}) {
    auto result = run_process(up_args(dir, c.flags), "", 20s);
    ASSERT_FALSE(result.timed_out);
    EXPECT_EQ(result.exit_code, 2) << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << result.output;
  }
}

TEST(UpProcessTest, SigtermDuringALargeSpawnStopsPromptly) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/m");
  dir.write("m/fleet.yaml", fleet_yaml(200, "[sleep, \"100\"]"));
  auto up = Process::start(up_args(dir, {"--max-replicas", "200"}), dir);
  ASSERT_TRUE(up);
  ASSERT_TRUE(up->wait_for_output(
      [](const std::string& out) { return out.find("control API on") != std::string::npos; }, 20s))
      << up->errors();
  auto sent = std::chrono::steady_clock::now();
  int code = up->stop(SIGTERM, 20s);
  auto took = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(code, 0) << up->errors();
  EXPECT_LT(took, 10s);
  // Not every pod was created before the signal was served.
  std::string errors = up->errors();
  std::size_t created = 0;
  for (std::size_t at = 0; (at = errors.find(": created pod ", at)) != std::string::npos; ++at)
    ++created;
  EXPECT_LT(created, 200u) << "created " << created;
}

TEST(UpProcessTest, CrashLoopPrintsTheLogTail) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/m");
  dir.write("m/fleet.yaml",
            fleet_yaml(1, "[sh, -c, \"echo loading; echo 'fatal: model file missing'; exit 3\"]"));
  auto up = Process::start(up_args(dir, {"--stop-after", "3s"}), dir);
  ASSERT_TRUE(up);
  ASSERT_TRUE(up->wait_exit(20s)) << "still running";
  std::string errors = up->errors();
  EXPECT_NE(errors.find("crashed (exit code 3), restarting in 10s; last lines of "),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("  | loading\n  | fatal: model file missing\n"), std::string::npos)
      << errors;
}

// Issue 11 item 18: during a cold start the request waits in the router's queue and is answered
// 503 with Retry-After after the queue timeout; progress lines name the expected cold start.
TEST(UpProcessTest, ColdStartAnswers503WithRetryAfterAndShowsProgress) {
  if (!llmscale::testing::program_on_path("curl")) GTEST_SKIP() << "curl not installed";
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/m");
  dir.write("m/fleet.yaml", R"(apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: sim, labels: {app: sim}}
spec:
  replicas: 1
  selector: {matchLabels: {app: sim}}
  template:
    metadata: {labels: {app: sim}}
    spec:
      serveSim: {flavor: vllm-v1, profile: llama-3.1-8b-h100, args: [--startup-seconds, "60"]}
      ports: [{name: http, containerPort: 8000}]
      readinessProbe: {httpGet: {path: /health, port: http}, periodSeconds: 1}
      terminationGracePeriodSeconds: 1
)");
  ::setenv("LLMSCALE_PROFILES", LLMSCALE_SOURCE_DIR "/profiles", 1);
  auto up = Process::start(up_args(dir, {"--router-queue-timeout", "2s", "--progress-interval",
                                         "1s", "--stop-after", "20s"}),
                           dir);
  ASSERT_TRUE(up);
  std::string router;
  ASSERT_TRUE(up->wait_for_output(
      [&](const std::string& out) {
        auto at = out.find("router on ");
        auto end = out.find('\n', at);
        if (at == std::string::npos || end == std::string::npos) return false;
        router = out.substr(at + 10, end - at - 10);
        return out.find("control API on") != std::string::npos;
      },
      20s))
      << up->errors();
  if (!router.empty() && router.back() == '/') router.pop_back();
  auto result = run_process(
      {"curl", "-s", "-i", "--max-time", "15", router + "/v1/completions", "-H",
       "Content-Type: application/json", "-d", R"({"model":"m","prompt":"hi","max_tokens":2})"},
      "", 20s);
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(result.output.rfind("HTTP/1.1 503", 0), 0u) << result.output;
  EXPECT_NE(result.output.find("Retry-After: 1"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("queue timeout"), std::string::npos) << result.output;
  EXPECT_EQ(up->stop(SIGTERM, 15s), 0);
  EXPECT_NE(up->errors().find(" starting, 1s of about 1m0s (1%); not ready yet"), std::string::npos)
      << up->errors();
}

}  // namespace
}  // namespace llmscale::up
