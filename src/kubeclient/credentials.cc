// Bearer tokens, token files and exec credential plugins; see credentials.h.
#include "kubeclient/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"

extern char** environ;

namespace llmscale::kubeclient {
namespace {

using core::Json;

// Kubernetes: transport.CachedFileTokenSource re-reads the file after a minute.
constexpr core::Duration kTokenFilePeriod = std::chrono::minutes(1);

bool supported_exec_version(const std::string& version) {
  return version == "client.authentication.k8s.io/v1" ||
         version == "client.authentication.k8s.io/v1beta1";
}

}  // namespace

ExecRunner process_exec_runner(core::Duration timeout) {
  return [timeout](const ExecConfig& config,
                   const std::vector<std::pair<std::string, std::string>>& extra)
             -> core::Result<ExecOutput> {
    std::vector<std::string> env_text;
    for (char** entry = environ; *entry != nullptr; ++entry) env_text.emplace_back(*entry);
    for (const auto& [name, value] : extra) env_text.push_back(name + "=" + value);
    std::vector<char*> envp;
    envp.reserve(env_text.size() + 1);
    for (std::string& entry : env_text) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_text{config.command};
    argv_text.insert(argv_text.end(), config.args.begin(), config.args.end());
    std::vector<char*> argv;
    argv.reserve(argv_text.size() + 1);
    for (std::string& arg : argv_text) argv.push_back(arg.data());
    argv.push_back(nullptr);

    int out_pipe[2];
    int err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
      return core::make_error(core::ErrorCode::kInternal, "pipe: " + std::string(strerror(errno)));
    }
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
      ::close(out_pipe[0]);
      ::close(out_pipe[1]);
      return core::make_error(core::ErrorCode::kInternal, "pipe: " + std::string(strerror(errno)));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (rc != 0) {
      ::close(out_pipe[0]);
      ::close(err_pipe[0]);
      if (rc == ENOENT || rc == EACCES) {
        return core::make_error(core::ErrorCode::kNotFound,
                                "exec: executable " + config.command + " not found");
      }
      return core::make_error(core::ErrorCode::kInternal,
                              "exec: " + config.command + ": " + strerror(rc));
    }
    ExecOutput output;
    // The child's lifetime is bounded in real time (this runs at the process edge).
    auto deadline = std::chrono::steady_clock::now() + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    bool timed_out = false;
    while (open_fds > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      int ready = ::poll(fds, 2, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        char buffer[4096];
        ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
        if (n > 0) {
          (i == 0 ? output.stdout_text : output.stderr_text).append(buffer, n);
        } else if (n == 0 || errno != EINTR) {
          ::close(fds[i].fd);
          fds[i].fd = -1;
          --open_fds;
        }
      }
    }
    for (pollfd& fd : fds) {
      if (fd.fd >= 0) ::close(fd.fd);
    }
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
      return core::make_error(core::ErrorCode::kDeadlineExceeded,
                              "exec: executable " + config.command + " timed out");
    }
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
  };
}

core::Result<ExecCredential> parse_exec_credential(std::string_view text,
                                                   const std::string& api_version) {
  auto parsed = core::parse_json(text);
  if (!parsed || !parsed->is_object()) {
    return core::invalid_argument("decoding stdout: " + (parsed ? std::string("expected an object")
                                                                : parsed.error().message));
  }
  const Json& root = *parsed;
  std::string version = root.value("apiVersion", "");
  std::string kind = root.value("kind", "");
  if (kind != "ExecCredential") {
    return core::invalid_argument("decoding stdout: no kind \"" + kind +
                                  "\" is registered for version \"" + version + "\"");
  }
  // Kubernetes: exec.go refuses an answer in another version than the one configured.
  if (version != api_version) {
    return core::invalid_argument("exec plugin is configured to use API version " + api_version +
                                  ", plugin returned version " + version);
  }
  auto status = root.find("status");
  if (status == root.end() || !status->is_object()) {
    return core::invalid_argument("exec plugin didn't return a status field");
  }
  ExecCredential credential;
  credential.token = status->value("token", "");
  credential.client_certificate_pem = status->value("clientCertificateData", "");
  credential.client_key_pem = status->value("clientKeyData", "");
  if (credential.token.empty() && credential.client_certificate_pem.empty() &&
      credential.client_key_pem.empty()) {
    return core::invalid_argument("exec plugin didn't return a token or cert/key pair");
  }
  if (credential.client_certificate_pem.empty() != credential.client_key_pem.empty()) {
    return core::invalid_argument("exec plugin returned only certificate or key, not both");
  }
  if (auto expiry = status->find("expirationTimestamp");
      expiry != status->end() && expiry->is_string()) {
    auto time = core::parse_rfc3339(expiry->get<std::string>());
    if (!time) return core::invalid_argument("decoding stdout: " + time.error().message);
    credential.expiration = *time;
  }
  return credential;
}

