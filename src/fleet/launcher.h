// Launcher: starts replica processes for the fleet; ProcessLauncher does it with fork/exec.
//
// A launched process runs in its own process group (signals go to the whole group, so a
// shell wrapper's children get them too), with stdin from /dev/null and stdout/stderr appended
// to a per-pod log file, and PR_SET_PDEATHSIG(SIGKILL) so it dies with llmscale even if
// llmscale is killed with SIGKILL. Exit detection is polled (poll_exit(), a waitpid(WNOHANG)),
// so the fleet drives it from a Clock timer and tests use a fake on a SimulatedClock.
//
// Ownership: a ProcessHandle owns its child. Destroying a handle whose process still runs
// SIGKILLs the process group and reaps the child, so no child outlives its handle.
// Thread-safety: call from one thread. Caveat: PR_SET_PDEATHSIG fires when the *thread* that
// forked exits, so launch from a thread that lives as long as the fleet (the event loop's).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace llmscale::fleet {

struct LaunchSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no slash
  // Added to (or replacing in) llmscale's own environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string log_path;  // stdout and stderr, appended; empty: /dev/null
};

// How a process ended.
struct ExitStatus {
  int exit_code = 0;  // when it exited
  int signal = 0;     // when a signal killed it (exit_code is then 128 + signal)

  // "exit code 1", "killed by signal 9 (SIGKILL)".
  std::string to_string() const;
};

class ProcessHandle {
 public:
  virtual ~ProcessHandle() = default;
  virtual pid_t pid() const = 0;
  // Sends `signal` to the process group. No-op once the process was reaped.
  virtual void send_signal(int signal) = 0;
  // Non-blocking: the exit status once the process has ended (reaped on the first call that
  // sees it; later calls return the same status).
  virtual std::optional<ExitStatus> poll_exit() = 0;
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  // Starts a process. Errors: the program cannot be executed (not found, not executable), the
  // log file cannot be opened, fork failed.
  virtual core::Result<std::unique_ptr<ProcessHandle>> launch(const LaunchSpec& spec) = 0;
};

class ProcessLauncher final : public Launcher {
 public:
  core::Result<std::unique_ptr<ProcessHandle>> launch(const LaunchSpec& spec) override;
};

// A port that was free on `host` a moment ago (bound to port 0, read back, closed). Another
// process may still take it before the replica binds it; the replica then fails and restarts.
core::Result<std::uint16_t> allocate_free_port(const std::string& host = "127.0.0.1");

}  // namespace llmscale::fleet
