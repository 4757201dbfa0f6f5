// A real fleet: `python3 -m http.server {port}` replicas started by ProcessLauncher, readiness
// over real HTTP (HttpProber), scaled up, one child SIGKILLed and restarted, scaled down by
// SIGTERM, and shut down with no child left (checked by PID).
#include <errno.h>
#include <signal.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "fleet/fleet.h"
#include "net/event_loop.h"
#include "support/process.h"

namespace llmscale::fleet {
namespace {

using namespace std::chrono_literals;

// Alive and not a zombie (an orphaned grandchild waits for init to reap it).
bool process_exists(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::string stat = llmscale::testing::read_file("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

class Removals final : public FleetListener {
 public:
  explicit Removals(core::Clock& clock) : clock_(clock) {}
  void on_terminating(const kube::Pod& pod, std::function<void()> drained) override {
    terminating_at[pod.metadata.name] = clock_.now();
    drained();
  }
  void on_removed(const kube::Pod& pod) override { removed_at[pod.metadata.name] = clock_.now(); }
  std::map<std::string, core::Time> terminating_at;
  std::map<std::string, core::Time> removed_at;

 private:
  core::Clock& clock_;
};

TEST(ProcessFleet, StartReadyScaleCrashRestartScaleDownShutdown) {
  if (!llmscale::testing::program_on_path("python3")) GTEST_SKIP() << "python3 not installed";
  llmscale::testing::TempDir logs;
  auto doc = core::parse_document(R"(
apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      command: [python3, -m, http.server, "{port}", --bind, 127.0.0.1]
      ports: [{name: http, containerPort: 8000}]
      readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
      terminationGracePeriodSeconds: 5
)");
  ASSERT_TRUE(doc);
  auto spec = parse_fleet(*doc);
  ASSERT_TRUE(spec) << spec.error().message;

  net::EventLoop loop;
  ProcessLauncher launcher;
  HttpProber prober(loop);
  FleetOptions options;
  options.log_dir = logs.path();
  options.seed = 7;
  auto fleet = std::make_unique<Fleet>(loop.clock(), *spec, launcher, prober, options);
  Removals removals(loop.clock());
  fleet->add_listener(&removals);
  auto ready_count = [&] {
    int n = 0;
    for (const auto& e : fleet->endpoints()) n += e.ready ? 1 : 0;
    return n;
  };
  std::set<pid_t> every_pid;
  auto remember_pids = [&] {
    for (pid_t pid : fleet->pids()) every_pid.insert(pid);
  };

  fleet->start();
  ASSERT_TRUE(loop.run_until([&] { return ready_count() == 1; }, 20s)) << "first replica";
  remember_pids();
  ASSERT_TRUE(fleet->set_replicas(2));
  ASSERT_TRUE(loop.run_until([&] { return ready_count() == 2; }, 20s)) << "second replica";
  remember_pids();

  // kill -9 one child: not ready at once, restarted after the 10 s back-off, ready again.
  auto pods = fleet->pods();
  const std::string crashed = pods[0].metadata.name;
  pid_t killed = fleet->pids()[0];
  ASSERT_EQ(::kill(killed, SIGKILL), 0);
  ASSERT_TRUE(loop.run_until([&] { return ready_count() == 1; }, 5s));
  auto restarted = [&] {
    for (const auto& p : fleet->pods()) {
      if (p.metadata.name == crashed) {
        return p.container_statuses[0].restart_count == 1 && p.ready_condition()->status == "True";
      }
    }
    return false;
  };
  ASSERT_TRUE(loop.run_until(restarted, 25s)) << "restart after back-off";
  remember_pids();
  EXPECT_FALSE(process_exists(killed));
  EXPECT_EQ(fleet->pids().size(), 2u);

  // Scale down: the victim goes on SIGTERM, well before the 5 s grace would bring SIGKILL.
  ASSERT_TRUE(fleet->set_replicas(1));
  ASSERT_TRUE(loop.run_until([&] { return fleet->pods().size() == 1; }, 10s));
  ASSERT_EQ(removals.removed_at.size(), 1u);
  const auto& [victim, removed] = *removals.removed_at.begin();
  EXPECT_LT(removed - removals.terminating_at.at(victim), 3s);

  // Shutdown: every child ever started is gone.
  bool done = false;
  fleet->shutdown([&] { done = true; });
  ASSERT_TRUE(loop.run_until([&] { return done; }, 10s));
  EXPECT_TRUE(fleet->pids().empty());
  for (pid_t pid : every_pid) EXPECT_FALSE(process_exists(pid)) << pid;
  // Each pod's output went to its log file.
  EXPECT_NE(llmscale::testing::read_file(logs.path() + "/" + crashed + ".log").find("HTTP"),
            std::string::npos);
}

TEST(ProcessFleet, MissingProgramIsALaunchError) {
  ProcessLauncher launcher;
  LaunchSpec spec;
  spec.argv = {"/nonexistent/llmscale-replica"};
  auto handle = launcher.launch(spec);
  ASSERT_FALSE(handle);
  EXPECT_EQ(handle.error().message,
            "launch: /nonexistent/llmscale-replica: No such file or directory");
}

TEST(ProcessFleet, DestroyedHandleKillsTheProcessGroup) {
  llmscale::testing::TempDir dir;
  ProcessLauncher launcher;
  LaunchSpec spec;
  // A shell whose child would outlive it: both are in the replica's process group.
  spec.argv = {"/bin/sh", "-c", "sleep 60 & echo $! > " + dir.path() + "/child; wait"};
  auto handle = launcher.launch(spec);
  ASSERT_TRUE(handle) << handle.error().message;
  pid_t shell = (*handle)->pid();
  std::string child_text;
  for (int i = 0; i < 200 && child_text.empty(); ++i) {
    child_text = llmscale::testing::read_file(dir.path() + "/child");
    if (child_text.empty()) std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(child_text.empty());
  pid_t child = std::stoi(child_text);
  EXPECT_FALSE((*handle)->poll_exit());
  handle->reset();
  EXPECT_FALSE(process_exists(shell));
  for (int i = 0; i < 200 && process_exists(child); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(process_exists(child));  // reparented to init and reaped there
}

}  // namespace
}  // namespace llmscale::fleet
