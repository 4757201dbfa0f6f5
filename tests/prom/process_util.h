// Runs a child process with stdin text, captures stdout+stderr, bounds its time and stops it by
// PID. Used by the tests that call promtool.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace llmscale::prom::testing {

struct ProcessResult {
  int exit_code = -1;  // -1: did not exit normally (killed on timeout)
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved
};

inline bool program_on_path(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

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
      kill(pid, SIGKILL);
      break;
    }
    pollfd fds[2];
    int n = 0;
    fds[n++] = pollfd{out_pipe[0], POLLIN, 0};
    if (in_open) fds[n++] = pollfd{in_pipe[1], POLLOUT, 0};
    if (poll(fds, n, static_cast<int>(left.count())) < 0) break;
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

}  // namespace llmscale::prom::testing
