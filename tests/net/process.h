// A child process for interop tests with real peers (curl): started with posix_spawnp, its
// stdout and stderr captured in files, polled without blocking so the test keeps driving its
// event loop, and stopped by PID (SIGKILL) if it outlives the test.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace llmscale::net::testing {

// A temporary directory removed (with its files) when destroyed.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/llmscale-net-XXXXXX";
    path_ = ::mkdtemp(pattern);
  }
  ~TempDir() {
    std::string command = "rm -rf '" + path_ + "'";
    (void)std::system(command.c_str());
  }
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& contents) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << contents;
    return file;
  }

 private:
  std::string path_;
};

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

  // Starts `argv` with output captured under `dir`. nullopt if it cannot be spawned.
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
  pid_t pid() const { return pid_; }
  std::string output() const { return read(stdout_path_); }
  std::string errors() const { return read(stderr_path_); }

 private:
  Process() = default;
  static std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  pid_t pid_ = -1;
  bool finished_ = false;
  int exit_code_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

inline bool have_program(const char* path) {
  return ::access(path, X_OK) == 0;
}

}  // namespace llmscale::net::testing