std::string exec_info(const RestConfig& config) {
  std::string version =
      config.exec ? config.exec->api_version : std::string("client.authentication.k8s.io/v1");
  Json spec = {{"interactive", false}};
  if (config.exec && config.exec->provide_cluster_info) {
    Json cluster = {{"server", config.host}};
    if (!config.tls_server_name.empty()) cluster["tls-server-name"] = config.tls_server_name;
    if (config.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.ca_pem.empty()) {
      cluster["certificate-authority-data"] = core::base64_encode(config.ca_pem);
    }
    spec["cluster"] = cluster;
  }
  Json info = {{"kind", "ExecCredential"}, {"apiVersion", version}, {"spec", spec}};
  return core::to_compact_json(info);
}

Credentials::Credentials(RestConfig config, core::Clock& clock, ExecRunner runner)
    : config_(std::move(config)), clock_(clock), runner_(std::move(runner)) {
  file_token_ = config_.bearer_token;
  if (!config_.bearer_token_file.empty()) file_token_read_at_ = clock_.now();
}

void Credentials::refresh_token_file() {
  if (config_.bearer_token_file.empty()) return;
  core::Time now = clock_.now();
  if (file_token_read_at_ && now - *file_token_read_at_ < kTokenFilePeriod) return;
  file_token_read_at_ = now;
  ++token_file_reads_;
  auto text = core::read_file(config_.bearer_token_file);
  if (!text) {
    // Kubernetes: CachedFileTokenSource keeps the previous token when the re-read fails.
    core::log_warn("kubeclient: re-reading " + config_.bearer_token_file +
                   " failed, keeping the previous token: " + text.error().message);
    return;
  }
  std::string token(core::trim(*text));
  if (!token.empty()) file_token_ = token;
}

core::Result<RequestAuth> Credentials::from_exec() {
  const ExecConfig& plugin = *config_.exec;
  if (!supported_exec_version(plugin.api_version)) {
    return core::invalid_argument("exec plugin: invalid apiVersion \"" + plugin.api_version + "\"");
  }
  if (plugin.interactive_mode == "Always") {
    return core::make_error(core::ErrorCode::kUnauthenticated,
                            "exec plugin cannot support interactive mode: standard input is not "
                            "a terminal");
  }
  bool valid =
      exec_cached_ && (!exec_cached_->expiration || !(clock_.now() > *exec_cached_->expiration));
  if (!valid) {
    std::vector<std::pair<std::string, std::string>> env = plugin.env;
    env.emplace_back("KUBERNETES_EXEC_INFO", exec_info(config_));
    ++exec_runs_;
    auto output = runner_(plugin, env);
    if (!output) {
      std::string message = "getting credentials: " + output.error().message;
      if (output.error().code == core::ErrorCode::kNotFound && !plugin.install_hint.empty()) {
        message += "\n\n" + plugin.install_hint;
      }
      return core::make_error(core::ErrorCode::kUnauthenticated, message);
    }
    if (output->exit_code != 0) {
      return core::make_error(core::ErrorCode::kUnauthenticated,
                              "getting credentials: exec: executable " + plugin.command +
                                  " failed with exit code " + std::to_string(output->exit_code));
    }
    auto credential = parse_exec_credential(output->stdout_text, plugin.api_version);
    if (!credential) {
      return core::make_error(core::ErrorCode::kUnauthenticated,
                              "getting credentials: " + credential.error().message);
    }
    exec_cached_ = std::move(*credential);
  }
  RequestAuth auth;
  if (!exec_cached_->token.empty()) auth.authorization = "Bearer " + exec_cached_->token;
  auth.client_certificate_pem = exec_cached_->client_certificate_pem;
  auth.client_key_pem = exec_cached_->client_key_pem;
  return auth;
}

core::Result<RequestAuth> Credentials::current() {
  std::lock_guard lock(mutex_);
  if (config_.exec) return from_exec();
  RequestAuth auth;
  refresh_token_file();
  if (!file_token_.empty()) {
    auth.authorization = "Bearer " + file_token_;
  } else if (!config_.username.empty() || !config_.password.empty()) {
    auth.authorization = "Basic " + core::base64_encode(config_.username + ":" + config_.password);
  }
  return auth;
}

void Credentials::unauthorized(const RequestAuth& used) {
  std::lock_guard lock(mutex_);
  if (config_.exec && exec_cached_) {
    // Kubernetes: exec.go refreshes on 401 only when the request used the cached credential.
    std::string cached =
        exec_cached_->token.empty() ? std::string() : "Bearer " + exec_cached_->token;
    if (cached == used.authorization &&
        exec_cached_->client_certificate_pem == used.client_certificate_pem) {
      exec_cached_.reset();
    }
  } else if (!config_.bearer_token_file.empty()) {
    // A rotated token may already be on disk: read it on the next request.
    file_token_read_at_.reset();
  }
}

int Credentials::exec_runs() const {
  std::lock_guard lock(mutex_);
  return exec_runs_;
}

int Credentials::token_file_reads() const {
  std::lock_guard lock(mutex_);
  return token_file_reads_;
}

}  // namespace llmscale::kubeclient
