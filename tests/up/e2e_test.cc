// End to end: `llmscale up` on each shipped example with the seed's load (its load.sh) aimed at
// the router — scale-up with TARGETS above the target, scale-down only after the stabilization
// window, no request lost — at the examples' own scrape intervals; plus a replica killed
// mid-load, a restart that keeps the HPA's history, and the binary run far from the repository
// (the profiles are built in). Only cold starts, the downscale window and the loads' durations
// are shortened, by flags; each run is bounded and every process is stopped by PID.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "support/process.h"

namespace llmscale::up {
namespace {

using llmscale::testing::Process;
using llmscale::testing::TempDir;
using namespace std::chrono_literals;

// Seconds since midnight of a log line's "2026-11-22T19:43:06.460" prefix.
std::optional<double> log_time(const std::string& line) {
  static const std::regex stamp(R"(^\d{4}-\d\d-\d\dT(\d\d):(\d\d):(\d\d\.\d+))");
  std::smatch m;
  if (!std::regex_search(line, m, stamp)) return std::nullopt;
  return std::stoi(m[1]) * 3600.0 + std::stoi(m[2]) * 60.0 + std::stod(m[3]);
}

struct Rescale {
  double at = 0;
  int from = 0, to = 0;
  std::string reason;
};

// The controller's "hpa default/x: 1 -> 3 (reason)" log lines.
std::vector<Rescale> rescales(const std::string& log) {
  std::vector<Rescale> out;
  static const std::regex line_re(R"(hpa \S+: (\d+) -> (\d+) \((.*)\))");
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    auto at = log_time(line);
    if (at && std::regex_search(line, m, line_re))
      out.push_back({*at, std::stoi(m[1]), std::stoi(m[2]), m[3]});
  }
  return out;
}

std::optional<double> first_log(const std::string& log, const std::string& needle) {
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) return log_time(line);
  }
  return std::nullopt;
}

struct UpRun {
  std::unique_ptr<Process> process;
  std::string output, errors;
  int exit_code = -1;
};

// Runs `argv` in `dir` with $LLMSCALE_PROFILES unset: nothing of the repository is reachable by
// a relative path.
std::vector<std::string> in_directory(const std::string& dir,
                                      const std::vector<std::string>& argv) {
  std::string command = "cd '" + dir + "' && exec env -u LLMSCALE_PROFILES";
  for (const auto& arg : argv) command += " '" + arg + "'";
  return {"/bin/sh", "-c", command};
}

// The binary, linked or copied into `dir`: its own path leads nowhere near the repository (a
// hard link where /tmp shares the build's file system, as the sanitized binary is ~300 MB; a
// symbolic link would not do, /proc/self/exe resolves it back into the build tree).
std::string binary_in(const TempDir& dir) {
  namespace fs = std::filesystem;
  std::string binary = dir.path() + "/llmscale";
  std::error_code ec;
  fs::create_hard_link(LLMSCALE_BINARY, binary, ec);
  if (ec) fs::copy_file(LLMSCALE_BINARY, binary);
  return binary;
}

class UpE2eTest : public ::testing::Test {
 protected:
  // `scrape` empty: the examples' own PodMonitoring intervals.
  std::vector<std::string> up_argv(const std::string& example, const std::string& window,
                                   std::vector<std::string> more,
                                   const std::string& scrape = "1s") {
    std::vector<std::string> argv = {LLMSCALE_BINARY,
                                     "up",
                                     std::string(LLMSCALE_SOURCE_DIR) + "/examples/" + example,
                                     "--serve-sim-startup",
                                     "2s",
                                     "--router-listen",
                                     "127.0.0.1:0",
                                     "--control-listen",
                                     "127.0.0.1:0",
                                     "--horizontal-pod-autoscaler-downscale-stabilization",
                                     window,
                                     "--state-dir",
                                     dir_.path() + "/state"};
    if (!scrape.empty()) argv.insert(argv.end(), {"--scrape-interval", scrape});
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  }

  UpRun start(const std::vector<std::string>& argv) {
    UpRun run;
    auto process = Process::start(argv, dir_);
    EXPECT_TRUE(process);
    run.process = std::make_unique<Process>(std::move(*process));
    return run;
  }

