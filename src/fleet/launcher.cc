// ProcessLauncher: fork/exec with a process group, log redirection, parent-death signal and an
// exec-error pipe (so "no such file" is an error of launch(), not a silent crash loop).
#include "fleet/launcher.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

extern char** environ;

namespace llmscale::fleet {
namespace {

std::string errno_text(int error) {
  return std::string(::strerror(error));
}

class ChildProcess final : public ProcessHandle {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ~ChildProcess() override {
    if (!exit_) {
      ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    } else {
      // The leader is gone; grandchildren left in its group go too.
      ::kill(-pid_, SIGKILL);
    }
  }

  pid_t pid() const override { return pid_; }

  void send_signal(int signal) override {
    if (exit_) return;
    // The group first (a shell's children); the pid itself in case it left the group.
    ::kill(-pid_, signal);
    ::kill(pid_, signal);
  }

  std::optional<ExitStatus> poll_exit() override {
    if (exit_) return exit_;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      ExitStatus s;
      if (WIFSIGNALED(status)) {
        s.signal = WTERMSIG(status);
        s.exit_code = 128 + s.signal;
      } else {
        s.exit_code = WEXITSTATUS(status);
      }
      exit_ = s;
      // Kubernetes kills the whole pod sandbox; here, what the replica left in its group.
      ::kill(-pid_, SIGKILL);
    } else if (r < 0 && errno == ECHILD) {
      exit_ = ExitStatus{-1, 0};  // reaped elsewhere (a SIGCHLD handler set to SIG_IGN)
    }
    return exit_;
  }

 private:
  pid_t pid_;
  std::optional<ExitStatus> exit_;
};

std::vector<std::string> merged_environment(const LaunchSpec& spec) {
  std::map<std::string, std::size_t> index;
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    index[entry.substr(0, eq)] = env.size();
    env.push_back(std::move(entry));
  }
  for (const auto& [name, value] : spec.env) {
    std::string entry = name + "=" + value;
    auto it = index.find(name);
    if (it != index.end()) {
      env[it->second] = std::move(entry);
    } else {
      index[name] = env.size();
      env.push_back(std::move(entry));
    }
  }
  return env;
}

// Writes errno to `fd` and exits; only async-signal-safe calls (we are between fork and exec).
[[noreturn]] void child_fail(int fd, int error) {
  ssize_t ignored = ::write(fd, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

std::string ExitStatus::to_string() const {
  if (signal != 0) {
    const char* name = ::sigabbrev_np(signal);
    return "killed by signal " + std::to_string(signal) +
           (name != nullptr ? " (SIG" + std::string(name) + ")" : "");
  }
  return "exit code " + std::to_string(exit_code);
}

core::Result<std::unique_ptr<ProcessHandle>> ProcessLauncher::launch(const LaunchSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return core::invalid_argument("launch: empty command");
  }
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<std::string> env = merged_environment(spec);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const char* log_path = spec.log_path.empty() ? "/dev/null" : spec.log_path.c_str();
  int log_fd = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return core::make_error(
        core::ErrorCode::kFailedPrecondition,
        "launch: cannot open log file " + spec.log_path + ": " + errno_text(errno));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int error_pipe[2];
  if (null_fd < 0 || ::pipe2(error_pipe, O_CLOEXEC) != 0) {
    int error = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return core::make_error(core::ErrorCode::kResourceExhausted,
                            "launch: pipe: " + errno_text(error));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    int error = errno;
    ::close(log_fd);
    ::close(null_fd);
    ::close(error_pipe[0]);
    ::close(error_pipe[1]);
    return core::make_error(core::ErrorCode::kResourceExhausted,
                            "launch: fork: " + errno_text(error));
  }
  if (pid == 0) {
    int fd = error_pipe[1];
    ::setpgid(0, 0);
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) child_fail(fd, errno);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    // Signals: default dispositions and an empty mask (the parent may ignore SIGPIPE or block
    // SIGINT/SIGTERM for its signal handling; the replica must not inherit that).
    sigset_t all;
    ::sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int s = 1; s < NSIG; ++s) {
      if (s != SIGKILL && s != SIGSTOP) ::signal(s, SIG_DFL);
    }
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) {
      child_fail(fd, errno);
    }
    // Every other descriptor of llmscale (listeners, client sockets) stays out of the replica.
    ::syscall(SYS_close_range, 3U, static_cast<unsigned>(fd) - 1, 0U);
    ::syscall(SYS_close_range, static_cast<unsigned>(fd) + 1, ~0U, 0U);
    ::execvpe(argv[0], argv.data(), envp.data());
    child_fail(fd, errno);
  }
  ::setpgid(pid, pid);  // also here, so signals to the group work even before the child runs
  ::close(error_pipe[1]);
  ::close(log_fd);
  ::close(null_fd);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  auto handle = std::make_unique<ChildProcess>(pid);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    handle.reset();  // reaps the child
    return core::make_error(core::ErrorCode::kFailedPrecondition,
                            "launch: " + spec.argv[0] + ": " + errno_text(child_errno));
  }
  return std::unique_ptr<ProcessHandle>(std::move(handle));
}

core::Result<std::uint16_t> allocate_free_port(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return core::make_error(core::ErrorCode::kUnavailable, "socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return core::invalid_argument("allocate port: not an IPv4 address: " + host);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int error = errno;
    ::close(fd);
    return core::make_error(core::ErrorCode::kUnavailable,
                            "allocate port: bind " + host + ":0: " + errno_text(error));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return static_cast<std::uint16_t>(ntohs(addr.sin_port));
}

}  // namespace llmscale::fleet
