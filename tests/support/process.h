// Child processes for tests with real peers (kubectl, curl, promtool, prometheus, llmscale
// itself): a long-running Process started with posix_spawnp whose output goes to files and is
// polled without blocking, stopped by PID when the test ends; and run_process() for a command
// that runs to completion with stdin text and a deadline. Plus a self-removing TempDir.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace llmscale::testing {

// A temporary directory removed (with its files) when destroyed.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/llmscale-test-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() {
    std::string command = "rm -rf '" + path_ + "'";
    (void)std::system(command.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& contents) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whether `path` is an executable file.
inline bool have_program(const char* path) {
  return ::access(path, X_OK) == 0;
}

inline bool program_on_path(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr ? env : "";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

// A long-running child, SIGKILLed (and reaped) by its destructor if still running.
class Process {
 public:
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept { *this = std::move(other); }
  Process& operator=(Process&& other) noexcept {
    std::swap(pid_, other.pid_);
    std::swap(finished_, other.finished_);
    std::swap(exit_code_, other.exit_code_);
    std::swap(stdout_path_, other.stdout_path_);
    std::swap(stderr_path_, other.stderr_path_);
    return *this;
  }
  ~Process() { kill(); }

  // Starts `argv` (stdin /dev/null) with output captured under `dir`. nullopt if it cannot be
  // spawned.
  static std::optional<Process> start(const std::vector<std::string>& argv, const TempDir& dir) {
    static int counter = 0;
    Process p;
    std::string base = dir.path() + "/process" + std::to_string(counter++);
    p.stdout_path_ = base + ".out";
    p.stderr_path_ = base + ".err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, p.stdout_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, p.stderr_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawnp(&p.pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return std::nullopt;
    return p;
  }

  pid_t pid() const { return pid_; }
  // Non-blocking: true once the process has exited (and been reaped).
  bool poll() {
    if (finished_ || pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      finished_ = true;
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    return finished_;
  }
  // Polls stdout until `predicate(stdout)` holds, the process exits, or `timeout` passes.
  template <class Predicate>
  bool wait_for_output(Predicate predicate, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (predicate(output())) return true;
      if (poll()) return predicate(output());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  // Waits up to `timeout` for the process to exit on its own; true once it has.
  bool wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!poll()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  // Sends `signal` and waits up to `timeout` for the exit; SIGKILL after that.
  int stop(int signal = SIGTERM, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    if (!finished_ && pid_ > 0) {
      ::kill(pid_, signal);
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (!poll() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      kill();
    }
    return exit_code_;
  }
  void kill() {
    if (pid_ > 0 && !finished_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      finished_ = true;
      exit_code_ = -1;
    }
  }
  int exit_code() const { return exit_code_; }
  std::string output() const { return read_file(stdout_path_); }
  std::string errors() const { return read_file(stderr_path_); }

 private:
  Process() = default;

  pid_t pid_ = -1;
  bool finished_ = false;
  int exit_code_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1: did not exit normally (killed on timeout)
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved
};

// Runs `argv` to completion with `input` on stdin; killed by PID after `timeout`.
inline ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                                 std::chrono::milliseconds timeout) {
  ProcessResult result;
  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  int in_pipe[2], out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0) return result;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(out_pipe[1], 2);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t written = 0;
  bool in_open = true;
  if (input.empty()) {
    close(in_pipe[1]);
    in_open = false;
  }
  bool out_open = true;
  while (out_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[2];
    int n = 0;
    fds[n++] = pollfd{out_pipe[0], POLLIN, 0};
    if (in_open) fds[n++] = pollfd{in_pipe[1], POLLOUT, 0};
    if (::poll(fds, n, static_cast<int>(left.count())) < 0) break;
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char buf[4096];
      ssize_t r = read(out_pipe[0], buf, sizeof buf);
      if (r > 0) {
        result.output.append(buf, static_cast<std::size_t>(r));
      } else if (r == 0) {
        out_open = false;
      }
    }
    if (in_open && n > 1 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = write(in_pipe[1], input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 || written == input.size()) {
        close(in_pipe[1]);
        in_open = false;
      }
    }
  }
  if (in_open) close(in_pipe[1]);
  close(out_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

// The loopback URL a process printed after `prefix` ("control API on http://127.0.0.1:9190"),
// waited for up to `timeout`; empty when it never came.
inline std::string printed_url(Process& process, const std::string& prefix,
                               std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::string url;
  std::regex re(prefix + R"( (http://127\.0\.0\.1:\d+))");
  process.wait_for_output(
      [&](const std::string& out) {
        std::smatch m;
        if (!std::regex_search(out, m, re)) return false;
        url = m[1];
        return true;
      },
      timeout);
  return url;
}

}  // namespace llmscale::testing