  // Waits for the run to exit on its own (a stop condition), at most `timeout`.
  void finish(UpRun& run, std::chrono::seconds timeout) {
    run.process->wait_exit(timeout);
    run.exit_code = run.process->stop(SIGTERM, 40s);  // no-op when it already exited
    run.output = run.process->output();
    run.errors = run.process->errors();
  }

  TempDir dir_;
};

struct Scenario {
  const char* example;
  const char* load;  // the arguments of the example's load.sh, with a shorter --duration
  int min_peak;      // replicas the load must reach at least
  // "" keeps the example's own scrape interval. Seed 000's burst is above its target for about
  // 3.4 s, so its shipped 5 s scrape sees it in two runs out of three
  // (examples/jetstream-tpu/podmonitoring.yaml); the test scrapes every second to be
  // deterministic.
  const char* scrape = "";
};

class UpScenarioTest : public UpE2eTest, public ::testing::WithParamInterface<Scenario> {};

// The load here is the example's load.sh as shipped (every flag and value of it), but for the
// duration.
TEST_P(UpScenarioTest, LoadIsTheExamplesLoadSh) {
  const Scenario& s = GetParam();
  std::string script = llmscale::testing::read_file(std::string(LLMSCALE_SOURCE_DIR) +
                                                    "/examples/" + s.example + "/load.sh");
  ASSERT_FALSE(script.empty());
  std::istringstream words(s.load);
  std::string previous;
  for (std::string word; words >> word; previous = word) {
    if (word == "--url" || word == "{router}" || word == "--duration" || previous == "--duration")
      continue;
    EXPECT_NE(script.find(word), std::string::npos) << s.example << "/load.sh lacks " << word;
  }
}

// At the shipped scrape intervals (issue 11 item 17: seed 000's burst was never seen at 15 s),
// but for seed 000's burst and the NIM seed's sawtooth (see Scenario::scrape).
TEST_P(UpScenarioTest, ScalesUpUnderTheSeedsLoadAndDownAfterTheWindow) {
  const Scenario& s = GetParam();
  const double window = 15;
  UpRun run = start(up_argv(s.example, "15s",
                            {"--load", s.load, "--stop-when-scaled-down", "--stop-after", "170s"},
                            s.scrape));
  finish(run, 200s);
  SCOPED_TRACE(run.output + "\n--- stderr ---\n" + run.errors);
  EXPECT_EQ(run.exit_code, 0);

  // Every load request succeeded (none lost while replicas drained).
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex(R"(Requests: (\d+) ok, (\d+) failed)")));
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_EQ(m[2], "0");

  // Up while the load ran, with the metric above its target; down to minReplicas at the end.
  auto events = rescales(run.errors);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.front().from, 1);
  EXPECT_NE(events.front().reason.find("above target"), std::string::npos);
  int peak = 0;
  for (const auto& e : events) peak = std::max(peak, e.to);
  EXPECT_GE(peak, s.min_peak);
  EXPECT_EQ(events.back().to, 1);
  EXPECT_EQ(events.back().reason, "All metrics below target");

  // The first scale-down comes only after the stabilization window (the recommendations of
  // the last scale-up are in it), and once the load's arrivals have stopped (its last requests
  // may still be draining: a queue-size metric falls below its target before they finish).
  const Rescale* first_down = nullptr;
  double last_up = events.front().at;
  for (const auto& e : events) {
    if (e.to > e.from) last_up = e.at;
  }
  for (const auto& e : events) {
    if (e.to < e.from) {
      first_down = &e;
      break;
    }
  }
  ASSERT_NE(first_down, nullptr);
  EXPECT_GE(first_down->at - last_up, window - 0.5);
  auto load_start = first_log(run.errors, "load: started");
  ASSERT_TRUE(load_start);
  EXPECT_GT(first_down->at, *load_start + window);

  // The table on stdout is `kubectl get hpa -w`'s.
  EXPECT_NE(run.output.find("NAME "), std::string::npos);
  EXPECT_TRUE(std::regex_search(
      run.output, std::regex(R"(REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE)")));
}

