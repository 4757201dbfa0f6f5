// Fakes for fleet unit tests: a launcher whose processes live until the test ends them, a
// prober whose answers the test decides, and a listener that records what it heard.
#pragma once

#include <signal.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "fleet/fleet.h"

namespace llmscale::fleet::testing {

struct FakeProcessState {
  pid_t pid = 0;
  LaunchSpec spec;
  std::vector<int> signals;  // in order received
  std::optional<ExitStatus> exit;
  bool exit_on_sigterm = true;
};

class FakeProcess final : public ProcessHandle {
 public:
  explicit FakeProcess(std::shared_ptr<FakeProcessState> state) : state_(std::move(state)) {}
  // Like ProcessLauncher's handles: a destroyed handle kills its process.
  ~FakeProcess() override {
    if (!state_->exit) state_->exit = ExitStatus{128 + SIGKILL, SIGKILL};
  }
  pid_t pid() const override { return state_->pid; }
  void send_signal(int signal) override {
    if (state_->exit) return;
    state_->signals.push_back(signal);
    if (signal == SIGKILL || (signal == SIGTERM && state_->exit_on_sigterm)) {
      state_->exit = ExitStatus{128 + signal, signal};
    }
  }
  std::optional<ExitStatus> poll_exit() override { return state_->exit; }

 private:
  std::shared_ptr<FakeProcessState> state_;
};

class FakeLauncher final : public Launcher {
 public:
  core::Result<std::unique_ptr<ProcessHandle>> launch(const LaunchSpec& spec) override {
    if (fail_next > 0) {
      --fail_next;
      return core::make_error(core::ErrorCode::kFailedPrecondition, "launch: no such file");
    }
    auto state = std::make_shared<FakeProcessState>();
    state->pid = next_pid++;
    state->spec = spec;
    state->exit_on_sigterm = exit_on_sigterm;
    processes.push_back(state);
    return std::unique_ptr<ProcessHandle>(std::make_unique<FakeProcess>(state));
  }
  // The latest process whose HOSTNAME is `pod`.
  std::shared_ptr<FakeProcessState> latest(const std::string& pod) const {
    for (auto it = processes.rbegin(); it != processes.rend(); ++it) {
      for (const auto& [k, v] : (*it)->spec.env) {
        if (k == "HOSTNAME" && v == pod) return *it;
      }
    }
    return nullptr;
  }
  std::size_t alive() const {
    std::size_t n = 0;
    for (const auto& p : processes) n += p->exit ? 0 : 1;
    return n;
  }

  std::vector<std::shared_ptr<FakeProcessState>> processes;
  pid_t next_pid = 1000;
  int fail_next = 0;
  bool exit_on_sigterm = true;
};

// Answers every probe of a port with the current verdict for it (default: fail), at once.
class FakeProber final : public Prober {
 public:
  explicit FakeProber(core::Clock& clock) : clock_(clock) {}
  void probe(const ProbeRequest& request, Callback done) override {
    requests.push_back(request);
    bool ok = healthy.count(request.port) != 0 && healthy.at(request.port);
    if (hold) {
      held.push_back(std::move(done));
      return;
    }
    clock_.call_after(core::Duration::zero(), [done = std::move(done), ok] {
      done(ProbeResult{ok, ok ? "" : "fake failure"});
    });
  }
  std::map<std::uint16_t, bool> healthy;
  std::vector<ProbeRequest> requests;
  bool hold = false;
  std::vector<Callback> held;

 private:
  core::Clock& clock_;
};

class RecordingListener final : public FleetListener {
 public:
  void on_ready(const Endpoint& e) override { events.push_back("ready " + e.pod); }
  void on_not_ready(const Endpoint& e) override { events.push_back("not_ready " + e.pod); }
  void on_terminating(const kube::Pod& pod, std::function<void()> drained) override {
    events.push_back("terminating " + pod.metadata.name);
    if (drain_at_once) {
      drained();
    } else {
      pending[pod.metadata.name] = std::move(drained);
    }
  }
  void on_removed(const kube::Pod& pod) override {
    events.push_back("removed " + pod.metadata.name);
  }
  void on_changed() override { ++changes; }
  std::vector<std::string> events;
  int changes = 0;
  bool drain_at_once = false;
  std::map<std::string, std::function<void()>> pending;
};

}  // namespace llmscale::fleet::testing