INSTANTIATE_TEST_SUITE_P(
    Seeds, UpScenarioTest,
    ::testing::Values(
        // The last level of the sweep; 30 s spans two 15 s scrapes.
        Scenario{"nim-gpu",
                 "--url {router} --api openai-chat --streaming -m meta/llama-3.1-8b-instruct "
                 "--synthetic-input-tokens-mean 200 --synthetic-input-tokens-stddev 10 "
                 "--output-tokens-mean 200 --extra-inputs max_tokens:200 --extra-inputs "
                 "min_tokens:200 --extra-inputs ignore_eos:true --concurrency 200 --duration 30s",
                 2,
                 // The closed loop's 200 requests start and finish together, so KV-cache use
                 // is a sawtooth that tops the 10 % target for a second or two per wave; the
                 // shipped 15 s scrape sees a peak or not by phase (CI failed once on 88m/100m).
                 "1s"},
        Scenario{"jetstream-tpu",
                 "--url {router} --api jetstream --burst 100 --output-tokens-mean 200 "
                 "--input-tokens-mean 20",
                 2, "1s"},
        Scenario{"tgi-gpu",
                 "--url {router} --api tgi --streaming --concurrency 30 --input-tokens-mean 550 "
                 "--output-tokens-mean 100 --duration 30s",
                 2},
        Scenario{"vllm-tpu",
                 "--url {router} --api openai-completions -m meta-llama/Meta-Llama-3.1-70B "
                 "--concurrency 300 --output-tokens-mean 100 --extra-inputs temperature:0 "
                 "--input-tokens-mean 7 --duration 30s",
                 2}),
    [](const ::testing::TestParamInfo<Scenario>& info) {
      std::string name = info.param.example;
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    });

// SIGKILL of a replica while it serves streams: its requests fail cleanly (the load ends on
// time and counts them), the router stops sending it work, the fleet restarts it.
TEST_F(UpE2eTest, ReplicaKilledMidLoadIsRestartedAndItsRequestsFailCleanly) {
  UpRun run = start(
      up_argv("nim-gpu", "15s",
              {"--load",
               "--url {router} --api openai-chat --streaming -m meta/llama-3.1-8b-instruct "
               "--input-tokens-mean 200 --output-tokens-mean 200 --ignore-eos --concurrency 50 "
               "--duration 25s",
               "--stop-after", "60s"}));
  // The first replica's pid, from the fleet's log.
  std::optional<int> pid;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!pid && std::chrono::steady_clock::now() < deadline) {
    std::string errors = run.process->errors();
    std::smatch m;
    if (errors.find("load: started") != std::string::npos &&
        std::regex_search(errors, m, std::regex(R"(started \(pid (\d+), port)")))
      pid = std::stoi(m[1]);
    else
      std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(pid) << run.process->errors();
  std::this_thread::sleep_for(3s);  // streams in flight on it
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  finish(run, 90s);
  SCOPED_TRACE(run.output + "\n--- stderr ---\n" + run.errors);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.errors.find("killed by signal 9"), std::string::npos);
  EXPECT_NE(run.errors.find("restarting in 10s"), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex(R"(Requests: (\d+) ok, (\d+) failed)")));
  EXPECT_GT(std::stoi(m[1]), 0);  // the others went on being served
  auto load_end = first_log(run.errors, "load: finished");
  auto load_start = first_log(run.errors, "load: started");
  ASSERT_TRUE(load_end && load_start);
  EXPECT_LT(*load_end - *load_start, 40);  // no request hung past the run
}

// Killed and restarted, llmscale keeps the fleet's size and the HPA's recommendations: the
// scale-down waits for what is left of the window that began before the restart (upstream would
// start a new 5-minute wait; without history it would scale down at the first pass).
TEST_F(UpE2eTest, RestartKeepsTheStabilizationHistory) {
  const double window = 40;
  UpRun first = start(
      up_argv("nim-gpu", "40s",
              {"--load",
               "--url {router} --api openai-chat --streaming -m meta/llama-3.1-8b-instruct "
               "--input-tokens-mean 200 --output-tokens-mean 200 --ignore-eos --concurrency 200 "
               "--duration 8s"}));
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (first.process->errors().find("load: finished") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  first.exit_code = first.process->stop(SIGTERM, 40s);
  first.errors = first.process->errors();
  ASSERT_EQ(first.exit_code, 0) << first.errors;
  auto ups = rescales(first.errors);
  ASSERT_FALSE(ups.empty()) << first.errors;
  double last_up = ups.back().at;

  UpRun second = start(up_argv("nim-gpu", "40s", {"--stop-after", "60s"}));
  deadline = std::chrono::steady_clock::now() + 80s;
  while (rescales(second.process->errors()).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  finish(second, 1s);
  SCOPED_TRACE(first.errors + "\n--- second run ---\n" + second.errors);
  EXPECT_NE(second.errors.find("restored history"), std::string::npos);
  EXPECT_NE(second.errors.find("replicas, as when llmscale up last stopped"), std::string::npos);
  auto downs = rescales(second.errors);
  ASSERT_FALSE(downs.empty());
  EXPECT_LT(downs.front().to, downs.front().from);
  auto restarted = first_log(second.errors, "created pod");
  ASSERT_TRUE(restarted);
  // Held by the history from before the restart: not at the first pass, and not a whole
  // window after the restart.
  EXPECT_GE(downs.front().at - last_up, window - 0.5);
  EXPECT_GT(downs.front().at - *restarted, 2.0);
  EXPECT_LT(downs.front().at - *restarted, window);
}

// issue 11 item 14a: the binary copied away from the repository, run from another directory with
// $LLMSCALE_PROFILES unset, serves a shipped profile (built in): serve-sim starts and answers.
TEST_F(UpE2eTest, ServeSimRunsFromAnyDirectory) {
  TempDir elsewhere;
  std::string binary = binary_in(elsewhere);
  auto server = Process::start(
      in_directory("/tmp", {binary, "serve-sim", "--flavor", "nim", "--profile",
                            "llama-3.1-8b-h100", "--model", "meta/llama-3.1-8b-instruct", "--port",
                            "0", "--startup-seconds", "0"}),
      dir_);
  ASSERT_TRUE(server);
  std::string port;
  ASSERT_TRUE(server->wait_for_output(
      [&](const std::string& out) {
        std::smatch m;
        if (!std::regex_search(out, m, std::regex(R"("api_port":(\d+))"))) return false;
        port = m[1];
        return true;
      },
      30s))
      << server->errors();
  std::string url = "http://127.0.0.1:" + port;
  auto load = llmscale::testing::run_process(
      in_directory("/tmp",
                   {binary, "load", "--url", url, "--api", "openai-chat", "-m",
                    "meta/llama-3.1-8b-instruct", "--burst", "2", "--output-tokens-mean", "5"}),
      "", 60s);
  EXPECT_EQ(load.exit_code, 0) << load.output;
  EXPECT_NE(load.output.find("Requests: 2 ok, 0 failed"), std::string::npos) << load.output;
  EXPECT_EQ(server->stop(SIGTERM, 20s), 0) << server->errors();

  // A name that is not shipped: where it looked, and what exists.
  auto missing = llmscale::testing::run_process(
      in_directory("/tmp", {binary, "serve-sim", "--profile", "llama-3.1-8b-h10", "--port", "0"}),
      "", 30s);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("built-in profiles/llama-3.1-8b-h10.yaml"), std::string::npos)
      << missing.output;
  EXPECT_NE(missing.output.find("known profiles: gemma-7b-l4"), std::string::npos)
      << missing.output;
}

// The issue's own case: `up` (the binary away from the repository) on a copy of
// examples/nim-gpu, from that copy's directory. Its replica used to crash-loop on `profile
// "llama-3.1-8b-h100" not found`; now it gets ready and serves the load.
TEST_F(UpE2eTest, UpRunsAnExampleCopiedAwayFromTheRepository) {
  namespace fs = std::filesystem;
  TempDir elsewhere;
  fs::copy(std::string(LLMSCALE_SOURCE_DIR) + "/examples/nim-gpu", elsewhere.path() + "/nim-gpu");
  UpRun run = start(in_directory(
      elsewhere.path(),
      {binary_in(elsewhere), "up", "nim-gpu", "--serve-sim-startup", "0s", "--router-listen",
       "127.0.0.1:0", "--control-listen", "127.0.0.1:0", "--state-dir", "state", "--load",
       "--url {router} --api openai-chat -m meta/llama-3.1-8b-instruct --burst 2 "
       "--output-tokens-mean 5",
       "--stop-when-scaled-down", "--stop-after", "60s"}));
  finish(run, 90s);
  SCOPED_TRACE(run.output + "\n--- stderr ---\n" + run.errors);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.output.find("Requests: 2 ok, 0 failed"), std::string::npos);
  EXPECT_NE(run.errors.find(" ready"), std::string::npos);
  EXPECT_EQ(run.errors.find("crashed"), std::string::npos);
}

}  // namespace
}  // namespace llmscale::up
